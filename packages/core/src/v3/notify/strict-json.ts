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
 * and nesting deeper than `maxDepth`. Keys are compared decoded, so `"a"` and `"\u0061"` are the same key.
 *
 * One pass before JSON.parse counts the members of all objects and measures the depth (iteratively, and
 * before JSON.parse spends time on hostile nesting); JSON.parse stays the judge of syntax; a walk of the parsed value then
 * counts own keys and looks for the forbidden ones. JSON.parse keeps one property per distinct decoded
 * name, so the parsed key count equals the scanned member count exactly when no object repeats a key:
 * duplicates are found without building a set of keys per object (the slow path that names the repeated
 * key runs only on a refusal). Written here rather than taken from a library: secure-json-parse and
 * @hapi/bourne miss duplicates and depth, jsonc-parser is lenient JSONC and recursive, and a full AST
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
  const members = countMembers(text, maxDepth);
  if (typeof members !== "number") return members;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return err("NOT_JSON", "The body is not JSON.");
  }
  const found = { keys: 0, forbidden: undefined as string | undefined };
  countKeys(value, found);
  if (found.forbidden !== undefined) return err("FORBIDDEN_KEY", `The body has a "${found.forbidden}" key.`);
  if (found.keys !== members) return err("DUPLICATE_KEY", `The body repeats the key "${repeatedKey(text).slice(0, 64)}".`);
  return ok(value);
}

/**
 * Members of every object in the text (keys as written, repeats included), or a refusal for depth or an
 * open string. In valid JSON every member has exactly one colon outside strings and nothing else does, so
 * counting those colons counts the members; text that is not valid JSON is refused by JSON.parse next
 * (or here, as too deep, which is a refusal too). Strings are skipped with indexOf (a notify's ciphertext
 * is ~700 characters), which is several times quicker than a loop over their characters.
 */
function countMembers(text: string, maxDepth: number): number | { readonly ok: false; readonly error: { code: StrictJsonErrorCode; message: string } } {
  let depth = 0;
  let members = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return err("NOT_JSON", "The body has an unterminated string.");
    } else if (c === 0x3a /* : */) {
      members += 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (depth > maxDepth) return err("TOO_DEEP", `The body nests deeper than ${maxDepth} levels.`);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth -= 1;
    }
  }
  return members;
}

/** Adds the own keys of every object in a parsed value to `found.keys`; notes the first forbidden key. Depth is already bounded. */
function countKeys(value: unknown, found: { keys: number; forbidden: string | undefined }): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) countKeys(item, found);
    return;
  }
  const keys = Object.keys(value);
  found.keys += keys.length;
  for (const key of keys) {
    if (FORBIDDEN_KEYS.has(key) && found.forbidden === undefined) found.forbidden = key;
    countKeys((value as Record<string, unknown>)[key], found);
  }
}

/** The slow path of a refusal: the first key an object repeats (decoded), for the message. */
function repeatedKey(text: string): string {
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const keys = open[open.length - 1];
      if (expectKey && keys !== undefined && keys !== null) {
        // The text parsed as JSON, so every key decodes.
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      open.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = open.length > 0 && open[open.length - 1] !== null;
    }
  }
  return "";
}
