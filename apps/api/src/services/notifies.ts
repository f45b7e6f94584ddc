import { findRefundWithProtocol, markRefundNotified } from "../db/refunds.js";
import { isIgnoredNotify, type NotifyAnswer, type NotifyHeaders } from "../gateway/port.js";
import type { Protocol } from "../gateway/registry.js";
import type { ServiceContext } from "./context.js";
import { applyPaidReport } from "./payments.js";
import { settleRefund } from "./refunds.js";

export { MAX_NOTIFY_BYTES } from "../gateway/port.js";

/** What to answer WeChat Pay, and why (for the log and the tests); the gateway adapter renders the answer. */
export interface NotifyHandling {
  readonly answer: NotifyAnswer;
  readonly reason: string;
}

const ack = (reason: string): NotifyHandling => ({ answer: { acknowledged: true }, reason });
const refuse = (reason: string, message: string): NotifyHandling => ({ answer: { acknowledged: false, message }, reason });

/** The whole notify body must arrive within this; WeChat Pay sends it at once and gives up on the answer after 5 s. */
export const NOTIFY_BODY_TIMEOUT_MS = 5_000;

/** Refuses a notify on a route of a protocol this process has no gateway for (the routes answer 404 before this). */
const NOT_CONFIGURED = (protocol: Protocol): NotifyHandling => refuse("PROTOCOL_NOT_CONFIGURED", `${protocol} notifies are not served here`);

/**
 * Handles a pay result notify from its raw body, received on the route of `protocol` (v2: /wxpay/notify,
 * v3: /wxpay/v3/notify) and verified by that protocol's gateway. SUCCESS is answered only after the paid
 * state is committed (or was already), for a verified failed-payment notify and for an ignored event, which
 * change nothing. Anything that does not verify or match the stored order, an order placed with the other
 * protocol included, is refused and changes nothing.
 */
export async function handlePayNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol = "v2"): Promise<NotifyHandling> {
  const gateway = ctx.gateways.of(protocol);
  if (gateway === undefined) return NOT_CONFIGURED(protocol);
  const parsed = gateway.parsePayNotify(body, headers);
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
  if (parsed.value.kind === "failed") return ack(`result_code FAIL (${parsed.value.code ?? "no err_code"}): nothing to change`);
  if (parsed.value.kind === "ignored") return ack(`ignored: ${parsed.value.reason}`);
  const { report } = parsed.value;

  const order = await ctx.loadOrder(report.orderId);
  if (order === undefined) return refuse("UNKNOWN_ORDER", "订单不存在");
  // An order settles through the protocol it was placed with: another protocol's report about it is not its gateway's word.
  if (order.protocol !== protocol) return refuse("PROTOCOL_MISMATCH", "订单信息不一致");
  const result = await applyPaidReport(ctx, order, report);
  if (result.outcome === "rejected") return refuse(result.code, "订单信息不一致");
  return ack(result.outcome === "applied" ? "paid" : "duplicate of an applied notify");
}

/**
 * Handles a refund result notify received on the route of `protocol`: only a verified report (v2: a
 * req_info that decrypts with our key, for our merchant) naming a refund we made, of an order placed with
 * that protocol, with the same amount is applied (once).
 */
export async function handleRefundNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol = "v2"): Promise<NotifyHandling> {
  const gateway = ctx.gateways.of(protocol);
  if (gateway === undefined) return NOT_CONFIGURED(protocol);
  const parsed = gateway.parseRefundNotify(body, headers);
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
  if (isIgnoredNotify(parsed.value)) return ack(`ignored: ${parsed.value.reason}`);
  const reported = parsed.value;
  const refund = await findRefundWithProtocol(ctx.db, reported.refundId);
  if (refund === undefined) return refuse("UNKNOWN_REFUND", "退款单不存在");
  if (refund.protocol !== protocol) return refuse("PROTOCOL_MISMATCH", "退款信息不一致");
  if (refund.order_id !== reported.orderId || refund.refund_fee !== reported.amount) return refuse("REFUND_MISMATCH", "退款信息不一致");
  const status = reported.status;
  if (status === "processing") return ack("refund still processing");
  if (refund.status !== "processing") {
    return refund.status === status ? ack("duplicate of an applied refund notify") : refuse("REFUND_STATUS_CONFLICT", "退款状态不一致");
  }
  await markRefundNotified(ctx.db, refund.id, reported.gatewayRefundId);
  await settleRefund(ctx, refund, status, undefined, reported.succeededAt);
  return ack(`refund ${status}`);
}
