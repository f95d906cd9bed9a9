// An agent's own panel: what the queues see them doing (and buttons to change it), the
// queues they answer, their phones and voicemail. Refreshed every few seconds.
import { useCallback, useEffect, useState } from "react";
import { Button, Card, Col, Empty, Row, Space, Statistic, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";
import { useAgentStatusActions } from "../components/AgentStatus";
import VoicemailBox from "../components/VoicemailBox";
import { CallActions } from "../components/CallActions";

function MyStatusButtons({ agent, changed }: { agent: Schemas["AgentBoard"]; changed: () => void }) {
  const { actions, change } = useAgentStatusActions("/api/me/status", agent.activity);
  return (
    <Space style={{ marginTop: 8 }}>
      {actions.map((a) => (
        <Button key={a.key} size="small" onClick={() => void change(a.key).then(changed)}>
          {a.label}
        </Button>
      ))}
    </Space>
  );
}

export default function MyPhone() {
  const { t } = useTranslation();
  const [me, setMe] = useState<Schemas["MyPanel"] | null>(null);

  const load = useCallback(
    () => void api.get<Schemas["MyPanel"]>("/api/me").then(setMe).catch(() => undefined),
    [],
  );
  useEffect(() => {
    load();
    const timer = window.setInterval(load, 3000);
    return () => window.clearInterval(timer);
  }, [load]);

  if (!me) return null;
  return (
    <div style={{ padding: 24, maxWidth: 900 }}>
      <Typography.Title level={3}>
        {t("myPhone")}: {me.extension} {me.name && `(${me.name})`}
      </Typography.Title>
      <Row gutter={16} style={{ marginBottom: 16 }}>
        <Col>
          <Card size="small" data-testid="my-activity">
            <Statistic
              title={t("agent")}
              value={me.agent ? t(`activity.${me.agent.activity}`) : "—"}
            />
            {me.agent?.reason && <Tag>{me.agent.reason}</Tag>}
            {me.agent && <MyStatusButtons agent={me.agent} changed={() => window.setTimeout(load, 600)} />}
          </Card>
        </Col>
        <Col>
          <Card size="small">
            <Statistic title={t("registered")} value={me.phones} />
          </Card>
        </Col>
        <Col>
          <Card size="small">
            <Statistic
              title={t("voicemailMessages")}
              value={`${me.voicemail.new} / ${me.voicemail.saved}`}
              suffix={<Typography.Text type="secondary">{t("newSaved")}</Typography.Text>}
            />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t("myCalls")} style={{ marginBottom: 16 }} data-testid="my-calls">
        <Table<Schemas["CallBoard"]>
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={me.calls}
          locale={{ emptyText: t("noCallsNow") }}
          columns={[
            { title: t("caller"), dataIndex: "caller" },
            { title: t("callee"), dataIndex: "callee" },
            { title: t("talkingTo"), dataIndex: "talking_to", render: (x: string | null) => x ?? "—" },
            {
              title: t("callActions"),
              key: "actions",
              render: (_: unknown, c) => <CallActions call={c} base="/api/me/calls" />,
            },
          ]}
        />
      </Card>
      {me.queues.length === 0 ? (
        <Empty description={t("noQueues")} />
      ) : (
        <Table
          rowKey="number"
          pagination={false}
          dataSource={me.queues}
          columns={[
            { title: t("queue"), key: "queue", render: (_, q) => `${q.name} (${q.number})` },
            { title: t("tier"), dataIndex: "tier" },
            { title: t("waiting"), dataIndex: "waiting" },
          ]}
        />
      )}
      <Typography.Title level={4} style={{ marginTop: 24 }}>
        {t("voicemailInbox")}
      </Typography.Title>
      <VoicemailBox mailbox={me.extension} refresh={`${me.voicemail.new}/${me.voicemail.saved}`} />
      <Typography.Paragraph type="secondary" style={{ marginTop: 16 }}>
        {t("agentCodes")}
      </Typography.Paragraph>
    </div>
  );
}
