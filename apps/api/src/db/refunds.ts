import type { Kysely } from "kysely";
import { isUniqueViolation } from "./errors.js";
import { addRefunded, insertOutboxEvents, releaseRefundFee, reserveRefundFee } from "./orders.js";
import type { Database, NewRefundRow, NewWebhookEventRow, OrderProtocolColumn, OrderRow, RefundRow, RefundStatusColumn } from "./schema.js";

// The refunds table's queries; a refund's settlement adjusts its order in the same transaction.

/** The refund with this id (out_refund_no), if any. */
export async function findRefund(db: Kysely<Database>, id: string): Promise<RefundRow | undefined> {
  return db.selectFrom("refunds").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The refund with this id with its order's protocol (the refund notify path), if any. */
export async function findRefundWithProtocol(db: Kysely<Database>, id: string): Promise<RefundWithProtocol | undefined> {
  return db
    .selectFrom("refunds")
    .innerJoin("orders", "orders.id", "refunds.order_id")
    .selectAll("refunds")
    .select("orders.protocol")
    .where("refunds.id", "=", id)
    .executeTakeFirst();
}

/** The refund an admin request with this Idempotency-Key created, if any. */
export async function findRefundByRequestKey(db: Kysely<Database>, requestKey: string): Promise<RefundRow | undefined> {
  return db.selectFrom("refunds").selectAll().where("request_key", "=", requestKey).executeTakeFirst();
}

export type ReserveRefundResult =
  | { readonly outcome: "reserved"; readonly refund: RefundRow }
  | { readonly outcome: "exceeds" }
  /** Another request stored a refund under the same request key first; `error` is the violation. */
  | { readonly outcome: "key-taken"; readonly error: unknown };

/** Unwinds the transaction when the reservation does not fit; never leaves this module. */
class ReservationRefused extends Error {}

/**
 * Stores a processing refund and reserves its amount on the paid order, in one transaction: both or
 * neither. The refund row first, the order second: the order in which settleRefundRow locks them, so
 * a request racing the settlement of its own key's refund waits instead of deadlocking (PostgreSQL).
 */
export async function insertReservedRefund(db: Kysely<Database>, row: NewRefundRow, now: string): Promise<ReserveRefundResult> {
  try {
    const refund = await db.transaction().execute(async (trx) => {
      const inserted = await trx.insertInto("refunds").values(row).returningAll().executeTakeFirstOrThrow();
      if (!(await reserveRefundFee(trx, row.order_id, row.refund_fee, now))) throw new ReservationRefused();
      return inserted;
    });
    return { outcome: "reserved", refund };
  } catch (error) {
    if (error instanceof ReservationRefused) return { outcome: "exceeds" };
    if (isUniqueViolation(error)) return { outcome: "key-taken", error };
    throw error;
  }
}

/** The gateway accepted the refund: it is submitted under the gateway's id. */
export async function markRefundSubmitted(db: Kysely<Database>, id: string, gatewayRefundId: string, now: string): Promise<RefundRow> {
  return db
    .updateTable("refunds")
    .set({ submitted: 1, refund_id: gatewayRefundId, last_error: null, updated_at: now })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Notes why a submission's outcome is unknown (kept reserved, retried later). */
export async function noteRefundError(db: Kysely<Database>, id: string, note: string, now: string): Promise<RefundRow> {
  return db.updateTable("refunds").set({ last_error: note, updated_at: now }).where("id", "=", id).returningAll().executeTakeFirstOrThrow();
}

/** A refund notify named the gateway's id for a refund: it was submitted, whatever we knew. */
export async function markRefundNotified(db: Kysely<Database>, id: string, gatewayRefundId: string): Promise<void> {
  await db.updateTable("refunds").set({ refund_id: gatewayRefundId, submitted: 1 }).where("id", "=", id).execute();
}

export interface RefundSettlement {
  readonly status: Exclude<RefundStatusColumn, "processing">;
  readonly now: string;
  /** When it succeeded (defaults to `now`). */
  readonly succeededAt?: string | undefined;
  /** Stored as last_error. */
  readonly note?: string | undefined;
}

/** The outbox rows of a settlement, built from the rows as the settlement leaves them. */
export interface SettlementEvents {
  /** refund.succeeded or refund.failed, of the settled refund. */
  readonly refund: (settled: RefundRow) => NewWebhookEventRow;
  /** order.refunded, of an order this settlement fully refunded. */
  readonly orderRefunded: (order: OrderRow) => NewWebhookEventRow;
}

/**
 * Moves a processing refund to its final status exactly once (conditional update), adjusting the
 * order in the same transaction: succeeded adds to refunded_fee (a full refund marks the order
 * refunded), closed releases the reservation, abnormal keeps it. Its events are written in the same
 * transaction, after the order's row (whose lock orders the events of one order). False when it was
 * not processing.
 */
export async function settleRefundRow(
  db: Kysely<Database>,
  refund: Pick<RefundRow, "id" | "order_id" | "refund_fee">,
  settlement: RefundSettlement,
  events: SettlementEvents,
): Promise<boolean> {
  const { status, now, succeededAt, note } = settlement;
  return db.transaction().execute(async (trx) => {
    const settled = await trx
      .updateTable("refunds")
      .set({ status, updated_at: now, succeeded_at: status === "succeeded" ? (succeededAt ?? now) : null, ...(note === undefined ? {} : { last_error: note }) })
      .where("id", "=", refund.id)
      .where("status", "=", "processing")
      .returningAll()
      .executeTakeFirst();
    if (settled === undefined) return false;
    const outbox = [events.refund(settled)];
    if (status === "succeeded") {
      const order = await addRefunded(trx, refund.order_id, refund.refund_fee, now);
      // This refund completed the total: the order became refunded now.
      if (order.status === "refunded" && order.refunded_fee - refund.refund_fee < order.total_fee) outbox.push(events.orderRefunded(order));
    } else if (status === "closed") await releaseRefundFee(trx, refund.order_id, refund.refund_fee, now);
    await insertOutboxEvents(trx, outbox);
    return true;
  });
}

/** A refund with the protocol of its order, which it goes through. */
export type RefundWithProtocol = RefundRow & { readonly protocol: OrderProtocolColumn };

/** Processing refunds of orders of these protocols, not queried since `threshold`, for the sweep. */
export async function processingRefunds(db: Kysely<Database>, threshold: string, limit: number, protocols: readonly OrderProtocolColumn[]): Promise<RefundWithProtocol[]> {
  if (protocols.length === 0) return [];
  return db
    .selectFrom("refunds")
    .innerJoin("orders", "orders.id", "refunds.order_id")
    .selectAll("refunds")
    .select("orders.protocol")
    .where("refunds.status", "=", "processing")
    .where("orders.protocol", "in", protocols)
    .where((eb) => eb.or([eb("refunds.last_queried_at", "is", null), eb("refunds.last_queried_at", "<=", threshold)]))
    .limit(limit)
    .execute();
}

/** Claims the right to query a processing refund (conditional update), so processes never query it twice at once. */
export async function claimRefundQuery(db: Kysely<Database>, id: string, now: string, threshold: string): Promise<boolean> {
  const claimed = await db
    .updateTable("refunds")
    .set({ last_queried_at: now })
    .where("id", "=", id)
    .where("status", "=", "processing")
    .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
    .executeTakeFirst();
  return claimed.numUpdatedRows === 1n;
}
