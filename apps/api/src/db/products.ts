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

/** True when the catalogue has any product at all. */
export async function hasProducts(db: Kysely<Database>): Promise<boolean> {
  const rows = await db.selectFrom("products").select("id").limit(1).execute();
  return rows.length > 0;
}
