import { z } from "zod";
import type { Result } from "../result.js";
import { wireCompactTime, wireCurrency, wireInt, wireString } from "../wire/fields.js";
import { TradeStateSchema } from "./enums.js";
import { readCoupons } from "./pay-notify.js";
import { buildRequestFields, checkPartnerIds, parseRequestFields, REQUEST_COMMON_SHAPE, requestText, type ParseRequestErrorCode } from "./request.js";
import { ResponseEnvelopeWireSchema, wireRate, withIndexedFields } from "./response.js";

/** An orderquery request (§5.1): by transaction_id or out_trade_no; the gateway prefers transaction_id. */
export const OrderQueryRequestSchema = z
  .object({
    ...REQUEST_COMMON_SHAPE,
    transactionId: requestText(32).optional(),
    outTradeNo: requestText(32).optional(),
  })
  .superRefine((req, ctx) => {
    checkPartnerIds(req, ctx);
    if (req.transactionId === undefined && req.outTradeNo === undefined) {
      ctx.addIssue({ code: "custom", path: ["outTradeNo"], message: "out_trade_no or transaction_id is required" });
    }
  });
export type OrderQueryRequest = z.input<typeof OrderQueryRequestSchema>;

/** Validates an orderquery request and maps it to the snake_case record to sign (throws INVALID_FIELD). */
export function buildOrderQueryFields(request: OrderQueryRequest): Record<string, string | number> {
  return buildRequestFields(OrderQueryRequestSchema, request);
}

/** Parses received orderquery fields (the simulator's side) into the typed request. */
export function parseOrderQueryRequest(raw: Readonly<Record<string, string>>): Result<OrderQueryRequest, ParseRequestErrorCode> {
  return parseRequestFields(OrderQueryRequestSchema, raw, []);
}

/**
 * A verified orderquery answer with result_code=SUCCESS. Other states may carry little beyond
 * out_trade_no, attach and trade_state (the Global doc says only those); a SUCCESS answer must carry
 * the payment, so an order is only treated as paid with its transaction_id, amounts and time_end.
 */
export const OrderQueryResponseWireSchema = ResponseEnvelopeWireSchema.extend({
  trade_state: TradeStateSchema,
  trade_state_desc: wireString(256).optional(),
  device_info: wireString(32).optional(),
  openid: wireString(128).optional(),
  is_subscribe: wireString(1).optional(),
  sub_openid: wireString(128).optional(),
  sub_is_subscribe: wireString(1).optional(),
  trade_type: wireString(16).optional(),
  bank_type: wireString(32).optional(),
  total_fee: wireInt().optional(),
  settlement_total_fee: wireInt().optional(),
  fee_type: wireCurrency().optional(),
  cash_fee: wireInt().optional(),
  cash_fee_type: wireCurrency().optional(),
  coupon_fee: wireInt().optional(),
  coupon_count: wireInt().optional(),
  transaction_id: wireString(32).optional(),
  out_trade_no: wireString(32),
  attach: wireString(128).optional(),
  time_end: wireCompactTime().optional(),
  rate: wireRate().optional(),
}).superRefine((wire, ctx) => {
  if (wire.trade_state !== "SUCCESS") return;
  for (const name of ["transaction_id", "total_fee", "cash_fee", "time_end"] as const) {
    if (wire[name] === undefined) ctx.addIssue({ code: "custom", path: [name], message: "is required when trade_state is SUCCESS" });
  }
});

/** An orderquery answer in camelCase, with its coupons (`coupon_*_$n`) read into `coupons`. */
export const OrderQueryResponseSchema = withIndexedFields(OrderQueryResponseWireSchema, (raw, wire) => {
  const coupons = readCoupons(raw, wire.coupon_count);
  if (coupons === undefined) {
    return { ok: false, field: "coupon_fee_$n", message: "malformed coupon fields (a coupon_fee_$n is missing or not a whole number, or coupon_count is over 100)" };
  }
  return { ok: true, value: { coupons } };
});
export type OrderQueryResponse = z.output<typeof OrderQueryResponseSchema>;
