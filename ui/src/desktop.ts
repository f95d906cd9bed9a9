// What the desktop app adds when the UI runs in its window: desktop notifications.
// In a browser tab these calls do nothing.
type TauriGlobal = { core: { invoke: (command: string, args: Record<string, unknown>) => Promise<unknown> } };

function tauri(): TauriGlobal | undefined {
  return (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
}

export function inDesktopApp(): boolean {
  return tauri() !== undefined;
}

/** A desktop notification: a caller started waiting. */
export function notifyIncomingCall(title: string, body: string) {
  void tauri()?.core.invoke("incoming_call", { title, body }).catch(() => undefined);
}
