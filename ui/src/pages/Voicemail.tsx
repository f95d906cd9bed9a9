// Every box's messages for the office's admin: each extension's and each queue's
// (callers who left a queue with 0, or whom a scenario sent to its box).
import { useEffect, useState } from "react";
import { Select, Space, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";
import VoicemailBox from "../components/VoicemailBox";

export default function Voicemail() {
  const { t } = useTranslation();
  const [boxes, setBoxes] = useState<{ value: string; label: string }[]>([]);
  const [mailbox, setMailbox] = useState<string | null>(null);

  useEffect(() => {
    void Promise.all([
      api.get<Schemas["QueueSettings"][]>("/api/queues"),
      api.get<Schemas["Extension"][]>("/api/extensions"),
    ]).then(([queues, extensions]) => {
      const all = [
        ...queues.map((q) => ({ value: q.number, label: `${q.number} · ${q.name} (${t("queue")})` })),
        ...extensions.map((e) => ({ value: e.number, label: `${e.number} · ${e.name}` })),
      ];
      setBoxes(all);
      setMailbox((m) => m ?? all[0]?.value ?? null);
    });
  }, [t]);

  return (
    <>
      <Space style={{ marginBottom: 16 }} align="center">
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t("voicemailInbox")}
        </Typography.Title>
        <Select
          aria-label={t("mailbox")}
          style={{ minWidth: 260 }}
          value={mailbox}
          onChange={setMailbox}
          options={boxes}
          showSearch
          optionFilterProp="label"
        />
      </Space>
      {mailbox && <VoicemailBox key={mailbox} mailbox={mailbox} />}
    </>
  );
}
