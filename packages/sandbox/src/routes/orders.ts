import { canonicalPairs, parseBeijingTime, parseCloseOrderRequest, parseOrderQueryRequest, parseUnifiedOrderRequest, type Currency } from "@pay/core";
import type { SandboxContext } from "../context.js";
import { replyBusinessFail, replySigned } from "../http.js";
import { newPrepayId } from "../ids.js";
import { expireIfDue, paidOrderFields } from "../state/payments.js";
import { newUnpaidOrder, type SandboxOrder } from "../state/types.js";
import { replyParseFailure, type GatewayRequest } from "./gateway-request.js";

/** Every business field of a request, minus what legitimately changes on a retry (nonce, sign). */
function fingerprint(raw: Readonly<Record<string, string>>): string {
  return JSON.stringify(canonicalPairs(Object.entries(raw).filter(([name]) => name !== "nonce_str" && name !== "sign")));
}

/** POST /pay/unifiedorder: creates an order and its prepay_id, or re-enters an existing one. */
export function unifiedOrder(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, signType, raw } = request;
  const parsed = parseUnifiedOrderRequest(raw);
  if (!parsed.ok) return replyParseFailure(request, parsed.error);
  const req = parsed.value;
  const fail = (code: string, des: string): void => replyBusinessFail(ctx, merchant, signType, code, des);

  if (req.tradeType !== "JSAPI") return fail("PARAM_ERROR", "trade_type: the sandbox simulates JSAPI (Mini Program) payments only");
  let feeType: Currency = "CNY";
  if (merchant.profile === "global") {
    if (req.feeType === undefined) return replyParseFailure(request, { code: "MISSING_FIELD", message: "Field fee_type: is required for a WeChat Pay Global merchant" });
    feeType = req.feeType;
  } else if (req.feeType !== undefined && req.feeType !== "CNY") {
    return fail("PARAM_ERROR", "fee_type: a domestic merchant accepts CNY only");
  }
  if (merchant.subMchId !== undefined) {
    if (req.subOpenid === undefined && req.openid === undefined) return fail("PARAM_ERROR", "openid or sub_openid is required");
  } else if (req.subOpenid !== undefined || req.subAppid !== undefined) {
    return fail("PARAM_ERROR", "sub_appid/sub_openid are for institutional (service-provider) merchants only");
  }

  const now = sandbox.clock.now();
  const existing = sandbox.store.findOrder(merchant.mchId, merchant.subMchId, req.outTradeNo);
  if (existing !== undefined) {
    expireIfDue(sandbox, existing);
    if (existing.tradeState === "SUCCESS" || existing.tradeState === "REFUND") return fail("ORDERPAID", "该订单已支付");
    if (existing.tradeState === "CLOSED") return fail("ORDERCLOSED", "该订单已关闭");
    if (existing.fingerprint !== fingerprint(raw)) return fail("INVALID_REQUEST", "201 商户订单号重复: 订单重入时，要求参数值与原请求一致，请确认参数问题");
    if (now >= existing.prepayExpiresAt) sandbox.store.replacePrepayId(existing, newPrepayId(now), now + sandbox.options.prepayTtlMs);
    return replySigned(ctx, merchant, signType, { result_code: "SUCCESS", device_info: req.deviceInfo, trade_type: "JSAPI", prepay_id: existing.prepayId });
  }

  let expiresAt = now + sandbox.options.orderTtlMs;
  if (req.timeExpire !== undefined) {
    expiresAt = parseBeijingTime(req.timeExpire)?.getTime() ?? expiresAt;
    if (expiresAt - now < 60_000) return fail("PARAM_ERROR", "time_expire时间过短，最短失效时间间隔必须大于1分钟");
  }
  const order = newUnpaidOrder({
    protocol: "v2",
    payAppId: req.subAppid ?? merchant.appId,
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    appId: merchant.appId,
    subAppId: req.subAppid,
    outTradeNo: req.outTradeNo,
    body: req.body,
    attach: req.attach,
    totalFee: req.totalFee,
    feeType,
    signType,
    notifyUrl: req.notifyUrl,
    openid: req.openid,
    subOpenid: req.subOpenid,
    fingerprint: fingerprint(raw),
    createdAt: now,
    expiresAt,
    prepayId: newPrepayId(now),
    prepayExpiresAt: now + sandbox.options.prepayTtlMs,
  });
  sandbox.store.addOrder(order);
  replySigned(ctx, merchant, signType, { result_code: "SUCCESS", device_info: req.deviceInfo, trade_type: "JSAPI", prepay_id: order.prepayId });
}

export function findOrderFor(
  sandbox: SandboxContext,
  request: GatewayRequest,
  ids: { transactionId?: string | undefined; outTradeNo?: string | undefined },
): SandboxOrder | undefined {
  const { merchant } = request;
  // transaction_id takes priority when both are given.
  if (ids.transactionId !== undefined) return sandbox.store.findOrderByTransactionId(merchant.mchId, merchant.subMchId, ids.transactionId);
  if (ids.outTradeNo !== undefined) return sandbox.store.findOrder(merchant.mchId, merchant.subMchId, ids.outTradeNo);
  return undefined;
}

/** POST /pay/orderquery: the order's trade_state; paid orders carry the full payment fields. */
export function orderQuery(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, signType, raw } = request;
  const parsed = parseOrderQueryRequest(raw);
  if (!parsed.ok) return replyParseFailure(request, parsed.error);
  const order = findOrderFor(sandbox, request, parsed.value);
  if (order === undefined) return replyBusinessFail(ctx, merchant, signType, "ORDERNOTEXIST", "订单不存在");
  expireIfDue(sandbox, order);
  const state = { result_code: "SUCCESS", trade_state: order.tradeState, trade_state_desc: order.tradeStateDesc };
  if (order.tradeState === "SUCCESS" || order.tradeState === "REFUND") {
    return replySigned(ctx, merchant, signType, { ...state, ...paidOrderFields(sandbox, order) });
  }
  // An unpaid order answers with its state, out_trade_no and attach only.
  replySigned(ctx, merchant, signType, { ...state, out_trade_no: order.outTradeNo, attach: order.attach });
}

/** POST /pay/closeorder: closes an unpaid order; ORDERPAID / ORDERCLOSED otherwise. */
export function closeOrder(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, signType, raw } = request;
  const parsed = parseCloseOrderRequest(raw);
  if (!parsed.ok) return replyParseFailure(request, parsed.error);
  const order = sandbox.store.findOrder(merchant.mchId, merchant.subMchId, parsed.value.outTradeNo);
  if (order === undefined) return replyBusinessFail(ctx, merchant, signType, "ORDERNOTEXIST", "订单不存在");
  expireIfDue(sandbox, order);
  if (order.tradeState === "SUCCESS" || order.tradeState === "REFUND") return replyBusinessFail(ctx, merchant, signType, "ORDERPAID", "订单已支付，不能发起关单");
  if (order.tradeState === "CLOSED") return replyBusinessFail(ctx, merchant, signType, "ORDERCLOSED", "订单已关闭，无需重复关闭");
  if (sandbox.clock.now() - order.createdAt < sandbox.options.minCloseAgeMs) {
    return replyBusinessFail(ctx, merchant, signType, "TRADE_STATE_ERROR", "订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟");
  }
  order.tradeState = "CLOSED";
  order.tradeStateDesc = "订单已关闭";
  replySigned(ctx, merchant, signType, { result_code: "SUCCESS", result_msg: "OK" });
}
