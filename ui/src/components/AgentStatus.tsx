// Logging an agent in or out of their queues and breaks, from the panel: what *45 and
// *46 do on the phone. Admins act on any agent, agents on themselves.
import { App } from "antd";
import type { MenuProps } from "antd";
import { useTranslation } from "react-i18next";
import { api, type Schemas } from "../api/client";

type Status = Schemas["StatusChange"]["status"];

/** The changes that make sense from `activity`, as menu items or buttons. */
export function useAgentStatusActions(path: string, activity: Schemas["Activity"]) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const change = (status: Status) =>
    api.put<void>(path, { status }).catch((e: Error) => void message.error(e.message));
  const actions: { key: Status; label: string }[] =
    activity === "logged-out"
      ? [{ key: "available", label: t("queueLogIn") }]
      : [
          activity === "on-break"
            ? { key: "available", label: t("endBreak") }
            : { key: "on-break", label: t("takeBreak") },
          { key: "logged-out", label: t("queueLogOut") },
        ];
  const menu: MenuProps = {
    items: actions,
    onClick: ({ key }) => void change(key as Status),
  };
  return { actions, change, menu };
}
