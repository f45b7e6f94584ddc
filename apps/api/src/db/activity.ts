import type { Insertable, Kysely } from "kysely";
import type { Database, OrderActivityTable } from "./schema.js";

// The order_activity table's writes: what the timeline shows that no other table keeps.

export type NewOrderActivityRow = Insertable<OrderActivityTable>;

/** Inserts a batch of activity rows in one multi-row INSERT (one statement, one round trip). */
export async function insertActivity(db: Kysely<Database>, rows: readonly NewOrderActivityRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto("order_activity")
    .values([...rows])
    .execute();
}
