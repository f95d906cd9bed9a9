// What is done to a call in progress from the panel: put the other party through to
// another number (as an office phone transferring would) or hang it up. The admin acts
// on any call from the wallboard (`/api/calls/live`), and may also join it through a
// phone as a supervisor; an agent acts on their own (`/api/me/calls`).
import { useState } from "react";
import { App, Button, Form, Input, Popconfirm, Popover, Space } from "antd";
import { useTranslation } from "react-i18next";
import { ApiError, api, type Schemas } from "../api/client";

export function CallActions({ call, base }: { call: Schemas["CallBoard"]; base: string }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<{ to: string }>();
  const transfer = async ({ to }: { to: string }) => {
    setBusy(true);
    try {
      await api.post<void>(`${base}/${call.id}/transfer`, { to });
      setOpen(false);
      form.resetFields();
      void message.success(t("transferred", { to }));
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (e instanceof ApiError && e.field === "to") form.setFields([{ name: "to", errors: [text] }]);
      else void message.error(text);
    } finally {
      setBusy(false);
    }
  };
  const [joining, setJoining] = useState(false);
  const [supervision] = Form.useForm<{ extension: string }>();
  const supervise = async (how: "listen" | "whisper" | "barge") => {
    const { extension } = await supervision.validateFields();
    setBusy(true);
    try {
      await api.post<void>(`${base}/${call.id}/supervise`, { extension, how });
      setJoining(false);
      void message.success(t("supervisorRinging", { extension }));
    } catch (e) {
      const text = e instanceof Error ? e.message : String(e);
      if (e instanceof ApiError && e.field === "extension") supervision.setFields([{ name: "extension", errors: [text] }]);
      else void message.error(text);
    } finally {
      setBusy(false);
    }
  };
  const hangUp = () =>
    api.delete(`${base}/${call.id}`).catch((e: Error) => void message.error(e.message));
  return (
    <Space size="small">
      {call.stage === "talking" && (
        <Popover
          open={open}
          onOpenChange={setOpen}
          trigger="click"
          title={t("transferTo")}
          content={
            <Form form={form} layout="inline" onFinish={(v) => void transfer(v)}>
              <Form.Item name="to" label={t("number")} rules={[{ required: true, message: t("numberNeeded") }]}>
                <Input autoFocus style={{ width: 140 }} />
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={busy}>
                {t("transfer")}
              </Button>
            </Form>
          }
        >
          <Button size="small">{t("transfer")}</Button>
        </Popover>
      )}
      {call.stage === "talking" && base === "/api/calls/live" && (
        <Popover
          open={joining}
          onOpenChange={setJoining}
          trigger="click"
          title={t("superviseThrough")}
          content={
            <Form form={supervision} layout="inline">
              <Form.Item
                name="extension"
                label={t("extension")}
                rules={[{ required: true, message: t("numberNeeded") }]}
              >
                <Input autoFocus style={{ width: 100 }} />
              </Form.Item>
              <Space size="small">
                <Button type="primary" loading={busy} onClick={() => void supervise("listen")}>
                  {t("listen")}
                </Button>
                <Button loading={busy} onClick={() => void supervise("whisper")}>
                  {t("whisper")}
                </Button>
                <Button loading={busy} onClick={() => void supervise("barge")}>
                  {t("barge")}
                </Button>
              </Space>
            </Form>
          }
        >
          <Button size="small">{t("listen")}</Button>
        </Popover>
      )}
      <Popconfirm title={t("hangUpConfirm")} okText={t("hangUp")} cancelText={t("cancel")} onConfirm={() => void hangUp()}>
        <Button size="small" danger>
          {t("hangUp")}
        </Button>
      </Popconfirm>
    </Space>
  );
}
