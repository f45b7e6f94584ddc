import { z } from "zod";
import { CurrencySchema } from "../contract/common.js";
import { PayCoreError } from "../errors.js";
import { err, ok, type Result } from "../result.js";
import { SIGN_TYPES } from "../sign/sign-type.js";
import { parseBeijingTime } from "../wire/time.js";
import { camelCase, snakeCase, snakeizeKeys, wireInt } from "../wire/fields.js";

/**
 * Request text of at most `max` characters. Empty values are never sent (they are left out of the
 * signature), and leading/trailing whitespace is refused because the official Java SDK trims
 * before signing while others do not, so such a value may verify on one side only.
 */
export function requestText(max: number) {
  return z
    .string()
    .min(1, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine((v) => v.trim() === v, "must not start or end with whitespace");
}

/** A positive whole number of minor units (`total_fee`, `refund_fee`). */
export const PositiveMinorUnitsSchema = z.number().int("must be a whole number of minor units").positive("must be positive").max(Number.MAX_SAFE_INTEGER);

/** The currency of a request (`fee_type`, `refund_fee_type`): one whose exponent @pay/core knows. */
export const RequestCurrencySchema = CurrencySchema;

/** `yyyyMMddHHmmss` that is a real Beijing-time instant. */
export function compactTimeText() {
  return z
    .string()
    .regex(/^[0-9]{14}$/, "expected yyyyMMddHHmmss")
    .refine((v) => parseBeijingTime(v) !== undefined, "is not a valid date and time");
}

/**
 * Fields every v2 request carries besides `sign`: the merchant (and, in partner/institutional mode,
 * the sub-merchant), a caller-made nonce, and the sign type. `sign_type` must be sent when signing
 * with HMAC-SHA256, since the gateway assumes MD5 otherwise.
 */
export const REQUEST_COMMON_SHAPE = {
  appid: requestText(32),
  mchId: requestText(32),
  subAppid: requestText(32).optional(),
  subMchId: requestText(32).optional(),
  nonceStr: requestText(32),
  signType: z.enum(SIGN_TYPES).optional(),
};

/** Partner/institutional mode is named by sub_mch_id; a sub_appid alone addresses no sub-merchant. */
export function checkPartnerIds(value: { readonly subAppid?: string | undefined; readonly subMchId?: string | undefined }, ctx: z.RefinementCtx): void {
  if (value.subAppid !== undefined && value.subMchId === undefined) {
    ctx.addIssue({ code: "custom", path: ["subMchId"], message: "is required when sub_appid is given (partner/institutional mode)" });
  }
}

/** Describes a request issue by its wire (snake_case) field name, as the gateway would. */
function describeRequestIssue(error: z.ZodError): { field: string | undefined; message: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { field: undefined, message: "The request is invalid." };
  const key = issue.path[0];
  const field = typeof key === "string" ? snakeCase(key) : undefined;
  return { field, message: `Field ${field ?? "request"}: ${issue.message}` };
}

/**
 * Validates a typed request and maps it to its snake_case wire record, ready for signParams and
 * buildXml. A request the gateway would refuse is a programming error: it throws PayCoreError
 * INVALID_FIELD naming the wire field.
 */
export function buildRequestFields<S extends z.ZodType<Record<string, unknown>>>(schema: S, request: z.input<S>): Record<string, string | number> {
  const parsed = schema.safeParse(request);
  if (!parsed.success) throw new PayCoreError("INVALID_FIELD", describeRequestIssue(parsed.error).message);
  return snakeizeKeys(parsed.data);
}

export type ParseRequestErrorCode = "MISSING_FIELD" | "INVALID_FIELD";

/**
 * Parses a received request's wire fields (as the gateway simulator gets them after parseXml) into
 * the typed request. `intFields` are the wire names carrying whole numbers. When the field at fault is
 * absent or empty (always, or for this trade type / mode) the answer is MISSING_FIELD, the gateway's
 * 缺少参数; anything else wrong answers INVALID_FIELD.
 */
export function parseRequestFields<S extends z.ZodType<Record<string, unknown>>>(
  schema: S,
  raw: Readonly<Record<string, string>>,
  intFields: readonly string[],
): Result<z.output<S>, ParseRequestErrorCode> {
  const typed = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of Object.entries(raw)) {
    // Empty elements count as absent, as they do for the signature.
    if (value === "" || name === "sign") continue;
    let converted: unknown = value;
    if (intFields.includes(name)) {
      const int = wireInt().safeParse(value);
      if (!int.success) return err("INVALID_FIELD", `Field ${name}: expected a whole number`);
      converted = int.data;
    }
    typed[camelCase(name)] = converted;
  }
  const parsed = schema.safeParse(typed);
  if (parsed.success) return ok(parsed.data);
  const { field, message } = describeRequestIssue(parsed.error);
  const missing = field !== undefined && (raw[field] === undefined || raw[field] === "");
  return err(missing ? "MISSING_FIELD" : "INVALID_FIELD", message);
}
