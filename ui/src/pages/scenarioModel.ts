// Scenario blocks as the editor knows them: each type's settings and exits (the same
// exits the server checks; a mismatch would show as a problem on publishing).
import type { Schemas } from "../api/client";

export type Scenario = Schemas["Scenario"];
export type Block = Record<string, unknown> & { type: string; exits?: Record<string, string> };

export type Setting = {
  key: string;
  label: string;
  kind: "text" | "number" | "bool" | "mode" | "members";
};

const prompt: Setting = { key: "prompt", label: "prompt", kind: "text" };
const timeout: Setting = { key: "timeout", label: "timeout", kind: "number" };

export const BLOCK_TYPES: Record<string, Setting[]> = {
  "play-audio": [prompt, { key: "barge_in", label: "bargeIn", kind: "bool" }],
  menu: [prompt, { key: "keys", label: "keys", kind: "text" }, timeout, { key: "retries", label: "retries", kind: "number" }],
  "dial-extension": [prompt, timeout],
  "ring-group": [
    { key: "mode", label: "mode", kind: "mode" },
    { key: "members", label: "membersText", kind: "members" },
  ],
  "call-employee": [{ key: "extension", label: "extension", kind: "text" }],
  "call-manager": [],
  "call-external": [{ key: "number", label: "number", kind: "text" }],
  "call-sip-address": [{ key: "uri", label: "uri", kind: "text" }],
  schedule: [{ key: "schedule", label: "schedule", kind: "text" }],
  "number-check": [{ key: "list", label: "list", kind: "text" }],
  queue: [{ key: "queue", label: "queue", kind: "text" }],
  voicemail: [{ key: "mailbox", label: "mailbox", kind: "text" }],
  "set-priority": [{ key: "priority", label: "setPriority", kind: "number" }],
  "go-to": [{ key: "scenario", label: "scenario", kind: "text" }],
  "hang-up": [],
};

/** A new block's settings. */
export function newBlock(type: string): Block {
  const defaults: Record<string, Record<string, unknown>> = {
    "play-audio": { prompt: "", barge_in: false },
    menu: { prompt: "", keys: "12", timeout: 5, retries: 2 },
    "dial-extension": { prompt: "", timeout: 5 },
    "ring-group": { mode: "all-at-once", members: [] },
    "call-employee": { extension: "" },
    "call-external": { number: "" },
    "call-sip-address": { uri: "" },
    schedule: { schedule: "" },
    "number-check": { list: "" },
    queue: { queue: "" },
    voicemail: { mailbox: "" },
    "set-priority": { priority: 50 },
    "go-to": { scenario: "" },
  };
  return { type, ...(defaults[type] ?? {}), exits: {} };
}

/** The exits a block can take; each must lead somewhere. */
export function exitsOf(block: Block): string[] {
  switch (block.type) {
    case "play-audio":
    case "set-priority":
      return ["next"];
    case "menu":
      return [...String(block.keys ?? "").split(""), "timeout", "invalid"];
    case "dial-extension":
      return ["timeout", "invalid", "no-answer"];
    case "ring-group":
    case "call-employee":
      return ["no-answer"];
    case "call-manager":
      return ["no-answer", "no-manager"];
    case "call-external":
    case "call-sip-address":
      return ["no-answer", "failed"];
    case "schedule":
      return ["open", "closed", "holiday"];
    case "number-check":
      return ["listed", "not-listed"];
    case "queue":
      return ["timeout", "empty", "full", "key"];
    default:
      return [];
  }
}

type Member = { extension: string; ring?: number; weight?: number };

export function membersToText(members: unknown): string {
  return ((members as Member[]) ?? []).map((m) => [m.extension, m.ring ?? 20, m.weight ?? 0].join(":")).join("\n");
}

export function membersFromText(text: string): Member[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [extension, ring, weight] = line.split(/[:\s]+/);
      return { extension, ring: ring ? Number(ring) : 20, weight: weight ? Number(weight) : 0 };
    });
}

/** Columns by distance from the start block, so the graph reads left to right. */
export function layout(scenario: Scenario): Record<string, { x: number; y: number }> {
  const blocks = scenario.blocks as Record<string, Block>;
  const depth: Record<string, number> = {};
  const queue = scenario.start in blocks ? [scenario.start] : [];
  if (queue.length) depth[scenario.start] = 0;
  while (queue.length) {
    const id = queue.shift()!;
    for (const next of Object.values(blocks[id].exits ?? {})) {
      if (next in blocks && !(next in depth)) {
        depth[next] = depth[id] + 1;
        queue.push(next);
      }
    }
  }
  const deepest = Math.max(0, ...Object.values(depth));
  const rows: Record<number, number> = {};
  const positions: Record<string, { x: number; y: number }> = {};
  for (const id of Object.keys(blocks)) {
    const column = depth[id] ?? deepest + 1;
    const row = rows[column] ?? 0;
    rows[column] = row + 1;
    positions[id] = { x: column * 300, y: row * 170 };
  }
  return positions;
}
