import { z } from "zod";
import { CurrencySchema } from "../../contract/common.js";
import { PayCoreError } from "../../errors.js";
import type { Money } from "../../money/money.js";
import { notifyUrlProblem, OutTradeNoSchema } from "../../messages/unified-order.js";
import { PositiveMinorUnitsSchema } from "../../messages/request.js";
import { snakeCase } from "../../wire/fields.js";

/** The hosts a v3 request goes to: mainland merchants and WeChat Pay Global (cross-border). */
export const V3_HOSTS = {
  domestic: "https://api.mch.weixin.qq.com",
  global: "https://apihk.mch.weixin.qq.com",
} as const;

/**
 * A v3 request in wire form, exactly as it is sent and signed: `path` carries the query (each value
 * percent-encoded exactly once) and `body` is the JSON text ("" for a GET).
 */
export interface V3Request {
  readonly method: "GET" | "POST";
  /** Origin to send to (V3_HOSTS, or a bill's download_url origin); not part of the signature. */
  readonly host: string;
  readonly path: string;
  readonly body: string;
}

/**
 * One path segment (`{out_trade_no}`), percent-encoded once as GO's url.PathEscape does (so `*` is
 * `%2A` too); the encoded form is what gets sent and signed.
 */
export function v3PathSegment(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `?a=1&b=2` from ordered pairs (undefined values left out), each part percent-encoded once. */
export function v3QueryString(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  const parts = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** Identifier text (mchid, appid, openid…): printable ASCII, no spaces, at most `max` characters. */
export function v3Id(max: number) {
  return z
    .string()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .regex(/^[\x21-\x7E]+$/, "must be printable ASCII without spaces");
}

/** Free text (attach, reason): not empty, at most `max` characters, no surrounding whitespace. */
export function v3Text(max: number) {
  return z
    .string()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine((v) => v.trim() === v, "must not start or end with whitespace");
}

/** The goods description: 1 to 127 characters. */
export const V3DescriptionSchema = v3Text(127);

/** out_trade_no: 6 to 32 of digits, letters and `_ - | *` (the v2 rule; the reference confirms only the minimum of 6). */
export const V3OutTradeNoSchema = OutTradeNoSchema;

/** out_refund_no: 1 to 64 of digits, letters and `_ - | * @`. */
export const V3OutRefundNoSchema = z.string().regex(/^[0-9A-Za-z_\-|*@]{1,64}$/, "must be 1-64 characters of digits, letters and _ - | * @");

/** The WeChat order number (28 digits in practice; 1-32 digits accepted). */
export const V3TransactionIdSchema = z.string().regex(/^[0-9]{1,32}$/, "must be 1-32 digits");

/** A v3 notify_url: https, absolute, no query string (GO doc: "1. HTTPS；2. 不允许携带查询串"), at most 256 characters. */
export const V3NotifyUrlSchema = z.string().superRefine((url, ctx) => {
  const problem = notifyUrlProblem(url) ?? (url.startsWith("https://") ? undefined : "must use https");
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

const RFC3339_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;

/** True when `text` is `yyyy-MM-ddTHH:mm:ss±hh:mm` naming a real instant (no Z, no fractions). */
export function isRfc3339WithOffset(text: string): boolean {
  const m = RFC3339_OFFSET.exec(text);
  if (m === null) return false;
  const [, y, mo, d, h, mi, s, , oh, om] = m.map(Number) as [number, number, number, number, number, number, number, number, number, number];
  if (h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return false;
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

/** time_expire / time_start: RFC 3339 with an explicit numeric offset, as the reference's examples (`2018-06-08T10:34:56+08:00`). */
export const V3TimeSchema = z.string().refine(isRfc3339WithOffset, "must be RFC 3339 with an offset, e.g. 2018-06-08T10:34:56+08:00");

/** A positive amount of minor units with its currency (the total of an order, a refund). */
export const V3PositiveMoneySchema = z.object({ amount: PositiveMinorUnitsSchema, currency: CurrencySchema });

/** A mainland amount: CNY only ("境内商户号仅支持人民币"). */
export const V3CnyMoneySchema = z.object({ amount: PositiveMinorUnitsSchema, currency: z.literal("CNY", { error: "must be CNY for a mainland merchant" }) });

/** Options of the v3 order and refund builders. */
export interface V3BuildOptions {
  /**
   * Accept an `http://` notify_url (default false: https only, as the real gateway demands). Only for a
   * local gateway such as the sandbox started with `allowHttpNotifyUrl`; every other notify_url rule still holds.
   */
  readonly allowHttpNotifyUrl?: boolean | undefined;
}

/**
 * checkV3Request for a request with a notify_url: with `allowHttpNotifyUrl` an `http://` URL is checked by the
 * v2 rule (absolute, no query, fragment or credentials, at most 256 characters) and the rest by `schema`.
 */
export function checkV3RequestWithNotifyUrl<S extends z.ZodType>(schema: S, request: z.input<S>, options: V3BuildOptions | undefined): z.output<S> {
  const url: unknown = (request as { notifyUrl?: unknown }).notifyUrl;
  if (options?.allowHttpNotifyUrl !== true || typeof url !== "string" || !url.startsWith("http://")) return checkV3Request(schema, request);
  const problem = notifyUrlProblem(url);
  if (problem !== undefined) throw new PayCoreError("INVALID_FIELD", `Field notify_url: ${problem}`);
  // Everything but the scheme is the https rule's business, so the schema judges the https twin of the URL.
  const checked = checkV3Request(schema, { ...(request as object), notifyUrl: `https://${url.slice("http://".length)}` } as z.input<S>);
  return { ...(checked as object), notifyUrl: url } as z.output<S>;
}

/** Where a schema issue sits, as the wire path: `amount.total`, `payer.sp_openid`. */
function wirePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "string" ? snakeCase(p) : String(p))).join(".");
}

/**
 * Validates a typed request with `schema`. A request the gateway would refuse is a programming error,
 * as in v2: it throws PayCoreError INVALID_FIELD naming the wire field ("Field amount.total: …").
 */
export function checkV3Request<S extends z.ZodType>(schema: S, request: z.input<S>): z.output<S> {
  const parsed = schema.safeParse(request);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? "request" : wirePath(issue.path);
  throw new PayCoreError("INVALID_FIELD", `Field ${field}: ${issue?.message ?? "is invalid"}`);
}

/** The JSON body text of a wire object, undefined members left out. */
export function jsonBody(wire: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(wire);
}

/** The wire amount block of an order: `{total, currency}`. */
export function wireOrderAmount(total: Money): { total: number; currency: string } {
  return { total: total.amount, currency: total.currency };
}
