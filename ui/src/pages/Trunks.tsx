// The office's providers: how Switchboard reaches each one, and whether it is
// registered there right now. The password is write-only: left empty, it stays.
import { useEffect, useState } from "react";
import { Form, Input, InputNumber, Select, Switch, Tag, Tooltip } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import { api, type Schemas } from "../api/client";

type Trunk = Schemas["TrunkSettings"];
type Board = Schemas["TrunkBoard"];

const STATE_COLOURS: Record<Board["state"], string> = {
  starting: "default",
  registered: "green",
  reachable: "green",
  unwatched: "default",
  refused: "red",
  unreachable: "orange",
  stopped: "default",
};

/** A trunk's state as a coloured tag, the provider's refusal in its tooltip. */
export function TrunkState({ board }: { board: Board | undefined }) {
  const { t } = useTranslation();
  if (!board) return <Tag>{t("trunkStarting")}</Tag>;
  const label = {
    starting: t("trunkStarting"),
    registered: t("trunkRegistered"),
    reachable: t("trunkReachable"),
    unwatched: t("trunkUnwatched"),
    refused: t("trunkRefused", { reason: board.refusal ?? "" }),
    unreachable: t("trunkUnreachable"),
    stopped: t("trunkStopped"),
  }[board.state];
  const since = new Date(board.since).toLocaleString();
  return (
    <Tooltip title={t("trunkSince", { since })}>
      <Tag color={STATE_COLOURS[board.state]} data-testid={`trunk-state-${board.name}`}>
        {label}
      </Tag>
    </Tooltip>
  );
}

/** The trunks' states, from the wallboard's data, refreshed every few seconds. */
function useTrunkBoards(): Board[] {
  const [boards, setBoards] = useState<Board[]>([]);
  useEffect(() => {
    let stop = false;
    const load = () =>
      api
        .get<Schemas["Dashboard"]>("/api/dashboard")
        .then((d) => !stop && setBoards(d.trunks))
        .catch(() => undefined);
    void load();
    const timer = setInterval(load, 3000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, []);
  return boards;
}

const lines = (text: unknown) =>
  String(text ?? "")
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter(Boolean);

export default function Trunks() {
  const { t } = useTranslation();
  const boards = useTrunkBoards();
  return (
    <CollectionPage<Trunk>
      name="trunks"
      title={t("trunks")}
      keyField="name"
      newItem={{ name: "", host: "", keepalive: 30 }}
      columns={[
        { title: t("name"), dataIndex: "name" },
        { title: t("host"), dataIndex: "host" },
        { title: t("account"), key: "account", render: (_, tr) => tr.register?.username ?? "—" },
        {
          title: t("trunkStatus"),
          key: "state",
          render: (_, tr) => <TrunkState board={boards.find((b) => b.name === tr.name)} />,
        },
      ]}
      toValues={(tr) => ({
        ...tr,
        registers: Boolean(tr.register),
        addresses: (tr.addresses ?? []).join("\n"),
      })}
      toItem={(v) => {
        const register = v.registers
          ? {
              ...(v.register as Record<string, unknown>),
              auth_username: ((v.register as Record<string, unknown>)?.auth_username as string) || undefined,
              password: ((v.register as Record<string, unknown>)?.password as string) || undefined,
            }
          : undefined;
        const item: Record<string, unknown> = { ...v, register, addresses: lines(v.addresses) };
        delete item.registers;
        for (const optional of ["outbound_proxy", "unknown_numbers", "tls_ca"]) {
          if (!item[optional]) delete item[optional];
        }
        return item as Trunk;
      }}
      formField={(field) => (field.startsWith("addresses") ? ["addresses"] : null)}
      fields={(editing) => (
        <>
          <Form.Item label={t("name")} name="name" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("host")} name="host" rules={[{ required: true }]} extra={t("hostHint")}>
            <Input placeholder="sip.provider.example" />
          </Form.Item>
          <Form.Item label={t("trunkTransport")} name="transport" initialValue="udp">
            <Select
              options={[
                { value: "udp", label: "UDP" },
                { value: "tcp", label: "TCP" },
                { value: "tls", label: t("trunkTransportTls") },
              ]}
            />
          </Form.Item>
          <Form.Item label={t("encryption")} name="encryption" initialValue="allow">
            <Select
              options={[
                { value: "allow", label: t("trunkEncryptionAllow") },
                { value: "require", label: t("trunkEncryptionRequire") },
              ]}
            />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.transport !== b.transport}>
            {({ getFieldValue }) =>
              getFieldValue("transport") === "tls" ? (
                <Form.Item label={t("trunkTlsCa")} name="tls_ca" extra={t("trunkTlsCaHint")}>
                  <Input.TextArea rows={3} placeholder="-----BEGIN CERTIFICATE-----" />
                </Form.Item>
              ) : null
            }
          </Form.Item>
          <Form.Item label={t("trunkCodecs")} name="codecs" extra={t("trunkCodecsHint")}>
            <Select mode="multiple" options={["PCMA", "PCMU", "G722", "opus"].map((c) => ({ value: c, label: c }))} />
          </Form.Item>
          <Form.Item label={t("maxCallsOut")} name="max_calls_out" extra={t("maxCallsOutHint")}>
            <InputNumber min={0} max={10000} />
          </Form.Item>
          <Form.Item label={t("outboundProxy")} name="outbound_proxy">
            <Input />
          </Form.Item>
          <Form.Item label={t("keepalive")} name="keepalive">
            <InputNumber min={0} max={3600} />
          </Form.Item>
          <Form.Item label={t("registers")} name="registers" valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.registers !== b.registers}>
            {({ getFieldValue }) =>
              getFieldValue("registers") ? (
                <>
                  <Form.Item label={t("account")} name={["register", "username"]} rules={[{ required: true }]}>
                    <Input />
                  </Form.Item>
                  <Form.Item label={t("authUsername")} name={["register", "auth_username"]}>
                    <Input />
                  </Form.Item>
                  <Form.Item
                    label={t("password")}
                    name={["register", "password"]}
                    extra={editing?.register ? t("passwordKeep") : undefined}
                  >
                    <Input.Password autoComplete="new-password" />
                  </Form.Item>
                  <Form.Item label={t("expires")} name={["register", "expires"]} initialValue={300}>
                    <InputNumber min={60} max={86400} />
                  </Form.Item>
                </>
              ) : null
            }
          </Form.Item>
          <Form.Item label={t("trunkAddresses")} name="addresses" extra={t("trunkAddressesHint")}>
            <Input.TextArea rows={3} />
          </Form.Item>
          <Form.Item label={t("calledNumber")} name="called_number" initialValue="request-uri">
            <Select
              options={["request-uri", "to", "p-called-party-id", "diversion"].map((v) => ({ value: v, label: v }))}
            />
          </Form.Item>
          <Form.Item label={t("callerNumber")} name="caller_number" initialValue="asserted">
            <Select
              options={[
                { value: "asserted", label: t("callerAsserted") },
                { value: "from", label: "From" },
              ]}
            />
          </Form.Item>
          <Form.Item label={t("unknownNumbers")} name="unknown_numbers" extra={t("unknownNumbersHint")}>
            <Input />
          </Form.Item>
        </>
      )}
    />
  );
}
