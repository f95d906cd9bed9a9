// The configuration's simpler lists, each one CollectionPage with its own fields.
import { App, Form, Input, InputNumber, Select, Switch, Tag } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import type { Schemas } from "../api/client";

/** An empty text field means "not given". */
const given = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

export function Extensions() {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  return (
    <CollectionPage<Schemas["Extension"]>
      name="extensions"
      title={t("extensions")}
      keyField="number"
      newItem={{ number: "", name: "", enabled: true }}
      columns={[
        { title: t("number"), dataIndex: "number" },
        { title: t("name"), dataIndex: "name" },
        { title: t("enabled"), dataIndex: "enabled", render: (on: boolean) => (on ? t("yes") : t("no")) },
      ]}
      toItem={(v) => ({ ...v, password: given(v.password) }) as Schemas["Extension"]}
      afterSave={(saved, added) => {
        if (added && saved.password)
          modal.info({ title: t("generatedPassword", { number: saved.number, password: saved.password }) });
      }}
      fields={(editing) => (
        <>
          <Form.Item label={t("number")} name="number" rules={[{ required: true }]}>
            <Input disabled={editing !== null} inputMode="numeric" />
          </Form.Item>
          <Form.Item label={t("name")} name="name">
            <Input />
          </Form.Item>
          <Form.Item
            label={t("newPassword")}
            name="password"
            extra={editing ? t("passwordKeep") : t("passwordGenerate")}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item label={t("enabled")} name="enabled" valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item label={t("encryption")} name="encryption" initialValue="allow">
            <Select
              options={[
                { value: "allow", label: t("encryptionAllow") },
                { value: "require", label: t("encryptionRequire") },
              ]}
            />
          </Form.Item>
        </>
      )}
    />
  );
}

export function Agents() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["AgentSettings"]>
      name="agents"
      title={t("agents")}
      keyField="extension"
      newItem={{ extension: "", follows_registration: true }}
      columns={[
        { title: t("extension"), dataIndex: "extension" },
        { title: t("ringTimeout"), dataIndex: "ring_timeout" },
        { title: t("wrapUp"), dataIndex: "wrap_up" },
      ]}
      fields={(editing) => (
        <>
          <Form.Item label={t("extension")} name="extension" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("ringTimeout")} name="ring_timeout">
            <InputNumber min={1} />
          </Form.Item>
          <Form.Item label={t("wrapUp")} name="wrap_up">
            <InputNumber min={0} />
          </Form.Item>
          <Form.Item label={t("followsRegistration")} name="follows_registration" valuePropName="checked">
            <Switch />
          </Form.Item>
        </>
      )}
    />
  );
}

export function Inbound() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["InboundNumber"]>
      name="inbound"
      title={t("inbound")}
      keyField="number"
      newItem={{ number: "", scenario: "" }}
      columns={[
        { title: t("number"), dataIndex: "number" },
        { title: t("scenario"), dataIndex: "scenario" },
      ]}
      fields={(editing) => (
        <>
          <Form.Item label={t("number")} name="number" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("scenario")} name="scenario" rules={[{ required: true }]}>
            <Input />
          </Form.Item>
        </>
      )}
    />
  );
}

export function Contacts() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["ContactSettings"]>
      name="contacts"
      title={t("contacts")}
      keyField="number"
      newItem={{ number: "", owner: "" }}
      columns={[
        { title: t("number"), dataIndex: "number" },
        { title: t("owner"), dataIndex: "owner" },
      ]}
      fields={(editing) => (
        <>
          <Form.Item label={t("number")} name="number" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("owner")} name="owner" rules={[{ required: true }]}>
            <Input />
          </Form.Item>
        </>
      )}
    />
  );
}

export function VoicemailBoxes() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["VoicemailBox"]>
      name="voicemail-boxes"
      title={t("voicemail")}
      keyField="number"
      newItem={{ number: "" }}
      columns={[
        { title: t("mailbox"), dataIndex: "number" },
        { title: t("pin"), key: "pin", render: () => <Tag>••••</Tag> },
        { title: t("boxEmail"), dataIndex: "email" },
        { title: t("missedCalls"), dataIndex: "missed_calls", render: (on: boolean) => (on ? t("yes") : t("no")) },
      ]}
      toItem={(v) => ({ ...v, pin: given(v.pin), email: given(v.email) }) as Schemas["VoicemailBox"]}
      fields={(editing) => (
        <>
          <Form.Item label={t("mailbox")} name="number" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("pin")} name="pin" extra={editing ? t("pinKeep") : undefined}>
            <Input.Password inputMode="numeric" autoComplete="off" />
          </Form.Item>
          <Form.Item label={t("boxEmail")} name="email" extra={t("boxEmailHint")}>
            <Input type="email" placeholder="anna@office.example" />
          </Form.Item>
          <Form.Item label={t("missedCalls")} name="missed_calls" valuePropName="checked" extra={t("missedCallsHint")}>
            <Switch />
          </Form.Item>
        </>
      )}
    />
  );
}

export function Conferences() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["ConferenceSettings"]>
      name="conferences"
      title={t("conferences")}
      keyField="number"
      newItem={{ number: "", name: "", pin: "", max_members: 10 }}
      columns={[
        { title: t("number"), dataIndex: "number" },
        { title: t("name"), dataIndex: "name" },
        { title: t("pin"), key: "pin", render: (_, c) => (c.pin ? <Tag>{c.pin}</Tag> : t("conferenceNoPin")) },
        { title: t("conferenceMax"), dataIndex: "max_members" },
      ]}
      fields={(editing) => (
        <>
          <Form.Item label={t("number")} name="number" rules={[{ required: true }]} extra={t("conferenceNumberHint")}>
            <Input disabled={editing !== null} inputMode="numeric" />
          </Form.Item>
          <Form.Item label={t("name")} name="name">
            <Input />
          </Form.Item>
          <Form.Item label={t("pin")} name="pin" extra={t("conferencePinHint")}>
            <Input inputMode="numeric" autoComplete="off" />
          </Form.Item>
          <Form.Item label={t("conferenceMax")} name="max_members">
            <InputNumber min={2} max={50} />
          </Form.Item>
        </>
      )}
    />
  );
}

export function PickupGroups() {
  const { t } = useTranslation();
  return (
    <CollectionPage<Schemas["PickupGroupSettings"]>
      name="pickup_groups"
      title={t("pickupGroups")}
      keyField="name"
      newItem={{ name: "", members: [] }}
      columns={[
        { title: t("name"), dataIndex: "name" },
        { title: t("pickupMembers"), key: "members", render: (_, g) => (g.members ?? []).join(", ") },
      ]}
      formField={(field) => (field.startsWith("members") ? ["members"] : null)}
      fields={(editing) => (
        <>
          <Form.Item label={t("name")} name="name" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("pickupMembers")} name="members" extra={t("pickupMembersHint")}>
            <Select mode="tags" tokenSeparators={[",", " "]} placeholder="101" open={false} />
          </Form.Item>
        </>
      )}
    />
  );
}
