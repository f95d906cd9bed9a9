// The phone in the desktop app's window: the shell runs it (crates/phone with the PC's
// sound device) and this page drives it through three commands and one event stream.
// These shapes mirror crates/phone's serde output (see src-tauri/src/phone.rs).

export type LineState = "ringing" | "dialing" | "alerting" | "talking" | "held";
export type Party = { number: string; name: string | null };
export type LineInfo = {
  line: number;
  state: LineState;
  direction: "incoming" | "outgoing";
  party: Party;
  held_by_party: boolean;
};
export type SignIn =
  | { state: "starting" | "unreachable" | "signed_out" }
  | { state: "signed_in"; expires: number }
  | { state: "refused"; code: number; reason: string };
export type EndReason =
  | { why: "hung_up_here" | "hung_up_there" | "cancelled" | "busy" }
  | { why: "failed"; code: number; reason: string };
export type PhoneEvent =
  | ({ event: "sign_in" } & { state: SignIn })
  | ({ event: "line" } & LineInfo)
  | { event: "ended"; line: number; party: Party; reason: EndReason }
  | { event: "key"; line: number; key: string }
  | { event: "transfer_failed"; line: number; code: number };
export type RecentCall = { party: Party; direction: "incoming" | "outgoing"; answered: boolean };
export type PhoneStatus = {
  extension: string | null;
  microphone: string | null;
  speaker: string | null;
  sign_in: SignIn | null;
  lines: LineInfo[];
  recent: RecentCall[];
  muted: boolean;
  sound: string | null;
};
export type PhoneAction =
  | { action: "dial"; number: string }
  | { action: "answer" | "reject" | "hang_up" | "hold" | "resume"; line: number }
  | { action: "key"; line: number; key: string }
  | { action: "transfer"; line: number; target: string }
  | { action: "mute"; muted: boolean };
export type PhoneFailure = { code: string; message: string };

type Tauri = {
  core: { invoke: <T>(command: string, args?: Record<string, unknown>) => Promise<T> };
  event: { listen: <T>(name: string, handler: (e: { payload: T }) => void) => Promise<() => void> };
};

function tauri(): Tauri | undefined {
  return (window as unknown as { __TAURI__?: Tauri }).__TAURI__;
}

export const hasPhone = () => tauri() !== undefined;

export const phoneStatus = () => tauri()!.core.invoke<PhoneStatus>("phone_status");

export const phoneAct = (action: PhoneAction) => tauri()!.core.invoke<number | null>("phone_act", { action });

export const phoneSignIn = (server: string, extension: string, password: string) =>
  tauri()!.core.invoke<void>("phone_sign_in", { server, extension, password });

/** The microphones and speakers the PC offers, by name. */
export const phoneDevices = () => tauri()!.core.invoke<[string[], string[]]>("phone_devices");

/** The devices the phone uses from now on (null: the system's default). */
export const phoneUseDevices = (microphone: string | null, speaker: string | null) =>
  tauri()!.core.invoke<void>("phone_use_devices", { microphone, speaker });

/** Calls `handler` with every event of the phone; returns how to stop. */
export function onPhoneEvent(handler: (e: PhoneEvent) => void): () => void {
  let stop: (() => void) | undefined;
  let stopped = false;
  void tauri()
    ?.event.listen<PhoneEvent>("phone", (e) => handler(e.payload))
    .then((unlisten) => {
      if (stopped) unlisten();
      else stop = unlisten;
    });
  return () => {
    stopped = true;
    stop?.();
  };
}

/** The message of a failure the shell reported. */
export function failureText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as PhoneFailure).message);
  return String(e);
}
