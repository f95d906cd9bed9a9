// The office's own prompts (menus, greetings…): upload any audio file, listen, remove.
// Scenario blocks play them by name.
import { useCallback, useEffect, useState } from "react";
import { App, Button, Input, Popconfirm, Space, Table, Tag, Typography, Upload } from "antd";
import { useTranslation } from "react-i18next";
import { api, ApiError, type Schemas } from "../api/client";

export default function Prompts() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [prompts, setPrompts] = useState<Schemas["PromptInfo"][]>([]);
  const [name, setName] = useState("");

  const load = useCallback(async () => setPrompts(await api.get<Schemas["PromptInfo"][]>("/api/prompts")), []);
  useEffect(() => {
    void load();
  }, [load]);

  const failed = (e: unknown) => void message.error(e instanceof ApiError ? e.message : String(e));

  return (
    <>
      <Typography.Title level={3}>{t("prompts")}</Typography.Title>
      <Space style={{ marginBottom: 16 }} wrap>
        <Input
          aria-label={t("promptName")}
          placeholder={t("promptName")}
          value={name}
          onChange={(e) => setName(e.target.value.trim())}
          style={{ width: 220 }}
        />
        <Upload
          accept="audio/*,.wav,.mp3,.ogg,.flac"
          showUploadList={false}
          disabled={!name}
          beforeUpload={async (file) => {
            try {
              await api.put(`/api/prompts/${encodeURIComponent(name)}`, file);
              void message.success(t("saved"));
              setName("");
              await load();
            } catch (e) {
              failed(e);
            }
            return false;
          }}
        >
          <Button type="primary" disabled={!name}>
            {t("uploadPrompt")}
          </Button>
        </Upload>
      </Space>
      <Table
        rowKey="name"
        dataSource={prompts}
        pagination={false}
        columns={[
          { title: t("name"), dataIndex: "name" },
          {
            title: "",
            key: "kind",
            render: (_, p) => (p.built_in ? <Tag>{t("builtIn")}</Tag> : null),
          },
          {
            title: t("duration"),
            dataIndex: "duration_ms",
            render: (ms?: number | null) => (ms ? `${(ms / 1000).toFixed(1)} s` : ""),
          },
          {
            title: t("actions"),
            key: "actions",
            render: (_, p) =>
              p.built_in ? null : (
                <Space>
                  <audio controls preload="none" src={`/api/prompts/${encodeURIComponent(p.name)}`} />
                  <Popconfirm
                    title={t("confirmDelete")}
                    okText={t("yes")}
                    cancelText={t("no")}
                    onConfirm={() =>
                      api
                        .delete(`/api/prompts/${encodeURIComponent(p.name)}`)
                        .then(load)
                        .catch(failed)
                    }
                  >
                    <Button size="small" danger>
                      {t("delete")}
                    </Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
    </>
  );
}
