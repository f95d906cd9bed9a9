// One voicemail box's messages: listen, mark heard or new, delete. Through the voicemail
// API with the panel's session: an agent opens their own box, the admin any box.
import { useCallback, useEffect, useState } from "react";
import { App, Button, Popconfirm, Space, Table, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";

type Message = Schemas["VoicemailMessage"];

/** `refresh`: the messages are read again whenever it changes (new ones came in). */
export default function VoicemailBox({ mailbox, refresh }: { mailbox: string; refresh?: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [messages, setMessages] = useState<Message[] | null>(null);
  const base = `/voicemail/${encodeURIComponent(mailbox)}/messages`;
  const failed = useCallback((e: Error) => void message.error(e.message), [message]);
  const load = useCallback(() => api.get<Message[]>(base).then(setMessages).catch(failed), [base, failed]);
  useEffect(() => {
    void load();
  }, [load, refresh]);

  const mark = (m: Message, heard: boolean) => api.patch(`${base}/${m.id}`, { heard }).then(load).catch(failed);
  const remove = (m: Message) => api.delete(`${base}/${m.id}`).then(load).catch(failed);
  return (
    <Table<Message>
      rowKey="id"
      size="small"
      loading={messages === null}
      dataSource={messages ?? []}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      locale={{ emptyText: t("noMessages") }}
      data-testid={`voicemail-${mailbox}`}
      columns={[
        { title: t("received"), dataIndex: "received_at", render: (ms: number) => new Date(ms).toLocaleString() },
        { title: t("caller"), dataIndex: "caller" },
        { title: t("duration"), dataIndex: "duration_ms", render: (ms: number) => `${Math.round(ms / 1000)} s` },
        {
          title: "",
          dataIndex: "heard",
          render: (heard: boolean) => (heard ? <Tag>{t("heard")}</Tag> : <Tag color="blue">{t("new")}</Tag>),
        },
        {
          title: t("listen"),
          key: "listen",
          render: (_, m) => <audio controls preload="none" src={`${base}/${m.id}`} onPlay={() => !m.heard && void mark(m, true)} />,
        },
        {
          title: t("actions"),
          key: "actions",
          render: (_, m) => (
            <Space>
              <Button size="small" onClick={() => void mark(m, !m.heard)}>
                {m.heard ? t("markNew") : t("markHeard")}
              </Button>
              <Popconfirm title={t("confirmDelete")} onConfirm={() => remove(m)} okText={t("yes")} cancelText={t("no")}>
                <Button size="small" danger>
                  {t("delete")}
                </Button>
              </Popconfirm>
            </Space>
          ),
        },
      ]}
    />
  );
}
