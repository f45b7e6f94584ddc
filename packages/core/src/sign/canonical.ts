import { PayCoreError } from "../errors.js";

/** A value that can take part in a v2 signature. `undefined`, `null` and `''` are left out. */
export type SignableValue = string | number | bigint | null | undefined;

/** Parameters to sign: a plain object, a Map, or an array of [name, value] pairs. */
export type SignableParams = Readonly<Record<string, SignableValue>> | ReadonlyMap<string, SignableValue> | ReadonlyArray<readonly [string, SignableValue]>;

/**
 * Orders two names by Unicode code point, which equals UTF-8 byte order.
 * UTF-16 unit order differs from it only between surrogates and U+E000..U+FFFF.
 */
export function compareByteOrder(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        const xs = x <= 0xdfff;
        const ys = y <= 0xdfff;
        if (xs !== ys) return xs ? 1 : -1;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

function valueText(name: string, value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value === "" ? undefined : value;
    case "undefined":
      return undefined;
    case "number": {
      if (!Number.isFinite(value)) {
        throw new PayCoreError("UNSUPPORTED_VALUE", `Field "${name}" is ${value}; only finite numbers can be signed.`);
      }
      const text = String(value === 0 ? 0 : value);
      if (text.includes("e")) {
        throw new PayCoreError("UNSUPPORTED_VALUE", `Field "${name}" (${text}) has no plain decimal form; pass it as a string.`);
      }
      return text;
    }
    case "bigint":
      return value.toString();
    case "object":
      if (value === null) return undefined;
      throw new PayCoreError(
        "NESTED_VALUE",
        `Field "${name}" is ${Array.isArray(value) ? "an array" : "an object"}; v2 messages are flat, so serialise structured fields (detail, scene_info) to a JSON string first.`,
      );
    default:
      throw new PayCoreError("UNSUPPORTED_VALUE", `Field "${name}" is a ${typeof value}; sign strings, numbers or bigints.`);
  }
}

function entriesOf(params: SignableParams): Iterable<readonly [string, unknown]> {
  if (Array.isArray(params)) return params as ReadonlyArray<readonly [string, unknown]>;
  if (params instanceof Map) return params as ReadonlyMap<string, unknown>;
  return Object.entries(params);
}

/**
 * The canonical, sorted [name, text] pairs that a v2 signature covers: `sign` and empty values
 * (`undefined`, `null`, `''`) are left out, numbers become decimal text, nested values throw.
 */
export function canonicalPairs(params: SignableParams): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const seen = Array.isArray(params) ? new Set<string>() : undefined;
  for (const [name, value] of entriesOf(params)) {
    if (name === "") throw new PayCoreError("INVALID_KEY", "A field name is empty.");
    if (seen) {
      if (seen.has(name)) throw new PayCoreError("DUPLICATE_KEY", `Field "${name}" appears twice.`);
      seen.add(name);
    }
    if (name === "sign") continue;
    const text = valueText(name, value);
    if (text !== undefined) pairs.push([name, text]);
  }
  // Sorting an array of pairs, never an object: JS objects reorder integer-like keys.
  pairs.sort((a, b) => compareByteOrder(a[0], b[0]));
  return pairs;
}

/** Insertion sort by byte order: for the dozen names of a v2 message it beats Array#sort with a comparator. */
function sortNames(names: string[]): void {
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let j = i - 1;
    while (j >= 0 && compareByteOrder(name, names[j] as string) < 0) {
      names[j + 1] = names[j] as string;
      j--;
    }
    names[j + 1] = name;
  }
}

const SHAPE_CACHE_SIZE = 16;

/** A message shape: its names as Object.keys lists them, and the signing order as positions into that list. */
interface Shape {
  readonly names: readonly string[];
  readonly order: readonly number[];
  readonly sortedNames: readonly string[];
}

const shapeCache: Shape[] = [];
let shapeCacheNext = 0;

/**
 * The signing order of a plain object's names. Messages of one kind share their names, so the order
 * of the last few shapes is kept; a hit costs one identity comparison per (interned) name.
 */
function shapeOf(names: readonly string[]): Shape {
  search: for (const shape of shapeCache) {
    if (shape.names.length !== names.length) continue;
    for (let i = 0; i < names.length; i++) if (shape.names[i] !== names[i]) continue search;
    return shape;
  }
  const sortedNames = names.slice();
  sortNames(sortedNames);
  const position = new Map(names.map((name, i) => [name, i]));
  const shape: Shape = { names: names.slice(), sortedNames, order: sortedNames.map((name) => position.get(name) as number) };
  shapeCache[shapeCacheNext] = shape;
  shapeCacheNext = (shapeCacheNext + 1) % SHAPE_CACHE_SIZE;
  return shape;
}

/** `k1=v1&k2=v2…&key=<apiKey>`: the exact text that is hashed. Never log it: it holds the key. */
export function buildStringToSign(params: SignableParams, apiKey: string): string {
  let out = "";
  if (Array.isArray(params) || params instanceof Map) {
    for (const [name, text] of canonicalPairs(params)) out += `${name}=${text}&`;
    return `${out}key=${apiKey}`;
  }
  // Plain objects (every message on the hot path) skip the intermediate pairs; Object.values lists
  // values in Object.keys order, so the cached positions pick them without keyed lookups.
  return buildStringToSignFromLists(Object.keys(params), Object.values(params), apiKey);
}

/**
 * `buildStringToSign` of a message given as its names and, at the same positions, their values, in the
 * order Object.keys would list them (a parsed document's order): the same text, without a record to ask.
 */
export function buildStringToSignFromLists(names: readonly string[], values: readonly unknown[], apiKey: string): string {
  let out = "";
  const { order, sortedNames } = shapeOf(names);
  for (let i = 0; i < order.length; i++) {
    const name = sortedNames[i] as string;
    if (name === "sign") continue;
    if (name === "") throw new PayCoreError("INVALID_KEY", "A field name is empty.");
    const value = values[order[i] as number];
    const text = typeof value === "string" ? value : valueText(name, value);
    if (text !== undefined && text !== "") out += `${name}=${text}&`;
  }
  return `${out}key=${apiKey}`;
}
