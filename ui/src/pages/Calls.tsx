// The call log: filtered by period, number, queue, agent, outcome, direction, trunk and
// priority, and exported as CSV with the same filters.
import { useCallback, useEffect, useState } from "react";
import { Button, Checkbox, DatePicker, Form, Input, Select, Space, Table, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";

// The server's outcomes, each with the key of its label in the panel's language (the
// type makes a new outcome without a label fail to build).
const OUTCOMES: Record<Schemas["Outcome"], string> = {
  answered: "outcomeAnswered",
  busy: "outcomeBusy",
  "no-answer": "outcomeNoAnswer",
  cancelled: "outcomeCancelled",
  failed: "outcomeFailed",
  interrupted: "outcomeInterrupted",
};

/** How the call log names each direction, by its translation key. */
const DIRECTIONS: Record<Schemas["Direction"], string> = {
  internal: "directionInternal",
  inbound: "directionInbound",
  outbound: "directionOutbound",
};

type Filters = {
  period?: [{ valueOf(): number }, { valueOf(): number }] | null;
  number?: string;
  queue?: string;
  agent?: string;
  outcome?: string;
  direction?: string;
  trunk?: string;
  priority_only?: boolean;
};

function query(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.period) {
    params.set("from", String(filters.period[0].valueOf()));
    // The end date's whole day.
    params.set("to", String(filters.period[1].valueOf() + 24 * 3600 * 1000));
  }
  for (const key of ["number", "queue", "agent", "outcome", "direction", "trunk"] as const) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  if (filters.priority_only) params.set("priority_only", "true");
  return params.toString();
}

export default function Calls() {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm<Filters>();
  // The export takes what the form shows now, searched or not.
  const shown: Filters = Form.useWatch([], form) ?? {};
  const [records, setRecords] = useState<Schemas["CallRecord"][]>([]);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async (f: Filters) => {
    setLoading(true);
    try {
      setRecords(await api.get<Schemas["CallRecord"][]>(`/api/calls?${query(f)}`));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load({});
  }, [load]);

  const time = (ms: number | null | undefined) => (ms ? new Date(ms).toLocaleString() : "");

  return (
    <>
      <Typography.Title level={3}>{t("calls")}</Typography.Title>
      <Form
        form={form}
        layout="inline"
        onFinish={(f: Filters) => void load(f)}
        style={{ marginBottom: 16, rowGap: 8 }}
      >
        <Form.Item name="period" label={t("period")}>
          <DatePicker.RangePicker />
        </Form.Item>
        <Form.Item name="number" label={t("number")}>
          <Input allowClear style={{ width: 140 }} />
        </Form.Item>
        <Form.Item name="queue" label={t("queue")}>
          <Input allowClear style={{ width: 80 }} />
        </Form.Item>
        <Form.Item name="agent" label={t("agent")}>
          <Input allowClear style={{ width: 80 }} />
        </Form.Item>
        <Form.Item name="outcome" label={t("outcome")}>
          <Select allowClear style={{ width: 130 }} options={Object.entries(OUTCOMES).map(([value, key]) => ({ value, label: t(key) }))} />
        </Form.Item>
        <Form.Item name="direction" label={t("direction")}>
          <Select
            allowClear
            style={{ width: 130 }}
            options={Object.entries(DIRECTIONS).map(([value, key]) => ({ value, label: t(key) }))}
          />
        </Form.Item>
        <Form.Item name="trunk" label={t("trunk")}>
          <Input allowClear style={{ width: 110 }} />
        </Form.Item>
        <Form.Item name="priority_only" valuePropName="checked">
          <Checkbox>{t("priorityOnly")}</Checkbox>
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t("search")}
          </Button>
          <Button href={`/api/calls/export?${query(shown)}&locale=${i18n.language}`}>{t("exportCsv")}</Button>
          <Button href={`/api/calls/export?${query(shown)}&format=xlsx`}>{t("exportXlsx")}</Button>
        </Space>
      </Form>
      <Table<Schemas["CallRecord"]>
        rowKey={(r) => `${r.call_id}-${r.started_at}-${r.callee}`}
        loading={loading}
        dataSource={records}
        size="small"
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        columns={[
          { title: t("started"), dataIndex: "started_at", render: time },
          {
            title: t("direction"),
            dataIndex: "direction",
            render: (d: Schemas["Direction"]) => t(DIRECTIONS[d]),
          },
          { title: t("caller"), dataIndex: "caller" },
          { title: t("callee"), dataIndex: "callee" },
          { title: t("trunk"), dataIndex: "trunk" },
          {
            title: t("outcome"),
            dataIndex: "outcome",
            render: (o: Schemas["Outcome"]) => (
              <Tag color={o === "answered" ? "green" : "red"}>{t(OUTCOMES[o])}</Tag>
            ),
          },
          { title: t("queue"), dataIndex: "queue" },
          { title: t("answeredBy"), dataIndex: "answered_by" },
          {
            title: t("callPriority"),
            dataIndex: "priority",
            render: (p: number) => (p > 0 ? <Tag color="gold">{p}</Tag> : null),
          },
          { title: t("reason"), dataIndex: "reason" },
          { title: t("path"), dataIndex: "scenario_path" },
          { title: t("history"), dataIndex: "history" },
          {
            title: t("recordingCol"),
            dataIndex: "recording",
            // Played from the server with seeking; each listen and download is audited.
            render: (name: string | null | undefined) =>
              name ? (
                <Space direction="vertical" size={0}>
                  <audio controls preload="none" src={`/api/recordings/${name}`} style={{ width: 220 }} aria-label={t("listenRecording")} />
                  <a href={`/api/recordings/${name}?download=true`}>{t("downloadRecording")}</a>
                </Space>
              ) : null,
          },
        ]}
      />
    </>
  );
}
