import { parseV3GlobalRefundBody, parseV3RefundBody, V3GlobalQueryRefundSchema, V3QueryRefundSchema, type Money } from "@pay/core";
import type { z } from "zod";
import type { SandboxContext } from "../../context.js";
import { newRefundId } from "../../ids.js";
import type { Merchant } from "../../options.js";
import { cashRefundFeeFor, committedRefundTotal, MAX_REFUNDS_PER_ORDER, REFUND_WINDOW_MS, startRefund } from "../../state/payments.js";
import type { SandboxOrder, SandboxRefund } from "../../state/types.js";
import { merchantFor, replyV3Error, replyV3ParseFailure, replyV3Signed, type V3Call, type V3MerchantIds } from "../http.js";
import { parseWithNotifyUrlAllowance } from "../notify-url.js";
import { refundJson } from "../views.js";

/**
 * The funds account a refund answers when the request names none. The gateway's default is UNCONFIRMED
 * (the field's doc: "否则默认使用未结算资金退款"); UNSETTLED matches the v2 default REFUND_SOURCE_UNSETTLED_FUNDS.
 */
export const V3_DEFAULT_FUNDS_ACCOUNT = "UNSETTLED";

/** What a refund request asks for, mainland or Global, once parsed. */
interface RefundAsk {
  readonly transactionId?: string | undefined;
  readonly outTradeNo?: string | undefined;
  readonly outRefundNo: string;
  readonly reason?: string | undefined;
  readonly notifyUrl?: string | undefined;
  readonly fundsAccount?: string | undefined;
  readonly amount: { readonly refund: Money; readonly total: Money };
}

/** A refusal with its `{code, message, detail}`; business 4xx other than NOT_ENOUGH go unsigned (see replyV3Error). */
function refuse(sandbox: SandboxContext, call: V3Call, status: number, code: string, message: string, field: string, location = "body"): void {
  replyV3Error(sandbox, call.ctx, status, { code, message, detail: { location, value: `/${location}/${field.replaceAll(".", "/")}` } });
}

/** The v3 order a refund names, among the merchant's orders; a v2 order of the same merchant is not one. */
function orderFor(sandbox: SandboxContext, merchant: Merchant, ask: RefundAsk): SandboxOrder | undefined {
  const order =
    ask.transactionId !== undefined
      ? sandbox.store.findOrderByTransactionId(merchant.mchId, merchant.subMchId, ask.transactionId)
      : sandbox.store.findOrder(merchant.mchId, merchant.subMchId, ask.outTradeNo ?? "");
  return order?.protocol === "v3" ? order : undefined;
}

/**
 * Accepts a refund (PROCESSING) under the v2 money rules: only a paid order, within a year of payment;
 * amount.total is the order's total in its currency; the same out_refund_no for the same order and amount
 * is the same refund, anything else under it a refusal; at most 50 refunds; never more than paid over the
 * refunds not closed; a configured refundable balance answers 403 NOT_ENOUGH (signed, like the captured answer).
 */
function acceptRefund(sandbox: SandboxContext, call: V3Call, merchant: Merchant, ask: RefundAsk): void {
  const orderField = ask.transactionId !== undefined ? "transaction_id" : "out_trade_no";
  const order = orderFor(sandbox, merchant, ask);
  if (order === undefined) return refuse(sandbox, call, 404, "RESOURCE_NOT_EXISTS", "订单不存在", orderField);
  if (order.paidAt === undefined) return refuse(sandbox, call, 404, "RESOURCE_NOT_EXISTS", "订单未支付，未支付的订单不能发起退款", orderField);
  const now = sandbox.clock.now();
  if (now - order.paidAt > REFUND_WINDOW_MS) return refuse(sandbox, call, 400, "INVALID_REQUEST", "订单已超过退款期限", orderField);
  const { refund, total } = ask.amount;
  if (total.amount !== order.totalFee) return refuse(sandbox, call, 400, "INVALID_REQUEST", "订单金额amount.total与原订单金额不一致", "amount.total");
  if (total.currency !== order.feeType) return refuse(sandbox, call, 400, "PARAM_ERROR", "退款币种amount.currency必须与支付币种一致", "amount.currency");

  const previous = sandbox.store.findRefund(merchant.mchId, merchant.subMchId, ask.outRefundNo);
  if (previous !== undefined) {
    if (previous.protocol !== "v3" || previous.outTradeNo !== order.outTradeNo || previous.refundFee !== refund.amount) {
      return refuse(sandbox, call, 400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试", "out_refund_no");
    }
    return replyV3Signed(sandbox, call, 200, refundJson(sandbox, order, previous));
  }
  if (order.refunds.length >= MAX_REFUNDS_PER_ORDER) return refuse(sandbox, call, 400, "INVALID_REQUEST", "一笔订单最多退款50次", orderField);
  if (committedRefundTotal(order) + refund.amount > order.totalFee) return refuse(sandbox, call, 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额", "amount.refund");
  if (merchant.refundableBalance !== undefined && refund.amount > merchant.refundableBalance) {
    return replyV3Error(sandbox, call.ctx, 403, { code: "NOT_ENOUGH", message: "基本账户余额不足，请充值后重新发起" }, call);
  }

  if (merchant.refundableBalance !== undefined) merchant.refundableBalance -= refund.amount;
  const created: SandboxRefund = {
    protocol: "v3",
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    outTradeNo: order.outTradeNo,
    outRefundNo: ask.outRefundNo,
    refundId: newRefundId(now),
    refundFee: refund.amount,
    totalFee: order.totalFee,
    feeType: order.feeType,
    cashRefundFee: cashRefundFeeFor(order, refund.amount),
    notifyUrl: ask.notifyUrl,
    refundDesc: ask.reason,
    refundAccount: ask.fundsAccount ?? V3_DEFAULT_FUNDS_ACCOUNT,
    createdAt: now,
    status: "PROCESSING",
    successAt: undefined,
    settleTimer: undefined,
  };
  startRefund(sandbox, order, created);
  replyV3Signed(sandbox, call, 200, refundJson(sandbox, order, created));
}

/**
 * `POST /v3/refund/domestic/refunds`: a direct merchant's refund, or a service provider's for its
 * sub-merchant (`sub_mchid` in the body; the Authorization mchid is the provider's).
 */
export function createRefund(sandbox: SandboxContext, call: V3Call): void {
  const parsed = parseWithNotifyUrlAllowance(sandbox, call.body, parseV3RefundBody);
  if (!parsed.ok) return replyV3ParseFailure(sandbox, call, parsed.error);
  const req = parsed.value;
  const ids: V3MerchantIds = req.subMchid === undefined ? { mchid: call.auth.mchId } : { spMchid: call.auth.mchId, subMchid: req.subMchid };
  const merchant = merchantFor(sandbox, call, ids);
  if (merchant !== undefined) acceptRefund(sandbox, call, merchant, req);
}

/** `POST /v3/global/refunds`: a WeChat Pay Global refund, `mchid` or an institution's `sp_mchid` + `sub_mchid`. */
export function globalCreateRefund(sandbox: SandboxContext, call: V3Call): void {
  const parsed = parseWithNotifyUrlAllowance(sandbox, call.body, parseV3GlobalRefundBody);
  if (!parsed.ok) return replyV3ParseFailure(sandbox, call, parsed.error);
  const req = parsed.value;
  const merchant = merchantFor(sandbox, call, { mchid: req.mchid, spMchid: req.spMchid, subMchid: req.subMchid });
  if (merchant !== undefined) acceptRefund(sandbox, call, merchant, req);
}

/** Refuses query parameters the endpoint does not define, and repeated ones; true when the query is clean. */
function queryIsClean(sandbox: SandboxContext, call: V3Call, allowed: readonly string[]): boolean {
  const seen = new Set<string>();
  for (const key of call.query.keys()) {
    if (!allowed.includes(key) || seen.has(key)) {
      replyV3Error(sandbox, call.ctx, 400, {
        code: "PARAM_ERROR",
        message: allowed.includes(key) ? `查询参数${key}重复` : "请求中含有未在API文档中定义的参数",
        detail: { location: "query", value: [key] },
      });
      return false;
    }
    seen.add(key);
  }
  return true;
}

/** Answers a query-schema failure as 400 PARAM_ERROR naming the parameter; true when it did. */
function refusedQuery(sandbox: SandboxContext, call: V3Call, result: z.ZodSafeParseResult<unknown>, names: Readonly<Record<string, string>>): boolean {
  if (result.success) return false;
  const issue = result.error.issues[0];
  const key = typeof issue?.path[0] === "string" ? issue.path[0] : "query";
  const name = names[key] ?? key;
  const location = name === "out_refund_no" || name === "refund_id" ? "path" : "query";
  refuse(sandbox, call, 400, "PARAM_ERROR", `输入源“/${location}/${name}”校验失败: ${issue?.message ?? "is invalid"}`, name, location);
  return true;
}

/** Answers the refund if it is a v3 refund of `merchant`, 404 RESOURCE_NOT_EXISTS otherwise. */
function answerRefund(sandbox: SandboxContext, call: V3Call, merchant: Merchant, refund: SandboxRefund | undefined): void {
  const mine = refund !== undefined && refund.protocol === "v3" && refund.mchId === merchant.mchId && refund.subMchId === merchant.subMchId;
  const order = mine ? sandbox.store.findOrder(refund.mchId, refund.subMchId, refund.outTradeNo) : undefined;
  if (!mine || order === undefined) {
    return replyV3Error(sandbox, call.ctx, 404, {
      code: "RESOURCE_NOT_EXISTS",
      message: "退款单不存在",
      detail: { location: "path", value: call.params.out_refund_no ?? call.params.refund_id },
    });
  }
  replyV3Signed(sandbox, call, 200, refundJson(sandbox, order, refund));
}

const QUERY_NAMES = { outRefundNo: "out_refund_no", refundId: "refund_id", subMchid: "sub_mchid", spMchid: "sp_mchid", mchid: "mchid" };

/** `GET /v3/refund/domestic/refunds/{out_refund_no}[?sub_mchid=]`: one refund of the caller (or its sub-merchant). */
export function queryRefund(sandbox: SandboxContext, call: V3Call): void {
  if (!queryIsClean(sandbox, call, ["sub_mchid"])) return;
  const subMchid = call.query.get("sub_mchid") ?? undefined;
  const checked = V3QueryRefundSchema.safeParse({ outRefundNo: call.params.out_refund_no, subMchid });
  if (refusedQuery(sandbox, call, checked, QUERY_NAMES) || !checked.success) return;
  const q = checked.data;
  const merchant = merchantFor(sandbox, call, q.subMchid === undefined ? { mchid: call.auth.mchId } : { spMchid: call.auth.mchId, subMchid: q.subMchid });
  if (merchant === undefined) return;
  answerRefund(sandbox, call, merchant, sandbox.store.findRefund(merchant.mchId, merchant.subMchId, q.outRefundNo));
}

/** Global `GET /v3/global/refunds/out-refund-no/{no}` and `/id/{refund_id}`, with `?mchid=` or `?sp_mchid=&sub_mchid=`. */
export function globalQueryRefund(sandbox: SandboxContext, call: V3Call): void {
  if (!queryIsClean(sandbox, call, ["mchid", "sp_mchid", "sub_mchid"])) return;
  const param = (name: string): string | undefined => call.query.get(name) ?? undefined;
  const checked = V3GlobalQueryRefundSchema.safeParse({
    mchid: param("mchid"),
    spMchid: param("sp_mchid"),
    subMchid: param("sub_mchid"),
    outRefundNo: call.params.out_refund_no,
    refundId: call.params.refund_id,
  });
  if (refusedQuery(sandbox, call, checked, QUERY_NAMES) || !checked.success) return;
  const q = checked.data;
  const merchant = merchantFor(sandbox, call, { mchid: q.mchid, spMchid: q.spMchid, subMchid: q.subMchid });
  if (merchant === undefined) return;
  const refund = q.refundId !== undefined ? sandbox.store.findRefundById(q.refundId) : sandbox.store.findRefund(merchant.mchId, merchant.subMchId, q.outRefundNo ?? "");
  answerRefund(sandbox, call, merchant, refund);
}
