// The wallboard: every queue's waiting callers, longest wait, agents and service
// level, and the calls in progress, pushed by the server over a WebSocket as they change.
import { useEffect, useRef, useState } from "react";
import { Alert, Badge, Card, Col, Dropdown, Empty, Row, Space, Statistic, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";
import { inDesktopApp, notifyIncomingCall } from "../desktop";
import { TrunkState } from "./Trunks";
import { useAgentStatusActions } from "../components/AgentStatus";
import { CallActions } from "../components/CallActions";

type Dashboard = Schemas["Dashboard"];

/** The last figures the server pushed, and whether they are live. */
type Live = { data: Dashboard | null; connected: boolean };

/** The first retry comes after a second, then twice as long each time, up to 30 s. */
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];

/**
 * The wallboard's WebSocket. When it drops, the figures stay but are no longer called
 * live; it reconnects with growing pauses, and a session the server no longer knows
 * (it restarted, or the admin logged out elsewhere) leads to the login page.
 */
function useLive(): Live {
  const [live, setLive] = useState<Live>({ data: null, connected: false });
  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry: number | undefined;
    let failures = 0;
    let stopped = false;
    const connect = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}/api/live`);
      socket.onmessage = (event) => {
        failures = 0;
        setLive({ data: JSON.parse(event.data as string) as Dashboard, connected: true });
      };
      socket.onclose = () => {
        if (stopped) return;
        setLive((l) => ({ ...l, connected: false }));
        const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
        failures += 1;
        // A refused session shows as a 401 here, which sends the panel to the login
        // page; a server that is down just fails, and the socket is tried again.
        void api
          .get("/api/dashboard")
          .then(() => undefined, () => undefined)
          .finally(() => {
            if (!stopped) retry = window.setTimeout(connect, wait);
          });
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(retry);
      socket?.close();
    };
  }, []);
  return live;
}

/** In the desktop app, whatever page is open: a notification for each new waiting caller. */
function IncomingCallNotifier() {
  const { data } = useLive();
  useIncomingCallNotices(data);
  return null;
}

/** Rendered only where notifications can be shown. */
export function DesktopNotifications() {
  return inDesktopApp() ? <IncomingCallNotifier /> : null;
}

const ACTIVITY_COLORS: Record<Schemas["Activity"], string> = {
  "logged-out": "default",
  "on-break": "orange",
  idle: "green",
  ringing: "gold",
  "on-call": "red",
  "wrap-up": "purple",
};

const STAGE_COLORS: Record<Schemas["CallStage"], string> = {
  ringing: "gold",
  talking: "green",
  queued: "red",
  menu: "blue",
  voicemail: "purple",
  announcement: "default",
  "calling-back": "cyan",
  parked: "orange",
  conference: "geekblue",
  listening: "magenta",
};

function CallsNow({ calls }: { calls: Schemas["CallBoard"][] }) {
  const { t } = useTranslation();
  return (
    <Card title={t("callsNow")} size="small" style={{ marginTop: 16 }} data-testid="calls-now">
      <Table<Schemas["CallBoard"]>
        size="small"
        pagination={false}
        rowKey="id"
        dataSource={calls}
        locale={{ emptyText: t("noCallsNow") }}
        columns={[
          {
            title: t("caller"),
            dataIndex: "caller",
            render: (caller: string, c) => (
              <>
                {caller} {c.priority > 0 && <Tag color="magenta">{t("vip")} {c.priority}</Tag>}
              </>
            ),
          },
          { title: t("callee"), dataIndex: "callee" },
          {
            title: t("stage"),
            dataIndex: "stage",
            render: (stage: Schemas["CallStage"], c) => (
              <Tag color={STAGE_COLORS[stage]}>{t(`stages.${stage}`, { slot: c.parked_at })}</Tag>
            ),
          },
          { title: t("queue"), dataIndex: "queue", render: (q: string | null) => q ?? "—" },
          { title: t("talkingTo"), dataIndex: "talking_to", render: (x: string | null) => x ?? "—" },
          {
            title: t("callDuration"),
            dataIndex: "seconds",
            render: (total: number, c) =>
              c.talking_seconds == null ? seconds(total) : `${seconds(total)} (${seconds(c.talking_seconds)})`,
          },
          { title: t("callActions"), key: "actions", render: (_: unknown, c) => <CallActions call={c} base="/api/calls/live" /> },
        ]}
      />
    </Card>
  );
}

/** An agent's activity; a click offers to log them in or out or start or end a break. */
function AgentTag({ agent }: { agent: Schemas["AgentBoard"] }) {
  const { t } = useTranslation();
  const { menu } = useAgentStatusActions(`/api/agents/${agent.extension}/status`, agent.activity);
  return (
    <Dropdown menu={menu} trigger={["click"]}>
      <Tag
        color={ACTIVITY_COLORS[agent.activity]}
        title={agent.reason ?? undefined}
        style={{ cursor: "pointer" }}
        data-testid={`agent-${agent.extension}`}
      >
        {agent.extension}: {t(`activity.${agent.activity}`)}
        {agent.reason ? ` (${agent.reason})` : ""}
      </Tag>
    </Dropdown>
  );
}

function TodayLine({ today }: { today?: Schemas["QueueToday"] }) {
  const { t } = useTranslation();
  return (
    <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }} data-testid="queue-today">
      {t("queueToday", {
        calls: today?.calls ?? 0,
        answered: today?.answered ?? 0,
        missed: (today?.calls ?? 0) - (today?.answered ?? 0),
      })}
    </Typography.Paragraph>
  );
}

function seconds(total: number): string {
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** Tells the desktop when a queue gains a waiting caller. */
function useIncomingCallNotices(data: Dashboard | null) {
  const { t } = useTranslation();
  const waiting = useRef<Record<string, number> | null>(null);
  useEffect(() => {
    if (!data) return;
    const before = waiting.current;
    waiting.current = Object.fromEntries(data.queues.map((q) => [q.number, q.waiting]));
    if (!before) return;
    for (const q of data.queues) {
      if (q.waiting > (before[q.number] ?? 0)) {
        notifyIncomingCall(t("incomingCall"), `${q.name} (${q.number}): ${t("waiting")} ${q.waiting}`);
      }
    }
  }, [data, t]);
}

export default function DashboardPage() {
  const { t } = useTranslation();
  const { data, connected } = useLive();
  return (
    <>
      <Space style={{ marginBottom: 16 }} align="center">
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t("dashboard")}
        </Typography.Title>
        <Badge
          status={connected ? "processing" : "error"}
          text={connected ? t("live") : t("reconnecting")}
          data-testid="live-state"
        />
      </Space>
      {data && !connected && (
        <Typography.Paragraph type="warning" data-testid="stale">
          {t("staleFigures")}
        </Typography.Paragraph>
      )}
      {data && (
        <Row gutter={16} style={{ marginBottom: 16 }}>
          <Col>
            <Statistic title={t("registered")} value={data.pbx.bindings} />
          </Col>
          <Col>
            <Statistic title={t("activeCalls")} value={data.pbx.active_calls} />
          </Col>
          <Col>
            <Statistic title={t("callsToday")} value={data.today.calls} data-testid="calls-today" />
          </Col>
          <Col>
            <Statistic title={t("answeredToday")} value={data.today.answered} />
          </Col>
        </Row>
      )}
      {data && data.queues.length === 0 && <Empty description={t("noQueues")} />}
      {data && (data.agents.length > 0 || data.phones.length > 0) && (
        <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
          <Col xs={24} md={12}>
            <Card title={t("agents")} size="small" data-testid="agents">
              <Space wrap>
                {data.agents.map((a) => (
                  <AgentTag key={a.extension} agent={a} />
                ))}
              </Space>
            </Card>
          </Col>
          <Col xs={24} md={12}>
            <Card title={t("registered")} size="small" data-testid="phones">
              <Space wrap>
                {data.phones.map((p) => (
                  <Tag key={p.extension}>
                    {p.extension}
                    {p.phones > 1 ? ` ×${p.phones}` : ""}
                  </Tag>
                ))}
              </Space>
            </Card>
          </Col>
        </Row>
      )}
      {data && data.trunks.length > 0 && (
        <Card title={t("trunks")} size="small" style={{ marginBottom: 16 }} data-testid="trunks">
          <Space wrap>
            {data.trunks.map((tr) => (
              <Space key={tr.name} size={4}>
                {tr.name}
                <TrunkState board={tr} />
              </Space>
            ))}
          </Space>
        </Card>
      )}
      {data?.recording_alert && (
        <Alert type="error" showIcon title={data.recording_alert} style={{ marginBottom: 16 }} data-testid="recording-alert" />
      )}
      {data && data.alerts.length > 0 && (
        <Card
          title={t("outAlerts")}
          size="small"
          style={{ marginBottom: 16, borderColor: "#ffa39e" }}
          data-testid="out-alerts"
        >
          {data.alerts.slice(0, 5).map((a) => (
            <div key={`${a.at}-${a.caller}-${a.number}`}>
              <Typography.Text type="secondary">{new Date(a.at).toLocaleTimeString()}</Typography.Text>{" "}
              {a.caller} → {a.number}: <Typography.Text type="danger">{a.reason}</Typography.Text>
            </div>
          ))}
        </Card>
      )}
      <Row gutter={[16, 16]}>
        {data?.queues.map((q) => (
          <Col key={q.number} xs={24} md={12} xl={8}>
            <Card title={`${q.name} (${q.number})`} data-testid={`queue-${q.number}`}>
              <Row gutter={16}>
                <Col span={8}>
                  <Statistic
                    title={t("waiting")}
                    value={q.waiting}
                    styles={{ content: { color: q.waiting > 0 ? "#cf1322" : undefined } }}
                    data-testid="waiting"
                  />
                </Col>
                <Col span={8}>
                  <Statistic title={t("longestWait")} value={seconds(q.longest_wait_seconds)} />
                </Col>
                <Col span={8}>
                  <Statistic
                    title={t("serviceLevel")}
                    value={q.service_level == null ? "—" : `${Math.round(q.service_level * 100)}%`}
                  />
                </Col>
              </Row>
              <Row gutter={16} style={{ marginTop: 16 }}>
                <Col span={6}>
                  <Statistic title={t("agentsIdle")} value={q.agents_idle} data-testid="agents-idle" />
                </Col>
                <Col span={6}>
                  <Statistic title={t("agentsRinging")} value={q.agents_ringing} data-testid="agents-ringing" />
                </Col>
                <Col span={6}>
                  <Statistic title={t("agentsOnCall")} value={q.agents_on_call} data-testid="agents-on-call" />
                </Col>
                <Col span={6}>
                  <Statistic title={t("agentsOnBreak")} value={q.agents_on_break} data-testid="agents-on-break" />
                </Col>
              </Row>
              <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
                {t("callbacksWaiting")}: {q.callbacks} · {t("agentsLoggedIn")}: {q.agents_logged_in}
              </Typography.Paragraph>
              <TodayLine today={data?.today.queues.find((d) => d.number === q.number)} />
            </Card>
          </Col>
        ))}
      </Row>
      {data && <CallsNow calls={data.calls} />}
    </>
  );
}
