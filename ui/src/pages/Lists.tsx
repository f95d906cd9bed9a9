import { useEffect, useRef, useState, type MutableRefObject } from "react";
import { Alert, App, Button, Form, Input, InputNumber, Select, Switch, Table, Tag, Typography, Upload, type FormInstance } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import { api, type Schemas } from "../api/client";

type List = Schemas["ListSettings"];
type Checked = Schemas["NumbersChecked"];

/** The server's reading of the numbers field, and the text it read. */
type Check = { text: string; checked: Checked };

/** The numbers a check keeps: each line's number once, the refused and repeated left out. */
function kept(check: Check): string[] {
  return check.checked.lines.flatMap((l) => (l.found && !l.problem && l.same_as == null ? [l.found] : []));
}

/**
 * What the pasted numbers become, line by line, as the server reads them: kept (and how
 * the office keeps it), refused and why, or a repeat of an earlier line. Saving keeps
 * exactly the numbers shown as kept.
 */
function NumbersPreview({ form, check }: { form: FormInstance; check: MutableRefObject<Check | null> }) {
  const { t } = useTranslation();
  const text = String(Form.useWatch("numbers", form) ?? "");
  const [shown, setShown] = useState<Check | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => {
      const lines = text.split(/\r?\n/);
      void api.post<Checked>("/api/numbers/check", { lines }).then((checked) => {
        check.current = { text, checked };
        setShown(check.current);
      });
    }, 300);
    return () => clearTimeout(timer);
  }, [text, check]);
  if (!shown || !text.trim()) return null;
  const lines = shown.checked.lines.map((l, i) => ({ ...l, line: i + 1 })).filter((l) => l.found || l.problem);
  const repeats = lines.filter((l) => l.same_as != null).length;
  const refused = lines.filter((l) => l.problem).length;
  return (
    <div data-testid="numbers-preview" style={{ marginBottom: 16 }}>
      {!shown.checked.country_code && <Alert type="warning" showIcon title={t("noCountryCode")} style={{ marginBottom: 8 }} />}
      <Typography.Text>{t("numbersPreview", { kept: kept(shown).length, repeats, refused })}</Typography.Text>
      <Table
        size="small"
        pagination={{ pageSize: 8, hideOnSinglePage: true }}
        rowKey="line"
        dataSource={lines}
        columns={[
          { title: "#", dataIndex: "line", width: 48 },
          { title: t("numberFound"), dataIndex: "found" },
          { title: t("numberKeptAs"), dataIndex: "normalised" },
          {
            title: t("numberStatus"),
            key: "status",
            render: (_, l) =>
              l.problem ? (
                <Tag color="red">{l.problem}</Tag>
              ) : l.same_as != null ? (
                <Tag color="orange">{t("numberRepeat", { line: l.same_as + 1 })}</Tag>
              ) : (
                <Tag color="green">{t("numberKept")}</Tag>
              ),
          },
        ]}
      />
    </div>
  );
}

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
  const check = useRef<Check | null>(null);
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
          // The numbers the preview showed as kept, when it read this very text.
          numbers:
            check.current?.text === String(v.numbers ?? "") ? kept(check.current) : numbersFrom(String(v.numbers ?? "")),
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
          <NumbersPreview form={form} check={check} />
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
