import { z } from "zod";
import type { Result } from "../result.js";
import { readIndexed, wireCurrency, wireInt, wireString } from "../wire/fields.js";
import {
  buildRequestFields,
  checkPartnerIds,
  parseRequestFields,
  PositiveMinorUnitsSchema,
  REQUEST_COMMON_SHAPE,
  RequestCurrencySchema,
  requestText,
  type ParseRequestErrorCode,
} from "./request.js";
import { ResponseEnvelopeWireSchema, wireRate, withIndexedFields, type IndexedRead } from "./response.js";
import { NotifyUrlSchema } from "./unified-order.js";

/** Where refunded money comes from: unsettled funds (the default) or the recharge balance. */
export const REFUND_ACCOUNTS = ["REFUND_SOURCE_UNSETTLED_FUNDS", "REFUND_SOURCE_RECHARGE_FUNDS"] as const;
export const RefundAccountSchema = z.enum(REFUND_ACCOUNTS);
export type RefundAccount = z.infer<typeof RefundAccountSchema>;

/**
 * A refund request (§5.3, `secapi/pay/refund`, mutual TLS). The order is named by transaction_id
 * or out_trade_no (transaction_id wins). A retry must reuse the same out_refund_no, or the money is
 * refunded twice. `refundFeeType` must equal the order's fee_type (Global).
 */
export const ApplyRefundRequestSchema = z
  .object({
    ...REQUEST_COMMON_SHAPE,
    transactionId: requestText(32).optional(),
    outTradeNo: requestText(32).optional(),
    outRefundNo: requestText(64),
    totalFee: PositiveMinorUnitsSchema,
    refundFee: PositiveMinorUnitsSchema,
    refundFeeType: RequestCurrencySchema.optional(),
    refundDesc: requestText(80).optional(),
    refundAccount: RefundAccountSchema.optional(),
    notifyUrl: NotifyUrlSchema.optional(),
  })
  .superRefine((req, ctx) => {
    checkPartnerIds(req, ctx);
    if (req.transactionId === undefined && req.outTradeNo === undefined) {
      ctx.addIssue({ code: "custom", path: ["outTradeNo"], message: "out_trade_no or transaction_id is required" });
    }
    if (req.refundFee > req.totalFee) {
      ctx.addIssue({ code: "custom", path: ["refundFee"], message: "must not exceed total_fee" });
    }
  });
export type ApplyRefundRequest = z.input<typeof ApplyRefundRequestSchema>;

/** Validates a refund request and maps it to the snake_case record to sign (throws INVALID_FIELD). */
export function buildApplyRefundFields(request: ApplyRefundRequest): Record<string, string | number> {
  return buildRequestFields(ApplyRefundRequestSchema, request);
}

/** Parses received refund fields (the simulator's side) into the typed request. */
export function parseApplyRefundRequest(raw: Readonly<Record<string, string>>): Result<ApplyRefundRequest, ParseRequestErrorCode> {
  return parseRequestFields(ApplyRefundRequestSchema, raw, ["total_fee", "refund_fee"]);
}

/** A coupon's share of a refund (`coupon_type_$n`, `coupon_refund_id_$n`, `coupon_refund_fee_$n`). */
export interface RefundCoupon {
  readonly id: string | undefined;
  readonly type: string | undefined;
  readonly fee: number;
}

/** More coupons than this on one refund is taken as hostile input rather than read. */
const MAX_REFUND_COUPONS = 100;

/**
 * Reads a refund's coupon fields `coupon_type{infix}_$m`, `coupon_refund_id{infix}_$m` and
 * `coupon_refund_fee{infix}_$m` for m below `count`. The refund answer uses an empty infix; a
 * refundquery answer uses `_$n` for refund n. A missing or malformed fee names its field.
 */
export function readRefundCoupons(raw: Readonly<Record<string, string>>, count: number | undefined, infix = ""): IndexedRead<RefundCoupon[]> {
  if (count === undefined || count === 0) return { ok: true, value: [] };
  if (count > MAX_REFUND_COUPONS) return { ok: false, field: `coupon_refund_count${infix}`, message: `more than ${MAX_REFUND_COUPONS} coupons` };
  const names = [`coupon_type${infix}`, `coupon_refund_id${infix}`, `coupon_refund_fee${infix}`] as const;
  const coupons: RefundCoupon[] = [];
  let m = 0;
  for (const row of readIndexed(raw, count, names)) {
    const fee = wireInt().safeParse(row[names[2]]);
    if (!fee.success) return { ok: false, field: `${names[2]}_${m}`, message: "expected a whole number" };
    coupons.push({ type: row[names[0]], id: row[names[1]], fee: fee.data });
    m++;
  }
  return { ok: true, value: coupons };
}

/**
 * A verified refund answer with result_code=SUCCESS. It means the refund was accepted, not done:
 * the outcome comes from refundquery or the refund notify.
 */
export const ApplyRefundResponseWireSchema = ResponseEnvelopeWireSchema.extend({
  transaction_id: wireString(32),
  out_trade_no: wireString(32),
  out_refund_no: wireString(64),
  refund_id: wireString(32),
  refund_channel: wireString(16).optional(),
  refund_fee: wireInt(),
  settlement_refund_fee: wireInt().optional(),
  total_fee: wireInt(),
  settlement_total_fee: wireInt().optional(),
  fee_type: wireCurrency().optional(),
  cash_fee: wireInt(),
  cash_fee_type: wireCurrency().optional(),
  cash_refund_fee: wireInt().optional(),
  coupon_refund_fee: wireInt().optional(),
  coupon_refund_count: wireInt().optional(),
  // Global: the refund's currencies and the exchange rate x 10^8.
  refund_fee_type: wireCurrency().optional(),
  cash_refund_fee_type: wireCurrency().optional(),
  rate: wireRate().optional(),
});

/** A refund answer in camelCase, with the coupon shares read into `coupons`. */
export const ApplyRefundResponseSchema = withIndexedFields(ApplyRefundResponseWireSchema, (raw, wire) => {
  const coupons = readRefundCoupons(raw, wire.coupon_refund_count);
  return coupons.ok ? { ok: true, value: { coupons: coupons.value } } : coupons;
});
export type ApplyRefundResponse = z.output<typeof ApplyRefundResponseSchema>;
