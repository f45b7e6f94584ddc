import { matchPayment, type PaymentMatchErrorCode } from "@pay/core";
import { isoAt } from "../clock.js";
import { readOrder } from "../db/order-reads.js";
import type { OrderRow } from "../db/schema.js";
import type { PaidReport } from "../gateway/port.js";
import type { ServiceContext } from "./context.js";
import { orderEvent } from "./events.js";

export type ApplyPaidResult =
  | { readonly outcome: "applied" | "already-paid"; readonly order: OrderRow }
  | { readonly outcome: "rejected"; readonly code: PaymentMatchErrorCode | "ORDER_CLOSED" | "TRANSACTION_CONFLICT"; readonly message: string };

/**
 * What a paid report decides without writing: rejected when it does not match the stored order (merchant,
 * sub-merchant, amount, currency), already paid when it repeats the report that paid it, or undefined when
 * the order is to be marked paid. Synchronous: a duplicate notify is answered without a promise of its own.
 */
export function decidePaidReport(order: OrderRow, report: PaidReport): ApplyPaidResult | undefined {
  const match = matchPayment(
    {
      outTradeNo: report.orderId,
      appid: report.merchant.appId,
      mchId: report.merchant.mchId,
      subAppid: report.merchant.subAppId,
      subMchId: report.merchant.subMchId,
      totalFee: report.amount,
      feeType: report.currency,
    },
    {
      outTradeNo: order.id,
      appId: order.appid,
      mchId: order.mch_id,
      subAppId: order.sub_appid ?? undefined,
      subMchId: order.sub_mch_id ?? undefined,
      totalFee: order.total_fee,
      feeType: order.fee_type,
    },
  );
  if (!match.ok) return { outcome: "rejected", code: match.error.code, message: match.error.message };
  // WeChat Pay repeats notifies: a repeat of the report that paid this order changes nothing, so it is
  // answered from the row just read, without a write transaction and a second read.
  if (order.status !== "pending" && order.transaction_id === report.transactionId) return { outcome: "already-paid", order };
  return undefined;
}

/**
 * Marks an order paid exactly once. The report must match the stored order (merchant, sub-merchant,
 * amount, currency); the transition is a conditional UPDATE (pending -> paid) plus an insert into
 * payment_events, whose unique order_id makes a second transition impossible even across processes.
 * The order.paid event is written in the same commit. The order row read before is returned updated
 * when this call made the transition.
 */
export function applyPaidReport(ctx: ServiceContext, order: OrderRow, report: PaidReport): Promise<ApplyPaidResult> {
  const decided = decidePaidReport(order, report);
  return decided === undefined ? writePaidReport(ctx, order, report) : Promise.resolve(decided);
}

/** The transition of an order that decidePaidReport let through (never without it): the shared commit, then what it found. */
async function writePaidReport(ctx: ServiceContext, order: OrderRow, report: PaidReport): Promise<ApplyPaidResult> {
  const now = isoAt(ctx.clock());
  // Exactly what the UPDATE writes over the pending row just read: the order as order.paid reports it.
  const paid: OrderRow = { ...order, status: "paid", transaction_id: report.transactionId, paid_at: now, updated_at: now };
  const event = orderEvent("order.paid", paid, now);
  // Concurrent transitions share one commit (paid-writer.ts); this resolves once ours is committed, with its event.
  const applied = await ctx.paidWriter.write({
    orderId: order.id,
    source: report.source,
    transactionId: report.transactionId,
    // Matched above: the reported amount is the order's.
    totalFee: order.total_fee,
    feeType: report.currency,
    cashFee: report.payerAmount ?? null,
    cashFeeType: report.payerCurrency ?? null,
    raw: report.rawJson(),
    at: now,
    eventId: event.row.id,
    eventPayload: event.row.payload,
  });
  if (applied) {
    ctx.logger.info({ orderId: order.id, source: report.source, transactionId: report.transactionId }, "order paid");
    ctx.metrics.orderTransition("pending", "paid");
    ctx.events.published([event]);
    return { outcome: "applied", order: paid };
  }

  // Someone else moved the order first: a duplicate of the same payment, or a conflict to report.
  const current = await readOrder(ctx.db, order.id);
  if (current.transaction_id === report.transactionId) return { outcome: "already-paid", order: current };
  if (current.status === "closed") {
    ctx.logger.error({ orderId: order.id, transactionId: report.transactionId }, "a paid report for a closed order: reconcile by hand");
    return { outcome: "rejected", code: "ORDER_CLOSED", message: "The order is closed." };
  }
  ctx.logger.error({ orderId: order.id, transactionId: report.transactionId, stored: current.transaction_id }, "a second transaction for one order");
  return { outcome: "rejected", code: "TRANSACTION_CONFLICT", message: "The order was paid by another transaction." };
}
