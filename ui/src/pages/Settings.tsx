import { useEffect, useState } from "react";
import { Alert, App, Button, Card, Form, Input, InputNumber, Select, Space, Spin, Switch, Table, Tag, Typography, type FormInstance } from "antd";
import { useTranslation } from "react-i18next";
import TimeZoneSelect from "../components/TimeZoneSelect";
import { api, ApiError, fieldPath, type Schemas } from "../api/client";
import { useClassOptions } from "./Routes";

/** Puts the server's field problems next to their fields; returns the others, with
 * those about a field this form has none for (a recording rule's party) named. */
function showProblems<T>(form: FormInstance<T>, e: unknown): string[] {
  if (!(e instanceof ApiError)) return [String(e)];
  const problems = e.errors.length ? e.errors : [{ field: e.field ?? "", message: e.message }];
  const shown = (field: string) => field !== "" && form.getFieldValue(fieldPath(field) as never) !== undefined;
  const fields = problems.filter((p) => shown(p.field)).map((p) => ({ name: fieldPath(p.field), errors: [p.message] }));
  form.setFields(fields as Parameters<FormInstance<T>["setFields"]>[0]);
  return problems.filter((p) => !shown(p.field)).map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
}

type Policy = Schemas["RecordPolicy"];
const RULE_KINDS = ["extensions", "queues", "trunks"] as const;
/** A party's own recording rule, as one row of the Recording card's list. */
type RecordingRule = { kind: (typeof RULE_KINDS)[number]; name: string; policy: Policy };
type SettingsForm = Schemas["Settings"] & { recording_rules?: RecordingRule[] };

/** The rules the server keeps by kind and name, as rows. */
function rulesOf(recording: Schemas["RecordingSettings"] | null | undefined): RecordingRule[] {
  if (!recording) return [];
  return RULE_KINDS.flatMap((kind) =>
    Object.entries(recording[kind] ?? {}).map(([name, policy]) => ({ kind, name, policy: policy as Policy })),
  );
}

/** The rows back into the server's maps. */
function withRules(values: SettingsForm): Schemas["Settings"] {
  const { recording_rules: rules, ...settings } = values;
  if (settings.recording) {
    const maps = Object.fromEntries(RULE_KINDS.map((k) => [k, {} as Record<string, Policy>]));
    for (const r of rules ?? []) if (r?.name) maps[r.kind][r.name.trim()] = r.policy;
    settings.recording = { ...settings.recording, ...maps };
  }
  return settings;
}

const WEBHOOK_EVENTS: Schemas["WebhookEventType"][] = [
  "call.started",
  "call.answered",
  "call.ended",
  "call.missed",
  "voicemail.left",
  "callback.requested",
  "queue.abandoned",
  "caller.repeated",
];

/** A signing secret as Standard Webhooks writes them: 32 random bytes in base64. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return "whsec_" + btoa(String.fromCharCode(...bytes));
}

export default function Settings() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const classes = useClassOptions();
  const [form] = Form.useForm<SettingsForm>();
  const [passwordForm] = Form.useForm<Schemas["PasswordChange"]>();
  const [errors, setErrors] = useState<string[]>([]);
  // The form is shown once the settings are in it: typing into a field the load then
  // overwrote would mix the two.
  const [loaded, setLoaded] = useState<SettingsForm | null>(null);

  const [mail, setMail] = useState<Schemas["MailView"][]>([]);
  const [deliveries, setDeliveries] = useState<Schemas["WebhookDeliveryView"][]>([]);
  useEffect(() => {
    void api.get<Schemas["Settings"]>("/api/settings").then((s) => setLoaded({ ...s, recording_rules: rulesOf(s.recording) }));
    void api.get<Schemas["MailView"][]>("/api/mail").then(setMail);
    void api.get<Schemas["WebhookDeliveryView"][]>("/api/webhooks/deliveries").then(setDeliveries);
  }, []);
  const time = (ms: number | null | undefined) => (ms ? new Date(ms).toLocaleString() : "");

  // Every setting as loaded goes back, not only those with a field on this page: a
  // setting the page does not show must not be reset by saving the others.
  const save = async () => {
    const values = withRules(form.getFieldsValue(true) as SettingsForm);
    // An empty login or password field means none given (the stored password stays).
    const email = values.email;
    if (email) values.email = { ...email, username: email.username || null, password: email.password || null };
    setErrors([]);
    // The last save's field errors go: only this save's are shown.
    form.setFields(
      form
        .getFieldsError()
        .filter((f) => f.errors.length > 0)
        .map((f) => ({ name: f.name as never, errors: [] })),
    );
    try {
      const saved = await api.put<Schemas["Settings"]>("/api/settings", values);
      form.setFieldsValue({ ...saved, recording_rules: rulesOf(saved.recording) });
      // The SMTP password is kept, never shown back: the field empties once saved.
      form.setFieldValue(["email", "password"], undefined);
      void message.success(t("saved"));
    } catch (e) {
      setErrors(showProblems(form, e));
    }
  };

  const changePassword = async (values: Schemas["PasswordChange"]) => {
    try {
      await api.put("/api/admin/password", values);
      passwordForm.resetFields();
      void message.success(t("passwordChanged"));
    } catch (e) {
      showProblems(passwordForm, e);
    }
  };

  const number = (name: (string | number)[], label: string) => (
    <Form.Item name={name} label={label}>
      <InputNumber min={0} />
    </Form.Item>
  );

  if (!loaded) return <Spin />;

  return (
    <>
      <Typography.Title level={3}>{t("settings")}</Typography.Title>
      <Form form={form} layout="vertical" onFinish={save} initialValues={loaded}>
        <Space align="start" wrap>
          <Card title="SIP" style={{ width: 340 }}>
            <Form.Item name={["sip", "realm"]} label={t("realm")}>
              <Input />
            </Form.Item>
            <Form.Item name={["sip", "digest_algorithms"]} label={t("digestAlgorithms")}>
              <Select mode="multiple" options={["MD5", "SHA-256"].map((a) => ({ value: a, label: a }))} />
            </Form.Item>
            {number(["sip", "nonce_lifetime"], "nonce_lifetime (s)")}
            {number(["sip", "timer_t1_ms"], "T1 (ms)")}
            {number(["sip", "timer_t2_ms"], "T2 (ms)")}
            {number(["sip", "timer_t4_ms"], "T4 (ms)")}
            <Form.Item name={["sip", "public_address"]} label={t("publicAddress")} extra={t("publicAddressHint")}>
              <Input placeholder="203.0.113.9" />
            </Form.Item>
            <Form.Item name={["sip", "local_networks"]} label={t("localNetworks")}>
              <Select mode="tags" tokenSeparators={[",", " "]} placeholder="192.0.2.0/24" />
            </Form.Item>
          </Card>
          <Card title={t("registrar")} style={{ width: 300 }}>
            {number(["registrar", "default_expires"], t("defaultExpires"))}
            {number(["registrar", "min_expires"], t("minExpires"))}
            {number(["registrar", "max_expires"], t("maxExpires"))}
            {number(["registrar", "max_contacts"], t("maxContacts"))}
          </Card>
          <Card title={t("security")} style={{ width: 300 }}>
            {number(["security", "max_auth_failures"], t("maxAuthFailures"))}
            {number(["security", "failure_window"], t("failureWindow"))}
            {number(["security", "ban_seconds"], t("banSeconds"))}
            {number(["security", "max_request_rate"], t("maxRequestRate"))}
            <Form.Item name={["security", "trusted_networks"]} label={t("trustedNetworks")}>
              <Select mode="tags" tokenSeparators={[",", " "]} placeholder="192.168.1.0/24" />
            </Form.Item>
          </Card>
          <Card title={t("callsSection")} style={{ width: 300 }}>
            {number(["calls", "ring_timeout"], t("ringTimeout"))}
            <Form.Item name={["calls", "language"]} label={t("language")}>
              <Select
                options={[
                  { value: "en", label: "English" },
                  { value: "pl", label: "Polski" },
                  { value: "ru", label: "Русский" },
                ]}
              />
            </Form.Item>
            <Form.Item name={["numbers", "country_code"]} label={t("countryCode")}>
              <Input placeholder="48" />
            </Form.Item>
            <Form.Item name={["numbers", "time_zone"]} label={t("officeTimeZone")} extra={t("officeTimeZoneHint")}>
              <TimeZoneSelect allowClear placeholder={t("thisPcsZone")} ariaLabel={t("officeTimeZone")} />
            </Form.Item>
            {number(["voicemail", "max_message_seconds"], t("maxMessage"))}
            {number(["voicemail", "silence_seconds"], t("silence"))}
            <Form.Item name={["calls", "transfer_code"]} label={t("transferCode")} extra={t("transferCodeHint")}>
              <Input placeholder="##" style={{ width: 80 }} />
            </Form.Item>
            <Form.Item name={["calls", "attended_transfer_code"]} label={t("attendedTransferCode")} extra={t("attendedTransferCodeHint")}>
              <Input placeholder="*2" style={{ width: 80 }} />
            </Form.Item>
            <Form.Item name={["calls", "supervisors"]} label={t("supervisors")} extra={t("supervisorsHint")}>
              <Select mode="tags" tokenSeparators={[",", " "]} placeholder="101" />
            </Form.Item>
          </Card>
          <Card title={t("featureCodes")} style={{ width: 300 }} data-testid="feature-codes">
            {(
              [
                ["agent_login", "*45"],
                ["agent_break", "*46"],
                ["pickup", "*8"],
                ["directed_pickup", "**"],
                ["park", "*70"],
                ["listen", "*90"],
                ["whisper", "*91"],
                ["barge", "*92"],
                ["voicemail", "*97"],
              ] as const
            ).map(([code, usual]) => (
              <Form.Item key={code} name={["feature_codes", code]} label={t(`code_${code}`)}>
                <Input placeholder={usual} style={{ width: 100 }} />
              </Form.Item>
            ))}
          </Card>
          <Card title={t("recordingSection")} style={{ width: 300 }} data-testid="recording">
            {(["inbound", "outbound", "internal"] as const).map((direction) => (
              <Form.Item key={direction} name={["recording", direction]} label={t(`record_${direction}`)}>
                <Select
                  options={[
                    { value: "always", label: t("recordAlways") },
                    { value: "on-demand", label: t("recordOnDemand") },
                    { value: "never", label: t("recordNever") },
                  ]}
                />
              </Form.Item>
            ))}
            <Form.Item name={["recording", "announce"]} label={t("recordAnnounce")} valuePropName="checked">
              <Switch />
            </Form.Item>
            <Form.Item name={["recording", "code"]} label={t("recordCode")} extra={t("recordCodeHint")}>
              <Input placeholder="*1" style={{ width: 80 }} />
            </Form.Item>
            <Form.Item name={["recording", "agents_listen"]} label={t("recordAgentsListen")} valuePropName="checked">
              <Switch />
            </Form.Item>
            {number(["recording", "keep_days"], t("recordKeepDays"))}
            {number(["recording", "min_free_mb"], t("recordMinFree"))}
            <Form.List name="recording_rules">
              {(rules, { add, remove }) => (
                <>
                  <div style={{ marginBottom: 8 }}>{t("recordRules")}</div>
                  {rules.map((rule) => (
                    <Space key={rule.key} align="baseline" wrap data-testid="recording-rule">
                      <Form.Item name={[rule.name, "kind"]} noStyle>
                        <Select
                          style={{ width: 110 }}
                          aria-label={t("recordRuleKind")}
                          options={[
                            { value: "extensions", label: t("extension") },
                            { value: "queues", label: t("queue") },
                            { value: "trunks", label: t("trunk") },
                          ]}
                        />
                      </Form.Item>
                      <Form.Item name={[rule.name, "name"]} noStyle>
                        <Input style={{ width: 70 }} aria-label={t("recordRuleName")} placeholder="101" />
                      </Form.Item>
                      <Form.Item name={[rule.name, "policy"]} noStyle>
                        <Select
                          style={{ width: 120 }}
                          aria-label={t("recordRulePolicy")}
                          options={[
                            { value: "always", label: t("recordAlways") },
                            { value: "on-demand", label: t("recordOnDemand") },
                            { value: "never", label: t("recordNever") },
                          ]}
                        />
                      </Form.Item>
                      <Button size="small" onClick={() => remove(rule.name)}>
                        {t("delete")}
                      </Button>
                    </Space>
                  ))}
                  <Button size="small" onClick={() => add({ kind: "queues", name: "", policy: "always" })}>
                    {t("recordAddRule")}
                  </Button>
                </>
              )}
            </Form.List>
          </Card>
          <Card title={t("reportsByEmail")} style={{ width: 300 }} data-testid="reports-by-email">
            <Form.Item name={["reports", "daily_to"]} label={t("reportsDailyTo")}>
              <Select mode="tags" tokenSeparators={[",", " "]} open={false} placeholder="owner@office.example" />
            </Form.Item>
            <Form.Item name={["reports", "weekly_to"]} label={t("reportsWeeklyTo")}>
              <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
            </Form.Item>
            <Form.Item name={["reports", "by"]} label={t("reportBy")}>
              <Select
                options={(["day", "hour", "queue", "agent", "trunk", "outcome", "direction", "caller"] as const).map((g) => ({
                  value: g,
                  label: t(`reportBy_${g}`),
                }))}
              />
            </Form.Item>
            <Form.Item name={["reports", "send_at"]} label={t("reportsSendAt")}>
              <InputNumber min={0} max={23} />
            </Form.Item>
          </Card>
          <Card title={t("callingOut")} style={{ width: 300 }} data-testid="calling-out">
            <Form.Item name={["outbound", "classes"]} label={t("outClasses")} extra={t("outClassesHint")}>
              <Select mode="multiple" options={classes} />
            </Form.Item>
            {number(["outbound", "max_calls"], t("outMaxCalls"))}
            {number(["outbound", "max_minutes_per_day"], t("outMaxMinutes"))}
            <Form.Item name={["outbound", "emergency"]} label={t("emergencyNumbers")}>
              <Select mode="tags" tokenSeparators={[",", " "]} open={false} />
            </Form.Item>
          </Card>
          <Card title={t("webhooksSection")} style={{ width: 460 }} data-testid="webhooks">
            <Form.List name={["webhooks", "endpoints"]}>
              {(endpoints, { add, remove }) => (
                <>
                  {endpoints.map((endpoint) => (
                    <div key={endpoint.key} data-testid="webhook-endpoint" style={{ borderBottom: "1px solid #f0f0f0", marginBottom: 12 }}>
                      <Form.Item name={[endpoint.name, "url"]} label={t("webhookUrl")}>
                        <Input placeholder="https://crm.office.example/hooks/switchboard" />
                      </Form.Item>
                      <Form.Item label={t("webhookSecret")} extra={t("webhookSecretHint")}>
                        <Space.Compact style={{ width: "100%" }}>
                          <Form.Item name={[endpoint.name, "secret"]} noStyle>
                            <Input aria-label={t("webhookSecret")} style={{ fontFamily: "monospace" }} />
                          </Form.Item>
                          <Button onClick={() => form.setFieldValue(["webhooks", "endpoints", endpoint.name, "secret"], newSecret())}>
                            {t("webhookGenerate")}
                          </Button>
                        </Space.Compact>
                      </Form.Item>
                      <Form.Item name={[endpoint.name, "events"]} label={t("webhookEvents")}>
                        <Select mode="multiple" allowClear placeholder={t("webhookAllEvents")} options={WEBHOOK_EVENTS.map((e) => ({ value: e, label: e }))} />
                      </Form.Item>
                      <Button size="small" onClick={() => remove(endpoint.name)} style={{ marginBottom: 12 }}>
                        {t("delete")}
                      </Button>
                    </div>
                  ))}
                  <Button size="small" onClick={() => add({ url: "", secret: newSecret(), events: [] })}>
                    {t("webhookAdd")}
                  </Button>
                </>
              )}
            </Form.List>
            <Space style={{ marginTop: 16 }}>
              {number(["webhooks", "repeated_calls"], t("webhookRepeatedCalls"))}
              {number(["webhooks", "repeated_within_minutes"], t("webhookRepeatedMinutes"))}
            </Space>
          </Card>
          <Card title={t("emailSection")} style={{ width: 340 }}>
            <Form.Item name={["email", "server"]} label={t("smtpServer")}>
              <Input placeholder="smtp.office.example:587" />
            </Form.Item>
            <Form.Item name={["email", "security"]} label={t("smtpSecurity")}>
              <Select
                options={[
                  { value: "starttls", label: t("smtpStarttls") },
                  { value: "tls", label: t("smtpTls") },
                  { value: "none", label: t("smtpNone") },
                ]}
              />
            </Form.Item>
            <Form.Item name={["email", "username"]} label={t("smtpUsername")}>
              <Input autoComplete="off" />
            </Form.Item>
            <Form.Item name={["email", "password"]} label={t("smtpPassword")} extra={t("smtpPasswordKeep")}>
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Form.Item name={["email", "from"]} label={t("mailFrom")}>
              <Input placeholder="Switchboard <pbx@office.example>" />
            </Form.Item>
          </Card>
        </Space>
        {errors.length > 0 && <Alert type="error" title={errors.join("; ")} style={{ marginTop: 16 }} />}
        <Button type="primary" htmlType="submit" style={{ marginTop: 16 }}>
          {t("save")}
        </Button>
      </Form>
      <Card title={t("recentMail")} style={{ marginTop: 24 }} data-testid="recent-mail">
        <Table<Schemas["MailView"]>
          rowKey="id"
          size="small"
          pagination={{ pageSize: 10 }}
          dataSource={mail}
          locale={{ emptyText: t("noMail") }}
          columns={[
            { title: t("mailTo"), dataIndex: "recipient" },
            { title: t("mailSubject"), dataIndex: "subject" },
            {
              title: t("mailStatus"),
              key: "status",
              render: (_, m) =>
                m.sent_at ? (
                  <Tag color="green">{t("mailSent", { at: time(m.sent_at) })}</Tag>
                ) : (
                  <span>
                    <Tag color="orange">{t("mailWaiting", { at: time(m.next_attempt_at) })}</Tag>
                    {m.last_error}
                  </span>
                ),
            },
          ]}
        />
      </Card>
      <Card title={t("recentWebhooks")} style={{ marginTop: 24 }} data-testid="recent-webhooks">
        <Table<Schemas["WebhookDeliveryView"]>
          rowKey="id"
          size="small"
          pagination={{ pageSize: 10 }}
          dataSource={deliveries}
          locale={{ emptyText: t("noWebhooks") }}
          columns={[
            { title: t("started"), key: "created", render: (_, d) => time(d.created_at) },
            { title: t("webhookEvent"), dataIndex: "event" },
            { title: t("webhookReceiver"), dataIndex: "endpoint" },
            {
              title: t("mailStatus"),
              key: "status",
              render: (_, d) =>
                d.delivered_at ? (
                  <Tag color="green">{t("webhookDelivered", { at: time(d.delivered_at), status: d.last_status })}</Tag>
                ) : (
                  <span>
                    {d.given_up_at ? (
                      <Tag color="red">{t("webhookGivenUp", { at: time(d.given_up_at) })}</Tag>
                    ) : (
                      <Tag color="orange">{t("webhookWaiting", { n: d.attempts, at: time(d.next_attempt_at) })}</Tag>
                    )}
                    {d.last_error}
                  </span>
                ),
            },
          ]}
        />
      </Card>
      <Card title={t("adminPassword")} style={{ width: 400, marginTop: 24 }}>
        <Form form={passwordForm} layout="vertical" onFinish={changePassword}>
          <Form.Item name="current_password" label={t("currentPassword")} rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Form.Item name="new_password" label={t("newPassword")} rules={[{ required: true }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button htmlType="submit">{t("change")}</Button>
        </Form>
      </Card>
    </>
  );
}
