import { err, ok, type Result } from "../../result.js";

export type StrictJsonErrorCode = "NOT_JSON" | "TOO_DEEP" | "DUPLICATE_KEY" | "FORBIDDEN_KEY";

export interface StrictJsonOptions {
  /** Deepest nesting of objects and arrays accepted (default 16; a notify needs 4). */
  readonly maxDepth?: number;
}

/** Keys that poison prototypes when a parsed object is merged or spread into another. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DEFAULT_MAX_DEPTH = 16;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/**
 * JSON.parse with the checks it lacks, for untrusted bodies: duplicate keys (JSON.parse silently keeps
 * the last one, so a signed body could say two things), `__proto__` / `constructor` / `prototype` keys,
 * and nesting deeper than `maxDepth`. A small iterative scanner finds keys and depth first (so no
 * recursion on hostile nesting); JSON.parse stays the judge of syntax. Keys are compared decoded, so
 * `"a"` and `"\u0061"` are the same key. Written here rather than taken from a library: secure-json-parse
 * and @hapi/bourne miss duplicates and depth, jsonc-parser is lenient JSONC and recursive, and a full AST
 * (momoa) allocates a tree on the hot notify path; core stays free of runtime dependencies besides zod.
 */
export function parseStrictJson(input: string | Uint8Array, options: StrictJsonOptions = {}): Result<unknown, StrictJsonErrorCode> {
  let text: string;
  if (typeof input === "string") text = input;
  else {
    try {
      text = UTF8.decode(input);
    } catch {
      return err("NOT_JSON", "The body is not UTF-8 text.");
    }
  }
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return err("NOT_JSON", "The body has an unterminated string.");
      const keys = open[open.length - 1];
      if (expectKey && keys !== undefined && keys !== null) {
        const raw = text.slice(i + 1, end);
        let key = raw;
        if (raw.includes("\\")) {
          try {
            key = JSON.parse(text.slice(i, end + 1)) as string;
          } catch {
            return err("NOT_JSON", "The body has a malformed string escape.");
          }
        }
        if (FORBIDDEN_KEYS.has(key)) return err("FORBIDDEN_KEY", `The body has a "${key}" key.`);
        if (keys.has(key)) return err("DUPLICATE_KEY", `The body repeats the key "${key.slice(0, 64)}".`);
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (open.length >= maxDepth) return err("TOO_DEEP", `The body nests deeper than ${maxDepth} levels.`);
      open.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = open.length > 0 && open[open.length - 1] !== null;
    }
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return err("NOT_JSON", "The body is not JSON.");
  }
}
