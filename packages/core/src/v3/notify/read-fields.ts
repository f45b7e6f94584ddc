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

export function readRecord(from: FieldRecord, key: string, path: string): FieldRecord {
  const value = from[key];
  if (!isRecord(value)) refuse(path, `expected object, received ${typeName(value)}`);
  return value;
}

export function readOptionalRecord(from: FieldRecord, key: string, path: string): FieldRecord | undefined {
  return from[key] === undefined ? undefined : readRecord(from, key, path);
}

export function readText(from: FieldRecord, key: string, max: number, path: string): string {
  const value = from[key];
  if (typeof value !== "string") refuse(path, `expected string, received ${typeName(value)}`);
  if (value.length > max) refuse(path, `must be at most ${max} characters`);
  return value;
}

export function readOptionalText(from: FieldRecord, key: string, max: number, path: string): string | undefined {
  return from[key] === undefined ? undefined : readText(from, key, max, path);
}

/** One of `values` (an enum of the protocol). */
export function readChoice<T extends string>(from: FieldRecord, key: string, values: ReadonlySet<string>, path: string): T {
  const value = from[key];
  if (typeof value !== "string" || !values.has(value)) refuse(path, `expected one of ${[...values].join(", ")}`);
  return value as T;
}

/** Minor units: a non-negative safe integer, never a float or a string. */
export function readMinor(from: FieldRecord, key: string, path: string): number {
  const value = from[key];
  if (typeof value !== "number") refuse(path, `expected number, received ${typeName(value)}`);
  if (!Number.isSafeInteger(value) || value < 0) refuse(path, "expected a non-negative whole number of minor units");
  return value;
}

export function readOptionalMinor(from: FieldRecord, key: string, path: string): number | undefined {
  return from[key] === undefined ? undefined : readMinor(from, key, path);
}

export function readOptionalCurrency(from: FieldRecord, key: string, path: string): Currency | undefined {
  const value = from[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") refuse(path, `expected string, received ${typeName(value)}`);
  if (!isCurrency(value)) refuse(path, "unknown currency");
  return value;
}

/** An RFC 3339 time with its offset (`2018-06-08T10:34:56+08:00`) as a Date, or undefined when it is not one. */
export function parseV3Time(value: string): Date | undefined {
  if (!RFC3339.test(value)) return undefined;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export function readTime(from: FieldRecord, key: string, path: string): Date {
  const value = readText(from, key, Number.POSITIVE_INFINITY, path);
  const at = parseV3Time(value);
  if (at === undefined) refuse(path, "expected an RFC 3339 time with offset");
  return at;
}

export function readOptionalTime(from: FieldRecord, key: string, path: string): Date | undefined {
  return from[key] === undefined ? undefined : readTime(from, key, path);
}

/** Refuses with `reason` at `path` (the readers' checks across fields). */
export function refuseField(path: string, reason: string): never {
  refuse(path, reason);
}

/** Runs a reader; an InvalidField becomes the INVALID_FIELD result `where field path: reason`. */
export function readFields<T>(where: string, read: () => T): { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ResultError<"INVALID_FIELD"> } {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    if (error instanceof InvalidField) return err("INVALID_FIELD", `${where} field ${error.path || "(root)"}: ${error.reason}`);
    throw error;
  }
}
