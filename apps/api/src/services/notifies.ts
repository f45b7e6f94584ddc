import { findRefundWithProtocol, markRefundNotified } from "../db/refunds.js";
import type { OrderRow } from "../db/schema.js";
import { isIgnoredNotify, type NotifyAnswer, type NotifyHeaders, type PaidReport } from "../gateway/port.js";
import type { Protocol } from "../gateway/registry.js";
import type { ServiceContext } from "./context.js";
import { applyPaidReport, decidePaidReport, type ApplyPaidResult } from "./payments.js";
import { settleRefund } from "./refunds.js";

export { MAX_NOTIFY_BYTES } from "../gateway/port.js";

/** What to answer WeChat Pay, and why (for the log and the tests); the gateway adapter renders the answer. */
export interface NotifyHandling {
  readonly answer: NotifyAnswer;
  readonly reason: string;
}

/** A notify's handling with what the timeline and the metrics keep of it. */
export interface RecordedNotify extends NotifyHandling {
  /** For the timeline and the metrics: accepted, a duplicate of what was applied, or refused. */
  readonly outcome: "accepted" | "duplicate" | "refused";
  /** A short code (the refusal code; for an acknowledgement what it was, e.g. FAILED_PAYMENT), never free text. */
  readonly code?: string | undefined;
  /** The order (and refund) a verified notify is about, when it names one we have; nothing from an unverified body. */
  readonly orderId?: string | undefined;
  readonly refundId?: string | undefined;
  /** Short text for the timeline: what a verified notify claimed that did not match (never a raw body). */
  readonly detail?: string | undefined;
}

type Found = Pick<RecordedNotify, "orderId" | "refundId" | "detail">;

const ack = (reason: string, code?: string, found: Found = {}): RecordedNotify => ({ answer: { acknowledged: true }, reason, outcome: "accepted", code, ...found });
const duplicate = (reason: string, found: Found): RecordedNotify => ({ answer: { acknowledged: true }, reason, outcome: "duplicate", code: "DUPLICATE", ...found });
const refuse = (reason: string, message: string, found: Found = {}): RecordedNotify => ({
  answer: { acknowledged: false, message },
  reason,
  outcome: "refused",
  code: reason,
  ...found,
});

/** A refusal decided before any handler ran (content type, size, a slow or cut body): nothing was verified. */
export const refusedUnread = refuse;

/** The whole notify body must arrive within this; WeChat Pay sends it at once and gives up on the answer after 5 s. */
export const NOTIFY_BODY_TIMEOUT_MS = 5_000;

/** Refuses a notify on a route of a protocol this process has no gateway for (the routes answer 404 before this). */
const NOT_CONFIGURED = (protocol: Protocol): RecordedNotify => refuse("PROTOCOL_NOT_CONFIGURED", `${protocol} notifies are not served here`);

/**
 * Records a received notify on the timeline and in the metrics: a push onto the activity buffer and a
 * counter increment, no await and no query (the notify path's cost is measured).
 */
export function recordNotify(ctx: ServiceContext, kind: "pay" | "refund", protocol: Protocol, handling: RecordedNotify): void {
  ctx.metrics.notify(kind, protocol, handling.outcome, handling.code ?? "none");
  ctx.activity.record({
    kind: kind === "pay" ? "pay_notify" : "refund_notify",
    protocol,
    outcome: handling.outcome,
    reason: handling.code,
    orderId: handling.orderId,
    refundId: handling.refundId,
    detail: handling.detail,
  });
}

/**
 * Handles a pay result notify from its raw body, received on the route of `protocol` (v2: /wxpay/notify,
 * v3: /wxpay/v3/notify) and verified by that protocol's gateway. SUCCESS is answered only after the paid
 * state is committed (or was already), for a verified failed-payment notify and for an ignored event, which
 * change nothing. Anything that does not verify or match the stored order, an order placed with the other
 * protocol included, is refused and changes nothing.
 */
export function handlePayNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol = "v2"): Promise<NotifyHandling> {
  // Only the order read is awaited: a refusal is decided synchronously, and so is a duplicate once its order is read.
  let handled: RecordedNotify | Promise<RecordedNotify>;
  try {
    handled = payNotify(ctx, body, headers, protocol);
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  return handled instanceof Promise ? handled.then((h) => recordedPay(ctx, protocol, h)) : Promise.resolve(recordedPay(ctx, protocol, handled));
}

function recordedPay(ctx: ServiceContext, protocol: Protocol, handled: RecordedNotify): NotifyHandling {
  recordNotify(ctx, "pay", protocol, handled);
  return { answer: handled.answer, reason: handled.reason };
}

function payNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol): RecordedNotify | Promise<RecordedNotify> {
  const gateway = ctx.gateways.of(protocol);
  if (gateway === undefined) return NOT_CONFIGURED(protocol);
  const parsed = gateway.parsePayNotify(body, headers);
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
  if (parsed.value.kind === "failed") return ack(`result_code FAIL (${parsed.value.code ?? "no err_code"}): nothing to change`, "FAILED_PAYMENT");
  if (parsed.value.kind === "ignored") return ack(`ignored: ${parsed.value.reason}`, "IGNORED");
  const { report } = parsed.value;
  return (ctx.notifyLoadOrder ?? ctx.loadOrder)(report.orderId).then((order) => paidOrder(ctx, protocol, order, report));
}

function paidOrder(ctx: ServiceContext, protocol: Protocol, order: OrderRow | undefined, report: PaidReport): RecordedNotify | Promise<RecordedNotify> {
  // Verified, but about no order of ours: the claim is kept as text, not as an order id.
  if (order === undefined) return refuse("UNKNOWN_ORDER", "订单不存在", { detail: `names order ${report.orderId}` });
  const found = { orderId: order.id };
  // An order settles through the protocol it was placed with: another protocol's report about it is not its gateway's word.
  if (order.protocol !== protocol) return refuse("PROTOCOL_MISMATCH", "订单信息不一致", found);
  // A mismatch or a repeat of the applied report is decided here, without a write and without another promise.
  const decided = decidePaidReport(order, report);
  if (decided !== undefined) return paidOutcome(decided, found);
  return applyPaidReport(ctx, order, report).then((result) => paidOutcome(result, found));
}

function paidOutcome(result: ApplyPaidResult, found: { readonly orderId: string }): RecordedNotify {
  if (result.outcome === "rejected") return refuse(result.code, "订单信息不一致", found);
  return result.outcome === "applied" ? ack("paid", undefined, found) : duplicate("duplicate of an applied notify", found);
}

/**
 * Handles a refund result notify received on the route of `protocol`: only a verified report (v2: a
 * req_info that decrypts with our key, for our merchant) naming a refund we made, of an order placed with
 * that protocol, with the same amount is applied (once).
 */
export async function handleRefundNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol = "v2"): Promise<NotifyHandling> {
  const handled = await refundNotify(ctx, body, headers, protocol);
  recordNotify(ctx, "refund", protocol, handled);
  return { answer: handled.answer, reason: handled.reason };
}

async function refundNotify(ctx: ServiceContext, body: Uint8Array, headers: NotifyHeaders, protocol: Protocol): Promise<RecordedNotify> {
  const gateway = ctx.gateways.of(protocol);
  if (gateway === undefined) return NOT_CONFIGURED(protocol);
  const parsed = gateway.parseRefundNotify(body, headers);
  if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
  if (isIgnoredNotify(parsed.value)) return ack(`ignored: ${parsed.value.reason}`, "IGNORED");
  const reported = parsed.value;
  const refund = await findRefundWithProtocol(ctx.db, reported.refundId);
  if (refund === undefined) return refuse("UNKNOWN_REFUND", "退款单不存在", { detail: `names refund ${reported.refundId} of order ${reported.orderId}` });
  // The refund is ours: the timeline is its order's (the one stored with it, not the one the notify names).
  const found = { orderId: refund.order_id, refundId: refund.id };
  if (refund.protocol !== protocol) return refuse("PROTOCOL_MISMATCH", "退款信息不一致", found);
  if (refund.order_id !== reported.orderId || refund.refund_fee !== reported.amount) {
    return refuse("REFUND_MISMATCH", "退款信息不一致", { ...found, detail: `names order ${reported.orderId}, amount ${reported.amount}` });
  }
  const status = reported.status;
  if (status === "processing") return ack("refund still processing", "REFUND_PROCESSING", found);
  if (refund.status !== "processing") {
    return refund.status === status ? duplicate("duplicate of an applied refund notify", found) : refuse("REFUND_STATUS_CONFLICT", "退款状态不一致", found);
  }
  await markRefundNotified(ctx.db, refund.id, reported.gatewayRefundId);
  await settleRefund(ctx, refund, status, undefined, reported.succeededAt);
  return ack(`refund ${status}`, `REFUND_${status.toUpperCase()}`, found);
}
