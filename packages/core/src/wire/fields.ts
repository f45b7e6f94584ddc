import { z } from "zod";
import { isCurrency, type Currency } from "../money/currency.js";
import { parseBeijingTime } from "./time.js";

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** Object type with snake_case keys renamed to camelCase: `total_fee` -> `totalFee`. */
export type Camelize<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

/** `out_trade_no` -> `outTradeNo`. WeChat's snake_case names stop at the XML boundary. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `outTradeNo` -> `out_trade_no`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const MAX_CAMEL_NAMES = 1024;
const camelNames = new Map<string, string>();

/** camelCase of a field name, remembered: every message of a kind renames the same few dozen names. Bounded, for untrusted names. */
function camelName(name: string): string {
  let camel = camelNames.get(name);
  if (camel === undefined) {
    camel = camelCase(name);
    if (camelNames.size < MAX_CAMEL_NAMES) camelNames.set(name, camel);
  }
  return camel;
}

/** Renames every key of a wire object to camelCase; values are untouched. */
export function camelizeKeys<T extends Record<string, unknown>>(wire: T): Camelize<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(wire)) if (v !== undefined) out[camelName(k)] = v;
  return out as Camelize<T>;
}

/** Renames every key of a typed object to the wire's snake_case, dropping undefined values. */
export function snakeizeKeys(value: Readonly<Record<string, unknown>>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    if (typeof v !== "string" && typeof v !== "number") throw new TypeError(`Field ${k} must be a string or number.`);
    out[snakeCase(k)] = v;
  }
  return out;
}

/** A wire text field of at most `max` characters. */
export function wireString(max = 256) {
  return z.string().max(max);
}

// One transform instead of transform + pipe into a number schema: the same checks, and the notify
// path reads four to six of these per message.
const WIRE_INT = z
  .string()
  .regex(/^(?:0|[1-9][0-9]{0,15})$/, "expected a whole number")
  .transform((digits, ctx) => {
    const value = Number(digits);
    if (Number.isSafeInteger(value)) return value;
    ctx.issues.push({ code: "custom", message: `expected at most ${Number.MAX_SAFE_INTEGER}`, input: digits });
    return z.NEVER;
  });

/**
 * A wire integer (`total_fee`, `cash_fee`): canonical decimal digits to a safe integer; "01" and "1.0" are refused.
 * One shared (immutable) schema: building a zod schema costs far more than a parse, and coupon fields are
 * read with it on every notify.
 */
export function wireInt() {
  return WIRE_INT;
}

/** A wire currency code that @pay/core knows. */
export function wireCurrency() {
  return z
    .string()
    .refine(isCurrency, "unknown currency")
    .transform((c): Currency => c);
}

/** yyyyMMddHHmmss, Beijing time, as the gateway writes `time_end`. */
export function wireCompactTime() {
  return z.string().regex(/^[0-9]{14}$/, "expected yyyyMMddHHmmss");
}

/**
 * `yyyy-MM-dd HH:mm:ss`, Beijing time, as the refund notify writes `success_time`: the text is kept,
 * and must name a real instant (no 2026-02-30, no 25:00:00); read it with `parseBeijingTime`.
 */
export function wireDashedTime() {
  return z
    .string()
    .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$/, "expected yyyy-MM-dd HH:mm:ss")
    .refine((text) => parseBeijingTime(text) !== undefined, "is not a real date and time");
}

/** `SUCCESS` / `FAIL`, as return_code and result_code use. */
export const WireStatusSchema = z.enum(["SUCCESS", "FAIL"]);

/**
 * Reads indexed fields (`coupon_id_0`, `coupon_fee_0`, …) into an array of records, for
 * n from 0 to count-1. Names are given without the `_$n` suffix.
 */
export function readIndexed<const N extends string>(raw: Readonly<Record<string, string>>, count: number, names: readonly N[], suffix = ""): Array<Record<N, string | undefined>> {
  const rows: Array<Record<N, string | undefined>> = [];
  for (let n = 0; n < count; n++) {
    const row = {} as Record<N, string | undefined>;
    for (const name of names) row[name] = raw[`${name}_${n}${suffix}`];
    rows.push(row);
  }
  return rows;
}
