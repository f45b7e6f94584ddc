import type { Currency } from "@pay/core";
import type { Kysely } from "kysely";
import type { Database, ProductRow } from "./schema.js";

/** The demo catalogue: prices in fen (CNY minor units), seeded by `seedProducts`. */
export const DEFAULT_PRODUCTS: readonly ProductRow[] = [
  { id: "coffee-beans", name: "Coffee beans 250 g", price: 6800, currency: "CNY", active: 1, sort_order: 10 },
  { id: "mug", name: "Ceramic mug", price: 3990, currency: "CNY", active: 1, sort_order: 20 },
  { id: "tote", name: "Canvas tote bag", price: 2500, currency: "CNY", active: 1, sort_order: 30 },
  // One fen: a real payment that costs nothing to try end to end.
  { id: "test-item", name: "Payment test item", price: 1, currency: "CNY", active: 1, sort_order: 40 },
];

/** The products that can be ordered in `currency`, in catalogue order. */
export async function listActiveProducts(db: Kysely<Database>, currency: Currency): Promise<ProductRow[]> {
  return db.selectFrom("products").selectAll().where("active", "=", 1).where("currency", "=", currency).orderBy("sort_order").orderBy("id").execute();
}

/** The active products among `ids` (any currency: the caller checks it). */
export async function findActiveProducts(db: Kysely<Database>, ids: readonly string[]): Promise<ProductRow[]> {
  return db.selectFrom("products").selectAll().where("id", "in", ids).where("active", "=", 1).execute();
}

/** What placing an order reads: the buyer's openid and the active products among `ids` (any currency). */
export interface OrderingInputs {
  readonly openid: string;
  readonly products: readonly ProductRow[];
}

/**
 * The user's openid and the active products among `ids`, in one statement (a round trip fewer per
 * create-order on PostgreSQL): undefined when there is no such user.
 */
export async function findOrderingInputs(db: Kysely<Database>, userId: string, ids: readonly string[]): Promise<OrderingInputs | undefined> {
  const rows = await db
    .selectFrom("users as u")
    .leftJoin("products as p", (join) => join.on("p.id", "in", ids).on("p.active", "=", 1))
    .select(["u.openid", "p.id", "p.name", "p.price", "p.currency", "p.active", "p.sort_order"])
    .where("u.id", "=", userId)
    .execute();
  const [first] = rows;
  if (first === undefined) return undefined;
  const products: ProductRow[] = [];
  for (const row of rows) {
    // The left join's one row of NULLs when no product matched.
    if (row.id === null || row.name === null || row.price === null || row.currency === null || row.active === null || row.sort_order === null) continue;
    products.push({ id: row.id, name: row.name, price: row.price, currency: row.currency, active: row.active, sort_order: row.sort_order });
  }
  return { openid: first.openid, products };
}

/** True when the catalogue has any product at all. */
export async function hasProducts(db: Kysely<Database>): Promise<boolean> {
  const rows = await db.selectFrom("products").select("id").limit(1).execute();
  return rows.length > 0;
}
