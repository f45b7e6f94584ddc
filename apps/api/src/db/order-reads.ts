import type { CompiledQuery, Kysely } from "kysely";
import type { Database, OrderRow } from "./schema.js";

/**
 * The order reads on the hot paths (every notify, every order lookup), compiled once per database
 * instead of built and compiled by Kysely on every call: the same SQL, a fraction of the CPU and
 * garbage. The SQL text stays fixed, so the driver prepares it once too.
 */
interface OrderReads {
  readonly byId: CompiledQuery<OrderRow>;
  readonly byIdAndUser: CompiledQuery<OrderRow>;
}

const compiled = new WeakMap<Kysely<Database>, OrderReads>();

function readsFor(db: Kysely<Database>): OrderReads {
  let reads = compiled.get(db);
  if (reads === undefined) {
    // The placeholder values are replaced by each call's parameters.
    reads = {
      byId: db.selectFrom("orders").selectAll().where("id", "=", "").compile(),
      byIdAndUser: db.selectFrom("orders").selectAll().where("id", "=", "").where("user_id", "=", "").compile(),
    };
    compiled.set(db, reads);
  }
  return reads;
}

/** The order with this id (out_trade_no), if any. */
export async function findOrderById(db: Kysely<Database>, id: string): Promise<OrderRow | undefined> {
  const query = readsFor(db).byId;
  const result = await db.executeQuery<OrderRow>({ ...query, parameters: [id] });
  return result.rows[0];
}

/** The order with this id if this user owns it. */
export async function findOrderOfUser(db: Kysely<Database>, id: string, userId: string): Promise<OrderRow | undefined> {
  const query = readsFor(db).byIdAndUser;
  const result = await db.executeQuery<OrderRow>({ ...query, parameters: [id, userId] });
  return result.rows[0];
}
