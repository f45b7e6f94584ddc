import type { Kysely } from "kysely";
import type { Database } from "../../src/db/schema.js";

/** Every row that records money or state, in a stable order: equal snapshots mean nothing changed. */
export async function snapshotState(db: Kysely<Database>): Promise<string> {
  const [orders, events, refunds, users] = await Promise.all([
    db
      .selectFrom("orders")
      .select(["id", "status", "total_fee", "refunded_fee", "reserved_refund_fee", "transaction_id", "paid_at", "closed_at", "prepay_id"])
      .orderBy("id")
      .execute(),
    db.selectFrom("payment_events").selectAll().orderBy("order_id").execute(),
    db.selectFrom("refunds").select(["id", "order_id", "refund_fee", "status", "submitted", "refund_id"]).orderBy("id").execute(),
    db.selectFrom("users").select("id").orderBy("id").execute(),
  ]);
  return JSON.stringify({ orders, events, refunds, users });
}

/** Rows in payment_events for one order. */
export async function paidEvents(db: Kysely<Database>, orderId: string): Promise<number> {
  const rows = await db.selectFrom("payment_events").select("order_id").where("order_id", "=", orderId).execute();
  return rows.length;
}
