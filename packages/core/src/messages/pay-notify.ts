import { z } from "zod";
import { isCurrency } from "../money/currency.js";
import { camelizeKeys, wireCompactTime, wireCurrency, wireInt, WireStatusSchema, wireString } from "../wire/fields.js";

/** The pay result notify, as sent to notify_url (domestic and Global, direct and institutional). */
export const PayNotifyWireSchema = z.object({
  return_code: WireStatusSchema,
  return_msg: wireString(128).optional(),
  appid: wireString(32),
  mch_id: wireString(32),
  sub_appid: wireString(32).optional(),
  sub_mch_id: wireString(32).optional(),
  device_info: wireString(32).optional(),
  nonce_str: wireString(32),
  sign: wireString(64),
  sign_type: wireString(32).optional(),
  result_code: WireStatusSchema,
  err_code: wireString(32).optional(),
  err_code_des: wireString(128).optional(),
  openid: wireString(128),
  is_subscribe: wireString(1).optional(),
  sub_openid: wireString(128).optional(),
  sub_is_subscribe: wireString(1).optional(),
  trade_type: wireString(16),
  bank_type: wireString(32),
  total_fee: wireInt(),
  settlement_total_fee: wireInt().optional(),
  fee_type: wireCurrency().optional(),
  cash_fee: wireInt(),
  cash_fee_type: wireCurrency().optional(),
  coupon_fee: wireInt().optional(),
  coupon_count: wireInt().optional(),
  transaction_id: wireString(32),
  out_trade_no: wireString(32),
  attach: wireString(128).optional(),
  time_end: wireCompactTime(),
  // Global: exchange rate x 10^8. Docs disagree on the name; both are accepted.
  rate: z
    .string()
    .regex(/^[0-9]{1,16}$/)
    .optional(),
  rate_value: z
    .string()
    .regex(/^[0-9]{1,16}$/)
    .optional(),
  version: wireString(32).optional(),
});

/** A coupon applied to a payment (`coupon_type_$n`, `coupon_id_$n`, `coupon_fee_$n`). */
export interface Coupon {
  readonly id: string | undefined;
  readonly type: string | undefined;
  readonly fee: number;
}

/** Reads `coupon_*_$n` fields; a malformed coupon fee is an error, not a zero. */
export function readCoupons(raw: Readonly<Record<string, string>>, count: number | undefined): Coupon[] | undefined {
  if (count === undefined || count === 0) return [];
  if (count > 100) return undefined;
  const coupons: Coupon[] = [];
  for (let n = 0; n < count; n++) {
    // wireInt's checks (canonical digits, a safe integer), without a schema run per coupon.
    const fee = readWireInt(raw[`coupon_fee_${n}`]);
    if (fee === undefined) return undefined;
    coupons.push({ id: raw[`coupon_id_${n}`], type: raw[`coupon_type_${n}`], fee });
  }
  return coupons;
}

/** A pay notify in camelCase with its coupons; Global `rate`/`rate_value` merged into `rate`. */
export const PayNotifySchema = PayNotifyWireSchema.transform((wire) => {
  const { rate_value, ...rest } = wire;
  return camelizeKeys({ ...rest, rate: wire.rate ?? rate_value });
});
export type PayNotify = z.output<typeof PayNotifySchema> & { readonly coupons: readonly Coupon[] };

const enum Kind {
  Text,
  Int,
  Currency,
  Status,
  CompactTime,
  Rate,
}

/** PayNotifyWireSchema's fields in its order: wire name, camelCase name, type, longest text, whether it may be absent. */
const FIELDS: ReadonlyArray<readonly [wire: string, camel: string, kind: Kind, max: number, optional: boolean]> = [
  ["return_code", "returnCode", Kind.Status, 0, false],
  ["return_msg", "returnMsg", Kind.Text, 128, true],
  ["appid", "appid", Kind.Text, 32, false],
  ["mch_id", "mchId", Kind.Text, 32, false],
  ["sub_appid", "subAppid", Kind.Text, 32, true],
  ["sub_mch_id", "subMchId", Kind.Text, 32, true],
  ["device_info", "deviceInfo", Kind.Text, 32, true],
  ["nonce_str", "nonceStr", Kind.Text, 32, false],
  ["sign", "sign", Kind.Text, 64, false],
  ["sign_type", "signType", Kind.Text, 32, true],
  ["result_code", "resultCode", Kind.Status, 0, false],
  ["err_code", "errCode", Kind.Text, 32, true],
  ["err_code_des", "errCodeDes", Kind.Text, 128, true],
  ["openid", "openid", Kind.Text, 128, false],
  ["is_subscribe", "isSubscribe", Kind.Text, 1, true],
  ["sub_openid", "subOpenid", Kind.Text, 128, true],
  ["sub_is_subscribe", "subIsSubscribe", Kind.Text, 1, true],
  ["trade_type", "tradeType", Kind.Text, 16, false],
  ["bank_type", "bankType", Kind.Text, 32, false],
  ["total_fee", "totalFee", Kind.Int, 0, false],
  ["settlement_total_fee", "settlementTotalFee", Kind.Int, 0, true],
  ["fee_type", "feeType", Kind.Currency, 0, true],
  ["cash_fee", "cashFee", Kind.Int, 0, false],
  ["cash_fee_type", "cashFeeType", Kind.Currency, 0, true],
  ["coupon_fee", "couponFee", Kind.Int, 0, true],
  ["coupon_count", "couponCount", Kind.Int, 0, true],
  ["transaction_id", "transactionId", Kind.Text, 32, false],
  ["out_trade_no", "outTradeNo", Kind.Text, 32, false],
  ["attach", "attach", Kind.Text, 128, true],
  ["time_end", "timeEnd", Kind.CompactTime, 0, false],
  ["rate", "rate", Kind.Rate, 0, true],
  ["version", "version", Kind.Text, 32, true],
];

const WIRE_INT_TEXT = /^(?:0|[1-9][0-9]{0,15})$/;
const COMPACT_TIME = /^[0-9]{14}$/;
const RATE = /^[0-9]{1,16}$/;

/** wireInt's checks on one value: canonical decimal digits of a safe integer, or undefined. */
function readWireInt(text: string | undefined): number | undefined {
  if (text === undefined || !WIRE_INT_TEXT.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * PayNotifySchema's parse of a received record, without zod: the same checks field by field and the same
 * value, or undefined when any check fails (parsePayNotify then asks the schema, which names the field).
 * Every field of a notify is text, as the XML parser gives it.
 */
export function readPayNotify(raw: Readonly<Record<string, unknown>>): Omit<PayNotify, "coupons"> | undefined {
  const out: Record<string, string | number> = {};
  for (const [wire, camel, kind, max, optional] of FIELDS) {
    const text = raw[wire];
    if (typeof text !== "string") {
      if (text === undefined && optional) continue;
      return undefined;
    }
    switch (kind) {
      case Kind.Text:
        if (text.length > max) return undefined;
        out[camel] = text;
        break;
      case Kind.Int: {
        const value = readWireInt(text);
        if (value === undefined) return undefined;
        out[camel] = value;
        break;
      }
      case Kind.Currency:
        if (!isCurrency(text)) return undefined;
        out[camel] = text;
        break;
      case Kind.Status:
        if (text !== "SUCCESS" && text !== "FAIL") return undefined;
        out[camel] = text;
        break;
      case Kind.CompactTime:
        if (!COMPACT_TIME.test(text)) return undefined;
        out[camel] = text;
        break;
      case Kind.Rate:
        if (!RATE.test(text)) return undefined;
        out[camel] = text;
        break;
    }
  }
  // Global: rate_value is the other name of rate; rate wins when both come.
  const rateValue = raw.rate_value;
  if (rateValue !== undefined) {
    if (typeof rateValue !== "string" || !RATE.test(rateValue)) return undefined;
    if (out.rate === undefined) out.rate = rateValue;
  }
  return out as unknown as Omit<PayNotify, "coupons">;
}
