import { findRefund, markRefundNotified } from "../db/refunds.js";
import type { NotifyAnswer, NotifyHeaders } from "../gateway/port.js";
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

/**
 * Handles a pay result notify from its raw body. SUCCESS is answered only after the paid state is
 * committed (or was already), and for a verified failed-payment notify, which changes nothing.
 * Anything that does not verify or match the stored order gets FAIL and changes nothing.
 */
export async function handlePayNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders): Promise<NotifyHandling> {
  const parsed = ctx.gateway.parsePayNotify(body, headers);
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
  if (parsed.value.kind === "failed") return ack(`result_code FAIL (${parsed.value.code ?? "no err_code"}): nothing to change`);
  const { report } = parsed.value;

  const order = await ctx.loadOrder(report.orderId);
  if (order === undefined) return refuse("UNKNOWN_ORDER", "订单不存在");
  const result = await applyPaidReport(ctx, order, report);
  if (result.outcome === "rejected") return refuse(result.code, "订单信息不一致");
  return ack(result.outcome === "applied" ? "paid" : "duplicate of an applied notify");
}

/**
 * Handles a refund result notify: only a verified report (v2: a req_info that decrypts with our key,
 * for our merchant) naming a refund we made with the same amount is applied (once).
 */
export async function handleRefundNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders): Promise<NotifyHandling> {
  const parsed = ctx.gateway.parseRefundNotify(body, headers);
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
  const reported = parsed.value;
  const refund = await findRefund(ctx.db, reported.refundId);
  if (refund === undefined) return refuse("UNKNOWN_REFUND", "退款单不存在");
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
