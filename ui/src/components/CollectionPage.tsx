// One page for any of the configuration's lists (extensions, queues, number lists…):
// a table, and a form in a dialog to add or change one. What the server refuses comes
// back naming the field, and is shown next to that field; problems elsewhere in the
// configuration (another object that refers to this one) are listed above the form.
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { Alert, App, Button, Form, Modal, Popconfirm, Space, Table, Typography, type FormInstance } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useTranslation } from "react-i18next";
import { api, ApiError, fieldPath } from "../api/client";

type Item = Record<string, unknown>;

export interface CollectionPageProps<T extends Item> {
  /** "extensions": the API's /api/{name}. */
  name: string;
  title: string;
  keyField: keyof T & string;
  columns: ColumnsType<T>;
  /** The form's fields; `editing` is null when adding. */
  fields: (editing: T | null, form: FormInstance) => ReactNode;
  newItem: Partial<T>;
  /** Form values → the object sent (the stored object's other settings are kept). */
  toItem?: (values: Item, editing: T | null) => T;
  /** The object → the form's values. */
  toValues?: (item: T) => Item;
  /** After the server answered an addition (to show a generated password…). */
  afterSave?: (saved: T, added: boolean) => void;
  /** Form fields the API's field names map to, when they differ ("numbers[3]" → "numbers"). */
  formField?: (field: string) => (string | number)[] | null;
}

export default function CollectionPage<T extends Item>(props: CollectionPageProps<T>) {
  const { name, title, keyField, columns, fields, newItem } = props;
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [items, setItems] = useState<T[]>([]);
  const [loading, setLoading] = useState(true);
  const [editing, setEditing] = useState<T | null | undefined>(undefined);
  const [elsewhere, setElsewhere] = useState<string[]>([]);
  const [form] = Form.useForm();
  const base = `/api/${name}`;

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setItems(await api.get<T[]>(base));
    } finally {
      setLoading(false);
    }
  }, [base]);

  useEffect(() => {
    void load();
  }, [load]);

  const open = (item: T | null) => {
    setElsewhere([]);
    serverErrors.current.clear();
    form.resetFields();
    form.setFieldsValue(item ? (props.toValues ? props.toValues(item) : item) : newItem);
    setEditing(item);
  };

  // The fields the server's last answer put an error on: each loses it once edited,
  // and all lose them when the form is saved again.
  const serverErrors = useRef(new Set<string>());
  const clearServerErrors = () => {
    form.setFields([...serverErrors.current].map((path) => ({ name: JSON.parse(path) as (string | number)[], errors: [] })));
    serverErrors.current.clear();
  };
  const fieldEdited = (changed: { name: (string | number)[] | string | number }[]) => {
    for (const { name } of changed) {
      const path = JSON.stringify(Array.isArray(name) ? name : [name]);
      if (serverErrors.current.delete(path)) form.setFields([{ name: JSON.parse(path), errors: [] }]);
    }
  };

  const showErrors = (e: unknown) => {
    if (!(e instanceof ApiError)) {
      setElsewhere([String(e)]);
      return;
    }
    const known = new Set(Object.keys(form.getFieldsValue(true)));
    const onForm: { name: (string | number)[]; errors: string[] }[] = [];
    const other: string[] = [];
    for (const problem of e.errors.length ? e.errors : [{ field: "", message: e.message }]) {
      const path = props.formField?.(problem.field) ?? fieldPath(problem.field);
      if (path.length > 0 && known.has(String(path[0]))) {
        const existing = onForm.find((f) => f.name.join(".") === path.join("."));
        if (existing) existing.errors.push(problem.message);
        else onForm.push({ name: path, errors: [problem.message] });
      } else {
        other.push(problem.field ? `${problem.field}: ${problem.message}` : problem.message);
      }
    }
    form.setFields(onForm);
    for (const { name } of onForm) serverErrors.current.add(JSON.stringify(name));
    setElsewhere(other);
  };

  const save = async () => {
    clearServerErrors();
    setElsewhere([]);
    const values = await form.validateFields().catch(() => null);
    if (!values || editing === undefined) return;
    const merged = { ...(editing ?? {}), ...form.getFieldsValue(true) };
    const body = props.toItem ? props.toItem(merged, editing) : (merged as T);
    try {
      const saved = editing
        ? await api.put<T>(`${base}/${encodeURIComponent(String(editing[keyField]))}`, body)
        : await api.post<T>(base, body);
      props.afterSave?.(saved, editing === null);
      setEditing(undefined);
      void message.success(t("saved"));
      await load();
    } catch (e) {
      showErrors(e);
    }
  };

  const remove = async (item: T) => {
    try {
      await api.delete(`${base}/${encodeURIComponent(String(item[keyField]))}`);
      await load();
    } catch (e) {
      void message.error(e instanceof ApiError ? `${e.field ? e.field + ": " : ""}${e.message}` : String(e));
    }
  };

  const actions: ColumnsType<T> = [
    {
      title: t("actions"),
      key: "actions",
      width: 160,
      render: (_, item) => (
        <Space>
          <Button size="small" onClick={() => open(item)}>
            {t("edit")}
          </Button>
          <Popconfirm title={t("confirmDelete")} onConfirm={() => remove(item)} okText={t("yes")} cancelText={t("no")}>
            <Button size="small" danger>
              {t("delete")}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];

  return (
    <>
      <Space style={{ marginBottom: 16, width: "100%", justifyContent: "space-between" }}>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {title}
        </Typography.Title>
        <Button type="primary" onClick={() => open(null)}>
          {t("add")}
        </Button>
      </Space>
      <Table<T>
        rowKey={(item) => String(item[keyField])}
        loading={loading}
        dataSource={items}
        columns={[...columns, ...actions]}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
      />
      <Modal
        open={editing !== undefined}
        title={editing ? `${title}: ${String(editing[keyField])}` : `${t("add")}: ${title}`}
        onOk={save}
        okText={t("save")}
        cancelText={t("cancel")}
        onCancel={() => setEditing(undefined)}
        destroyOnHidden
        forceRender
        width={640}
      >
        {elsewhere.length > 0 && (
          <Alert
            type="error"
            style={{ marginBottom: 16 }}
            title={t("errorsElsewhere")}
            description={elsewhere.map((e) => (
              <div key={e}>{e}</div>
            ))}
          />
        )}
        <Form form={form} layout="vertical" preserve={false} onFieldsChange={fieldEdited}>
          {editing !== undefined && fields(editing, form)}
        </Form>
      </Modal>
    </>
  );
}
