// Reports over a period: the calls offered, answered and lost per day, hour, queue,
// agent, trunk, outcome or direction, as a chart and a table, and as a CSV file for
// Excel in the panel's language.
import { useCallback, useEffect, useState } from "react";
import { Button, DatePicker, Form, Input, Select, Space, Table, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, type Schemas } from "../api/client";

type GroupBy = "day" | "hour" | "queue" | "agent" | "trunk" | "outcome" | "direction" | "caller";
const GROUPS: GroupBy[] = ["day", "hour", "queue", "agent", "trunk", "outcome", "direction", "caller"];
const DAY_MS = 24 * 3600 * 1000;

type Filters = {
  period?: [{ valueOf(): number }, { valueOf(): number }] | null;
  by: GroupBy;
  queue?: string;
  direction?: Schemas["Direction"];
};

/** The report's query: the chosen days whole, or the last seven. */
function query(f: Filters, locale?: string): string {
  const params = new URLSearchParams();
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const [from, to] = f.period
    ? [f.period[0].valueOf(), f.period[1].valueOf() + DAY_MS]
    : [today.getTime() - 6 * DAY_MS, today.getTime() + DAY_MS];
  params.set("from", String(from));
  params.set("to", String(to));
  params.set("by", f.by);
  if (f.queue?.trim()) params.set("queue", f.queue.trim());
  if (f.direction) params.set("direction", f.direction);
  if (locale) params.set("locale", locale);
  return params.toString();
}

export default function Reports() {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm<Filters>();
  const shown: Filters = Form.useWatch([], form) ?? { by: "day" };
  const [report, setReport] = useState<Schemas["Report"] | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async (f: Filters) => {
    setLoading(true);
    try {
      setReport(await api.get<Schemas["Report"]>(`/api/reports?${query(f)}`));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load({ by: "day" });
  }, [load]);

  const one = (n: number | null | undefined) => (n == null ? "" : n.toLocaleString(i18n.language, { maximumFractionDigits: 1 }));
  const rows = report?.rows ?? [];

  return (
    <>
      <Typography.Title level={3}>{t("reports")}</Typography.Title>
      <Form form={form} layout="inline" initialValues={{ by: "day" }} onFinish={(f: Filters) => void load(f)} style={{ marginBottom: 16, rowGap: 8 }}>
        <Form.Item name="period" label={t("period")}>
          <DatePicker.RangePicker />
        </Form.Item>
        <Form.Item name="by" label={t("reportBy")}>
          <Select style={{ width: 140 }} options={GROUPS.map((g) => ({ value: g, label: t(`reportBy_${g}`) }))} />
        </Form.Item>
        <Form.Item name="queue" label={t("queue")}>
          <Input allowClear style={{ width: 80 }} />
        </Form.Item>
        <Form.Item name="direction" label={t("direction")}>
          <Select
            allowClear
            style={{ width: 130 }}
            options={(["inbound", "outbound", "internal"] as const).map((d) => ({ value: d, label: t(`direction${d[0].toUpperCase()}${d.slice(1)}`) }))}
          />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t("show")}
          </Button>
          <Button href={`/api/reports/export?${query(shown, i18n.language)}`}>{t("exportCsv")}</Button>
        </Space>
      </Form>
      <figure aria-label={t("reportChart")} style={{ margin: 0, height: 280 }} data-testid="report-chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows.map((r) => ({ group: r.group || "—", answered: r.answered, lost: r.lost }))}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="group" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            <Bar dataKey="answered" name={t("reportAnswered")} stackId="calls" fill="#52c41a" isAnimationActive={false} />
            <Bar dataKey="lost" name={t("reportLost")} stackId="calls" fill="#ff4d4f" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </figure>
      <Table<Schemas["ReportRow"]>
        rowKey="group"
        loading={loading}
        dataSource={rows}
        size="small"
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        columns={[
          { title: t(`reportBy_${shown.by ?? "day"}`), dataIndex: "group", render: (g: string) => g || "—" },
          { title: t("reportOffered"), dataIndex: "offered" },
          { title: t("reportAnswered"), dataIndex: "answered" },
          { title: t("reportLost"), dataIndex: "lost" },
          { title: t("reportShortAbandons"), dataIndex: "short_abandons" },
          { title: "ASR %", dataIndex: "answer_ratio", render: one },
          { title: t("reportServiceLevel"), dataIndex: "service_level", render: one },
          { title: t("reportAverageWait"), dataIndex: "average_wait", render: one },
          { title: t("reportLongestWait"), dataIndex: "longest_wait", render: one },
          { title: "DUR (min)", dataIndex: "talk_minutes", render: one },
          { title: "ACD (s)", dataIndex: "average_talk", render: one },
        ]}
        summary={() =>
          report && rows.length > 0 ? (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0}>{t("reportTotal")}</Table.Summary.Cell>
              <Table.Summary.Cell index={1}>{report.total.offered}</Table.Summary.Cell>
              <Table.Summary.Cell index={2}>{report.total.answered}</Table.Summary.Cell>
              <Table.Summary.Cell index={3}>{report.total.lost}</Table.Summary.Cell>
              <Table.Summary.Cell index={4}>{report.total.short_abandons}</Table.Summary.Cell>
              <Table.Summary.Cell index={5}>{one(report.total.answer_ratio)}</Table.Summary.Cell>
              <Table.Summary.Cell index={6}>{one(report.total.service_level)}</Table.Summary.Cell>
              <Table.Summary.Cell index={7}>{one(report.total.average_wait)}</Table.Summary.Cell>
              <Table.Summary.Cell index={8}>{one(report.total.longest_wait)}</Table.Summary.Cell>
              <Table.Summary.Cell index={9}>{one(report.total.talk_minutes)}</Table.Summary.Cell>
              <Table.Summary.Cell index={10}>{one(report.total.average_talk)}</Table.Summary.Cell>
            </Table.Summary.Row>
          ) : null
        }
      />
    </>
  );
}
