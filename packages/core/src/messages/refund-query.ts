import { z } from "zod";
import type { Result } from "../result.js";
import { camelizeKeys, readIndexed, wireCurrency, wireInt, wireString, type Camelize } from "../wire/fields.js";
import { RefundStatusV2Schema } from "./enums.js";
import { readRefundCoupons, type RefundCoupon } from "./refund.js";
import { buildRequestFields, checkPartnerIds, parseRequestFields, REQUEST_COMMON_SHAPE, requestText, type ParseRequestErrorCode } from "./request.js";
import { ResponseEnvelopeWireSchema, wireRate, withIndexedFields, type IndexedRead } from "./response.js";

/**
 * A refundquery request (§5.4). One of refund_id, out_refund_no, transaction_id, out_trade_no is
 * required; the gateway uses the first present in that order. `offset` pages through an order
 * with many refunds.
 */
export const RefundQueryRequestSchema = z
  .object({
    ...REQUEST_COMMON_SHAPE,
    refundId: requestText(32).optional(),
    outRefundNo: requestText(64).optional(),
    transactionId: requestText(32).optional(),
    outTradeNo: requestText(32).optional(),
    offset: z.number().int("must be a whole number").nonnegative("must not be negative").max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .superRefine((req, ctx) => {
    checkPartnerIds(req, ctx);
    if (req.refundId === undefined && req.outRefundNo === undefined && req.transactionId === undefined && req.outTradeNo === undefined) {
      ctx.addIssue({ code: "custom", path: ["outTradeNo"], message: "one of refund_id, out_refund_no, transaction_id, out_trade_no is required" });
    }
  });
export type RefundQueryRequest = z.input<typeof RefundQueryRequestSchema>;

/** Validates a refundquery request and maps it to the snake_case record to sign (throws INVALID_FIELD). */
export function buildRefundQueryFields(request: RefundQueryRequest): Record<string, string | number> {
  return buildRequestFields(RefundQueryRequestSchema, request);
}

/** Parses received refundquery fields (the simulator's side) into the typed request. */
export function parseRefundQueryRequest(raw: Readonly<Record<string, string>>): Result<RefundQueryRequest, ParseRequestErrorCode> {
  return parseRequestFields(RefundQueryRequestSchema, raw, ["offset"]);
}

/** One refund of a refundquery answer: the `_$n` fields without their suffix. */
export const RefundQueryItemWireSchema = z.object({
  out_refund_no: wireString(64),
  refund_id: wireString(32),
  refund_channel: wireString(16).optional(),
  refund_fee: wireInt(),
  settlement_refund_fee: wireInt().optional(),
  coupon_refund_fee: wireInt().optional(),
  coupon_refund_count: wireInt().optional(),
  refund_status: RefundStatusV2Schema,
  refund_account: wireString(30).optional(),
  // "accout" is the gateway's spelling.
  refund_recv_accout: wireString(64).optional(),
  refund_success_time: z
    .string()
    .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$/, "expected yyyy-MM-dd HH:mm:ss")
    .optional(),
});

/** One refund in camelCase, with its coupon shares. */
export type RefundQueryItem = Camelize<z.output<typeof RefundQueryItemWireSchema>> & {
  readonly coupons: readonly RefundCoupon[];
};

/** An order's refunds are capped at 50 by the gateway; a larger count is hostile input. */
const MAX_REFUNDS = 50;

const ITEM_FIELDS = Object.keys(RefundQueryItemWireSchema.shape) as Array<keyof typeof RefundQueryItemWireSchema.shape>;

/** Reads refund n's `_$n` fields into typed items, naming the exact field that is wrong. */
export function readRefundQueryItems(raw: Readonly<Record<string, string>>, count: number): IndexedRead<RefundQueryItem[]> {
  if (count > MAX_REFUNDS) return { ok: false, field: "refund_count", message: `more than ${MAX_REFUNDS} refunds` };
  const items: RefundQueryItem[] = [];
  let n = 0;
  for (const row of readIndexed(raw, count, ITEM_FIELDS)) {
    const parsed = RefundQueryItemWireSchema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const name = typeof issue?.path[0] === "string" ? issue.path[0] : "refund";
      return { ok: false, field: `${name}_${n}`, message: issue?.message ?? "is invalid" };
    }
    const coupons = readRefundCoupons(raw, parsed.data.coupon_refund_count, `_${n}`);
    if (!coupons.ok) return coupons;
    items.push({ ...camelizeKeys(parsed.data), coupons: coupons.value });
    n++;
  }
  return { ok: true, value: items };
}

/** A verified refundquery answer with result_code=SUCCESS (order-level fields). */
export const RefundQueryResponseWireSchema = ResponseEnvelopeWireSchema.extend({
  total_refund_count: wireInt().optional(),
  transaction_id: wireString(32),
  out_trade_no: wireString(32),
  total_fee: wireInt(),
  settlement_total_fee: wireInt().optional(),
  fee_type: wireCurrency().optional(),
  cash_fee: wireInt(),
  cash_fee_type: wireCurrency().optional(),
  refund_count: wireInt(),
  rate: wireRate().optional(),
});

/** A refundquery answer in camelCase, with every `_$n` refund read into `refunds`. */
export const RefundQueryResponseSchema = withIndexedFields(RefundQueryResponseWireSchema, (raw, wire) => {
  const refunds = readRefundQueryItems(raw, wire.refund_count);
  return refunds.ok ? { ok: true, value: { refunds: refunds.value } } : refunds;
});
export type RefundQueryResponse = z.output<typeof RefundQueryResponseSchema>;
