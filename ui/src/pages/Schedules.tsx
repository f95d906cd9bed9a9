import { Button, Form, Input, Select, Space, Typography } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import TimeZoneSelect, { BROWSER_ZONE } from "../components/TimeZoneSelect";
import type { Schemas } from "../api/client";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "mon-fri", "sat-sun"];

export default function Schedules() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["ScheduleSettings"]>
      name="schedules"
      title={t("schedules")}
      keyField="name"
      newItem={{
        name: "",
        time_zone: BROWSER_ZONE,
        hours: [{ days: ["mon-fri"], from: "08:00", to: "17:00" }],
        holidays: [],
      }}
      columns={[
        { title: t("name"), dataIndex: "name" },
        { title: t("timeZone"), dataIndex: "time_zone" },
        {
          title: t("hours"),
          key: "hours",
          render: (_, s) => (s.hours ?? []).map((h) => `${h.days.join(",")} ${h.from}–${h.to}`).join("; "),
        },
      ]}
      fields={(editing) => (
        <>
          <Space wrap>
            <Form.Item label={t("name")} name="name" rules={[{ required: true }]}>
              <Input disabled={editing !== null} />
            </Form.Item>
            <Form.Item label={t("timeZone")} name="time_zone" rules={[{ required: true }]}>
              <TimeZoneSelect ariaLabel={t("timeZone")} />
            </Form.Item>
          </Space>
          <Typography.Text strong>{t("hours")}</Typography.Text>
          <Form.List name="hours">
            {(rows, { add, remove }) => (
              <>
                {rows.map((row) => (
                  <Space key={row.key} align="baseline" wrap>
                    <Form.Item name={[row.name, "days"]} label={t("days")}>
                      <Select mode="tags" style={{ width: 200 }} options={DAYS.map((d) => ({ value: d, label: d }))} />
                    </Form.Item>
                    <Form.Item name={[row.name, "from"]} label={t("from")}>
                      <Input style={{ width: 80 }} placeholder="08:00" />
                    </Form.Item>
                    <Form.Item name={[row.name, "to"]} label={t("to")}>
                      <Input style={{ width: 80 }} placeholder="17:00" />
                    </Form.Item>
                    <Button onClick={() => remove(row.name)}>{t("delete")}</Button>
                  </Space>
                ))}
                <Button onClick={() => add({ days: ["mon-fri"], from: "08:00", to: "17:00" })}>{t("addHours")}</Button>
              </>
            )}
          </Form.List>
          <div style={{ height: 16 }} />
          <Typography.Text strong>{t("holidays")}</Typography.Text>
          <Form.List name="holidays">
            {(rows, { add, remove }) => (
              <>
                {rows.map((row) => (
                  <Space key={row.key} align="baseline" wrap>
                    <Form.Item name={[row.name, "date"]} label={t("date")}>
                      <Input style={{ width: 130 }} placeholder="2026-12-24 / 12-25" />
                    </Form.Item>
                    <Form.Item name={[row.name, "name"]} label={t("name")}>
                      <Input />
                    </Form.Item>
                    <Button onClick={() => remove(row.name)}>{t("delete")}</Button>
                  </Space>
                ))}
                <Button onClick={() => add({ date: "", name: "" })}>{t("addHoliday")}</Button>
              </>
            )}
          </Form.List>
        </>
      )}
    />
  );
}
