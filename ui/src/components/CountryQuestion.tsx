// Asked of the admin until it is answered: the office's country code, without which a
// national number (a VIP list's "22 555 01 04") never matches the same caller sent in
// international form by a provider, and its time zone (the browser's unless changed),
// the office's day. Not a dialog: it waits beside the work.
import { useEffect, useState } from "react";
import { Alert, App, Button, Select } from "antd";
import { useTranslation } from "react-i18next";
import { useLocation } from "react-router";
import { api, type Schemas } from "../api/client";
import TimeZoneSelect, { BROWSER_ZONE } from "./TimeZoneSelect";

/** Country codes of the offices Switchboard speaks to first, and a few neighbours. */
const COUNTRIES: [string, string][] = [
  ["48", "Polska"],
  ["7", "Россия"],
  ["380", "Україна"],
  ["375", "Беларусь"],
  ["49", "Deutschland"],
  ["420", "Česko"],
  ["421", "Slovensko"],
  ["370", "Lietuva"],
  ["44", "United Kingdom"],
  ["353", "Ireland"],
  ["1", "United States / Canada"],
];

export default function CountryQuestion() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [settings, setSettings] = useState<Schemas["Settings"] | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [zone, setZone] = useState(BROWSER_ZONE);
  const { pathname } = useLocation();
  const answered = Boolean(settings?.numbers.country_code);
  // Asked again on each page until answered, so that an answer given on the Settings
  // page counts; once it is, no more.
  useEffect(() => {
    if (!answered) void api.get<Schemas["Settings"]>("/api/settings").then(setSettings);
  }, [pathname, answered]);
  // The Settings page has the field itself (and would save its own copy over this).
  if (!settings || settings.numbers.country_code || pathname.startsWith("/settings")) return null;
  const save = async () => {
    if (!code) return;
    const saved = await api.put<Schemas["Settings"]>("/api/settings", {
      ...settings,
      numbers: { ...settings.numbers, country_code: code, time_zone: zone },
    });
    setSettings(saved);
    void message.success(t("saved"));
  };
  return (
    <Alert
      type="info"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="country-question"
      title={t("countryQuestion")}
      description={
        <div style={{ display: "flex", gap: 8, flexWrap: "wrap" }}>
          <Select
            aria-label={t("countryPick")}
            showSearch
            optionFilterProp="label"
            placeholder={t("countryPick")}
            style={{ width: 260 }}
            value={code}
            onChange={setCode}
            options={COUNTRIES.map(([value, name]) => ({ value, label: `${name} (+${value})` }))}
          />
          <TimeZoneSelect value={zone} onChange={setZone} ariaLabel={t("timeZone")} />
          <Button type="primary" disabled={!code} onClick={save}>
            {t("countrySet")}
          </Button>
        </div>
      }
    />
  );
}
