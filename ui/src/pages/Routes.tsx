// Outbound routes: which numbers go out, rewritten how, through which trunks in turn,
// shown as which number. Who may call what is on the Settings page ("Calls out").
import { useEffect, useState } from "react";
import { Form, Input, InputNumber, Select } from "antd";
import { useTranslation } from "react-i18next";
import CollectionPage from "../components/CollectionPage";
import { api, type Schemas } from "../api/client";

type Route = Schemas["RouteSettings"];

export const CALL_CLASSES = ["local", "national", "mobile", "international", "premium"] as const;

/** The call classes as a select's options, named in the panel's language. */
export function useClassOptions() {
  const { t } = useTranslation();
  return CALL_CLASSES.map((c) => ({ value: c, label: t(`class_${c}`) }));
}

export default function Routes() {
  const { t } = useTranslation();
  const classes = useClassOptions();
  const [trunks, setTrunks] = useState<string[]>([]);
  useEffect(() => {
    void api.get<Schemas["TrunkSettings"][]>("/api/trunks").then((all) => setTrunks(all.map((tr) => tr.name)));
  }, []);
  return (
    <CollectionPage<Route>
      name="routes"
      title={t("routes")}
      keyField="name"
      newItem={{ name: "", patterns: [], strip: 0, prepend: "", class: "national", trunks: [] }}
      columns={[
        { title: t("name"), dataIndex: "name" },
        { title: t("routePatterns"), key: "patterns", render: (_, r) => r.patterns.join(", ") },
        { title: t("callClass"), key: "class", render: (_, r) => t(`class_${r.class}`) },
        { title: t("routeTrunks"), key: "trunks", render: (_, r) => r.trunks.join(" → ") },
      ]}
      toItem={(v) => ({ ...v, caller_id: (v.caller_id as string) || null }) as Route}
      formField={(field) => (field.startsWith("patterns") ? ["patterns"] : field.startsWith("trunks") ? ["trunks"] : null)}
      fields={(editing) => (
        <>
          <Form.Item label={t("name")} name="name" rules={[{ required: true }]}>
            <Input disabled={editing !== null} />
          </Form.Item>
          <Form.Item label={t("routePatterns")} name="patterns" extra={t("routePatternsHint")}>
            <Select mode="tags" tokenSeparators={[",", " "]} placeholder="0XXXXXXXXX" open={false} />
          </Form.Item>
          <Form.Item label={t("routeStrip")} name="strip">
            <InputNumber min={0} max={20} />
          </Form.Item>
          <Form.Item label={t("routePrepend")} name="prepend">
            <Input placeholder="+48" />
          </Form.Item>
          <Form.Item label={t("callClass")} name="class">
            <Select options={classes} />
          </Form.Item>
          <Form.Item label={t("routeTrunks")} name="trunks" extra={t("routeTrunksHint")}>
            <Select mode="multiple" options={trunks.map((name) => ({ value: name, label: name }))} />
          </Form.Item>
          <Form.Item label={t("callerId")} name="caller_id" extra={t("callerIdHint")}>
            <Input placeholder="+48225550100" />
          </Form.Item>
        </>
      )}
    />
  );
}
