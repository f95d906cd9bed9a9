import { Button, Form, Input, InputNumber, Select, Space, Switch, Tag } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import type { Schemas } from "../api/client";

const STRATEGIES = [
  "ring-all", "linear", "round-robin", "longest-idle", "fewest-calls",
  "least-talk-time", "random", "weighted-random", "ring-progressive",
];
const EMPTY_POLICIES = ["never", "no-agent-logged-in", "no-agent-available"];

type Queue = Schemas["QueueSettings"];

export default function Queues() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Queue>
      name="queues"
      title={t("queues")}
      keyField="number"
      newItem={{ number: "", name: "", strategy: "ring-all", ring_timeout: 20, wrap_up: 10, max_wait: 0, agents: [] }}
      columns={[
        { title: t("number"), dataIndex: "number" },
        { title: t("name"), dataIndex: "name" },
        { title: t("strategy"), dataIndex: "strategy" },
        {
          title: t("members"),
          key: "agents",
          render: (_, q) =>
            (q.agents ?? []).map((a) => (
              <Tag key={a.extension}>
                {a.extension} · {a.tier ?? 0}
              </Tag>
            )),
        },
      ]}
      fields={(editing) => (
        <>
          <Space wrap>
            <Form.Item label={t("number")} name="number" rules={[{ required: true }]}>
              <Input disabled={editing !== null} />
            </Form.Item>
            <Form.Item label={t("name")} name="name" rules={[{ required: true }]}>
              <Input />
            </Form.Item>
          </Space>
          <Form.Item label={t("strategy")} name="strategy">
            <Select options={STRATEGIES.map((s) => ({ value: s, label: s }))} />
          </Form.Item>
          <Space wrap>
            <Form.Item label={t("ringTimeout")} name="ring_timeout">
              <InputNumber min={5} max={600} />
            </Form.Item>
            <Form.Item label={t("wrapUp")} name="wrap_up">
              <InputNumber min={0} max={3600} />
            </Form.Item>
            <Form.Item label={t("maxWait")} name="max_wait">
              <InputNumber min={0} />
            </Form.Item>
            <Form.Item label="join_empty" name="join_empty">
              <Select style={{ width: 200 }} options={EMPTY_POLICIES.map((s) => ({ value: s, label: s }))} />
            </Form.Item>
            <Form.Item label={t("serviceLevelTarget")} name="service_level">
              <InputNumber min={1} />
            </Form.Item>
            <Form.Item label="ring_busy_agents" name="ring_busy_agents" valuePropName="checked">
              <Switch />
            </Form.Item>
          </Space>
          <Form.List name="agents">
            {(members, { add, remove }) => (
              <>
                <div style={{ marginBottom: 8 }}>{t("members")}</div>
                {members.map((member) => (
                  <Space key={member.key} align="baseline" wrap>
                    <Form.Item name={[member.name, "extension"]} rules={[{ required: true }]} label={t("extension")}>
                      <Input style={{ width: 120 }} />
                    </Form.Item>
                    <Form.Item name={[member.name, "tier"]} label={t("tier")}>
                      <InputNumber min={0} max={255} />
                    </Form.Item>
                    <Form.Item name={[member.name, "weight"]} label={t("weight")}>
                      <InputNumber min={1} />
                    </Form.Item>
                    <Button onClick={() => remove(member.name)}>{t("delete")}</Button>
                  </Space>
                ))}
                <Button onClick={() => add({ extension: "", tier: 0, weight: 1 })}>{t("addMember")}</Button>
              </>
            )}
          </Form.List>
        </>
      )}
    />
  );
}
