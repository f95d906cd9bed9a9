import { useState } from "react";
import { Alert, Button, Card, Form, Input, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { api, ApiError, type Schemas } from "../api/client";

export default function Login({ onLoggedIn }: { onLoggedIn: (s: Schemas["SessionInfo"]) => void }) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (values: Schemas["Login"]) => {
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await api.post<Schemas["SessionInfo"]>("/api/session", values));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ display: "flex", justifyContent: "center", paddingTop: "12vh" }}>
      <Card style={{ width: 380 }}>
        <Typography.Title level={3}>{t("appName")}</Typography.Title>
        <Typography.Paragraph type="secondary">{t("loginHint")}</Typography.Paragraph>
        <Form layout="vertical" onFinish={submit} initialValues={{ username: "admin" }}>
          <Form.Item label={t("username")} name="username" rules={[{ required: true }]}>
            <Input autoComplete="username" />
          </Form.Item>
          <Form.Item label={t("password")} name="password" rules={[{ required: true }]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          {error && <Alert type="error" title={error} style={{ marginBottom: 16 }} />}
          <Button type="primary" htmlType="submit" loading={busy} block>
            {t("login")}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
