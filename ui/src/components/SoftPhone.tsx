// The phone docked in the desktop app's window: sign-in, a dialpad, and a card per
// line (two lines: a second caller waits while the first talks, and swap puts one on
// hold for the other). A ringing call's card says who calls, from which queue, how
// long they waited and their last calls, when the panel is logged in to read them.
// Alt+A answers the ringing call, Alt+H hangs up the one being talked on.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Alert, App, Button, Card, Form, Input, List, Popover, Select, Space, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";
import { notifyIncomingCall } from "../desktop";
import {
  failureText,
  onPhoneEvent,
  phoneAct,
  phoneDevices,
  phoneSignIn,
  phoneUseDevices,
  phoneStatus,
  type LineInfo,
  type PhoneAction,
  type PhoneStatus,
} from "../phone";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** What the office knows of a ringing caller: the queue, the wait, VIP, past calls. */
type CallerFacts = { queue?: string; waited?: number; vip: boolean; last: Schemas["CallRecord"][] };

function useCallerFacts(ringing: LineInfo | undefined): CallerFacts | null {
  const [facts, setFacts] = useState<CallerFacts | null>(null);
  const number = ringing?.party.number;
  useEffect(() => {
    setFacts(null);
    if (!number) return;
    let over = false;
    const look = async () => {
      // The wallboard for an admin, the agent's own panel otherwise; neither when
      // the panel is not logged in.
      const board = await api
        .get<Schemas["Dashboard"]>("/api/dashboard")
        .then((d) => ({ calls: d.calls, queues: d.queues as { number: string; name: string }[] }))
        .catch(() =>
          api.get<Schemas["MyPanel"]>("/api/me").then((m) => ({ calls: m.calls, queues: m.queues })),
        )
        .catch(() => null);
      const call = board?.calls.find((c) => c.caller === number && c.stage !== "talking");
      const queue = board?.queues.find((q) => q.number === call?.queue);
      const last = await api
        .get<Schemas["CallRecord"][]>(`/api/calls?number=${encodeURIComponent(number)}`)
        .catch(() => [] as Schemas["CallRecord"][]);
      if (!over)
        setFacts({
          queue: queue ? `${queue.name} (${queue.number})` : (call?.queue ?? undefined),
          waited: call?.seconds,
          vip: (call?.priority ?? 0) > 0,
          last: last.slice(0, 3),
        });
    };
    void look();
    const timer = window.setInterval(() => void look(), 2000);
    return () => {
      over = true;
      window.clearInterval(timer);
    };
  }, [number]);
  return facts;
}

function SignInForm({ done }: { done: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ server: string; extension: string; password: string }>();
  const [error, setError] = useState<string | null>(null);
  const submit = async (v: { server: string; extension: string; password: string }) => {
    setError(null);
    try {
      await phoneSignIn(v.server, v.extension, v.password);
      done();
    } catch (e) {
      setError(failureText(e));
    }
  };
  return (
    <Form form={form} layout="vertical" size="small" onFinish={(v) => void submit(v)}>
      <Form.Item name="server" label={t("phoneServer")} initialValue={location.hostname} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="extension" label={t("extension")} rules={[{ required: true }]}>
        <Input />
      </Form.Item>
      <Form.Item name="password" label={t("password")} rules={[{ required: true }]}>
        <Input.Password />
      </Form.Item>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 8 }} />}
      <Button type="primary" htmlType="submit">
        {t("phoneSignIn")}
      </Button>
    </Form>
  );
}

/** The microphone and speaker the phone uses, chosen among the PC's. */
function SoundDevices({ status, done }: { status: PhoneStatus; done: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [devices, setDevices] = useState<[string[], string[]] | null>(null);
  const [microphone, setMicrophone] = useState<string | null>(status.microphone);
  const [speaker, setSpeaker] = useState<string | null>(status.speaker);
  useEffect(() => {
    void phoneDevices()
      .then(setDevices)
      .catch((e) => void message.error(failureText(e)));
  }, [message]);
  const options = (names: string[]) => [
    { value: "", label: t("phoneSystemDefault") },
    ...names.map((n) => ({ value: n, label: n })),
  ];
  const save = () =>
    void phoneUseDevices(microphone || null, speaker || null)
      .then(done)
      .catch((e) => void message.error(failureText(e)));
  if (!devices) return null;
  return (
    <Form layout="vertical" size="small" style={{ width: 260 }}>
      <Form.Item label={t("phoneMicrophone")}>
        <Select value={microphone ?? ""} onChange={(v) => setMicrophone(v || null)} options={options(devices[0])} />
      </Form.Item>
      <Form.Item label={t("phoneSpeaker")}>
        <Select value={speaker ?? ""} onChange={(v) => setSpeaker(v || null)} options={options(devices[1])} />
      </Form.Item>
      <Button type="primary" onClick={save}>
        {t("save")}
      </Button>
    </Form>
  );
}

function LineCard({
  line,
  facts,
  act,
  swap,
}: {
  line: LineInfo;
  facts: CallerFacts | null;
  act: (a: PhoneAction) => void;
  swap: boolean;
}) {
  const { t } = useTranslation();
  const [target, setTarget] = useState("");
  const [since] = useState(() => Date.now());
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const seconds = Math.floor((now - since) / 1000);
  const who = line.party.name ? `${line.party.name} (${line.party.number})` : line.party.number;
  const id = line.line;
  return (
    <Card size="small" data-testid={`phone-line-${id}`} style={{ marginBottom: 8 }}>
      <Space direction="vertical" size={4} style={{ width: "100%" }}>
        <Space wrap>
          <Typography.Text strong data-testid="phone-party">
            {who}
          </Typography.Text>
          <Tag data-testid="phone-line-state">{t(`phoneState.${line.state}`)}</Tag>
          {line.held_by_party && <Tag>{t("phoneHeldByParty")}</Tag>}
          {line.state === "ringing" && facts?.vip && <Tag color="gold">VIP</Tag>}
          <Typography.Text type="secondary">{seconds} s</Typography.Text>
        </Space>
        {line.state === "ringing" && facts && (
          <Typography.Text type="secondary" data-testid="phone-caller-facts">
            {facts.queue && t("phoneFromQueue", { queue: facts.queue })}
            {facts.waited !== undefined && ` · ${t("phoneWaited", { seconds: facts.waited })}`}
            {facts.last.length > 0 &&
              ` · ${t("phoneLastCalls")}: ${facts.last
                .map((c) => new Date(c.started_at).toLocaleDateString())
                .join(", ")}`}
          </Typography.Text>
        )}
        <Space wrap>
          {line.state === "ringing" && (
            <>
              <Button type="primary" data-testid="phone-answer" title="Alt+A" onClick={() => act({ action: "answer", line: id })}>
                {t("phoneAnswer")}
              </Button>
              <Button danger onClick={() => act({ action: "reject", line: id })}>
                {t("phoneReject")}
              </Button>
            </>
          )}
          {line.state === "talking" && (
            <Button onClick={() => act({ action: "hold", line: id })}>{t("phoneHold")}</Button>
          )}
          {line.state === "held" && (
            <Button onClick={() => act({ action: "resume", line: id })}>{swap ? t("phoneSwap") : t("phoneResume")}</Button>
          )}
          {line.state !== "ringing" && (
            <Button danger data-testid="phone-hang-up" title="Alt+H" onClick={() => act({ action: "hang_up", line: id })}>
              {t("hangUp")}
            </Button>
          )}
        </Space>
        {line.state === "talking" && (
          <Space wrap size={2}>
            {KEYS.map((k) => (
              <Button key={k} size="small" onClick={() => act({ action: "key", line: id, key: k })}>
                {k}
              </Button>
            ))}
          </Space>
        )}
        {(line.state === "talking" || line.state === "held") && (
          <Space.Compact>
            <Input
              size="small"
              placeholder={t("transferTo")}
              value={target}
              onChange={(e) => setTarget(e.target.value)}
              style={{ width: 120 }}
            />
            <Button size="small" disabled={!target.trim()} onClick={() => act({ action: "transfer", line: id, target })}>
              {t("transfer")}
            </Button>
          </Space.Compact>
        )}
      </Space>
    </Card>
  );
}

export default function SoftPhone() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [status, setStatus] = useState<PhoneStatus | null>(null);
  const [number, setNumber] = useState("");
  const [open, setOpen] = useState(true);
  const [soundOpen, setSoundOpen] = useState(false);

  const refresh = useCallback(() => void phoneStatus().then(setStatus).catch(() => undefined), []);
  useEffect(() => {
    refresh();
    return onPhoneEvent((e) => {
      if (e.event === "line" && e.state === "ringing") {
        setOpen(true);
        notifyIncomingCall(t("phoneIncoming"), e.party.name ? `${e.party.name} (${e.party.number})` : e.party.number);
      }
      if (e.event === "transfer_failed") void message.error(t("phoneTransferFailed", { code: e.code }));
      if (e.event === "ended" && e.reason.why === "failed") void message.warning(`${e.reason.code} ${e.reason.reason}`);
      if (e.event === "ended" && e.reason.why === "busy") void message.warning(t("phoneBusy"));
      refresh();
    });
  }, [refresh, message, t]);

  const act = useCallback(
    (a: PhoneAction) =>
      void phoneAct(a)
        .then(refresh)
        .catch((e) => void message.error(failureText(e))),
    [refresh, message],
  );
  const lines = useMemo(() => status?.lines ?? [], [status]);
  const ringing = lines.find((l) => l.state === "ringing");
  const talking = lines.find((l) => l.state === "talking");
  const facts = useCallerFacts(ringing);

  useEffect(() => {
    const keys = (e: KeyboardEvent) => {
      if (!e.altKey) return;
      if (e.key.toLowerCase() === "a" && ringing) act({ action: "answer", line: ringing.line });
      else if (e.key.toLowerCase() === "h" && talking) act({ action: "hang_up", line: talking.line });
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", keys);
    return () => window.removeEventListener("keydown", keys);
  }, [ringing, talking, act]);

  if (!status) return null;
  const signIn = status.sign_in;
  const signedIn = signIn?.state === "signed_in";
  return (
    <div style={{ position: "fixed", right: 16, bottom: 16, width: 340, zIndex: 20 }} data-testid="soft-phone">
      <Card
        size="small"
        title={
          <Space>
            {t("phoneTitle")}
            {status.extension && (
              <Typography.Text type="secondary" data-testid="phone-extension">
                {status.extension}
              </Typography.Text>
            )}
            <Tag color={signedIn ? "green" : "red"} data-testid="phone-sign-in">
              {t(`phoneSignInState.${signIn?.state ?? "signed_out"}`)}
            </Tag>
          </Space>
        }
        extra={
          <Space size={0}>
            {status.extension && (
              <Popover
                trigger="click"
                open={soundOpen}
                onOpenChange={setSoundOpen}
                title={t("phoneSound")}
                content={
                  soundOpen && (
                    <SoundDevices
                      status={status}
                      done={() => {
                        setSoundOpen(false);
                        refresh();
                      }}
                    />
                  )
                }
              >
                <Button size="small" type="text">
                  {t("phoneSound")}
                </Button>
              </Popover>
            )}
            <Button size="small" type="text" onClick={() => setOpen(!open)}>
              {open ? "–" : "+"}
            </Button>
          </Space>
        }
      >
        {open && (
          <>
            {status.sound && <Alert type="warning" showIcon message={t("phoneNoSound", { why: status.sound })} style={{ marginBottom: 8 }} />}
            {signIn?.state === "refused" && <Alert type="error" showIcon message={signIn.reason} style={{ marginBottom: 8 }} />}
            {!status.extension ? (
              <SignInForm done={refresh} />
            ) : (
              <>
                <List
                  dataSource={lines}
                  locale={{ emptyText: t("phoneNoCalls") }}
                  renderItem={(line) => (
                    <LineCard key={line.line} line={line} facts={facts} act={act} swap={talking !== undefined} />
                  )}
                />
                <Space.Compact style={{ width: "100%", marginTop: 8 }}>
                  <Input
                    aria-label={t("phoneNumber")}
                    placeholder={t("phoneNumber")}
                    value={number}
                    onChange={(e) => setNumber(e.target.value)}
                    onPressEnter={() => number.trim() && act({ action: "dial", number })}
                  />
                  <Button type="primary" disabled={!number.trim()} onClick={() => act({ action: "dial", number })}>
                    {t("phoneCall")}
                  </Button>
                </Space.Compact>
                <Space wrap size={2} style={{ marginTop: 4 }}>
                  {KEYS.map((k) => (
                    <Button key={k} size="small" onClick={() => setNumber(number + k)}>
                      {k}
                    </Button>
                  ))}
                  <Button size="small" onClick={() => act({ action: "mute", muted: !status.muted })}>
                    {status.muted ? t("phoneUnmute") : t("phoneMute")}
                  </Button>
                </Space>
                {status.recent.length > 0 && (
                  <List
                    size="small"
                    header={<Typography.Text type="secondary">{t("phoneRecent")}</Typography.Text>}
                    dataSource={status.recent.slice(0, 5)}
                    data-testid="phone-recent"
                    renderItem={(call, i) => (
                      <List.Item key={i} style={{ padding: "2px 0" }}>
                        <Space>
                          <Button
                            size="small"
                            type="link"
                            title={t("phoneCall")}
                            onClick={() => act({ action: "dial", number: call.party.number })}
                          >
                            {call.party.name ? `${call.party.name} (${call.party.number})` : call.party.number}
                          </Button>
                          {call.direction === "incoming" && !call.answered ? (
                            <Tag color="red">{t("phoneMissed")}</Tag>
                          ) : (
                            <Tag>{call.direction === "incoming" ? "↙" : "↗"}</Tag>
                          )}
                        </Space>
                      </List.Item>
                    )}
                  />
                )}
              </>
            )}
          </>
        )}
      </Card>
    </div>
  );
}
