import { sql } from "kysely";
import type { ColumnDefinitionBuilder, Expression, Kysely, SqlBool } from "kysely";
import type { Migration, MigrationProvider } from "kysely/migration";
import { dialectOf } from "./database.js";

// Each migration is frozen once released: it describes the schema as it was then, so it takes an
// untyped Kysely and spells statuses out literally. A change (a new status, a column) is a new migration.
// The same statements run on SQLite and PostgreSQL; the only split is the generated payment_events.id.

/** `column in ('a', 'b', ...)`, for CHECK constraints. */
function oneOf(column: string, values: readonly string[]): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} in (${sql.join(values.map((value) => sql.lit(value)))})`;
}

/**
 * Runs the statements atomically on both databases. PostgreSQL: the migrator already wraps each
 * migration in a transaction. SQLite: Kysely does not, but SQLite's DDL is transactional, so a failed
 * migration leaves no half-made tables behind.
 */
async function atomically(db: Kysely<unknown>, body: (db: Kysely<unknown>) => Promise<void>): Promise<void> {
  if (db.isTransaction) return body(db);
  return db.transaction().execute(body);
}

const createTables: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const postgres = dialectOf(db) === "postgres";
    await atomically(db, async (db) => {
      await db.schema
        .createTable("users")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("openid", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addUniqueConstraint("users_openid_key", ["openid"])
        .execute();

      await db.schema
        .createTable("products")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("name", "text", (col) => col.notNull())
        .addColumn("price", "bigint", (col) => col.notNull())
        .addColumn("currency", "text", (col) => col.notNull())
        .addColumn("active", "integer", (col) => col.notNull().defaultTo(1))
        .addColumn("sort_order", "integer", (col) => col.notNull().defaultTo(0))
        .addCheckConstraint("products_price_check", sql`price >= 0`)
        .addCheckConstraint("products_active_check", sql`active in (0, 1)`)
        .execute();

      await db.schema
        .createTable("orders")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("user_id", "text", (col) => col.notNull())
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("total_fee", "bigint", (col) => col.notNull())
        .addColumn("fee_type", "text", (col) => col.notNull())
        .addColumn("refunded_fee", "bigint", (col) => col.notNull().defaultTo(0))
        .addColumn("reserved_refund_fee", "bigint", (col) => col.notNull().defaultTo(0))
        .addColumn("items", "text", (col) => col.notNull())
        .addColumn("body", "text", (col) => col.notNull())
        .addColumn("idempotency_key", "text")
        .addColumn("request_hash", "text")
        .addColumn("appid", "text", (col) => col.notNull())
        .addColumn("mch_id", "text", (col) => col.notNull())
        .addColumn("sub_appid", "text")
        .addColumn("sub_mch_id", "text")
        .addColumn("openid", "text")
        .addColumn("sub_openid", "text")
        .addColumn("sign_type", "text", (col) => col.notNull())
        .addColumn("spbill_create_ip", "text", (col) => col.notNull())
        .addColumn("notify_url", "text", (col) => col.notNull())
        .addColumn("time_start", "text", (col) => col.notNull())
        .addColumn("time_expire", "text", (col) => col.notNull())
        .addColumn("prepay_id", "text")
        .addColumn("prepay_expires_at", "text")
        .addColumn("transaction_id", "text")
        .addColumn("paid_at", "text")
        .addColumn("closed_at", "text")
        .addColumn("expires_at", "text", (col) => col.notNull())
        .addColumn("last_queried_at", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addForeignKeyConstraint("orders_user_id_fkey", ["user_id"], "users", ["id"])
        // NULL keys never collide, so orders created without an Idempotency-Key are not constrained.
        .addUniqueConstraint("orders_user_idempotency_key", ["user_id", "idempotency_key"])
        .addUniqueConstraint("orders_transaction_id_key", ["transaction_id"])
        .addCheckConstraint("orders_status_check", oneOf("status", ["pending", "paid", "closed", "refunded"]))
        .addCheckConstraint("orders_total_fee_check", sql`total_fee >= 0`)
        .addCheckConstraint("orders_refunded_fee_check", sql`refunded_fee >= 0 and refunded_fee <= reserved_refund_fee`)
        .addCheckConstraint("orders_reserved_refund_fee_check", sql`reserved_refund_fee >= 0 and reserved_refund_fee <= total_fee`)
        .execute();

      await db.schema
        .createTable("payment_events")
        .addColumn("id", postgres ? "bigint" : "integer", (col) =>
          // SQLite: INTEGER PRIMARY KEY is the rowid, assigned on insert.
          postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey(),
        )
        .addColumn("order_id", "text", (col) => col.notNull())
        .addColumn("source", "text", (col) => col.notNull())
        .addColumn("transaction_id", "text", (col) => col.notNull())
        .addColumn("total_fee", "bigint", (col) => col.notNull())
        .addColumn("fee_type", "text", (col) => col.notNull())
        .addColumn("cash_fee", "bigint")
        .addColumn("cash_fee_type", "text")
        .addColumn("raw", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addForeignKeyConstraint("payment_events_order_id_fkey", ["order_id"], "orders", ["id"])
        // The once-only paid transition: a second notify or query for the same order cannot insert.
        .addUniqueConstraint("payment_events_order_id_key", ["order_id"])
        .addCheckConstraint("payment_events_source_check", oneOf("source", ["notify", "query"]))
        .addCheckConstraint("payment_events_total_fee_check", sql`total_fee >= 0`)
        .addCheckConstraint("payment_events_cash_fee_check", sql`cash_fee >= 0`)
        .execute();

      await db.schema
        .createTable("refunds")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("order_id", "text", (col) => col.notNull())
        .addColumn("request_key", "text", (col) => col.notNull())
        .addColumn("refund_fee", "bigint", (col) => col.notNull())
        .addColumn("currency", "text", (col) => col.notNull())
        .addColumn("status", "text", (col) => col.notNull())
        .addColumn("reason", "text")
        .addColumn("submitted", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("refund_id", "text")
        .addColumn("last_error", "text")
        .addColumn("last_queried_at", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addColumn("succeeded_at", "text")
        .addForeignKeyConstraint("refunds_order_id_fkey", ["order_id"], "orders", ["id"])
        .addUniqueConstraint("refunds_request_key_key", ["request_key"])
        .addCheckConstraint("refunds_status_check", oneOf("status", ["processing", "succeeded", "closed", "abnormal"]))
        .addCheckConstraint("refunds_refund_fee_check", sql`refund_fee >= 0`)
        .addCheckConstraint("refunds_submitted_check", sql`submitted in (0, 1)`)
        .execute();

      // A user's order list, newest first.
      await db.schema.createIndex("orders_user_created_idx").on("orders").columns(["user_id", "created_at desc"]).execute();
      // The background sweep: pending orders not queried lately, and pending orders past expiry.
      await db.schema.createIndex("orders_status_queried_idx").on("orders").columns(["status", "last_queried_at"]).execute();
      await db.schema.createIndex("orders_status_expires_idx").on("orders").columns(["status", "expires_at"]).execute();
      await db.schema.createIndex("refunds_order_id_idx").on("refunds").column("order_id").execute();
      await db.schema.createIndex("refunds_status_queried_idx").on("refunds").columns(["status", "last_queried_at"]).execute();
    });
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      for (const table of ["refunds", "payment_events", "orders", "products", "users"]) {
        await db.schema.dropTable(table).execute();
      }
    });
  },
};

/**
 * Orders record the WeChat Pay API version they were placed with (v2 or v3), so query, close, refund, the
 * sweep and the notify routes use the order's own. Every order placed before this column was a v2 one: the
 * default fills them in, and stays (an older process placing an order during a rolling deploy is a v2 one).
 * SQLite checks the new CHECK constraint against the existing rows, PostgreSQL validates it likewise.
 */
const addOrderProtocol: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      await db.schema
        .alterTable("orders")
        .addColumn("protocol", "text", (col) =>
          col
            .notNull()
            .defaultTo("v2")
            .check(oneOf("protocol", ["v2", "v3"])),
        )
        .execute();
    });
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      await db.schema.alterTable("orders").dropColumn("protocol").execute();
    });
  },
};

/**
 * Order events for the shop's own systems (docs/webhooks.md): the outbox (webhook_events, written in the
 * transaction of each change), the endpoints events go to, and one delivery per event and endpoint.
 */
const addWebhooks: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const postgres = dialectOf(db) === "postgres";
    // SQLite: AUTOINCREMENT, so a seq is never reused even if the newest row were deleted.
    const serial = (col: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement());
    await atomically(db, async (db) => {
      await db.schema
        .createTable("webhook_events")
        .addColumn("seq", postgres ? "bigint" : "integer", serial)
        .addColumn("id", "text", (col) => col.notNull())
        .addColumn("type", "text", (col) => col.notNull())
        .addColumn("order_id", "text", (col) => col.notNull())
        .addColumn("refund_id", "text")
        .addColumn("payload", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("fanned_out", "integer", (col) => col.notNull().defaultTo(0))
        .addUniqueConstraint("webhook_events_id_key", ["id"])
        .addForeignKeyConstraint("webhook_events_order_id_fkey", ["order_id"], "orders", ["id"])
        .addForeignKeyConstraint("webhook_events_refund_id_fkey", ["refund_id"], "refunds", ["id"])
        .addCheckConstraint("webhook_events_type_check", oneOf("type", ["order.paid", "order.closed", "order.refunded", "refund.succeeded", "refund.failed"]))
        .addCheckConstraint("webhook_events_fanned_out_check", sql`fanned_out in (0, 1)`)
        .execute();

      await db.schema
        .createTable("webhook_endpoints")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("url", "text", (col) => col.notNull())
        .addColumn("description", "text")
        .addColumn("event_types", "text", (col) => col.notNull())
        .addColumn("secret", "text", (col) => col.notNull())
        .addColumn("previous_secret", "text")
        .addColumn("previous_secret_expires_at", "text")
        .addColumn("enabled", "integer", (col) => col.notNull().defaultTo(1))
        .addColumn("source", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addCheckConstraint("webhook_endpoints_enabled_check", sql`enabled in (0, 1)`)
        .addCheckConstraint("webhook_endpoints_source_check", oneOf("source", ["api", "env"]))
        .execute();

      await db.schema
        .createTable("webhook_deliveries")
        .addColumn("id", postgres ? "bigint" : "integer", serial)
        .addColumn("endpoint_id", "text", (col) => col.notNull())
        .addColumn("event_id", "text", (col) => col.notNull())
        .addColumn("event_seq", "bigint", (col) => col.notNull())
        .addColumn("order_id", "text", (col) => col.notNull())
        .addColumn("state", "text", (col) => col.notNull())
        .addColumn("attempts", "integer", (col) => col.notNull().defaultTo(0))
        .addColumn("next_attempt_at", "text", (col) => col.notNull())
        .addColumn("expires_at", "text", (col) => col.notNull())
        .addColumn("lease_owner", "text")
        .addColumn("lease_expires_at", "text")
        .addColumn("last_attempt_at", "text")
        .addColumn("last_status", "integer")
        .addColumn("last_error", "text")
        .addColumn("delivered_at", "text")
        .addColumn("failed_at", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addForeignKeyConstraint("webhook_deliveries_endpoint_id_fkey", ["endpoint_id"], "webhook_endpoints", ["id"])
        .addForeignKeyConstraint("webhook_deliveries_event_id_fkey", ["event_id"], "webhook_events", ["id"])
        .addUniqueConstraint("webhook_deliveries_endpoint_event_key", ["endpoint_id", "event_id"])
        .addCheckConstraint("webhook_deliveries_state_check", oneOf("state", ["pending", "delivered", "failed"]))
        .addCheckConstraint("webhook_deliveries_attempts_check", sql`attempts >= 0`)
        .execute();

      // Events not yet fanned out to deliveries, oldest first (a partial index stays as small as the backlog).
      await db.schema.createIndex("webhook_events_unfanned_idx").on("webhook_events").column("seq").where(sql.ref("fanned_out"), "=", 0).execute();
      // The events of one order in order (ordering checks, replays).
      await db.schema.createIndex("webhook_events_order_seq_idx").on("webhook_events").columns(["order_id", "seq"]).execute();
      await db.schema.createIndex("webhook_events_created_idx").on("webhook_events").column("created_at").execute();
      // Due deliveries, and the earlier pending deliveries of one order to one endpoint.
      await db.schema.createIndex("webhook_deliveries_due_idx").on("webhook_deliveries").columns(["state", "next_attempt_at"]).execute();
      await db.schema.createIndex("webhook_deliveries_order_idx").on("webhook_deliveries").columns(["endpoint_id", "order_id", "event_seq"]).execute();
      await db.schema.createIndex("webhook_deliveries_event_idx").on("webhook_deliveries").column("event_id").execute();
      // The claim's ordering check, per candidate: is an earlier delivery of this order to this endpoint still pending?
      // Partial, so the answer never walks every pending delivery of a large backlog.
      await db.schema
        .createIndex("webhook_deliveries_pending_order_idx")
        .on("webhook_deliveries")
        .columns(["endpoint_id", "order_id", "event_seq"])
        .where(sql.ref("state"), "=", "pending")
        .execute();
    });
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      for (const table of ["webhook_deliveries", "webhook_endpoints", "webhook_events"]) {
        await db.schema.dropTable(table).execute();
      }
    });
  },
};

/**
 * Daily reconciliation (docs/reconciliation.md): one row per Beijing day with its lease and result, the
 * differences found, and the bill's lines while a run compares them (staging, keyed by the run's
 * attempt, emptied when the run ends). Payments and refunds get an index on the time they settled here,
 * for "recorded here, absent from the bill".
 */
const addReconciliation: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const postgres = dialectOf(db) === "postgres";
    const serial = (col: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement());
    await atomically(db, async (db) => {
      await db.schema
        .createTable("reconciliation_runs")
        .addColumn("bill_date", "text", (col) => col.primaryKey())
        .addColumn("state", "text", (col) => col.notNull())
        .addColumn("trigger", "text", (col) => col.notNull())
        .addColumn("attempt", "integer", (col) => col.notNull())
        .addColumn("lease_owner", "text")
        .addColumn("lease_expires_at", "text")
        .addColumn("started_at", "text", (col) => col.notNull())
        .addColumn("finished_at", "text")
        .addColumn("error_code", "text")
        .addColumn("error_message", "text")
        .addColumn("next_attempt_at", "text")
        .addColumn("bill", "text")
        .addColumn("protocol", "text")
        .addColumn("totals", "text")
        .addColumn("differences", "text")
        .addColumn("result_at", "text")
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addCheckConstraint("reconciliation_runs_state_check", oneOf("state", ["running", "succeeded", "failed"]))
        .addCheckConstraint("reconciliation_runs_trigger_check", oneOf("trigger", ["schedule", "admin", "cli"]))
        .addCheckConstraint("reconciliation_runs_bill_check", sql`bill is null or ${oneOf("bill", ["file", "none"])}`)
        .addCheckConstraint("reconciliation_runs_attempt_check", sql`attempt >= 1`)
        .execute();

      await db.schema
        .createTable("reconciliation_items")
        .addColumn("id", postgres ? "bigint" : "integer", serial)
        .addColumn("bill_date", "text", (col) => col.notNull())
        .addColumn("class", "text", (col) => col.notNull())
        .addColumn("resolution", "text", (col) => col.notNull())
        .addColumn("order_id", "text")
        .addColumn("refund_id", "text")
        .addColumn("transaction_id", "text")
        .addColumn("bill_line", "integer")
        .addColumn("bill_amount", "bigint")
        .addColumn("bill_currency", "text")
        .addColumn("our_amount", "bigint")
        .addColumn("our_currency", "text")
        .addColumn("detail", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addForeignKeyConstraint("reconciliation_items_bill_date_fkey", ["bill_date"], "reconciliation_runs", ["bill_date"])
        .addCheckConstraint(
          "reconciliation_items_class_check",
          oneOf("class", [
            "paid_not_recorded",
            "unknown_payment",
            "payment_missing_from_bill",
            "refund_not_recorded",
            "unknown_refund",
            "refund_missing_from_bill",
            "amount_mismatch",
            "currency_mismatch",
            "transaction_mismatch",
            "unexpected_row",
            "summary_mismatch",
          ]),
        )
        .addCheckConstraint("reconciliation_items_resolution_check", oneOf("resolution", ["recovered", "flagged"]))
        .execute();

      await db.schema
        .createTable("reconciliation_bill_rows")
        .addColumn("bill_date", "text", (col) => col.notNull())
        .addColumn("attempt", "integer", (col) => col.notNull())
        .addColumn("line", "integer", (col) => col.notNull())
        .addColumn("kind", "text", (col) => col.notNull())
        .addColumn("order_id", "text", (col) => col.notNull())
        .addColumn("refund_id", "text")
        .addColumn("transaction_id", "text")
        .addColumn("gateway_refund_id", "text")
        .addColumn("amount", "bigint", (col) => col.notNull())
        .addColumn("currency", "text", (col) => col.notNull())
        .addColumn("fee", "bigint")
        .addColumn("state", "text", (col) => col.notNull())
        .addPrimaryKeyConstraint("reconciliation_bill_rows_pkey", ["bill_date", "attempt", "line"])
        .addCheckConstraint("reconciliation_bill_rows_kind_check", oneOf("kind", ["payment", "refund", "other"]))
        .execute();

      await db.schema.createIndex("reconciliation_items_date_idx").on("reconciliation_items").columns(["bill_date", "id"]).execute();
      await db.schema.createIndex("reconciliation_items_order_idx").on("reconciliation_items").column("order_id").execute();
      await db.schema.createIndex("reconciliation_bill_rows_order_idx").on("reconciliation_bill_rows").columns(["bill_date", "attempt", "kind", "order_id"]).execute();
      await db.schema.createIndex("reconciliation_bill_rows_refund_idx").on("reconciliation_bill_rows").columns(["bill_date", "attempt", "kind", "refund_id"]).execute();
      // A day's payments and refunds as recorded here. Partial: pending orders and processing refunds never enter it.
      await db.schema.createIndex("orders_paid_at_idx").on("orders").column("paid_at").where(sql.ref("paid_at"), "is not", null).execute();
      await db.schema.createIndex("refunds_succeeded_at_idx").on("refunds").column("succeeded_at").where(sql.ref("succeeded_at"), "is not", null).execute();
    });
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      await db.schema.dropIndex("refunds_succeeded_at_idx").execute();
      await db.schema.dropIndex("orders_paid_at_idx").execute();
      for (const table of ["reconciliation_bill_rows", "reconciliation_items", "reconciliation_runs"]) {
        await db.schema.dropTable(table).execute();
      }
    });
  },
};

/**
 * The merchant console: staff accounts and their sessions, the sign-in throttle, the audit log of operator
 * actions, what happened to an order that no other table keeps (notifies received, queries made), and the
 * indexes of the orders list.
 */
const addConsole: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    const postgres = dialectOf(db) === "postgres";
    const serial = (col: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement());
    await atomically(db, async (db) => {
      await db.schema
        .createTable("staff_accounts")
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("username", "text", (col) => col.notNull())
        // scrypt: "scrypt$N$r$p$salt$hash", base64url parts.
        .addColumn("password_hash", "text", (col) => col.notNull())
        .addColumn("role", "text", (col) => col.notNull())
        .addColumn("disabled_at", "text")
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("updated_at", "text", (col) => col.notNull())
        .addUniqueConstraint("staff_accounts_username_key", ["username"])
        .addCheckConstraint("staff_accounts_role_check", oneOf("role", ["viewer", "operator"]))
        .execute();

      await db.schema
        .createTable("staff_sessions")
        // SHA-256 of the cookie's token (hex): a leaked table cannot sign anyone in.
        .addColumn("id", "text", (col) => col.primaryKey())
        .addColumn("staff_id", "text", (col) => col.notNull())
        // SHA-256 of the session's CSRF token (hex).
        .addColumn("csrf_hash", "text", (col) => col.notNull())
        .addColumn("created_at", "text", (col) => col.notNull())
        .addColumn("expires_at", "text", (col) => col.notNull())
        .addColumn("last_seen_at", "text", (col) => col.notNull())
        .addColumn("revoked_at", "text")
        .addColumn("ip", "text")
        .addColumn("user_agent", "text")
        .addForeignKeyConstraint("staff_sessions_staff_id_fkey", ["staff_id"], "staff_accounts", ["id"])
        .execute();

      await db.schema
        .createTable("staff_sign_in_failures")
        // "user:<username>" or "ip:<address>": both are slowed down.
        .addColumn("key", "text", (col) => col.primaryKey())
        .addColumn("failures", "integer", (col) => col.notNull())
        .addColumn("first_failed_at", "text", (col) => col.notNull())
        .addColumn("last_failed_at", "text", (col) => col.notNull())
        .addColumn("blocked_until", "text")
        .execute();

      await db.schema
        .createTable("audit_log")
        .addColumn("id", postgres ? "bigint" : "integer", serial)
        .addColumn("at", "text", (col) => col.notNull())
        .addColumn("actor_kind", "text", (col) => col.notNull())
        .addColumn("actor_id", "text")
        .addColumn("actor_name", "text")
        .addColumn("action", "text", (col) => col.notNull())
        .addColumn("target", "text")
        .addColumn("idempotency_key", "text")
        .addColumn("outcome", "text", (col) => col.notNull())
        // JSON object of scalars: the request's fields that matter, never a secret.
        .addColumn("detail", "text", (col) => col.notNull())
        .addColumn("ip", "text")
        .addCheckConstraint("audit_log_actor_kind_check", oneOf("actor_kind", ["staff", "token"]))
        .execute();

      await db.schema
        .createTable("order_activity")
        .addColumn("id", postgres ? "bigint" : "integer", serial)
        // Null for a refused notify whose order could not be trusted or found.
        .addColumn("order_id", "text")
        .addColumn("refund_id", "text")
        .addColumn("at", "text", (col) => col.notNull())
        .addColumn("kind", "text", (col) => col.notNull())
        .addColumn("protocol", "text")
        .addColumn("outcome", "text", (col) => col.notNull())
        .addColumn("reason", "text")
        .addColumn("detail", "text")
        .addCheckConstraint("order_activity_kind_check", oneOf("kind", ["pay_notify", "refund_notify", "order_query", "refund_query", "prepay", "close"]))
        .execute();

      await db.schema.createIndex("staff_sessions_staff_idx").on("staff_sessions").column("staff_id").execute();
      await db.schema.createIndex("audit_log_at_idx").on("audit_log").columns(["at", "id"]).execute();
      await db.schema.createIndex("order_activity_order_idx").on("order_activity").columns(["order_id", "id"]).execute();
      await db.schema.createIndex("order_activity_kind_at_idx").on("order_activity").columns(["kind", "outcome", "at"]).execute();
      // The console's orders list: newest first, with or without a status, keyset-paged by (created_at, id).
      await db.schema.createIndex("orders_status_created_idx").on("orders").columns(["status", "created_at", "id"]).execute();
      await db.schema.createIndex("orders_created_idx").on("orders").columns(["created_at", "id"]).execute();
      // Search by the payer.
      await db.schema.createIndex("orders_openid_idx").on("orders").columns(["openid", "created_at"]).execute();
      // In institutional mode (sub-merchant) the payer is sub_openid: searched the same way.
      await db.schema.createIndex("orders_sub_openid_idx").on("orders").columns(["sub_openid", "created_at"]).execute();
    });
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      for (const index of ["orders_sub_openid_idx", "orders_openid_idx", "orders_created_idx", "orders_status_created_idx"]) await db.schema.dropIndex(index).execute();
      for (const table of ["order_activity", "audit_log", "staff_sign_in_failures", "staff_sessions", "staff_accounts"]) {
        await db.schema.dropTable(table).execute();
      }
    });
  },
};

/**
 * Repeated duplicate notifies of one order share one order_activity row (services/activity.ts): `repeats`
 * counts the notifies the row stands for (1 for every row before this), `last_at` is when the last of them
 * arrived (null while there was one). The timeline shows the count.
 */
const addActivityRepeats: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      await db.schema
        .alterTable("order_activity")
        .addColumn("repeats", "integer", (col) =>
          col
            .notNull()
            .defaultTo(1)
            .check(sql`repeats >= 1`),
        )
        .execute();
      await db.schema.alterTable("order_activity").addColumn("last_at", "text").execute();
    });
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await atomically(db, async (db) => {
      await db.schema.alterTable("order_activity").dropColumn("last_at").execute();
      await db.schema.alterTable("order_activity").dropColumn("repeats").execute();
    });
  },
};

/**
 * Issue 21: the public routes' rate limits, counted in the database so every process shares them. One row
 * per key (`orders:<user id>`, `sign-ins:<address>`): its GCRA theoretical arrival time in ms. No index but the
 * key: the check's upsert finds its row by it, and the bounded prune scans a table that only holds recent keys.
 */
const addRateLimits: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("rate_limits")
      .addColumn("key", "text", (col) => col.primaryKey())
      .addColumn("tat", "bigint", (col) => col.notNull())
      .execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable("rate_limits").execute();
  },
};

/** Every migration, by name; names sort in the order they apply. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001_create_tables": createTables,
  "0002_order_protocol": addOrderProtocol,
  "0003_webhooks": addWebhooks,
  "0004_reconciliation": addReconciliation,
  "0005_console": addConsole,
  "0006_activity_repeats": addActivityRepeats,
  "0007_rate_limits": addRateLimits,
};

/** The migrations from code (no files read at run time, so the build output is self-contained). */
export const MIGRATION_PROVIDER: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
