// What `@pay/api/db` exports: the API's table types and how to open and migrate its database, for
// code outside the API that must write the API's own rows (the bench's bulk seeding). Types come
// from schema.ts, so a renamed or retyped column fails to compile there too.
import type { Insertable } from "kysely";
import type { PaymentEventsTable, UsersTable } from "./schema.js";

export type * from "./schema.js";
export { migrateToLatest, seedProducts } from "./migrate.js";
export { DEFAULT_PRODUCTS } from "./products.js";
export { openDatabase, type DatabaseDialect, type OpenDatabaseOptions, type OpenedDatabase } from "./database.js";

/** A payment_events row as inserted (its id is generated). */
export type NewPaymentEventRow = Insertable<PaymentEventsTable>;
/** A users row as inserted. */
export type NewUserRow = Insertable<UsersTable>;
// The paid writer's statements and batch, for the bench's measurement of what the outbox insert adds to a batch.
export { MAX_PAID_BATCH, POSTGRES_MARK_PAID, SQLITE_INSERT_ONE_EVENT, SQLITE_INSERT_ONE_OUTBOX, SQLITE_MARK_ONE_PAID, type PaidTransition } from "./paid-writer.js";
