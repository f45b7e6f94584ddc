import { Migrator } from "kysely/migration";
import type { Kysely } from "kysely";
import { DatabaseError, describeError } from "./database.js";
import { MIGRATION_PROVIDER } from "./migrations.js";
import type { Database, ProductRow } from "./schema.js";

/**
 * Applies every pending migration and returns the names applied (none when already up to date).
 * Safe to run again, and from several processes at once on PostgreSQL: Kysely's migrator holds an
 * advisory lock while it works.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: MIGRATION_PROVIDER });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === "Error")?.migrationName;
    const reason = describeError(error);
    throw new DatabaseError("migration_failed", failed === undefined ? `database migrations could not run: ${reason}` : `database migration ${failed} failed: ${reason}`, {
      cause: error,
    });
  }
  return results.filter((result) => result.status === "Success").map((result) => result.migrationName);
}

/** Inserts the catalogue, or updates name, price, currency, active and sort order of products that exist (by id). */
export async function seedProducts(db: Kysely<Database>, products: readonly ProductRow[]): Promise<void> {
  for (const product of products) {
    if (product.id === "") throw new RangeError("a product needs a non-empty id");
    if (!Number.isSafeInteger(product.price) || product.price < 0) {
      throw new RangeError(`product ${product.id}: price must be a non-negative integer in minor units, got ${product.price}`);
    }
    if (product.active !== 0 && product.active !== 1) {
      throw new RangeError(`product ${product.id}: active must be 0 or 1, got ${product.active}`);
    }
  }
  if (products.length === 0) return;
  await db
    .insertInto("products")
    .values([...products])
    .onConflict((conflict) =>
      conflict.column("id").doUpdateSet((eb) => ({
        name: eb.ref("excluded.name"),
        price: eb.ref("excluded.price"),
        currency: eb.ref("excluded.currency"),
        active: eb.ref("excluded.active"),
        sort_order: eb.ref("excluded.sort_order"),
      })),
    )
    .execute();
}
