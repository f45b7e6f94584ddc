import { sql, type Kysely } from "kysely";
import { readOrder } from "./order-reads.js";
import type { Database, NewOrderRow, NewWebhookEventRow, OrderProtocolColumn, OrderRow } from "./schema.js";

// The orders table's queries. Every write that changes a row returns the row as written (RETURNING,
// on SQLite and PostgreSQL alike), so callers never re-read what they just wrote. Functions take the
// database or a transaction.

/**
 * Stores a new order and returns it as stored. A row that names its protocol leaves nothing to the
 * database's defaults but the two refund sums (0), so the stored row is built here instead of read back
 * with RETURNING * (on SQLite the read-back of the 31 columns cost about a tenth of the insert).
 */
export async function insertOrder(db: Kysely<Database>, row: NewOrderRow): Promise<OrderRow> {
  if (row.protocol === undefined) return db.insertInto("orders").values(row).returningAll().executeTakeFirstOrThrow();
  await db.insertInto("orders").values(row).execute();
  return storedOrder(row, row.protocol);
}

/** A new row as the table holds it after the insert: absent nullable columns are null, the refund sums 0. Every column is named, so a new one fails to compile here. */
function storedOrder(row: NewOrderRow, protocol: OrderProtocolColumn): OrderRow {
  return {
    id: row.id,
    user_id: row.user_id,
    status: row.status,
    total_fee: row.total_fee,
    fee_type: row.fee_type,
    refunded_fee: row.refunded_fee ?? 0,
    reserved_refund_fee: row.reserved_refund_fee ?? 0,
    items: row.items,
    body: row.body,
    idempotency_key: row.idempotency_key ?? null,
    request_hash: row.request_hash ?? null,
    appid: row.appid,
    mch_id: row.mch_id,
    sub_appid: row.sub_appid ?? null,
    sub_mch_id: row.sub_mch_id ?? null,
    openid: row.openid ?? null,
    sub_openid: row.sub_openid ?? null,
    sign_type: row.sign_type,
    spbill_create_ip: row.spbill_create_ip,
    notify_url: row.notify_url,
    time_start: row.time_start,
    time_expire: row.time_expire,
    prepay_id: row.prepay_id ?? null,
    prepay_expires_at: row.prepay_expires_at ?? null,
    transaction_id: row.transaction_id ?? null,
    paid_at: row.paid_at ?? null,
    closed_at: row.closed_at ?? null,
    expires_at: row.expires_at,
    last_queried_at: row.last_queried_at ?? null,
    created_at: row.created_at,
    updated_at: row.updated_at,
    protocol,
  };
}

/** The order with this id, if any. */
export async function findOrder(db: Kysely<Database>, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The user's order created under this Idempotency-Key, if any. */
export async function findOrderByIdempotencyKey(db: Kysely<Database>, userId: string, key: string): Promise<OrderRow | undefined> {
  return db.selectFrom("orders").selectAll().where("user_id", "=", userId).where("idempotency_key", "=", key).executeTakeFirst();
}

/**
 * Stores the prepay id handed out for `order` and when it stops being usable; returns the row as written.
 * When the row is still as the caller read it (pending, same updated_at and last_queried_at: every other
 * column changes only with those), the update is conditional on that and the row is built here; otherwise
 * (moved meanwhile) the update is unconditional and the row is read back, as it always was.
 */
export async function setPrepay(db: Kysely<Database>, order: OrderRow, prepay: { readonly prepayId: string; readonly expiresAt: string }, now: string): Promise<OrderRow> {
  const set = { prepay_id: prepay.prepayId, prepay_expires_at: prepay.expiresAt, updated_at: now };
  if (order.status === "pending") {
    const queried = order.last_queried_at;
    const unchanged = await db
      .updateTable("orders")
      .set(set)
      .where("id", "=", order.id)
      .where("status", "=", "pending")
      .where("updated_at", "=", order.updated_at)
      .where((eb) => (queried === null ? eb("last_queried_at", "is", null) : eb("last_queried_at", "=", queried)))
      .executeTakeFirst();
    if (unchanged.numUpdatedRows === 1n) return { ...order, ...set };
  }
  return db.updateTable("orders").set(set).where("id", "=", order.id).returningAll().executeTakeFirstOrThrow();
}

/**
 * Closes a pending order (a conditional update) and writes its order.closed event (`eventOf` the closed
 * row) in the same transaction; returns the order as it now stands, and whether this call closed it.
 */
export async function markOrderClosed(
  db: Kysely<Database>,
  id: string,
  now: string,
  eventOf: (closed: OrderRow) => NewWebhookEventRow,
): Promise<{ readonly order: OrderRow; readonly closed: boolean }> {
  const closed = await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("orders")
      .set({ status: "closed", closed_at: now, updated_at: now })
      .where("id", "=", id)
      .where("status", "=", "pending")
      .returningAll()
      .executeTakeFirst();
    if (row !== undefined) await insertOutboxEvents(trx, [eventOf(row)]);
    return row;
  });
  // Not pending any more: someone else moved it, and the caller gets it as they left it.
  return closed === undefined ? { order: await readOrder(db, id), closed: false } : { order: closed, closed: true };
}

/** Writes outbox rows; call it in the transaction of the change they report. */
export async function insertOutboxEvents(db: Kysely<Database>, rows: readonly NewWebhookEventRow[]): Promise<void> {
  if (rows.length > 0)
    await db
      .insertInto("webhook_events")
      .values([...rows])
      .execute();
}

/**
 * Claims the right to query the gateway about a pending order: a conditional update of
 * last_queried_at, so several API processes never query the same order at once. False when the
 * order is no longer pending or was queried after `threshold`.
 */
export async function claimOrderQuery(db: Kysely<Database>, id: string, now: string, threshold: string): Promise<boolean> {
  const claimed = await db
    .updateTable("orders")
    .set({ last_queried_at: now })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
    .executeTakeFirst();
  return claimed.numUpdatedRows === 1n;
}

/** Notes a query of the gateway about an order that was not claimed (a forced one). */
export async function markOrderQueried(db: Kysely<Database>, id: string, now: string): Promise<void> {
  await db.updateTable("orders").set({ last_queried_at: now }).where("id", "=", id).execute();
}

/** Where a page of a user's orders starts: after this (created_at, id). */
export interface OrderCursor {
  readonly createdAt: string;
  readonly id: string;
}

/** A user's orders, newest first, after `cursor` (keyset pagination on created_at, id). */
export async function listOrdersOfUser(db: Kysely<Database>, userId: string, cursor: OrderCursor | undefined, limit: number): Promise<OrderRow[]> {
  let select = db.selectFrom("orders").selectAll().where("user_id", "=", userId);
  if (cursor !== undefined) {
    const { createdAt, id } = cursor;
    select = select.where((eb) => eb.or([eb("created_at", "<", createdAt), eb.and([eb("created_at", "=", createdAt), eb("id", "<", id)])]));
  }
  return select.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute();
}

/** Pending orders of these protocols whose time is up (expires_at at or before `now`), for the sweep to close. */
export async function expiredPendingOrders(db: Kysely<Database>, now: string, limit: number, protocols: readonly OrderProtocolColumn[]): Promise<OrderRow[]> {
  if (protocols.length === 0) return [];
  return db.selectFrom("orders").selectAll().where("status", "=", "pending").where("expires_at", "<=", now).where("protocol", "in", protocols).limit(limit).execute();
}

/**
 * Pending orders of these protocols created and last queried at or before `threshold`, oldest first: lost
 * notifies to look for. Orders of a protocol the process cannot query are left out, so they never fill a batch.
 */
export async function stalePendingOrders(db: Kysely<Database>, threshold: string, limit: number, protocols: readonly OrderProtocolColumn[]): Promise<OrderRow[]> {
  if (protocols.length === 0) return [];
  return db
    .selectFrom("orders")
    .selectAll()
    .where("status", "=", "pending")
    .where("protocol", "in", protocols)
    .where("created_at", "<=", threshold)
    .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
    .orderBy("created_at")
    .limit(limit)
    .execute();
}

/**
 * Reserves `refundFee` of a paid order: one conditional UPDATE, so concurrent refunds (in any number
 * of processes) can never reserve more than was paid. False when the amount does not fit.
 */
export async function reserveRefundFee(db: Kysely<Database>, orderId: string, refundFee: number, now: string): Promise<boolean> {
  const result = await db
    .updateTable("orders")
    .set({ reserved_refund_fee: sql<number>`reserved_refund_fee + ${refundFee}`, updated_at: now })
    .where("id", "=", orderId)
    .where("status", "=", "paid")
    .where(sql<boolean>`reserved_refund_fee + ${refundFee} <= total_fee`)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Adds a succeeded refund to the order; the refund that completes the total marks it refunded. Returns the order as updated. */
export async function addRefunded(db: Kysely<Database>, orderId: string, refundFee: number, now: string): Promise<OrderRow> {
  return db
    .updateTable("orders")
    .set({
      refunded_fee: sql<number>`refunded_fee + ${refundFee}`,
      status: sql<"paid" | "refunded">`case when refunded_fee + ${refundFee} >= total_fee then 'refunded' else status end`,
      updated_at: now,
    })
    .where("id", "=", orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Gives back the reservation of a refund that will not happen. */
export async function releaseRefundFee(db: Kysely<Database>, orderId: string, refundFee: number, now: string): Promise<void> {
  await db
    .updateTable("orders")
    .set({ reserved_refund_fee: sql<number>`reserved_refund_fee - ${refundFee}`, updated_at: now })
    .where("id", "=", orderId)
    .execute();
}
