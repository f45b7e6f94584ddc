import { z } from "zod";
import type { Result } from "../result.js";
import { camelizeKeys, wireString } from "../wire/fields.js";
import {
  buildRequestFields,
  checkPartnerIds,
  compactTimeText,
  parseRequestFields,
  PositiveMinorUnitsSchema,
  REQUEST_COMMON_SHAPE,
  RequestCurrencySchema,
  requestText,
  type ParseRequestErrorCode,
} from "./request.js";
import { ResponseEnvelopeWireSchema } from "./response.js";

/**
 * Merchant order number: digits, ASCII letters and `_ - | *`, 6 to 32 characters. Older pages set no
 * minimum; newer ones say "最少6个字符". The stricter rule is enforced so that a number accepted here
 * is accepted by every version of the gateway (and by the simulator).
 */
export const OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*]{6,32}$/;

/** The longest notify_url the gateway takes (String(256)). */
export const NOTIFY_URL_MAX_LENGTH = 256;

/**
 * Why `url` cannot be a notify_url, or undefined when it can. The gateway wants an absolute http(s)
 * URL of at most 256 characters with no query string (it would be dropped or break the callback).
 * https is what the docs require; http is accepted because dedicated lines and the official samples
 * use it, and the local simulator calls back over plain http.
 */
export function notifyUrlProblem(url: string): string | undefined {
  if (url.length === 0) return "must not be empty";
  if (url.length > NOTIFY_URL_MAX_LENGTH) return `must be at most ${NOTIFY_URL_MAX_LENGTH} characters`;
  // Printable ASCII only: whitespace, controls and raw non-ASCII would be signed one way and sent another.
  if (!/^[\x21-\x7E]+$/.test(url)) return "must be printable ASCII without spaces (percent-encode other characters)";
  if (url.includes("?")) return "must not carry a query string";
  if (url.includes("#")) return "must not carry a fragment";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute URL";
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return "must use https (or http)";
  if (parsed.hostname === "") return "must name a host";
  if (parsed.username !== "" || parsed.password !== "") return "must not carry credentials";
  return undefined;
}

/** True when `url` satisfies the notify_url rule (see notifyUrlProblem). */
export function isValidNotifyUrl(url: string): boolean {
  return notifyUrlProblem(url) === undefined;
}

/** A notify_url (pay or refund) under the rule of notifyUrlProblem. */
export const NotifyUrlSchema = z.string().superRefine((url, ctx) => {
  const problem = notifyUrlProblem(url);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** A merchant order number under OUT_TRADE_NO_PATTERN. */
export const OutTradeNoSchema = z.string().regex(OUT_TRADE_NO_PATTERN, "must be 6-32 characters of digits, letters and _ - | *");

/** Text that must hold a JSON object (`detail`, `scene_info` are JSON strings, signed as sent). */
function jsonObjectText(max: number) {
  return requestText(max).refine((text) => {
    try {
      const value: unknown = JSON.parse(text);
      return typeof value === "object" && value !== null && !Array.isArray(value);
    } catch {
      return false;
    }
  }, "must be the text of a JSON object");
}

const IPV4 = z.ipv4();
const IPV6 = z.ipv6();

/** The trade types unifiedorder creates (MICROPAY has its own API). */
export const UNIFIED_ORDER_TRADE_TYPES = ["JSAPI", "NATIVE", "APP", "MWEB"] as const;

/**
 * A unifiedorder request (§3.2) in camelCase. Direct mode sends `openid`; partner/institutional mode
 * adds `subAppid` (the Mini Program), `subMchId` and usually `subOpenid`. Global merchants must send
 * `feeType`; whether a profile needs it is the caller's (or simulator's) decision, not this schema's.
 */
export const UnifiedOrderRequestSchema = z
  .object({
    ...REQUEST_COMMON_SHAPE,
    deviceInfo: requestText(32).optional(),
    body: requestText(128),
    // Pages give 6000, 6144 and 8192; the smallest is what every gateway accepts.
    detail: jsonObjectText(6000).optional(),
    attach: requestText(127).optional(),
    outTradeNo: OutTradeNoSchema,
    feeType: RequestCurrencySchema.optional(),
    totalFee: PositiveMinorUnitsSchema,
    spbillCreateIp: z
      .string()
      .max(64)
      .refine((ip) => IPV4.safeParse(ip).success || IPV6.safeParse(ip).success, "must be an IPv4 or IPv6 address"),
    timeStart: compactTimeText().optional(),
    timeExpire: compactTimeText().optional(),
    goodsTag: requestText(32).optional(),
    notifyUrl: NotifyUrlSchema,
    tradeType: z.enum(UNIFIED_ORDER_TRADE_TYPES),
    productId: requestText(32).optional(),
    limitPay: z.literal("no_credit").optional(),
    openid: requestText(128).optional(),
    subOpenid: requestText(128).optional(),
    receipt: z.literal("Y").optional(),
    profitSharing: z.enum(["Y", "N"]).optional(),
    sceneInfo: jsonObjectText(256).optional(),
    version: requestText(32).optional(),
  })
  .superRefine((req, ctx) => {
    checkPartnerIds(req, ctx);
    if (req.tradeType === "JSAPI" && req.openid === undefined && req.subOpenid === undefined) {
      ctx.addIssue({ code: "custom", path: ["openid"], message: "is required for trade_type JSAPI (or sub_openid with sub_appid)" });
    }
    if (req.subOpenid !== undefined && req.subAppid === undefined) {
      ctx.addIssue({ code: "custom", path: ["subAppid"], message: "is required when sub_openid is given" });
    }
    if (req.tradeType === "NATIVE" && req.productId === undefined) {
      ctx.addIssue({ code: "custom", path: ["productId"], message: "is required for trade_type NATIVE" });
    }
    // Same fixed-width digits in the same zone, so text order is time order.
    if (req.timeStart !== undefined && req.timeExpire !== undefined && req.timeExpire <= req.timeStart) {
      ctx.addIssue({ code: "custom", path: ["timeExpire"], message: "must be later than time_start" });
    }
  });
export type UnifiedOrderRequest = z.input<typeof UnifiedOrderRequestSchema>;

/** Validates a unifiedorder request and maps it to the snake_case record to sign (throws INVALID_FIELD). */
export function buildUnifiedOrderFields(request: UnifiedOrderRequest): Record<string, string | number> {
  return buildRequestFields(UnifiedOrderRequestSchema, request);
}

/** Parses received unifiedorder fields (the simulator's side) into the typed request. */
export function parseUnifiedOrderRequest(raw: Readonly<Record<string, string>>): Result<UnifiedOrderRequest, ParseRequestErrorCode> {
  return parseRequestFields(UnifiedOrderRequestSchema, raw, ["total_fee"]);
}

/** A verified unifiedorder answer with result_code=SUCCESS (§3.3). */
export const UnifiedOrderResponseWireSchema = ResponseEnvelopeWireSchema.extend({
  device_info: wireString(32).optional(),
  trade_type: wireString(16),
  prepay_id: wireString(64),
  code_url: wireString(64).optional(),
  mweb_url: wireString(512).optional(),
});

export const UnifiedOrderResponseSchema = UnifiedOrderResponseWireSchema.transform(camelizeKeys);
export type UnifiedOrderResponse = z.output<typeof UnifiedOrderResponseSchema>;
