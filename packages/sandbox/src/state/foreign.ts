import type { ForeignPaymentRequest, ForeignRefundRequest, SandboxControlErrorCode } from "../control/schemas.js";
import type { SandboxContext } from "../context.js";
import { newPrepayId, newRefundId } from "../ids.js";
import { isV2Merchant } from "../options.js";
import { cashRefundFeeFor, committedRefundTotal, expireIfDue, markOrderPaid, MAX_REFUNDS_PER_ORDER } from "./payments.js";
import { newUnpaidOrder, type SandboxOrder, type SandboxRefund } from "./types.js";

/** The body a foreign payment's order shows (the merchant's API never sent one). */
export const FOREIGN_PAYMENT_BODY = "sandbox foreign payment";

export type ForeignResult = { readonly ok: true; readonly order: SandboxOrder } | { readonly ok: false; readonly code: SandboxControlErrorCode; readonly message: string };

function refused(code: SandboxControlErrorCode, message: string): ForeignResult {
  return { ok: false, code, message };
}

/**
 * A payment at the gateway for an order the merchant's API never placed: the order is made and paid now,
 * and no notify is ever sent. Its protocol is v2 when the merchant has a v2 key, v3 otherwise (the order
 * space is one; both protocols' queries find it).
 */
export function createForeignPayment(ctx: SandboxContext, req: ForeignPaymentRequest): ForeignResult {
  const merchant = ctx.findMerchant(req.mch_id, req.sub_mch_id);
  if (merchant === undefined) return refused("MERCHANT_NOT_FOUND", `No merchant ${req.mch_id}${req.sub_mch_id === undefined ? "" : ` / ${req.sub_mch_id}`} is configured.`);
  const feeType = req.fee_type ?? (merchant.profile === "global" ? undefined : "CNY");
  if (feeType === undefined) return refused("BAD_REQUEST", "Field fee_type: is required for a WeChat Pay Global merchant.");
  if (merchant.profile === "domestic" && feeType !== "CNY") return refused("BAD_REQUEST", "Field fee_type: a domestic merchant accepts CNY only.");
  if (ctx.store.findOrder(merchant.mchId, merchant.subMchId, req.out_trade_no) !== undefined) {
    return refused("ORDER_EXISTS", `Order ${req.out_trade_no} already exists at the gateway.`);
  }
  const now = ctx.clock.now();
  const v2 = isV2Merchant(merchant);
  const payer = req.openid ?? ctx.store.openidFor(merchant.appId, `foreign-payer-${req.out_trade_no}`);
  const order = newUnpaidOrder({
    protocol: v2 ? "v2" : "v3",
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    appId: merchant.appId,
    subAppId: undefined,
    payAppId: merchant.appId,
    outTradeNo: req.out_trade_no,
    body: FOREIGN_PAYMENT_BODY,
    attach: undefined,
    totalFee: req.total_fee,
    feeType,
    signType: v2 ? "MD5" : undefined,
    notifyUrl: "",
    openid: payer,
    subOpenid: undefined,
    fingerprint: `foreign:${req.out_trade_no}`,
    createdAt: now,
    expiresAt: now + ctx.options.orderTtlMs,
    prepayId: newPrepayId(now),
    prepayExpiresAt: now,
  });
  ctx.store.addOrder(order);
  markOrderPaid(ctx, order, now);
  return { ok: true, order };
}

/**
 * A refund that succeeded at the gateway without the merchant's API asking for it: SUCCESS now, no notify.
 * The order must be paid, have room for `refund_fee` and fewer than 50 refunds; out_refund_no must be new.
 */
export function createForeignRefund(ctx: SandboxContext, req: ForeignRefundRequest): ForeignResult {
  const merchant = ctx.findMerchant(req.mch_id, req.sub_mch_id);
  if (merchant === undefined) return refused("MERCHANT_NOT_FOUND", `No merchant ${req.mch_id}${req.sub_mch_id === undefined ? "" : ` / ${req.sub_mch_id}`} is configured.`);
  const order = ctx.store.findOrder(merchant.mchId, merchant.subMchId, req.out_trade_no);
  if (order === undefined) return refused("ORDER_NOT_FOUND", `No order ${req.out_trade_no}.`);
  expireIfDue(ctx, order);
  if (order.paidAt === undefined) return refused("ORDER_NOT_PAID", `Order ${req.out_trade_no} is ${order.tradeState}: only a paid order can be refunded.`);
  if (ctx.store.findRefund(merchant.mchId, merchant.subMchId, req.out_refund_no) !== undefined) return refused("REFUND_EXISTS", `Refund ${req.out_refund_no} already exists.`);
  if (order.refunds.length >= MAX_REFUNDS_PER_ORDER) return refused("BAD_REQUEST", `Order ${req.out_trade_no} already has ${MAX_REFUNDS_PER_ORDER} refunds.`);
  if (committedRefundTotal(order) + req.refund_fee > order.totalFee)
    return refused("BAD_REQUEST", `Field refund_fee: ${req.refund_fee} is more than is left to refund of order ${req.out_trade_no}.`);
  const now = ctx.clock.now();
  const refund: SandboxRefund = {
    protocol: order.protocol,
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    outTradeNo: order.outTradeNo,
    outRefundNo: req.out_refund_no,
    refundId: newRefundId(now),
    refundFee: req.refund_fee,
    totalFee: order.totalFee,
    feeType: order.feeType,
    cashRefundFee: cashRefundFeeFor(order, req.refund_fee),
    notifyUrl: undefined,
    refundDesc: undefined,
    refundAccount: "REFUND_SOURCE_UNSETTLED_FUNDS",
    createdAt: now,
    status: "SUCCESS",
    successAt: now,
    settleTimer: undefined,
  };
  ctx.store.addRefund(order, refund);
  order.tradeState = "REFUND";
  order.tradeStateDesc = "订单发生过退款，退款详情请查询退款单";
  return { ok: true, order };
}
