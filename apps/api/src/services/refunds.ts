import type { CreateRefundRequest, RefundResponse } from "@pay/core/contract";
import { sql } from "kysely";
import { isoAt } from "../clock.js";
import { isUniqueViolation } from "../db/errors.js";
import type { OrderRow, RefundRow, RefundStatusColumn } from "../db/schema.js";
import { ApiError, gatewayFailure } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { newOutRefundNo } from "./order-ids.js";
import { orderView, refundView } from "./views.js";

/**
 * A failure note for refunds.last_error: gateway text can hold any bytes (a garbage answer's NUL among
 * them), which PostgreSQL text columns refuse; control characters become spaces.
 */
function errorNote(text: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, 500);
}

async function reloadRefund(ctx: ServiceContext, id: string): Promise<RefundRow> {
  return ctx.db.selectFrom("refunds").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
}

async function response(ctx: ServiceContext, refund: RefundRow): Promise<RefundResponse> {
  const order = await ctx.db.selectFrom("orders").selectAll().where("id", "=", refund.order_id).executeTakeFirstOrThrow();
  return { refund: refundView(refund), order: orderView(order) };
}

/**
 * Reserves `refundFee` of a paid order: one conditional UPDATE, so concurrent refunds (in any number of
 * processes) can never reserve more than was paid. Returns false when the amount does not fit.
 */
async function reserve(ctx: ServiceContext, orderId: string, refundFee: number): Promise<boolean> {
  const result = await ctx.db
    .updateTable("orders")
    .set({ reserved_refund_fee: sql<number>`reserved_refund_fee + ${refundFee}`, updated_at: isoAt(ctx.clock()) })
    .where("id", "=", orderId)
    .where("status", "=", "paid")
    .where(sql<boolean>`reserved_refund_fee + ${refundFee} <= total_fee`)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * POST /api/admin/orders/:id/refunds. The Idempotency-Key names the request: a retry finds its refund
 * and resubmits the same out_refund_no, so one request never refunds twice.
 */
export async function createRefund(ctx: ServiceContext, orderId: string, request: CreateRefundRequest, requestKey: string): Promise<RefundResponse> {
  const existing = await ctx.db.selectFrom("refunds").selectAll().where("request_key", "=", requestKey).executeTakeFirst();
  if (existing !== undefined) return resumeExisting(ctx, existing, orderId, request);

  const order = await ctx.db.selectFrom("orders").selectAll().where("id", "=", orderId).executeTakeFirst();
  if (order === undefined) throw new ApiError("NOT_FOUND", `No order ${orderId}.`);
  if (order.status !== "paid") throw new ApiError("ORDER_NOT_REFUNDABLE", `Order ${orderId} is ${order.status}; only paid orders can be refunded.`);

  const now = ctx.clock();
  const refundId = newOutRefundNo(now);
  try {
    await ctx.db.transaction().execute(async (trx) => {
      // The refund row first, the order second: the order in which settleRefund locks them, so a request
      // racing the settlement of its own key's refund waits instead of deadlocking (PostgreSQL).
      await trx
        .insertInto("refunds")
        .values({
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
        })
        .execute();
      const scoped = { ...ctx, db: trx };
      if (!(await reserve(scoped, orderId, request.refundFee))) {
        throw new ApiError(
          "REFUND_EXCEEDS_PAID",
          `A refund of ${request.refundFee} would exceed what is left to refund (${order.total_fee - order.reserved_refund_fee} of ${order.total_fee}).`,
          { field: "refundFee" },
        );
      }
    });
  } catch (error) {
    // The same Idempotency-Key raced in from another request: answer with that one.
    if (isUniqueViolation(error)) {
      const raced = await ctx.db.selectFrom("refunds").selectAll().where("request_key", "=", requestKey).executeTakeFirst();
      if (raced !== undefined) return resumeExisting(ctx, raced, orderId, request);
    }
    throw error;
  }
  ctx.logger.info({ orderId, refundId, refundFee: request.refundFee }, "refund reserved");
  return submit(ctx, order, await reloadRefund(ctx, refundId));
}

async function resumeExisting(ctx: ServiceContext, refund: RefundRow, orderId: string, request: CreateRefundRequest): Promise<RefundResponse> {
  if (refund.order_id !== orderId || refund.refund_fee !== request.refundFee) {
    throw new ApiError("IDEMPOTENCY_CONFLICT", "This Idempotency-Key was used for a different refund; use a new key for a new refund.");
  }
  if (refund.submitted === 1 || refund.status !== "processing") return response(ctx, refund);
  const order = await ctx.db.selectFrom("orders").selectAll().where("id", "=", orderId).executeTakeFirstOrThrow();
  return submit(ctx, order, refund);
}

/** Sends a reserved refund to the gateway (again, with the same out_refund_no, when a try was lost). */
async function submit(ctx: ServiceContext, order: OrderRow, refund: RefundRow): Promise<RefundResponse> {
  const merchant = ctx.config.merchant;
  const answer = await ctx.gateway.refund({
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
    await ctx.db.updateTable("refunds").set({ submitted: 1, refund_id: answer.value.gatewayRefundId, last_error: null, updated_at: now }).where("id", "=", refund.id).execute();
    return response(ctx, await reloadRefund(ctx, refund.id));
  }
  const { error } = answer;
  if (error.kind === "business" && !error.retryable) {
    // The gateway refused it for good: no refund exists there, so the reservation is released.
    await settleRefund(ctx, refund, "closed", `${error.code ?? "refused"}: ${error.description ?? error.message}`);
    throw new ApiError("GATEWAY_ERROR", `WeChat Pay refused the refund: ${error.code ?? "error"} ${error.description ?? ""}`.trim());
  }
  // Unknown outcome (timeout, 5xx, SYSTEMERROR): keep it reserved; a retry or the sweep resubmits the same out_refund_no.
  await ctx.db.updateTable("refunds").set({ last_error: errorNote(`${error.kind}: ${error.message}`), updated_at: now }).where("id", "=", refund.id).execute();
  ctx.logger.warn({ refundId: refund.id, kind: error.kind, errCode: error.code }, "refund submission unconfirmed");
  throw gatewayFailure("refund", error);
}

/**
 * Moves a processing refund to its final status exactly once (conditional update), adjusting the
 * order in the same transaction: succeeded adds to refunded_fee (a full refund marks the order
 * refunded), closed releases the reservation, abnormal keeps it (the money is with a person now).
 */
export async function settleRefund(ctx: ServiceContext, refund: RefundRow, status: RefundStatusColumn, note?: string, succeededAt?: string): Promise<boolean> {
  if (status === "processing") return false;
  const now = isoAt(ctx.clock());
  return ctx.db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable("refunds")
      .set({ status, updated_at: now, succeeded_at: status === "succeeded" ? (succeededAt ?? now) : null, ...(note === undefined ? {} : { last_error: errorNote(note) }) })
      .where("id", "=", refund.id)
      .where("status", "=", "processing")
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) return false;
    if (status === "succeeded") {
      await trx
        .updateTable("orders")
        .set({
          refunded_fee: sql<number>`refunded_fee + ${refund.refund_fee}`,
          status: sql<"paid" | "refunded">`case when refunded_fee + ${refund.refund_fee} >= total_fee then 'refunded' else status end`,
          updated_at: now,
        })
        .where("id", "=", refund.order_id)
        .execute();
    } else if (status === "closed") {
      await trx
        .updateTable("orders")
        .set({ reserved_refund_fee: sql<number>`reserved_refund_fee - ${refund.refund_fee}`, updated_at: now })
        .where("id", "=", refund.order_id)
        .execute();
    }
    ctx.logger.info({ refundId: refund.id, orderId: refund.order_id, status }, "refund settled");
    return true;
  });
}

/** Resubmits a reserved refund that never reached the gateway (same out_refund_no, same amount). */
export async function resubmitRefund(ctx: ServiceContext, refund: RefundRow): Promise<void> {
  const order = await ctx.db.selectFrom("orders").selectAll().where("id", "=", refund.order_id).executeTakeFirstOrThrow();
  try {
    await submit(ctx, order, refund);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    ctx.logger.warn({ refundId: refund.id, code: error.code }, "refund resubmission did not go through");
  }
}
