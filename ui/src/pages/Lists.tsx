import { App, Button, Form, Input, InputNumber, Select, Switch, Upload } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import type { Schemas } from "../api/client";

type List = Schemas["ListSettings"];

/**
 * Numbers from pasted text or a CSV file: one per line; in a CSV the first column that
 * looks like a phone number (a header row is skipped).
 */
export function numbersFrom(text: string): string[] {
  const numbers: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split(/[,;\t]/).map((c) => c.trim().replace(/^"|"$/g, ""));
    const number = cells.find((c) => /^\+?[\d\s()./-]{3,}$/.test(c) && /\d{3}/.test(c.replace(/\D/g, "")));
    if (number) numbers.push(number);
  }
  return numbers;
}

export default function Lists() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  return (
    <CollectionPage<List>
      name="lists"
      title={t("lists")}
      keyField="name"
      newItem={{ name: "", kind: "vip", priority: 50, numbers: [] }}
      columns={[
        { title: t("name"), dataIndex: "name" },
        { title: t("kind"), dataIndex: "kind", render: (k: string) => t(k) },
        { title: t("numbers"), key: "count", render: (_, l) => (l.numbers ?? []).length },
      ]}
      toValues={(l) => ({ ...l, numbers: (l.numbers ?? []).join("\n") })}
      toItem={(v) => {
        const kind = v.kind as string;
        return {
          ...v,
          priority: kind === "vip" ? v.priority : undefined,
          tell: kind === "block" ? Boolean(v.tell) : undefined,
          numbers: numbersFrom(String(v.numbers ?? "")),
        } as List;
      }}
      formField={(field) => (field.startsWith("numbers") ? ["numbers"] : null)}
      fields={(editing, form) => (
        <>
          <Form.Item label={t("name")} name="name" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("kind")} name="kind">
            <Select options={["vip", "block", "plain"].map((k) => ({ value: k, label: t(k) }))} />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.kind !== b.kind}>
            {({ getFieldValue }) =>
              getFieldValue("kind") === "vip" ? (
                <Form.Item label={t("vipPriority")} name="priority">
                  <InputNumber min={1} max={100} />
                </Form.Item>
              ) : getFieldValue("kind") === "block" ? (
                <Form.Item label={t("tell")} name="tell" valuePropName="checked">
                  <Switch />
                </Form.Item>
              ) : null
            }
          </Form.Item>
          <Form.Item label={t("numbers")} name="numbers" extra={t("numbersHint")}>
            <Input.TextArea rows={8} aria-label={t("numbers")} />
          </Form.Item>
          <Upload
            accept=".csv,.txt,text/csv,text/plain"
            showUploadList={false}
            beforeUpload={async (file) => {
              const found = numbersFrom(await file.text());
              const current = String(form.getFieldValue("numbers") ?? "").trim();
              form.setFieldValue("numbers", [current, ...found].filter(Boolean).join("\n"));
              void message.success(t("numbersLoaded", { count: found.length }));
              return false;
            }}
          >
            <Button>{t("loadCsv")}</Button>
          </Upload>
        </>
      )}
    />
  );
}
