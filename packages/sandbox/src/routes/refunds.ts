import type { PeerCertificate, TLSSocket } from "node:tls";
import { formatDashedBeijingTime, parseApplyRefundRequest, parseRefundQueryRequest } from "@pay/core";
import type { Context } from "koa";
import type { SandboxContext } from "../context.js";
import { replyBusinessFail, replySigned } from "../http.js";
import { newRefundId } from "../ids.js";
import { cashRefundFeeFor, committedRefundTotal, MAX_REFUNDS_PER_ORDER, REFUND_WINDOW_MS, startRefund } from "../state/payments.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import { replyParseFailure, type GatewayRequest } from "./gateway-request.js";
import { findOrderFor } from "./orders.js";

/** What nginx in front of the real host answers when no client certificate was presented. */
const NO_CERT_PAGE =
  "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/** The mch_id in the verified client certificate's subject CN, or undefined without a verified certificate. */
export function clientCertificateMchId(ctx: Context): string | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.authorized !== true || typeof socket.getPeerCertificate !== "function") return undefined;
  // An empty object when the peer sent no certificate, which Node's typings do not say.
  const peer: Partial<PeerCertificate> = socket.getPeerCertificate();
  const cn = peer.subject?.CN;
  return typeof cn === "string" ? cn : Array.isArray(cn) ? cn[0] : undefined;
}

/**
 * The refund endpoint's nginx check: with requireClientCert, a request without a verified client
 * certificate gets the real host's non-XML HTTP 400 before any XML is read.
 */
export function refundCertificateGate(sandbox: SandboxContext, ctx: Context): boolean {
  if (!sandbox.options.requireClientCert) return true;
  if (clientCertificateMchId(ctx) !== undefined) return true;
  ctx.status = 400;
  ctx.type = "text/html";
  ctx.body = NO_CERT_PAGE;
  return false;
}

function refundFields(sandbox: SandboxContext, order: SandboxOrder, refund: SandboxRefund): Record<string, string | number | undefined> {
  const global = sandbox.findMerchant(order.mchId, order.subMchId)?.profile === "global";
  return {
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    out_refund_no: refund.outRefundNo,
    refund_id: refund.refundId,
    refund_fee: refund.refundFee,
    settlement_refund_fee: refund.refundFee,
    total_fee: order.totalFee,
    settlement_total_fee: order.totalFee,
    fee_type: order.feeType,
    refund_fee_type: global ? order.feeType : undefined,
    cash_fee: order.cashFee,
    cash_fee_type: global ? order.cashFeeType : undefined,
    cash_refund_fee: refund.cashRefundFee,
    cash_refund_fee_type: global ? order.cashFeeType : undefined,
    rate: global ? order.rate : undefined,
  };
}

/** POST /secapi/pay/refund: accepts a refund (PROCESSING); the same out_refund_no is idempotent. */
export function applyRefund(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, signType, raw } = request;
  const certMchId = clientCertificateMchId(ctx);
  if (sandbox.options.requireClientCert && certMchId !== merchant.mchId) {
    return replyBusinessFail(ctx, merchant, signType, "PARAM_ERROR", "证书与商户号不匹配");
  }
  const parsed = parseApplyRefundRequest(raw);
  if (!parsed.ok) return replyParseFailure(request, parsed.error);
  const req = parsed.value;
  const fail = (code: string, des: string): void => replyBusinessFail(ctx, merchant, signType, code, des);
  const order = findOrderFor(sandbox, request, req);
  if (order === undefined || order.paidAt === undefined) return fail("ORDERNOTEXIST", "订单不存在或未支付");
  const now = sandbox.clock.now();
  if (now - order.paidAt > REFUND_WINDOW_MS) return fail("TRADE_OVERDUE", "订单已经超过退款期限");
  if (req.totalFee !== order.totalFee) return fail("INVALID_REQUEST", "订单金额total_fee与原订单金额不一致");
  if (req.refundFeeType !== undefined && req.refundFeeType !== order.feeType) return fail("PARAM_ERROR", "退款币种refund_fee_type必须与支付币种一致");

  const previous = sandbox.store.findRefund(merchant.mchId, merchant.subMchId, req.outRefundNo);
  if (previous !== undefined) {
    if (previous.outTradeNo !== order.outTradeNo || previous.refundFee !== req.refundFee) {
      return fail("INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试");
    }
    return replySigned(ctx, merchant, signType, { result_code: "SUCCESS", ...refundFields(sandbox, order, previous) });
  }
  if (order.refunds.length >= MAX_REFUNDS_PER_ORDER) return fail("ERROR", "一笔订单最多退款50次");
  if (committedRefundTotal(order) + req.refundFee > order.totalFee) return fail("ERROR", "累计退款金额大于支付金额");
  if (merchant.refundableBalance !== undefined && req.refundFee > merchant.refundableBalance) return fail("NOTENOUGH", "基本账户余额不足，请充值后重新发起");

  if (merchant.refundableBalance !== undefined) merchant.refundableBalance -= req.refundFee;
  const cashRefundFee = cashRefundFeeFor(order, req.refundFee);
  const refund: SandboxRefund = {
    protocol: "v2",
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    outTradeNo: order.outTradeNo,
    outRefundNo: req.outRefundNo,
    refundId: newRefundId(now),
    refundFee: req.refundFee,
    totalFee: order.totalFee,
    feeType: order.feeType,
    cashRefundFee,
    notifyUrl: req.notifyUrl,
    refundDesc: req.refundDesc,
    refundAccount: req.refundAccount ?? "REFUND_SOURCE_UNSETTLED_FUNDS",
    createdAt: now,
    status: "PROCESSING",
    successAt: undefined,
    settleTimer: undefined,
  };
  startRefund(sandbox, order, refund);
  replySigned(ctx, merchant, signType, { result_code: "SUCCESS", ...refundFields(sandbox, order, refund) });
}

/** POST /pay/refundquery: the refunds of an order, or one refund, with their statuses. */
export function refundQuery(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, signType, raw } = request;
  const parsed = parseRefundQueryRequest(raw);
  if (!parsed.ok) return replyParseFailure(request, parsed.error);
  const req = parsed.value;
  let order: SandboxOrder | undefined;
  let refunds: SandboxRefund[] = [];
  // Priority: refund_id > out_refund_no > transaction_id > out_trade_no.
  const single =
    req.refundId !== undefined
      ? sandbox.store.findRefundById(req.refundId)
      : req.outRefundNo !== undefined
        ? sandbox.store.findRefund(merchant.mchId, merchant.subMchId, req.outRefundNo)
        : undefined;
  if (req.refundId !== undefined || req.outRefundNo !== undefined) {
    if (single !== undefined && single.mchId === merchant.mchId && single.subMchId === merchant.subMchId) {
      order = sandbox.store.findOrder(single.mchId, single.subMchId, single.outTradeNo);
      refunds = [single];
    }
  } else {
    order = findOrderFor(sandbox, request, req);
    const offset = req.offset ?? 0;
    refunds = order?.refunds.slice(offset, offset + 10) ?? [];
  }
  if (order === undefined || refunds.length === 0) return replyBusinessFail(ctx, merchant, signType, "REFUNDNOTEXIST", "退款订单查询失败");

  const fields: Record<string, string | number | undefined> = {
    result_code: "SUCCESS",
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    total_fee: order.totalFee,
    settlement_total_fee: order.totalFee,
    fee_type: order.feeType,
    cash_fee: order.cashFee,
    cash_fee_type: sandbox.findMerchant(order.mchId, order.subMchId)?.profile === "global" ? order.cashFeeType : undefined,
    rate: sandbox.findMerchant(order.mchId, order.subMchId)?.profile === "global" ? order.rate : undefined,
    total_refund_count: order.refunds.length,
    refund_count: refunds.length,
  };
  refunds.forEach((refund, n) => {
    fields[`out_refund_no_${n}`] = refund.outRefundNo;
    fields[`refund_id_${n}`] = refund.refundId;
    fields[`refund_channel_${n}`] = "ORIGINAL";
    fields[`refund_fee_${n}`] = refund.refundFee;
    fields[`settlement_refund_fee_${n}`] = refund.refundFee;
    fields[`refund_status_${n}`] = refund.status;
    fields[`refund_account_${n}`] = refund.refundAccount;
    fields[`refund_recv_accout_${n}`] = "支付用户零钱";
    fields[`refund_success_time_${n}`] = refund.successAt === undefined ? undefined : formatDashedBeijingTime(refund.successAt);
  });
  replySigned(ctx, merchant, signType, fields);
}
