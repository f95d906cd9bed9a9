// Reports over a period: the calls offered, answered and lost per day, hour, queue,
// agent, trunk, outcome or direction, as a chart and a table, and as a CSV file for
// Excel in the panel's language.
import { useCallback, useEffect, useState } from "react";
import { Button, DatePicker, Form, Input, InputNumber, Select, Space, Table, Typography } from "antd";
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
  /** First-call resolution: an answered caller calling again within these hours. */
  repeat_hours?: number | null;
};

/** The chosen days whole, or the last seven, as the API's `from` and `to`. */
function period(f: Filters, params: URLSearchParams) {
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const [from, to] = f.period
    ? [f.period[0].valueOf(), f.period[1].valueOf() + DAY_MS]
    : [today.getTime() - 6 * DAY_MS, today.getTime() + DAY_MS];
  params.set("from", String(from));
  params.set("to", String(to));
}

/** The agents' report's query: the period, and the queue when one is chosen. */
function agentsQuery(f: Filters, locale?: string): string {
  const params = new URLSearchParams();
  period(f, params);
  if (f.queue?.trim()) params.set("queue", f.queue.trim());
  if (locale) params.set("locale", locale);
  return params.toString();
}

/** The report's query. */
function query(f: Filters, locale?: string): string {
  const params = new URLSearchParams();
  period(f, params);
  params.set("by", f.by);
  if (f.queue?.trim()) params.set("queue", f.queue.trim());
  if (f.direction) params.set("direction", f.direction);
  if (f.repeat_hours) params.set("repeat_hours", String(f.repeat_hours));
  if (locale) params.set("locale", locale);
  return params.toString();
}

export default function Reports() {
  const { t, i18n } = useTranslation();
  const [form] = Form.useForm<Filters>();
  const shown: Filters = Form.useWatch([], form) ?? { by: "day" };
  const [report, setReport] = useState<Schemas["Report"] | null>(null);
  const [agents, setAgents] = useState<Schemas["AgentReport"] | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async (f: Filters) => {
    setLoading(true);
    try {
      const [calls, team] = await Promise.all([
        api.get<Schemas["Report"]>(`/api/reports?${query(f)}`),
        api.get<Schemas["AgentReport"]>(`/api/reports/agents?${agentsQuery(f)}`),
      ]);
      setReport(calls);
      setAgents(team);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load({ by: "day" });
  }, [load]);

  const one = (n: number | null | undefined) => (n == null ? "" : n.toLocaleString(i18n.language, { maximumFractionDigits: 1 }));
  const rows = report?.rows ?? [];
  // First-call resolution is a column only when the report reckons it.
  const resolution = report?.total.first_call_resolution != null;

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
        <Form.Item name="repeat_hours" label={t("reportRepeatHours")} tooltip={t("reportRepeatHoursHint")}>
          <InputNumber min={1} max={720} style={{ width: 80 }} />
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit">
            {t("show")}
          </Button>
          <Button href={`/api/reports/export?${query(shown, i18n.language)}`}>{t("exportCsv")}</Button>
          <Button href={`/api/reports/export?${query(shown)}&format=xlsx`}>{t("exportXlsx")}</Button>
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
        data-testid="report-table"
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
          ...(resolution ? [{ title: t("reportFirstCallResolution"), dataIndex: "first_call_resolution", render: one }] : []),
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
              {resolution && <Table.Summary.Cell index={11}>{one(report.total.first_call_resolution)}</Table.Summary.Cell>}
            </Table.Summary.Row>
          ) : null
        }
      />
      <Space style={{ marginTop: 24, marginBottom: 8 }} align="baseline">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t("agentsReport")}
        </Typography.Title>
        <Button href={`/api/reports/agents/export?${agentsQuery(shown, i18n.language)}`}>{t("agentsExportCsv")}</Button>
        <Button href={`/api/reports/agents/export?${agentsQuery(shown)}&format=xlsx`}>{t("agentsExportXlsx")}</Button>
      </Space>
      <Table<Schemas["AgentRow"]>
        rowKey="agent"
        loading={loading}
        dataSource={agents?.rows ?? []}
        size="small"
        data-testid="agents-report"
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        columns={[
          { title: t("agent"), dataIndex: "agent" },
          { title: t("agentOffers"), dataIndex: "offers" },
          { title: t("reportAnswered"), dataIndex: "answered" },
          { title: t("agentMissed"), dataIndex: "missed" },
          { title: t("agentDeclined"), dataIndex: "declined" },
          { title: t("agentVipNotTaken"), dataIndex: "vip_not_taken" },
          { title: t("agentAnswerRatio"), dataIndex: "answer_ratio", render: one },
          { title: t("agentAverageHandle"), dataIndex: "average_handle", render: one },
          { title: t("agentTalk"), dataIndex: "talk_minutes", render: one },
          { title: t("agentBreak"), dataIndex: "break_minutes", render: one },
          { title: t("agentLoggedIn"), dataIndex: "logged_in_minutes", render: one },
          { title: t("agentOccupancy"), dataIndex: "occupancy", render: one },
        ]}
      />
    </>
  );
}
