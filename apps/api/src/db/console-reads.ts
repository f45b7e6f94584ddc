import type { Currency } from "@pay/core";
import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from "kysely";
import type { Database, OrderActivityTable, OrderRow, OrderStatusColumn, RefundRow, WebhookDeliveryState } from "./schema.js";

// Every query of the merchant console's read side: the orders list (and the CSV export, which pages
// through the same query), one order's timeline sources, and the overview's figures. Each is one
// exported function so the plan tests and the bench run exactly the SQL the API runs.

/** The orders list's filters, already in database terms (the Beijing days turned into UTC bounds on created_at). */
export interface OrderListFilter {
  readonly status?: OrderStatusColumn | undefined;
  /** created_at at or after this instant (ISO UTC). */
  readonly createdFrom?: string | undefined;
  /** created_at before this instant (ISO UTC). */
  readonly createdBefore?: string | undefined;
  /** An exact order id, transaction id, openid or sub_openid. */
  readonly q?: string | undefined;
}

/** Where a page starts: strictly after (older than) this order in the list's order (created_at desc, id desc). */
export interface OrderListPosition {
  readonly createdAt: string;
  readonly id: string;
}

/**
 * The orders list as one query, newest first, keyset-paged on (created_at, id). Which index answers it:
 * `q` → the primary key, orders_transaction_id_key, orders_openid_idx and orders_sub_openid_idx (an OR
 * of exact matches, each found by its index); a status → orders_status_created_idx read backwards from
 * the page's position; otherwise orders_created_idx read backwards (a date range bounds it).
 */
export function orderListQuery(
  db: Kysely<Database>,
  filter: OrderListFilter,
  after: OrderListPosition | undefined,
  limit: number,
): SelectQueryBuilder<Database, "orders", OrderRow> {
  let query = db.selectFrom("orders").selectAll();
  const { q } = filter;
  if (q !== undefined) query = query.where((eb) => eb.or([eb("id", "=", q), eb("transaction_id", "=", q), eb("openid", "=", q), eb("sub_openid", "=", q)]));
  if (filter.status !== undefined) query = query.where("status", "=", filter.status);
  if (filter.createdFrom !== undefined) query = query.where("created_at", ">=", filter.createdFrom);
  if (filter.createdBefore !== undefined) query = query.where("created_at", "<", filter.createdBefore);
  if (after !== undefined) query = query.where(sql<boolean>`(created_at, id) < (${after.createdAt}, ${after.id})`);
  return query.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit);
}

/** One page of the orders list (see orderListQuery). */
export async function listOrderRows(db: Kysely<Database>, filter: OrderListFilter, after: OrderListPosition | undefined, limit: number): Promise<OrderRow[]> {
  return orderListQuery(db, filter, after, limit).execute();
}

/** Any order by id, whoever placed it. */
export async function findOrderRow(db: Kysely<Database>, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst();
}

/** An order's refunds, oldest first (refunds_order_id_idx). */
export async function listOrderRefunds(db: Kysely<Database>, orderId: string): Promise<RefundRow[]> {
  return db.selectFrom("refunds").selectAll().where("order_id", "=", orderId).orderBy("created_at", "asc").orderBy("id", "asc").execute();
}

export type OrderActivityRow = Selectable<OrderActivityTable>;

/** What order_activity recorded about an order, in the order it was written (order_activity_order_idx). */
export async function listOrderActivity(db: Kysely<Database>, orderId: string): Promise<OrderActivityRow[]> {
  return db.selectFrom("order_activity").selectAll().where("order_id", "=", orderId).orderBy("id", "asc").execute();
}

/** How the order became paid, if it did (payment_events_order_id_key). */
export async function findPaymentEvent(
  db: Kysely<Database>,
  orderId: string,
): Promise<{ source: "notify" | "query"; transaction_id: string; total_fee: number; fee_type: Currency; created_at: string } | undefined> {
  return db.selectFrom("payment_events").select(["source", "transaction_id", "total_fee", "fee_type", "created_at"]).where("order_id", "=", orderId).executeTakeFirst();
}

export interface OrderDeliveryRow {
  readonly id: number;
  readonly event_type: string;
  readonly refund_id: string | null;
  readonly url: string;
  readonly state: WebhookDeliveryState;
  readonly attempts: number;
  readonly last_status: number | null;
  readonly created_at: string;
  readonly last_attempt_at: string | null;
  readonly delivered_at: string | null;
  readonly failed_at: string | null;
}

/** Every delivery of the order's events, to whichever endpoint (webhook_events_order_seq_idx, then webhook_deliveries_event_idx). */
export async function listOrderDeliveries(db: Kysely<Database>, orderId: string): Promise<OrderDeliveryRow[]> {
  const rows = await db
    .selectFrom("webhook_events as e")
    .innerJoin("webhook_deliveries as d", "d.event_id", "e.id")
    .innerJoin("webhook_endpoints as p", "p.id", "d.endpoint_id")
    .select([
      "d.id",
      "e.type as event_type",
      "e.refund_id",
      "p.url",
      "d.state",
      "d.attempts",
      "d.last_status",
      "d.created_at",
      "d.last_attempt_at",
      "d.delivered_at",
      "d.failed_at",
    ])
    .where("e.order_id", "=", orderId)
    .orderBy("e.seq", "asc")
    .orderBy("d.id", "asc")
    .execute();
  return rows.map((row) => ({ ...row, id: Number(row.id), attempts: Number(row.attempts) }));
}

/** The reconciliation differences that name the order (reconciliation_items_order_idx). */
export async function listOrderReconciliationItems(db: Kysely<Database>, orderId: string) {
  return db
    .selectFrom("reconciliation_items")
    .select(["id", "bill_date", "class", "resolution", "refund_id", "bill_amount", "bill_currency", "our_amount", "our_currency", "detail", "created_at"])
    .where("order_id", "=", orderId)
    .orderBy("id", "asc")
    .execute();
}

/** A count and a sum per currency. */
export interface CurrencyTotalRow {
  readonly currency: Currency;
  readonly count: number;
  readonly amount: number;
}

function totalsOf(rows: ReadonlyArray<{ currency: Currency; count: unknown; amount: unknown }>): CurrencyTotalRow[] {
  return rows.map((row) => ({ currency: row.currency, count: Number(row.count), amount: Number(row.amount) })).sort((a, b) => a.currency.localeCompare(b.currency));
}

/** Orders paid in [start, end) (ISO UTC), per currency (orders_paid_at_idx). */
export async function paymentTotals(db: Kysely<Database>, start: string, end: string): Promise<CurrencyTotalRow[]> {
  return totalsOf(await paymentTotalsQuery(db, start, end).execute());
}

export function paymentTotalsQuery(db: Kysely<Database>, start: string, end: string) {
  return db
    .selectFrom("orders")
    .select((eb) => ["fee_type as currency", eb.fn.countAll().as("count"), eb.fn.sum<number>("total_fee").as("amount")])
    .where("paid_at", ">=", start)
    .where("paid_at", "<", end)
    .groupBy("fee_type");
}

/** Refunds that succeeded in [start, end) (ISO UTC), per currency (refunds_succeeded_at_idx). */
export async function refundTotals(db: Kysely<Database>, start: string, end: string): Promise<CurrencyTotalRow[]> {
  return totalsOf(await refundTotalsQuery(db, start, end).execute());
}

export function refundTotalsQuery(db: Kysely<Database>, start: string, end: string) {
  return db
    .selectFrom("refunds")
    .select((eb) => ["currency", eb.fn.countAll().as("count"), eb.fn.sum<number>("refund_fee").as("amount")])
    .where("succeeded_at", ">=", start)
    .where("succeeded_at", "<", end)
    .groupBy("currency");
}

async function count(query: Promise<{ n: unknown } | undefined>): Promise<number> {
  return Number((await query)?.n ?? 0);
}

/** Refunds still processing or abnormal, of any day (refunds_status_queried_idx). */
export async function countOpenRefunds(db: Kysely<Database>): Promise<number> {
  return count(
    db
      .selectFrom("refunds")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("status", "in", ["processing", "abnormal"])
      .executeTakeFirst(),
  );
}

/** Pay and refund notifies refused in [start, end) (order_activity_kind_at_idx). */
export async function countRefusedNotifies(db: Kysely<Database>, start: string, end: string): Promise<number> {
  return count(refusedNotifiesQuery(db, start, end).executeTakeFirst());
}

export function refusedNotifiesQuery(db: Kysely<Database>, start: string, end: string) {
  return db
    .selectFrom("order_activity")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("kind", "in", ["pay_notify", "refund_notify"])
    .where("outcome", "=", "refused")
    .where("at", ">=", start)
    .where("at", "<", end);
}

/** Differences flagged for a person on the days from `from` to `to` (YYYY-MM-DD, both included): the items kept are those of each day's last successful run (reconciliation_items_date_idx). */
export async function countFlaggedDifferences(db: Kysely<Database>, from: string, to: string): Promise<number> {
  return count(
    db
      .selectFrom("reconciliation_items")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("bill_date", ">=", from)
      .where("bill_date", "<=", to)
      .where("resolution", "=", "flagged")
      .executeTakeFirst(),
  );
}

/** Days from `from` to `to` (both included) whose latest run failed (the primary key on bill_date). */
export async function countFailedDays(db: Kysely<Database>, from: string, to: string): Promise<number> {
  return count(
    db
      .selectFrom("reconciliation_runs")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("bill_date", ">=", from)
      .where("bill_date", "<=", to)
      .where("state", "=", "failed")
      .executeTakeFirst(),
  );
}

/** Deliveries pending and failed, and when the oldest pending one was made (webhook_deliveries_due_idx). */
export async function webhookBacklog(db: Kysely<Database>): Promise<{ pending: number; failed: number; oldestPendingAt: string | null }> {
  const rows = await webhookBacklogQuery(db).execute();
  const pending = rows.find((row) => row.state === "pending");
  const failed = rows.find((row) => row.state === "failed");
  return { pending: Number(pending?.n ?? 0), failed: Number(failed?.n ?? 0), oldestPendingAt: pending === undefined ? null : String(pending.oldest) };
}

export function webhookBacklogQuery(db: Kysely<Database>) {
  return db
    .selectFrom("webhook_deliveries")
    .select((eb) => ["state", eb.fn.countAll().as("n"), eb.fn.min("created_at").as("oldest")])
    .where("state", "in", ["pending", "failed"])
    .groupBy("state");
}
