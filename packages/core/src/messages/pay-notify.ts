import { z } from "zod";
import { camelizeKeys, readIndexed, wireCompactTime, wireCurrency, wireInt, WireStatusSchema, wireString } from "../wire/fields.js";

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
  for (const row of readIndexed(raw, count, ["coupon_id", "coupon_type", "coupon_fee"])) {
    const fee = wireInt().safeParse(row.coupon_fee);
    if (!fee.success) return undefined;
    coupons.push({ id: row.coupon_id, type: row.coupon_type, fee: fee.data });
  }
  return coupons;
}

/** A pay notify in camelCase with its coupons; Global `rate`/`rate_value` merged into `rate`. */
export const PayNotifySchema = PayNotifyWireSchema.transform((wire) => {
  const { rate_value, ...rest } = wire;
  return camelizeKeys({ ...rest, rate: wire.rate ?? rate_value });
});
export type PayNotify = z.output<typeof PayNotifySchema> & { readonly coupons: readonly Coupon[] };
