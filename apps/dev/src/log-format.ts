import { jsonText } from "./json-text.js";

/** Something text can be written to: process.stdout, or a test's collector. */
export interface TextSink {
  write(text: string): unknown;
}

const LEVEL_LABELS: Readonly<Record<number, string>> = { 10: "trace ", 20: "debug ", 30: "", 40: "WARN ", 50: "ERROR ", 60: "FATAL " };
/** pino's own bookkeeping fields, not worth a reader's attention in a terminal. */
const HIDDEN_FIELDS = new Set(["level", "time", "pid", "hostname", "name", "msg", "requestId"]);

function fieldText(value: unknown): string {
  if (typeof value === "string") return /^[\x21-\x7e]*$/.test(value) && value !== "" ? value : JSON.stringify(value);
  if (typeof value === "object" && value !== null && "message" in value && typeof value.message === "string") return JSON.stringify(value.message);
  return jsonText(value) ?? String(value);
}

function clock(time: unknown): string {
  const date = typeof time === "number" ? new Date(time) : new Date();
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** One pino JSON line as a short human line: `12:00:01 api  GET /api/products 200 (3 ms)`. */
export function formatLogLine(line: string, source = "api"): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${clock(undefined)} ${source}  ${line.trim()}`;
  }
  const level = typeof entry.level === "number" ? (LEVEL_LABELS[entry.level] ?? "") : "";
  const message = typeof entry.msg === "string" ? entry.msg : "";
  let text: string;
  if (message === "request" && typeof entry.method === "string" && typeof entry.path === "string") {
    text = `${entry.method} ${entry.path} ${fieldText(entry.status)} (${fieldText(entry.ms)} ms)`;
  } else {
    const fields = Object.entries(entry)
      .filter(([name]) => !HIDDEN_FIELDS.has(name))
      .map(([name, value]) => `${name}=${fieldText(value)}`);
    text = [message, ...fields].filter((part) => part !== "").join(" ");
  }
  return `${clock(entry.time)} ${source}  ${level}${text}`;
}

/** A pino destination that prints readable lines; `hold()` buffers them until `release()` (during the banner). */
export interface PrettyLogDestination {
  write(line: string): void;
  hold(): void;
  release(): void;
}

/** Prints the API's JSON log lines to `out` in the short human form. */
export function createPrettyLogDestination(out: TextSink): PrettyLogDestination {
  let held: string[] | undefined;
  return {
    write(chunk) {
      for (const line of chunk.split("\n")) {
        if (line.trim() === "") continue;
        const text = `${formatLogLine(line)}\n`;
        if (held === undefined) out.write(text);
        else held.push(text);
      }
    },
    hold() {
      held ??= [];
    },
    release() {
      const pending = held ?? [];
      held = undefined;
      for (const text of pending) out.write(text);
    },
  };
}
