import type { SandboxContext } from "../context.js";
import type { SandboxRefundStatus } from "../control/schemas.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";

/** Epoch ms as RFC 3339 Beijing time, the gateway's format: `2018-06-08T10:34:56+08:00`. */
export function rfc3339Beijing(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, "+08:00");
}

/** v3 refund statuses by the sandbox's internal (v2) ones: CHANGE is v3's ABNORMAL, REFUNDCLOSE its CLOSED. */
export const V3_REFUND_STATUS_OF = {
  PROCESSING: "PROCESSING",
  SUCCESS: "SUCCESS",
  CHANGE: "ABNORMAL",
  REFUNDCLOSE: "CLOSED",
} as const satisfies Record<SandboxRefundStatus, string>;
export type SandboxV3RefundStatus = (typeof V3_REFUND_STATUS_OF)[SandboxRefundStatus];

/** True when the order's merchant is a WeChat Pay Global one (its v3 paths are `/v3/global/...`). */
export function isGlobalOrder(sandbox: SandboxContext, order: SandboxOrder): boolean {
  return sandbox.findMerchant(order.mchId, order.subMchId)?.profile === "global";
}

type Json = Record<string, unknown>;

function defined(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/** The merchant ids of a transaction: `appid`/`mchid` for a direct merchant, `sp_*`/`sub_*` for a partner. */
function merchantIds(order: SandboxOrder): Json {
  return order.subMchId === undefined
    ? { appid: order.appId, mchid: order.mchId }
    : { sp_appid: order.appId, sp_mchid: order.mchId, sub_appid: order.subAppId, sub_mchid: order.subMchId };
}

function payerOf(order: SandboxOrder): Json {
  return order.subMchId === undefined ? { openid: order.openid } : defined({ sp_openid: order.openid, sub_openid: order.subOpenid });
}

/**
 * A v3 transaction as the query answers it and the TRANSACTION.SUCCESS notify carries it (reference §6.3,
 * §14): an unpaid order has no transaction_id, payer, success_time or bank_type, and its amount no
 * currency (mainland) or payer fields. Global amounts carry the currency, the payer's CNY total and the
 * exchange rate. `forQuery` adds Global's `id` (OAPI's name in the query answer) beside transaction_id.
 */
export function transactionJson(sandbox: SandboxContext, order: SandboxOrder, options: { readonly forQuery: boolean }): Json {
  const global = isGlobalOrder(sandbox, order);
  const paid = order.paidAt !== undefined && (order.tradeState === "SUCCESS" || order.tradeState === "REFUND");
  const amount: Json = { total: order.totalFee };
  if (global) amount.currency = order.feeType;
  if (paid) {
    amount.currency = order.feeType;
    amount.payer_total = order.cashFee ?? order.totalFee;
    amount.payer_currency = order.cashFeeType ?? order.feeType;
    if (global) amount.exchange_rate = { type: "SETTLEMENT_RATE", rate: order.rate ?? 100_000_000 };
  } else {
    amount.payer_currency = global ? "CNY" : order.feeType;
  }
  return defined({
    ...merchantIds(order),
    out_trade_no: order.outTradeNo,
    ...(paid ? { transaction_id: order.transactionId, ...(global && options.forQuery ? { id: order.transactionId } : {}) } : {}),
    trade_type: paid ? "JSAPI" : undefined,
    trade_state: order.tradeState,
    trade_state_desc: order.tradeStateDesc,
    bank_type: paid ? "OTHERS" : undefined,
    attach: order.attach,
    success_time: paid && order.paidAt !== undefined ? rfc3339Beijing(order.paidAt) : undefined,
    payer: paid ? payerOf(order) : undefined,
    amount,
    promotion_detail: [],
    scene_info: { device_id: "" },
  });
}

/** The payer's share of a refund in their currency: the same rounding as the v2 cash_refund_fee. */
function payerRefundOf(order: SandboxOrder, refund: SandboxRefund): number {
  return refund.cashRefundFee ?? refund.refundFee;
}

/**
 * A v3 refund as the create and query answers describe it (reference §8.1; Global §14 names the refund
 * number `id`, and the sandbox sends both names there so a client reading either gets it).
 */
export function refundJson(sandbox: SandboxContext, order: SandboxOrder, refund: SandboxRefund): Json {
  const global = isGlobalOrder(sandbox, order);
  const payerCurrency = order.cashFeeType ?? order.feeType;
  const amount: Json = {
    total: order.totalFee,
    refund: refund.refundFee,
    payer_total: order.cashFee ?? order.totalFee,
    payer_refund: payerRefundOf(order, refund),
    settlement_total: order.totalFee,
    settlement_refund: refund.refundFee,
    discount_refund: 0,
    currency: order.feeType,
    ...(global ? { payer_currency: payerCurrency, exchange_rate: { type: "SETTLEMENT_RATE", rate: order.rate ?? 100_000_000 } } : {}),
    from: [],
  };
  return defined({
    refund_id: refund.refundId,
    ...(global ? { id: refund.refundId } : {}),
    out_refund_no: refund.outRefundNo,
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    channel: "ORIGINAL",
    user_received_account: "支付用户零钱",
    success_time: refund.successAt === undefined ? undefined : rfc3339Beijing(refund.successAt),
    create_time: rfc3339Beijing(refund.createdAt),
    status: V3_REFUND_STATUS_OF[refund.status],
    funds_account: refund.refundAccount,
    amount,
    promotion_detail: [],
  });
}

/** The decrypted resource of a REFUND.* notify (reference §8.3: `refund_status`, not `status`; partner ones name sp_mchid/sub_mchid). */
export function refundNotifyJson(sandbox: SandboxContext, order: SandboxOrder, refund: SandboxRefund): Json {
  const global = isGlobalOrder(sandbox, order);
  return defined({
    ...(order.subMchId === undefined ? { mchid: order.mchId } : { sp_mchid: order.mchId, sub_mchid: order.subMchId }),
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    refund_status: V3_REFUND_STATUS_OF[refund.status],
    success_time: refund.successAt === undefined ? undefined : rfc3339Beijing(refund.successAt),
    user_received_account: "支付用户零钱",
    amount: {
      total: order.totalFee,
      refund: refund.refundFee,
      payer_total: order.cashFee ?? order.totalFee,
      payer_refund: payerRefundOf(order, refund),
      ...(global ? { currency: order.feeType, payer_currency: order.cashFeeType ?? order.feeType } : {}),
    },
  });
}
