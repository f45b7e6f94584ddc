import type { z } from "zod";
import { err, ok, type Result } from "../../result.js";
import { camelCase, snakeCase } from "../../wire/fields.js";
import { V3GlobalInstitutionJsapiOrderSchema, V3GlobalJsapiOrderSchema, V3JsapiOrderSchema, V3PartnerJsapiOrderSchema } from "./jsapi-order.js";
import { V3GlobalRefundSchema, V3RefundSchema } from "./refund.js";

/** Why a received v3 request body (the simulator's side) is refused; the gateway answers each with 400 PARAM_ERROR. */
export const V3_REQUEST_PARSE_ERROR_CODES = ["MALFORMED_BODY", "UNKNOWN_FIELD", "MISSING_FIELD", "INVALID_FIELD"] as const;
export type V3RequestParseErrorCode = (typeof V3_REQUEST_PARSE_ERROR_CODES)[number];

const MAX_BODY = 64 * 1024;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function at(value: unknown, path: readonly string[]): unknown {
  let here = value;
  for (const key of path) {
    if (!isObject(here) || !Object.prototype.hasOwnProperty.call(here, key)) return undefined;
    here = here[key];
  }
  return here;
}

/** Wire field names a body may carry, nested ones as `parent.child`. */
type Allowed = readonly string[];

function unknownField(json: Json, allowed: Allowed, prefix = ""): string | undefined {
  for (const [key, value] of Object.entries(json)) {
    const name = `${prefix}${key}`;
    if (!allowed.includes(name)) return name;
    if (isObject(value)) {
      const inner = unknownField(value, allowed, `${name}.`);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

function camelizeDeep(value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [camelCase(k), camelizeDeep(v)]));
}

/** Money blocks on the wire are `{total, currency}` / `{refund, total, currency}`; inside, each amount is Money. */
function moneyBlock(amount: unknown, names: readonly string[], defaultCurrency: string | undefined): unknown {
  if (!isObject(amount)) return amount;
  const currency = amount.currency ?? defaultCurrency;
  return Object.fromEntries(names.filter((n) => amount[n] !== undefined).map((n) => [n, { amount: amount[n], currency }]));
}

/** The wire path of an input issue: `amount.total.amount` -> `amount.total`, `amount.total.currency` -> `amount.currency`. */
function wirePath(path: readonly PropertyKey[]): string[] {
  const names = path.map((p) => (typeof p === "string" ? snakeCase(p) : String(p)));
  if (names[0] === "amount" && names.length === 3) return names[2] === "currency" ? ["amount", "currency"] : ["amount", names[1] ?? ""];
  return names;
}

function parseBody<S extends z.ZodType>(
  schema: S,
  text: string,
  allowed: Allowed,
  money: { names: readonly string[]; currency: string | undefined },
): Result<z.output<S>, V3RequestParseErrorCode> {
  if (text.length > MAX_BODY) return err("MALFORMED_BODY", `The body is longer than ${MAX_BODY} characters.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return err("MALFORMED_BODY", "The body is not JSON.");
  }
  if (!isObject(json)) return err("MALFORMED_BODY", "The body is not a JSON object.");
  const unknown = unknownField(json, allowed);
  if (unknown !== undefined) return err("UNKNOWN_FIELD", `Field ${unknown}: is not defined for this API (请求中含有未在API文档中定义的参数).`);
  const input = camelizeDeep(json) as Json;
  if (input.amount !== undefined) input.amount = moneyBlock(input.amount, money.names, money.currency);
  const parsed = schema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  const path = wirePath(issue?.path ?? []);
  const field = path.length === 0 ? "body" : path.join(".");
  const missing = path.length > 0 && at(json, path) === undefined;
  return err(missing ? "MISSING_FIELD" : "INVALID_FIELD", `Field ${field}: ${missing ? "is required" : (issue?.message ?? "is invalid")}`);
}

const ORDER_FIELDS = [
  "description",
  "out_trade_no",
  "time_expire",
  "attach",
  "notify_url",
  "goods_tag",
  "support_fapiao",
  "amount",
  "amount.total",
  "amount.currency",
  "payer",
  "scene_info",
  "scene_info.payer_client_ip",
  "scene_info.device_id",
  "settle_info",
  "settle_info.profit_sharing",
];
const PARTNER_IDS = ["sp_appid", "sp_mchid", "sub_appid", "sub_mchid", "payer.sp_openid", "payer.sub_openid"];
const GLOBAL_FIELDS = [
  "description",
  "out_trade_no",
  "time_start",
  "time_expire",
  "attach",
  "notify_url",
  "trade_type",
  "merchant_category_code",
  "amount",
  "amount.total",
  "amount.currency",
  "payer",
  "scene_info",
  "scene_info.payer_client_ip",
  "scene_info.device_id",
];

/** Parses a received `POST /v3/pay/transactions/jsapi` body into the typed order (an absent currency is CNY, the gateway's default). */
export function parseV3JsapiOrderBody(text: string): Result<z.output<typeof V3JsapiOrderSchema>, V3RequestParseErrorCode> {
  return parseBody(V3JsapiOrderSchema, text, ["appid", "mchid", ...ORDER_FIELDS, "payer.openid"], { names: ["total"], currency: "CNY" });
}

/** Parses a received `POST /v3/pay/partner/transactions/jsapi` body; `payer.openid` is an UNKNOWN_FIELD there, as at the gateway. */
export function parseV3PartnerJsapiOrderBody(text: string): Result<z.output<typeof V3PartnerJsapiOrderSchema>, V3RequestParseErrorCode> {
  return parseBody(V3PartnerJsapiOrderSchema, text, [...PARTNER_IDS, ...ORDER_FIELDS], { names: ["total"], currency: "CNY" });
}

/** Parses a received Global `POST /v3/global/transactions/jsapi` body from a direct merchant (currency required). */
export function parseV3GlobalJsapiOrderBody(text: string): Result<z.output<typeof V3GlobalJsapiOrderSchema>, V3RequestParseErrorCode> {
  return parseBody(V3GlobalJsapiOrderSchema, text, ["appid", "mchid", ...GLOBAL_FIELDS, "payer.openid"], { names: ["total"], currency: undefined });
}

/** Parses a received Global `POST /v3/global/transactions/jsapi` body from an institution (currency required). */
export function parseV3GlobalInstitutionJsapiOrderBody(text: string): Result<z.output<typeof V3GlobalInstitutionJsapiOrderSchema>, V3RequestParseErrorCode> {
  return parseBody(V3GlobalInstitutionJsapiOrderSchema, text, [...PARTNER_IDS, ...GLOBAL_FIELDS], { names: ["total"], currency: undefined });
}

/** Parses a received `POST /v3/refund/domestic/refunds` body into the typed refund. */
export function parseV3RefundBody(text: string): Result<z.output<typeof V3RefundSchema>, V3RequestParseErrorCode> {
  return parseBody(
    V3RefundSchema,
    text,
    ["sub_mchid", "transaction_id", "out_trade_no", "out_refund_no", "reason", "notify_url", "funds_account", "amount", "amount.refund", "amount.total", "amount.currency"],
    { names: ["refund", "total"], currency: undefined },
  );
}

/** Parses a received Global `POST /v3/global/refunds` body: `mchid`, or `sp_mchid` + `sub_mchid`; the currency is required. */
export function parseV3GlobalRefundBody(text: string): Result<z.output<typeof V3GlobalRefundSchema>, V3RequestParseErrorCode> {
  return parseBody(
    V3GlobalRefundSchema,
    text,
    ["mchid", "sp_mchid", "sub_mchid", "transaction_id", "out_trade_no", "out_refund_no", "reason", "notify_url", "amount", "amount.refund", "amount.total", "amount.currency"],
    { names: ["refund", "total"], currency: undefined },
  );
}
