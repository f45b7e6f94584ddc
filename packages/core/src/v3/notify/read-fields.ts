import { isCurrency, type Currency } from "../../money/currency.js";
import { err, type ResultError } from "../../result.js";

// Hand-written field readers for the notify hot path: the same checks as the zod schemas in payloads.ts
// and envelope.ts (which stay the reference; read-fields.test.ts keeps the two in agreement), without
// zod's per-field issue objects and intermediate copies. A refusal throws InvalidField, which the
// readers' callers turn into one INVALID_FIELD result; the happy path never throws.

/** A refused field: where (dotted path) and why. Thrown only on a refusal and never escapes a reader. */
export class InvalidField extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = "InvalidField";
  }
}

export type FieldRecord = Readonly<Record<string, unknown>>;

/** RFC 3339 with a seconds field and an offset (the zod schemas use the same pattern). */
export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function refuse(path: string, reason: string): never {
  throw new InvalidField(path, reason);
}

/** A JSON object (not null, not an array). */
export function isRecord(value: unknown): value is FieldRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Each reader takes the value, not (record, key): the caller's `wire.out_trade_no` is a named property
// load V8 caches per call site, where a shared `from[key]` load inside the reader goes megamorphic.

export function readRecord(value: unknown, path: string): FieldRecord {
  if (!isRecord(value)) refuse(path, `expected object, received ${typeName(value)}`);
  return value;
}

export function readOptionalRecord(value: unknown, path: string): FieldRecord | undefined {
  return value === undefined ? undefined : readRecord(value, path);
}

export function readText(value: unknown, max: number, path: string): string {
  if (typeof value !== "string") refuse(path, `expected string, received ${typeName(value)}`);
  if (value.length > max) refuse(path, `must be at most ${max} characters`);
  return value;
}

export function readOptionalText(value: unknown, max: number, path: string): string | undefined {
  return value === undefined ? undefined : readText(value, max, path);
}

/** One of `values` (an enum of the protocol). */
export function readChoice<T extends string>(value: unknown, values: ReadonlySet<string>, path: string): T {
  if (typeof value !== "string" || !values.has(value)) refuse(path, `expected one of ${[...values].join(", ")}`);
  return value as T;
}

/** Minor units: a non-negative safe integer, never a float or a string. */
export function readMinor(value: unknown, path: string): number {
  if (typeof value !== "number") refuse(path, `expected number, received ${typeName(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) refuse(path, "expected a non-negative whole number of minor units");
  return value;
}

export function readOptionalMinor(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : readMinor(value, path);
}

export function readOptionalCurrency(value: unknown, path: string): Currency | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") refuse(path, `expected string, received ${typeName(value)}`);
  if (!isCurrency(value)) refuse(path, "unknown currency");
  return value;
}

/** An RFC 3339 time with its offset (`2018-06-08T10:34:56+08:00`) as a Date, or undefined when it is not one. */
export function parseV3Time(value: string): Date | undefined {
  if (!RFC3339.test(value)) return undefined;
  const quick = quickInstant(value);
  const at = new Date(quick ?? value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i += 1) n = n * 10 + text.charCodeAt(i) - 0x30;
  return n;
}

/**
 * Epoch ms of the common shape (`2018-06-08T10:34:56+08:00` or `...Z`, no fraction) when every field is
 * plainly in range, where it is what `new Date(text)` computes without V8's general date parser (about
 * twice the cost); undefined for anything else (fractions, day 29-31, hour 24, years before 1970...),
 * which `new Date` then judges. The text already matched RFC3339. read-fields.test.ts compares the two.
 */
function quickInstant(text: string): number | undefined {
  const length = text.length;
  if (length !== 20 && length !== 25) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 28 || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (length === 25) {
    const offsetHour = digits(text, 20, 2);
    const offsetMinute = digits(text, 23, 2);
    if (offsetHour > 23 || offsetMinute > 59) return undefined;
    offsetMinutes = (text.charCodeAt(19) === 0x2d /* - */ ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
}

export function readTime(value: unknown, path: string): Date {
  const at = parseV3Time(readText(value, Number.POSITIVE_INFINITY, path));
  if (at === undefined) refuse(path, "expected an RFC 3339 time with offset");
  return at;
}

export function readOptionalTime(value: unknown, path: string): Date | undefined {
  return value === undefined ? undefined : readTime(value, path);
}

/** Refuses with `reason` at `path` (the readers' checks across fields). */
export function refuseField(path: string, reason: string): never {
  refuse(path, reason);
}

/** A refusal thrown by a reader as the INVALID_FIELD result `where field path: reason`; anything else is rethrown. */
export function invalidField(where: string, error: unknown): { readonly ok: false; readonly error: ResultError<"INVALID_FIELD"> } {
  if (error instanceof InvalidField) return err("INVALID_FIELD", `${where} field ${error.path || "(root)"}: ${error.reason}`);
  throw error;
}
