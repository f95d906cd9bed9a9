// The admin API, as the UI calls it. Types come from schema.d.ts, which is generated
// from the server's OpenAPI document (scripts/api-types), so a change to the server's
// types that the UI does not follow fails `tsc`.
import type { components } from "./schema";

export type Schemas = components["schemas"];

/** What the API answers when it cannot do something: `{code, field, message}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  /** Every field problem, the first being `field`/`message`. */
  readonly errors: { field: string; message: string }[];

  constructor(status: number, body: Partial<Schemas["ApiError"]>) {
    super(body.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? "http";
    this.field = body.field ?? undefined;
    this.errors =
      body.errors && body.errors.length > 0
        ? body.errors
        : body.field
          ? [{ field: body.field, message: body.message ?? "" }]
          : [];
  }
}

let csrfToken: string | null = null;
let onLoggedOut: () => void = () => {};

export function rememberSession(session: Schemas["SessionInfo"] | null) {
  csrfToken = session?.csrf_token ?? null;
}

/** Called when the server says the session is over. */
export function whenLoggedOut(callback: () => void) {
  onLoggedOut = callback;
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined && !(body instanceof Blob)) headers["content-type"] = "application/json";
  if (csrfToken && method !== "GET") headers["x-csrf-token"] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined || body instanceof Blob ? body : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/session") onLoggedOut();
    throw new ApiError(response.status, parsed ?? {});
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => call<T>("GET", path),
  post: <T>(path: string, body?: unknown) => call<T>("POST", path, body),
  /** A JSON body, or a file sent as it is. */
  put: <T>(path: string, body: unknown) => call<T>("PUT", path, body),
  patch: <T>(path: string, body: unknown) => call<T>("PATCH", path, body),
  delete: (path: string) => call<void>("DELETE", path),
};

/** "agents[0].tier" → ["agents", 0, "tier"]: the form field the API named. */
export function fieldPath(field: string): (string | number)[] {
  return field
    .replace(/\[(\d+)\]/g, ".$1")
    .split(".")
    .filter((p) => p !== "")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}
