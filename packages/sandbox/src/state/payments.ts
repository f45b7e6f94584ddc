import { buildRefundNotify, buildSignedPayNotify } from "@pay/core/testing";
import { currencyExponent, formatCompactBeijingTime, formatDashedBeijingTime, type Currency } from "@pay/core";
import type { PayOutcome, SettleRefundRequest } from "../control/schemas.js";
import type { SandboxContext } from "../context.js";
import { newTransactionId } from "../ids.js";
import { DEFAULT_RATES, type Merchant } from "../options.js";
import type { NotifyMessage } from "../notifier/notifier.js";
import { v3PayNotifyJob, v3RefundNotifyJob } from "../v3/notify.js";
import type { SandboxOrder, SandboxRefund } from "./types.js";

export type { PayOutcome };

function xmlMessage(body: string): NotifyMessage {
  return { body, headers: { "content-type": "text/xml; charset=utf-8" } };
}

export type PayResult =
  | { readonly ok: true; readonly outcome: PayOutcome; readonly errMsg: string; readonly order: SandboxOrder }
  | { readonly ok: false; readonly code: "PREPAY_NOT_FOUND" | "PREPAY_EXPIRED" | "ORDER_PAID" | "ORDER_CLOSED"; readonly errMsg: string };

/** Closes an unpaid order whose lifetime has passed. Returns true when the order is (now) closed. */
export function expireIfDue(ctx: SandboxContext, order: SandboxOrder): boolean {
  if (order.tradeState === "NOTPAY" && ctx.clock.now() >= order.expiresAt) {
    order.tradeState = "CLOSED";
    order.tradeStateDesc = "订单已关闭";
  }
  return order.tradeState === "CLOSED";
}

/**
 * Global: the payer's CNY amount, `total_fee x rate / 10^8` in CNY fen, half up, across the currencies'
 * exponents (the real rounding rule is unconfirmed). Integer arithmetic only.
 */
export function cashFeeFor(totalFee: number, feeType: Currency, rate: number): number {
  const shift = 2 - currencyExponent(feeType);
  let numerator = BigInt(totalFee) * BigInt(rate);
  let denominator = 100_000_000n;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

function rateFor(merchant: Merchant, feeType: Currency): number {
  return merchant.rates[feeType] ?? DEFAULT_RATES[feeType] ?? 100_000_000;
}

/** The fields of the pay notify (and of a paid orderquery answer), without nonce and sign. */
export function paidOrderFields(ctx: SandboxContext, order: SandboxOrder): Record<string, string | number | undefined> {
  const merchant = ctx.findMerchant(order.mchId, order.subMchId);
  const global = merchant?.profile === "global";
  return {
    appid: order.appId,
    mch_id: order.mchId,
    sub_appid: order.subAppId,
    sub_mch_id: order.subMchId,
    openid: order.openid ?? "oSandboxServiceProviderOpenid000",
    is_subscribe: "N",
    sub_openid: order.subOpenid,
    sub_is_subscribe: order.subOpenid === undefined ? undefined : "N",
    trade_type: "JSAPI",
    bank_type: "OTHERS",
    total_fee: order.totalFee,
    fee_type: order.feeType,
    cash_fee: order.cashFee,
    cash_fee_type: global ? order.cashFeeType : undefined,
    rate: global ? order.rate : undefined,
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    attach: order.attach,
    time_end: order.timeEnd,
  };
}

function payNotifyBody(ctx: SandboxContext, order: SandboxOrder): string {
  const merchant = ctx.findV2Merchant(order.mchId, order.subMchId);
  if (merchant === undefined) throw new Error(`No merchant ${order.mchId} for order ${order.outTradeNo}.`);
  const omitSignType = order.signType === "HMAC-SHA256" && ctx.options.notify.omitSignTypeForHmac;
  return buildSignedPayNotify(
    { return_code: "SUCCESS", return_msg: "OK", result_code: "SUCCESS", ...paidOrderFields(ctx, order) },
    { key: merchant.key, signType: order.signType ?? "MD5", omitSignType },
  );
}

/** What a control call may change about how the gateway reports a state change. */
export interface ReportOptions {
  /** False: the change happens (queries and bills show it) but its notify is never sent. Default true. */
  readonly notify?: boolean | undefined;
}

/**
 * Plays the payer in the WeChat client: pays, cancels or fails the payment behind a prepay_id. A payment
 * sends the pay notify unless `notify` is false.
 */
export function payByPrepayId(ctx: SandboxContext, prepayId: string, outcome: PayOutcome, options: ReportOptions = {}): PayResult {
  const order = ctx.store.findOrderByPrepayId(prepayId);
  if (order === undefined) return { ok: false, code: "PREPAY_NOT_FOUND", errMsg: "requestPayment:fail prepay_id not found" };
  const now = ctx.clock.now();
  if (expireIfDue(ctx, order)) return { ok: false, code: "ORDER_CLOSED", errMsg: "requestPayment:fail 订单已关闭" };
  if (order.tradeState !== "NOTPAY") return { ok: false, code: "ORDER_PAID", errMsg: "requestPayment:fail 订单已支付" };
  if (now >= order.prepayExpiresAt) return { ok: false, code: "PREPAY_EXPIRED", errMsg: "requestPayment:fail prepay_id 已过期" };

  if (outcome === "cancel") return { ok: true, outcome, errMsg: "requestPayment:fail cancel", order };
  if (outcome === "fail") return { ok: true, outcome, errMsg: "requestPayment:fail 余额不足，请更换支付方式", order };

  markOrderPaid(ctx, order, now);
  if (options.notify !== false) {
    ctx.notifier.enqueue(
      order.protocol === "v3"
        ? v3PayNotifyJob(ctx, order)
        : { protocol: "v2", kind: "pay", outTradeNo: order.outTradeNo, url: order.notifyUrl, message: () => xmlMessage(payNotifyBody(ctx, order)) },
    );
  }
  return { ok: true, outcome, errMsg: "requestPayment:ok", order };
}

/** Moves an order to SUCCESS at `now`: time_end, cash amounts (Global: in CNY at the merchant's rate), a new transaction_id. Sends nothing. */
export function markOrderPaid(ctx: SandboxContext, order: SandboxOrder, now: number): void {
  const merchant = ctx.findMerchant(order.mchId, order.subMchId);
  order.tradeState = "SUCCESS";
  order.tradeStateDesc = "支付成功";
  order.paidAt = now;
  order.timeEnd = formatCompactBeijingTime(now);
  if (merchant?.profile === "global" && order.feeType !== "CNY") {
    order.rate = rateFor(merchant, order.feeType);
    order.cashFeeType = "CNY";
    order.cashFee = cashFeeFor(order.totalFee, order.feeType, order.rate);
  } else {
    order.cashFee = order.totalFee;
    order.cashFeeType = order.feeType;
    order.rate = merchant?.profile === "global" ? 100_000_000 : undefined;
  }
  ctx.store.markPaid(order, newTransactionId(now));
}

/** At most this many refunds per order (v2 and v3). */
export const MAX_REFUNDS_PER_ORDER = 50;
/** An order can be refunded for a year after payment (v2 and v3). */
export const REFUND_WINDOW_MS = 365 * 24 * 3600 * 1000;

/**
 * The payer's share of a refund in the payer's currency (Global: CNY): the paid cash amount pro rata,
 * half up, integer arithmetic; the refund itself when the payer paid in the order's currency.
 */
export function cashRefundFeeFor(order: SandboxOrder, refundFee: number): number {
  if (order.cashFee === undefined || order.cashFee === order.totalFee) return refundFee;
  return Number((BigInt(order.cashFee) * BigInt(refundFee) * 2n + BigInt(order.totalFee)) / (BigInt(order.totalFee) * 2n));
}

/** Refunded amount that still counts against the order: everything not closed. */
export function committedRefundTotal(order: SandboxOrder): number {
  return order.refunds.filter((r) => r.status !== "REFUNDCLOSE").reduce((sum, r) => sum + r.refundFee, 0);
}

function refundNotifyBody(ctx: SandboxContext, order: SandboxOrder, refund: SandboxRefund): string {
  const merchant = ctx.findV2Merchant(order.mchId, order.subMchId);
  if (merchant === undefined) throw new Error(`No merchant ${order.mchId} for refund ${refund.outRefundNo}.`);
  return buildRefundNotify(
    { return_code: "SUCCESS", appid: order.appId, mch_id: order.mchId, sub_appid: order.subAppId, sub_mch_id: order.subMchId },
    {
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      refund_id: refund.refundId,
      out_refund_no: refund.outRefundNo,
      total_fee: order.totalFee,
      settlement_total_fee: order.totalFee,
      refund_fee: refund.refundFee,
      settlement_refund_fee: refund.refundFee,
      refund_status: refund.status,
      success_time: refund.successAt === undefined ? undefined : formatDashedBeijingTime(refund.successAt),
      refund_recv_accout: "支付用户零钱",
      refund_account: refund.refundAccount,
      refund_request_source: "API",
    },
    merchant.key,
  );
}

/** Starts an accepted (PROCESSING) refund: the order turns REFUND, and the refund settles to SUCCESS by itself after refundSettleMs. */
export function startRefund(ctx: SandboxContext, order: SandboxOrder, refund: SandboxRefund): void {
  ctx.store.addRefund(order, refund);
  order.tradeState = "REFUND";
  order.tradeStateDesc = "订单发生过退款，退款详情请查询退款单";
  if (ctx.options.refundSettleMs !== null) refund.settleTimer = ctx.clock.setTimer(() => settleRefund(ctx, refund, "SUCCESS"), ctx.options.refundSettleMs);
}

/**
 * Moves a PROCESSING refund to its final status and sends the refund notify (unless `notify` is false).
 * Settling twice changes nothing.
 */
export function settleRefund(ctx: SandboxContext, refund: SandboxRefund, status: SettleRefundRequest["status"], options: ReportOptions = {}): boolean {
  if (refund.status !== "PROCESSING") return false;
  if (refund.settleTimer !== undefined) ctx.clock.clearTimer(refund.settleTimer);
  refund.settleTimer = undefined;
  refund.status = status;
  if (status === "SUCCESS") refund.successAt = ctx.clock.now();
  const order = ctx.store.findOrder(refund.mchId, refund.subMchId, refund.outTradeNo);
  if (order === undefined || options.notify === false) return true;
  const url = refund.notifyUrl ?? ctx.findMerchant(order.mchId, order.subMchId)?.refundNotifyUrl;
  if (url !== undefined) {
    ctx.notifier.enqueue(
      refund.protocol === "v3"
        ? v3RefundNotifyJob(ctx, order, refund, url)
        : {
            protocol: "v2",
            kind: "refund",
            outTradeNo: order.outTradeNo,
            outRefundNo: refund.outRefundNo,
            url,
            message: () => xmlMessage(refundNotifyBody(ctx, order, refund)),
          },
    );
  }
  return true;
}
