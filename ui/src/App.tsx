import { lazy, Suspense, useEffect, useState } from "react";
import { App as AntApp, ConfigProvider, Layout, Menu, Select, Button, Spin, Typography } from "antd";
import enUS from "antd/locale/en_US";
import plPL from "antd/locale/pl_PL";
import ruRU from "antd/locale/ru_RU";
import { useTranslation } from "react-i18next";
import { Link, Navigate, Route, Routes, useLocation } from "react-router";
import { api, rememberSession, whenLoggedOut, type Schemas } from "./api/client";
import { PageErrorBoundary } from "./components/PageErrorBoundary";
import { LANGUAGES, setLanguage, type Language } from "./i18n";
import Login from "./pages/Login";

// The login page loads first; every page's code (the scenario editor's graph library
// above all) comes when it is first opened, the wallboard's at once after logging in.
const Dashboard = lazy(() => import("./pages/Dashboard"));
const DesktopNotifications = lazy(() =>
  import("./pages/Dashboard").then((m) => ({ default: m.DesktopNotifications })),
);
const MyPhone = lazy(() => import("./pages/MyPhone"));
const SoftPhone = lazy(() => import("./components/SoftPhone"));
const CountryQuestion = lazy(() => import("./components/CountryQuestion"));
const simple = <K extends keyof typeof import("./pages/simple")>(name: K) =>
  lazy(() => import("./pages/simple").then((m) => ({ default: m[name] })));
const Extensions = simple("Extensions");
const Agents = simple("Agents");
const Inbound = simple("Inbound");
const Contacts = simple("Contacts");
const VoicemailBoxes = simple("VoicemailBoxes");
const Conferences = simple("Conferences");
const PickupGroups = simple("PickupGroups");
const Queues = lazy(() => import("./pages/Queues"));
const Lists = lazy(() => import("./pages/Lists"));
const Trunks = lazy(() => import("./pages/Trunks"));
const OutboundRoutes = lazy(() => import("./pages/Routes"));
const Schedules = lazy(() => import("./pages/Schedules"));
const Scenarios = lazy(() => import("./pages/Scenarios"));
const Prompts = lazy(() => import("./pages/Prompts"));
const Voicemail = lazy(() => import("./pages/Voicemail"));
const Calls = lazy(() => import("./pages/Calls"));
const Reports = lazy(() => import("./pages/Reports"));
const Settings = lazy(() => import("./pages/Settings"));
import { hasPhone } from "./phone";

const locales = { en: enUS, pl: plPL, ru: ruRU };

const pages = [
  ["/", "dashboard", Dashboard],
  ["/extensions", "extensions", Extensions],
  ["/queues", "queues", Queues],
  ["/agents", "agents", Agents],
  ["/lists", "lists", Lists],
  ["/schedules", "schedules", Schedules],
  ["/scenarios", "scenarios", Scenarios],
  ["/prompts", "prompts", Prompts],
  ["/inbound", "inbound", Inbound],
  ["/contacts", "contacts", Contacts],
  ["/trunks", "trunks", Trunks],
  ["/routes", "routes", OutboundRoutes],
  ["/conferences", "conferences", Conferences],
  ["/pickup-groups", "pickupGroups", PickupGroups],
  ["/messages", "voicemailInbox", Voicemail],
  ["/voicemail", "voicemail", VoicemailBoxes],
  ["/calls", "calls", Calls],
  ["/reports", "reports", Reports],
  ["/settings", "settings", Settings],
] as const;

export default function App() {
  const { t, i18n } = useTranslation();
  const language = i18n.language as Language;
  const [session, setSession] = useState<Schemas["SessionInfo"] | null | undefined>(undefined);
  const location = useLocation();

  useEffect(() => {
    whenLoggedOut(() => setSession(null));
    api
      .get<Schemas["SessionInfo"]>("/api/session")
      .then((s) => {
        rememberSession(s);
        setSession(s);
      })
      .catch(() => setSession(null));
  }, []);

  const loggedIn = (s: Schemas["SessionInfo"]) => {
    rememberSession(s);
    setSession(s);
  };
  const logOut = async () => {
    await api.delete("/api/session").catch(() => undefined);
    rememberSession(null);
    setSession(null);
  };

  const controls = (
    <div style={{ display: "flex", gap: 8 }} data-testid="session-controls">
      <Select
        size="small"
        aria-label="Language"
        value={language}
        onChange={(l: Language) => setLanguage(l)}
        options={Object.entries(LANGUAGES).map(([value, label]) => ({ value, label }))}
        style={{ width: 110 }}
      />
      {session && (
        <Button size="small" onClick={logOut}>
          {t("logout")}
        </Button>
      )}
    </div>
  );

  const adminLayout = session != null && session.role === "admin";
  let body;
  if (session === undefined) {
    body = <Spin style={{ margin: 48 }} />;
  } else if (session === null) {
    body = <Login onLoggedIn={loggedIn} />;
  } else if (session.role !== "admin") {
    body = <MyPhone />;
  } else {
    const selected = pages.find(([path]) => path !== "/" && location.pathname.startsWith(path))?.[0] ?? "/";
    body = (
      <Layout style={{ minHeight: "100vh" }}>
        <Suspense fallback={null}>
          <DesktopNotifications />
        </Suspense>
        <Layout.Sider breakpoint="md" collapsedWidth={0} theme="light" width={220}>
          <Typography.Title level={4} style={{ padding: "16px 24px", margin: 0 }}>
            {t("appName")}
          </Typography.Title>
          <Menu
            mode="inline"
            selectedKeys={[selected]}
            items={pages.map(([path, key]) => ({ key: path, label: <Link to={path}>{t(key)}</Link> }))}
          />
        </Layout.Sider>
        <Layout>
          {/* The language and log-out controls have their own row, above every page's
              own buttons. */}
          <Layout.Header
            style={{ background: "transparent", height: "auto", lineHeight: "normal", padding: "12px 16px 0" }}
          >
            <div style={{ display: "flex", justifyContent: "flex-end" }}>{controls}</div>
          </Layout.Header>
          <Layout.Content style={{ padding: "8px 24px 24px" }}>
            <Suspense fallback={null}>
              <CountryQuestion />
            </Suspense>
            <Routes>
              {pages.map(([path, , Page]) => (
                <Route
                  key={path}
                  path={path === "/" ? "/" : `${path}/*`}
                  element={
                    <PageErrorBoundary>
                      <Suspense fallback={<Spin style={{ margin: 48 }} />}>
                        <Page />
                      </Suspense>
                    </PageErrorBoundary>
                  }
                />
              ))}
              <Route path="*" element={<Navigate to="/" />} />
            </Routes>
          </Layout.Content>
        </Layout>
      </Layout>
    );
  }

  return (
    <ConfigProvider locale={locales[language] ?? enUS}>
      <AntApp>
        {!adminLayout && <div style={{ position: "fixed", top: 12, right: 16, zIndex: 10 }}>{controls}</div>}
        <Suspense fallback={<Spin style={{ margin: 48 }} />}>{body}</Suspense>
        {/* The desktop app's phone, on every screen: calls are answered whatever the
            panel shows, logged in or not. */}
        {hasPhone() && (
          <Suspense fallback={null}>
            <SoftPhone />
          </Suspense>
        )}
      </AntApp>
    </ConfigProvider>
  );
}
