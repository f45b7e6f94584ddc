import { TIMELINE_KINDS, type TimelineEntry, type TimelineKind } from "@pay/core/contract";
import type { Kysely } from "kysely";
import { findPaymentEvent, listOrderActivity, listOrderDeliveries, listOrderReconciliationItems, type OrderActivityRow } from "../../db/console-reads.js";
import type { Database, OrderRow, RefundRow } from "../../db/schema.js";

/** An entry with nothing but its time and kind; each source fills in the rest. */
function entry(at: string, kind: TimelineKind, fields: Partial<Omit<TimelineEntry, "at" | "kind">> = {}): TimelineEntry {
  return { at, kind, outcome: null, reason: null, detail: null, refundId: null, amount: null, currency: null, ...fields };
}

/** What order_activity's kinds are on the timeline. A successful close is the order's own `closed` entry; only a failed one comes from here. */
function activityEntry(row: OrderActivityRow): TimelineEntry | undefined {
  const fields = { outcome: row.outcome, reason: row.reason, detail: repeatedDetail(row), refundId: row.refund_id };
  switch (row.kind) {
    case "prepay":
      return entry(row.at, "prepay_issued", fields);
    case "pay_notify":
      return entry(row.at, "notify", fields);
    case "refund_notify":
      return entry(row.at, "refund_notify", fields);
    case "order_query":
    case "refund_query":
      return entry(row.at, "query", fields);
    case "close":
      return row.outcome === "closed" ? undefined : entry(row.at, "closed", fields);
  }
}

/** A row that stands for repeated notifies (services/activity.ts coalesces duplicates) says how many, and when the last came. */
function repeatedDetail(row: OrderActivityRow): string | null {
  if (row.repeats <= 1) return row.detail;
  const repeats = `received ${row.repeats} times, the last at ${row.last_at ?? row.at}`;
  return row.detail === null ? repeats : `${row.detail}; ${repeats}`;
}

/** Each kind's place among entries at the same instant: the order of TIMELINE_KINDS (created before prepay before notify before paid, …). */
const RANK: ReadonlyMap<TimelineKind, number> = new Map(TIMELINE_KINDS.map((kind, n) => [kind, n]));

/**
 * Everything that happened to an order, oldest first: the order row (created, closed), order_activity
 * (prepay issued, notifies, queries, refund notifies, failed closes), payment_events (paid), refunds
 * (requested, succeeded, failed), webhook deliveries of its events and the reconciliation differences
 * naming it. Entries at the same instant keep the order of TIMELINE_KINDS, then the order each source gave.
 */
export async function orderTimeline(db: Kysely<Database>, order: OrderRow, refunds: readonly RefundRow[]): Promise<TimelineEntry[]> {
  const [activity, payment, deliveries, differences] = await Promise.all([
    listOrderActivity(db, order.id),
    findPaymentEvent(db, order.id),
    listOrderDeliveries(db, order.id),
    listOrderReconciliationItems(db, order.id),
  ]);
  const money = { amount: order.total_fee, currency: order.fee_type };
  const entries: TimelineEntry[] = [entry(order.created_at, "created", { ...money, detail: order.body })];

  for (const row of activity) {
    const made = activityEntry(row);
    if (made !== undefined) entries.push(made);
  }
  // Orders from before order_activity existed: the prepay id on the row is all that says one was issued.
  if (order.prepay_id !== null && !activity.some((row) => row.kind === "prepay")) entries.push(entry(order.created_at, "prepay_issued", { outcome: "issued" }));

  if (payment !== undefined) {
    entries.push(entry(payment.created_at, "paid", { detail: payment.source, reason: null, amount: Number(payment.total_fee), currency: payment.fee_type }));
  } else if (order.paid_at !== null) {
    entries.push(entry(order.paid_at, "paid", money));
  }
  if (order.closed_at !== null) entries.push(entry(order.closed_at, "closed", { outcome: "closed" }));

  for (const refund of refunds) {
    const fields = { refundId: refund.id, amount: Number(refund.refund_fee), currency: refund.currency };
    entries.push(entry(refund.created_at, "refund_requested", { ...fields, detail: refund.reason }));
    if (refund.succeeded_at !== null) entries.push(entry(refund.succeeded_at, "refund_succeeded", { ...fields, outcome: "succeeded" }));
    if (refund.status === "closed" || refund.status === "abnormal")
      entries.push(entry(refund.updated_at, "refund_failed", { ...fields, outcome: refund.status, reason: refund.last_error }));
  }

  for (const delivery of deliveries) {
    const at = delivery.delivered_at ?? delivery.failed_at ?? delivery.last_attempt_at ?? delivery.created_at;
    const status = delivery.last_status === null ? "" : `, last status ${delivery.last_status}`;
    entries.push(
      entry(at, "event_delivery", {
        outcome: delivery.state,
        detail: `${delivery.event_type} to ${delivery.url} (${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}${status})`,
        refundId: delivery.refund_id,
      }),
    );
  }

  for (const item of differences) {
    const amount = item.our_amount ?? item.bill_amount;
    entries.push(
      entry(item.created_at, "reconciliation", {
        outcome: item.class,
        reason: item.resolution,
        detail: `${item.bill_date}: ${item.detail}`,
        refundId: item.refund_id,
        amount: amount === null ? null : Number(amount),
        currency: item.our_currency ?? item.bill_currency,
      }),
    );
  }

  // Array.prototype.sort is stable: same instant and kind keep the order their source gave.
  return entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : (RANK.get(a.kind) ?? 0) - (RANK.get(b.kind) ?? 0)));
}
