import { CompiledQuery, type Kysely } from "kysely";
import { createGroupCommit } from "./group-commit.js";
import type { Database, OrderRow } from "./schema.js";

/**
 * The order reads on the hot paths (every notify, every order lookup), compiled once per database
 * instead of built and compiled by Kysely on every call: the same SQL, a fraction of the CPU and
 * garbage. The SQL text stays fixed, so the driver prepares it once too.
 */
interface OrderReads {
  readonly byId: CompiledQuery<OrderRow>;
}

const compiled = new WeakMap<Kysely<Database>, OrderReads>();

function readsFor(db: Kysely<Database>): OrderReads {
  let reads = compiled.get(db);
  if (reads === undefined) {
    // The placeholder value is replaced by each call's parameter.
    reads = { byId: db.selectFrom("orders").selectAll().where("id", "=", "").compile() };
    compiled.set(db, reads);
  }
  return reads;
}

/** The order with this id (out_trade_no), which must exist: a re-read of a row already seen. */
export async function readOrder(db: Kysely<Database>, id: string): Promise<OrderRow> {
  const query = readsFor(db).byId;
  const result = await db.executeQuery<OrderRow>({ ...query, parameters: [id] });
  const order = result.rows[0];
  if (order === undefined) throw new Error(`No order ${id} in the database.`);
  return order;
}

/** Reads an order by id; see createOrderLoader. */
export type OrderLoader = (id: string) => Promise<OrderRow | undefined>;

/** Most ids one read carries. */
const MAX_READ_BATCH = 256;

export const POSTGRES_ORDERS_BY_IDS = 'select * from "orders" where "id" = any($1::text[])';

export const SQLITE_ORDERS_BY_IDS = 'select * from "orders" where "id" in (select value from json_each(?))';

/**
 * The notify path's order read. Reads asked for in the same turn of the event loop go to the database
 * as one statement, so a burst of notifies costs one round trip and one plan on PostgreSQL
 * (`id = any($1)`), and one statement with its read transaction on SQLite (`id in json_each(?)`),
 * instead of one each.
 */
export function createOrderLoader(db: Kysely<Database>, dialect: "sqlite" | "postgres"): OrderLoader {
  const query =
    dialect === "sqlite" ? (ids: string[]) => CompiledQuery.raw(SQLITE_ORDERS_BY_IDS, [JSON.stringify(ids)]) : (ids: string[]) => CompiledQuery.raw(POSTGRES_ORDERS_BY_IDS, [ids]);
  const group = createGroupCommit<string, OrderRow | undefined>({
    maxBatch: MAX_READ_BATCH,
    run: async (ids) => {
      const result = await db.executeQuery<OrderRow>(query([...new Set(ids)]));
      const byId = new Map(result.rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id));
    },
  });
  return (id) => group.submit(id);
}
