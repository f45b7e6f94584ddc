import type { CreateRefundRequest, RefundResponse } from "@pay/core/contract";
import { isoAt } from "../clock.js";
import { readOrder } from "../db/order-reads.js";
import { findOrder } from "../db/orders.js";
import { findRefundByRequestKey, insertReservedRefund, markRefundSubmitted, noteRefundError, settleRefundRow } from "../db/refunds.js";
import type { OrderRow, RefundRow } from "../db/schema.js";
import type { GatewayCallError, RefundLookup, RefundState } from "../gateway/port.js";
import type { ServiceContext } from "./context.js";
import { orderEvent, refundEvent, type OutboxEvent } from "./events.js";
import { gatewayOf } from "./gateways.js";
import { newRefundId } from "./order-ids.js";
import { failureReason } from "./orders.js";
import { failed, succeeded, type Outcome } from "./outcomes.js";
import { orderView, refundView } from "./views.js";

/**
 * A failure note for refunds.last_error: gateway text can hold any bytes (a garbage answer's NUL among
 * them), which PostgreSQL text columns refuse; control characters become spaces.
 */
function errorNote(text: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 500);
}

/** Records a refund query on its order's timeline: the refund's status there, not_found, or failed with the reason. */
export function recordRefundQuery(
  ctx: ServiceContext,
  refund: { readonly id: string; readonly order_id: string; readonly protocol: "v2" | "v3" },
  answer: { ok: true; value: RefundLookup } | { ok: false; error: GatewayCallError },
  trigger: "sweep" | "reconciliation",
): void {
  ctx.activity.record({
    kind: "refund_query",
    orderId: refund.order_id,
    refundId: refund.id,
    protocol: refund.protocol,
    outcome: !answer.ok ? "failed" : answer.value.state === "found" ? answer.value.status : "not_found",
    reason: answer.ok ? undefined : failureReason(answer.error),
    detail: trigger,
  });
}

async function response(ctx: ServiceContext, refund: RefundRow): Promise<RefundResponse> {
  return { refund: refundView(refund), order: orderView(await readOrder(ctx.db, refund.order_id)) };
}

/**
 * POST /api/admin/orders/:id/refunds. The Idempotency-Key names the request: a retry finds its refund
 * and resubmits the same refund id, so one request never refunds twice. The amount is reserved on the
 * order before the gateway is asked, so concurrent refunds can never exceed what was paid.
 */
export async function createRefund(ctx: ServiceContext, orderId: string, request: CreateRefundRequest, requestKey: string): Promise<Outcome<RefundResponse>> {
  const existing = await findRefundByRequestKey(ctx.db, requestKey);
  if (existing !== undefined) return resumeExisting(ctx, existing, orderId, request);

  const order = await findOrder(ctx.db, orderId);
  if (order === undefined) return failed({ kind: "not-found", message: `No order ${orderId}.` });
  if (order.status !== "paid") return failed({ kind: "not-refundable", message: `Order ${orderId} is ${order.status}; only paid orders can be refunded.` });
  // Refunds go through the order's protocol: without its gateway nothing is reserved.
  const gateway = gatewayOf(ctx, order);
  if (!gateway.ok) return gateway;
  // While the gateway guard refuses calls nothing is reserved: the same Idempotency-Key later starts afresh.
  const refused = ctx.gateways.refusal(order.protocol);
  if (refused !== undefined) return failed({ kind: "gateway-failed", operation: "refund", error: refused });

  const now = ctx.clock();
  const refundId = newRefundId(now);
  const reserved = await insertReservedRefund(
    ctx.db,
    {
      id: refundId,
      order_id: orderId,
      request_key: requestKey,
      refund_fee: request.refundFee,
      currency: order.fee_type,
      status: "processing",
      reason: request.reason ?? null,
      submitted: 0,
      refund_id: null,
      last_error: null,
      last_queried_at: null,
      created_at: isoAt(now),
      updated_at: isoAt(now),
      succeeded_at: null,
    },
    isoAt(ctx.clock()),
  );
  switch (reserved.outcome) {
    case "exceeds":
      return failed({
        kind: "refund-exceeds-paid",
        field: "refundFee",
        message: `A refund of ${request.refundFee} would exceed what is left to refund (${order.total_fee - order.reserved_refund_fee} of ${order.total_fee}).`,
      });
    case "key-taken": {
      // The same Idempotency-Key raced in from another request: answer with that one.
      const raced = await findRefundByRequestKey(ctx.db, requestKey);
      if (raced === undefined) throw reserved.error;
      return resumeExisting(ctx, raced, orderId, request);
    }
    case "reserved":
      ctx.logger.info({ orderId, refundId, refundFee: request.refundFee }, "refund reserved");
      ctx.metrics.refund("requested");
      return submit(ctx, order, reserved.refund);
  }
}

async function resumeExisting(ctx: ServiceContext, refund: RefundRow, orderId: string, request: CreateRefundRequest): Promise<Outcome<RefundResponse>> {
  if (refund.order_id !== orderId || refund.refund_fee !== request.refundFee) {
    return failed({ kind: "idempotency-conflict", message: "This Idempotency-Key was used for a different refund; use a new key for a new refund." });
  }
  if (refund.submitted === 1 || refund.status !== "processing") return succeeded(await response(ctx, refund));
  return submit(ctx, await readOrder(ctx.db, orderId), refund);
}

/** Sends a reserved refund to the gateway (again, with the same refund id, when a try was lost). */
async function submit(ctx: ServiceContext, order: OrderRow, refund: RefundRow): Promise<Outcome<RefundResponse>> {
  const gateway = gatewayOf(ctx, order);
  if (!gateway.ok) return gateway;
  const merchant = ctx.config.merchant;
  const answer = await gateway.value.refund({
    orderId: order.id,
    refundId: refund.id,
    orderAmount: order.total_fee,
    amount: refund.refund_fee,
    currency: merchant.feeType,
    ...(refund.reason === null || refund.reason.trim() === "" ? {} : { reason: refund.reason.trim() }),
    ...(merchant.refundNotifyUrl === undefined ? {} : { notifyUrl: merchant.refundNotifyUrl }),
  });
  const now = isoAt(ctx.clock());
  if (answer.ok) {
    const submitted = await markRefundSubmitted(ctx.db, refund.id, answer.value.gatewayRefundId, now);
    return succeeded(await response(ctx, submitted));
  }
  const { error } = answer;
  if (error.kind === "business" && !error.retryable) {
    // The gateway refused it for good: no refund exists there, so the reservation is released.
    await settleRefund(ctx, refund, "closed", `${error.code ?? "refused"}: ${error.description ?? error.message}`);
    return failed({ kind: "gateway-refused", message: `WeChat Pay refused the refund: ${error.code ?? "error"} ${error.description ?? ""}`.trim() });
  }
  // Unknown outcome (timeout, 5xx, a busy gateway): keep it reserved; a retry or the sweep resubmits the same refund id.
  await noteRefundError(ctx.db, refund.id, errorNote(`${error.kind}: ${error.message}`), now);
  ctx.logger.warn({ refundId: refund.id, kind: error.kind, errCode: error.code }, "refund submission unconfirmed");
  return failed({ kind: "gateway-failed", operation: "refund", error });
}

/**
 * Moves a processing refund to its final status exactly once, adjusting the order in the same
 * transaction (db/refunds.ts): succeeded adds to refunded_fee (a full refund marks the order
 * refunded), closed releases the reservation, abnormal keeps it (the money is with a person now). Its
 * events (refund.succeeded or refund.failed, and order.refunded when it completed the total) are
 * committed with it and published after.
 */
export async function settleRefund(ctx: ServiceContext, refund: RefundRow, status: RefundState, note?: string, succeededAt?: string): Promise<boolean> {
  if (status === "processing") return false;
  const now = isoAt(ctx.clock());
  const events: OutboxEvent[] = [];
  const keep = (event: OutboxEvent): OutboxEvent["row"] => {
    events.push(event);
    return event.row;
  };
  const settled = await settleRefundRow(
    ctx.db,
    refund,
    { status, now, succeededAt, note: note === undefined ? undefined : errorNote(note) },
    {
      refund: (row) => keep(refundEvent(status === "succeeded" ? "refund.succeeded" : "refund.failed", row, now)),
      orderRefunded: (order) => {
        ctx.metrics.orderTransition("paid", "refunded");
        return keep(orderEvent("order.refunded", order, now));
      },
    },
  );
  if (settled) {
    ctx.logger.info({ refundId: refund.id, orderId: refund.order_id, status }, "refund settled");
    ctx.metrics.refund(status);
    ctx.events.published(events);
  }
  return settled;
}

/** Resubmits a reserved refund that never reached the gateway (same refund id, same amount). */
export async function resubmitRefund(ctx: ServiceContext, refund: RefundRow): Promise<void> {
  const result = await submit(ctx, await readOrder(ctx.db, refund.order_id), refund);
  if (!result.ok) ctx.logger.warn({ refundId: refund.id, failure: result.failure.kind }, "refund resubmission did not go through");
}
