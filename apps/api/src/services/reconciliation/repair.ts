import type { ReconciliationResolution } from "@pay/core/contract";
import { isoAt } from "../../clock.js";
import { findOrder } from "../../db/orders.js";
import { findRefundWithProtocol } from "../../db/refunds.js";
import type { ServiceContext } from "../context.js";
import { gatewayOf } from "../gateways.js";
import { applyPaidReport } from "../payments.js";
import { recordOrderQuery } from "../orders.js";
import { recordRefundQuery, settleRefund } from "../refunds.js";

/** What confirming a difference did: its resolution and a sentence for the operator. */
export interface Confirmation {
  readonly resolution: ReconciliationResolution;
  readonly detail: string;
}

const flagged = (detail: string): Confirmation => ({ resolution: "flagged", detail });

/**
 * A payment the bill has for an order not paid here: asks the gateway, and only a verified paid answer is
 * applied, through applyPaidReport (the path of a notify and the sweep: the order.paid event in the same
 * commit). Anything else changes nothing and is flagged with what the query said.
 */
export async function confirmPayment(ctx: ServiceContext, orderId: string, status: string): Promise<Confirmation> {
  const order = await findOrder(ctx.db, orderId);
  if (order === undefined) return flagged(`Paid at WeChat Pay, but order ${orderId} is gone here.`);
  const gateway = gatewayOf(ctx, order);
  if (!gateway.ok) return flagged(`Paid at WeChat Pay but ${status} here; not confirmed: this server has no gateway for its protocol (${order.protocol}).`);
  const answer = await gateway.value.queryOrder(order.id);
  recordOrderQuery(ctx, order, answer, "reconciliation");
  if (!answer.ok) return flagged(`Paid at WeChat Pay but ${status} here; the order query failed (${answer.error.kind}: ${answer.error.message}), nothing changed.`);
  const known = answer.value;
  if (known.state !== "paid") return flagged(`Paid at WeChat Pay but ${status} here; the order query says ${known.state}, nothing changed.`);
  const result = await applyPaidReport(ctx, order, known.report);
  switch (result.outcome) {
    case "applied":
      return {
        resolution: "recovered",
        detail: `Paid at WeChat Pay but ${status} here; the order query confirmed it (transaction ${known.report.transactionId}) and the order is now paid.`,
      };
    case "already-paid":
      return { resolution: "recovered", detail: `Paid at WeChat Pay but ${status} here when compared; confirmed by the order query, the order was paid meanwhile.` };
    case "rejected":
      return flagged(`Paid at WeChat Pay but ${status} here; the order query says paid but it cannot be applied (${result.code}: ${result.message}), nothing changed.`);
  }
}

/**
 * A refund the bill has as succeeded that is not succeeded here: asks the gateway, and only a verified
 * succeeded answer settles it, through settleRefund (refund.succeeded and, when full, order.refunded).
 */
export async function confirmRefund(ctx: ServiceContext, refundId: string): Promise<Confirmation> {
  const refund = await findRefundWithProtocol(ctx.db, refundId);
  if (refund === undefined) return flagged(`Refunded at WeChat Pay, but refund ${refundId} is gone here.`);
  const gateway = gatewayOf(ctx, { id: refund.order_id, protocol: refund.protocol });
  if (!gateway.ok) return flagged(`Refunded at WeChat Pay but ${refund.status} here; not confirmed: this server has no gateway for its protocol (${refund.protocol}).`);
  const answer = await gateway.value.queryRefund(refund.id);
  recordRefundQuery(ctx, refund, answer, "reconciliation");
  if (!answer.ok) return flagged(`Refunded at WeChat Pay but ${refund.status} here; the refund query failed (${answer.error.kind}: ${answer.error.message}), nothing changed.`);
  const known = answer.value;
  if (known.state !== "found") return flagged(`Refunded at WeChat Pay but ${refund.status} here; the refund query says not found, nothing changed.`);
  if (known.status !== "succeeded") return flagged(`Refunded at WeChat Pay but ${refund.status} here; the refund query says ${known.status}, nothing changed.`);
  const succeededAt = known.succeededAt === undefined ? undefined : isoAt(known.succeededAt);
  if (await settleRefund(ctx, refund, "succeeded", undefined, succeededAt)) {
    return { resolution: "recovered", detail: `Refunded at WeChat Pay but ${refund.status} here; the refund query confirmed it and the refund is now succeeded.` };
  }
  const now = await findRefundWithProtocol(ctx.db, refund.id);
  if (now?.status === "succeeded") return { resolution: "recovered", detail: "Refunded at WeChat Pay; confirmed by the refund query, the refund succeeded meanwhile." };
  return flagged(`Refunded at WeChat Pay (confirmed by the refund query) but ${now?.status ?? refund.status} here, which a settlement cannot change: settle by hand.`);
}

/** Runs `work` over `items`, at most `limit` at a time, keeping their order in the answer. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      results[at] = await work(items[at] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
