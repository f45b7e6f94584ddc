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

/** The products on sale in `currency`, in catalogue order. */
export async function listActiveProducts(db: Kysely<Database>, currency: Currency): Promise<ProductRow[]> {
  return db.selectFrom("products").selectAll().where("active", "=", 1).where("currency", "=", currency).orderBy("sort_order").orderBy("id").execute();
}
