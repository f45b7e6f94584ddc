import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import type { Insertable, Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase } from "../../test/support/databases.js";
import type { TestDatabase } from "../../test/support/databases.js";
import { FIXTURE_NOW as NOW, pendingOrderRow, processingRefundRow } from "../../test/support/rows.js";
import { DatabaseError, constraintViolationOf, openDatabase } from "./database.js";
import type { ConstraintViolation } from "./database.js";
import { migrateToLatest, seedProducts } from "./migrate.js";
import { MIGRATIONS } from "./migrations.js";
import { DEFAULT_PRODUCTS } from "./products.js";
import type { Database, NewOrderRow, NewRefundRow, PaymentEventsTable, ProductRow } from "./schema.js";

// Every column of schema.ts, table by table: the compiler rejects a missing or extra key, so this
// pins the migrations to the Database interface.
const COLUMNS: { [T in keyof Database]: Record<keyof Database[T], true> } = {
  users: { id: true, openid: true, created_at: true },
  products: { id: true, name: true, price: true, currency: true, active: true, sort_order: true },
  orders: {
    id: true,
    user_id: true,
    status: true,
    total_fee: true,
    fee_type: true,
    refunded_fee: true,
    reserved_refund_fee: true,
    items: true,
    body: true,
    idempotency_key: true,
    request_hash: true,
    appid: true,
    mch_id: true,
    sub_appid: true,
    sub_mch_id: true,
    openid: true,
    sub_openid: true,
    sign_type: true,
    spbill_create_ip: true,
    notify_url: true,
    time_start: true,
    time_expire: true,
    prepay_id: true,
    prepay_expires_at: true,
    transaction_id: true,
    paid_at: true,
    closed_at: true,
    expires_at: true,
    last_queried_at: true,
    created_at: true,
    updated_at: true,
    protocol: true,
  },
  payment_events: {
    id: true,
    order_id: true,
    source: true,
    transaction_id: true,
    total_fee: true,
    fee_type: true,
    cash_fee: true,
    cash_fee_type: true,
    raw: true,
    created_at: true,
  },
  refunds: {
    id: true,
    order_id: true,
    request_key: true,
    refund_fee: true,
    currency: true,
    status: true,
    reason: true,
    submitted: true,
    refund_id: true,
    last_error: true,
    last_queried_at: true,
    created_at: true,
    updated_at: true,
    succeeded_at: true,
  },
  webhook_events: { seq: true, id: true, type: true, order_id: true, refund_id: true, payload: true, created_at: true, fanned_out: true },
  webhook_endpoints: {
    id: true,
    url: true,
    description: true,
    event_types: true,
    secret: true,
    previous_secret: true,
    previous_secret_expires_at: true,
    enabled: true,
    source: true,
    created_at: true,
    updated_at: true,
  },
  webhook_deliveries: {
    id: true,
    endpoint_id: true,
    event_id: true,
    event_seq: true,
    order_id: true,
    state: true,
    attempts: true,
    next_attempt_at: true,
    expires_at: true,
    lease_owner: true,
    lease_expires_at: true,
    last_attempt_at: true,
    last_status: true,
    last_error: true,
    delivered_at: true,
    failed_at: true,
    created_at: true,
    updated_at: true,
  },
  reconciliation_runs: {
    bill_date: true,
    state: true,
    trigger: true,
    attempt: true,
    lease_owner: true,
    lease_expires_at: true,
    started_at: true,
    finished_at: true,
    error_code: true,
    error_message: true,
    next_attempt_at: true,
    bill: true,
    protocol: true,
    totals: true,
    differences: true,
    result_at: true,
    updated_at: true,
  },
  reconciliation_items: {
    id: true,
    bill_date: true,
    class: true,
    resolution: true,
    order_id: true,
    refund_id: true,
    transaction_id: true,
    bill_line: true,
    bill_amount: true,
    bill_currency: true,
    our_amount: true,
    our_currency: true,
    detail: true,
    created_at: true,
  },
  reconciliation_bill_rows: {
    bill_date: true,
    attempt: true,
    line: true,
    kind: true,
    order_id: true,
    refund_id: true,
    transaction_id: true,
    gateway_refund_id: true,
    amount: true,
    currency: true,
    fee: true,
    state: true,
  },
  staff_accounts: { id: true, username: true, password_hash: true, role: true, disabled_at: true, created_at: true, updated_at: true },
  staff_sessions: { id: true, staff_id: true, csrf_hash: true, created_at: true, expires_at: true, last_seen_at: true, revoked_at: true, ip: true, user_agent: true },
  staff_sign_in_failures: { key: true, failures: true, first_failed_at: true, last_failed_at: true, blocked_until: true },
  audit_log: { id: true, at: true, actor_kind: true, actor_id: true, actor_name: true, action: true, target: true, idempotency_key: true, outcome: true, detail: true, ip: true },
  order_activity: { id: true, order_id: true, refund_id: true, at: true, kind: true, protocol: true, outcome: true, reason: true, detail: true, repeats: true, last_at: true },
  rate_limits: { key: true, tat: true },
};

const INDEXES = [
  "orders_user_created_idx",
  "orders_status_queried_idx",
  "orders_status_expires_idx",
  "refunds_order_id_idx",
  "refunds_status_queried_idx",
  "webhook_events_unfanned_idx",
  "webhook_events_order_seq_idx",
  "webhook_events_created_idx",
  "webhook_deliveries_due_idx",
  "webhook_deliveries_order_idx",
  "webhook_deliveries_event_idx",
  "webhook_deliveries_pending_order_idx",
  "reconciliation_items_date_idx",
  "reconciliation_items_order_idx",
  "reconciliation_bill_rows_order_idx",
  "reconciliation_bill_rows_refund_idx",
  "orders_paid_at_idx",
  "refunds_succeeded_at_idx",
  "staff_sessions_staff_idx",
  "audit_log_at_idx",
  "order_activity_order_idx",
  "order_activity_kind_at_idx",
  "orders_status_created_idx",
  "orders_created_idx",
  "orders_openid_idx",
  "orders_sub_openid_idx",
];

let sequence = 0;
const uniqueId = (prefix: string): string => `${prefix}_${(sequence += 1)}`;

async function insertUser(db: Kysely<Database>): Promise<string> {
  const id = uniqueId("user");
  await db
    .insertInto("users")
    .values({ id, openid: `openid_${id}`, created_at: NOW })
    .execute();
  return id;
}

function orderRow(userId: string, overrides: Partial<NewOrderRow> = {}): NewOrderRow {
  return pendingOrderRow(uniqueId("order"), userId, overrides);
}

async function insertOrder(db: Kysely<Database>, overrides: Partial<NewOrderRow> = {}): Promise<string> {
  const row = orderRow(overrides.user_id ?? (await insertUser(db)), overrides);
  await db.insertInto("orders").values(row).execute();
  return row.id;
}

function refundRow(orderId: string, overrides: Partial<NewRefundRow> = {}): NewRefundRow {
  return processingRefundRow(uniqueId("refund"), orderId, { request_key: uniqueId("key"), ...overrides });
}

function paymentEvent(orderId: string): Insertable<PaymentEventsTable> {
  return {
    order_id: orderId,
    source: "notify",
    transaction_id: uniqueId("tx"),
    total_fee: 6800,
    fee_type: "CNY",
    cash_fee: 6800,
    cash_fee_type: "CNY",
    raw: "{}",
    created_at: NOW,
  };
}

async function expectViolation(statement: Promise<unknown>, kind: ConstraintViolation): Promise<void> {
  const error = await statement.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error, `expected a ${kind} violation, but the statement succeeded`).toBeDefined();
  expect(constraintViolationOf(error)).toBe(kind);
}

async function indexNames(database: TestDatabase): Promise<string[]> {
  const query =
    database.dialect === "postgres"
      ? sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`
      : sql<{ name: string }>`select name from sqlite_master where type = 'index'`;
  const { rows } = await query.execute(database.db);
  return rows.map((row) => row.name);
}

describe.each(DATABASES)("database on %s", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });

  afterAll(async () => {
    // Unassigned when beforeAll failed.
    await (database as TestDatabase | undefined)?.close();
  });

  describe("migrations", () => {
    it("create every table, column and index of schema.ts, and a second run applies nothing", async () => {
      const fresh = await openTestDatabase(kind, { migrate: false });
      try {
        expect(fresh.dialect).toBe(kind);
        expect(await migrateToLatest(fresh.db)).toEqual([
          "0001_create_tables",
          "0002_order_protocol",
          "0003_webhooks",
          "0004_reconciliation",
          "0005_console",
          "0006_activity_repeats",
          "0007_rate_limits",
        ]);
        expect(await migrateToLatest(fresh.db)).toEqual([]);

        const tables = await fresh.db.introspection.getTables();
        const columnsByTable = Object.fromEntries(tables.map((table) => [table.name, table.columns.map((column) => column.name).sort()]));
        for (const [table, columns] of Object.entries(COLUMNS)) {
          expect(columnsByTable[table], table).toEqual(Object.keys(columns).sort());
        }
        expect(await indexNames(fresh)).toEqual(expect.arrayContaining(INDEXES));
      } finally {
        await fresh.close();
      }
    });

    it("fail with a DatabaseError naming the migration, and leave no half-made tables behind", async () => {
      const fresh = await openTestDatabase(kind, { migrate: false });
      try {
        // users and products get created first, then orders collides with this table.
        await fresh.db.schema.createTable("orders").addColumn("id", "text").execute();
        const error: unknown = await migrateToLatest(fresh.db).catch((rejection: unknown) => rejection);
        expect(error).toBeInstanceOf(DatabaseError);
        expect((error as DatabaseError).code).toBe("migration_failed");
        expect((error as DatabaseError).message).toContain("0001_create_tables");
        const tables = (await fresh.db.introspection.getTables()).map((table) => table.name);
        expect(tables).toEqual(["orders"]);
      } finally {
        await fresh.close();
      }
    });
  });

  describe("money", () => {
    it("round-trips BIGINT 9007199254740991 as a JS number", async () => {
      const max = Number.MAX_SAFE_INTEGER;
      const id = await insertOrder(database.db, { total_fee: max, reserved_refund_fee: max, refunded_fee: max - 1 });
      const row = await database.db.selectFrom("orders").select(["total_fee", "reserved_refund_fee", "refunded_fee"]).where("id", "=", id).executeTakeFirstOrThrow();
      expect(row).toEqual({ total_fee: 9007199254740991, reserved_refund_fee: 9007199254740991, refunded_fee: 9007199254740990 });
      expect(typeof row.total_fee).toBe("number");

      const { count } = await database.db
        .selectFrom("orders")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .executeTakeFirstOrThrow();
      expect(typeof count).toBe("number");
    });

    it("generates payment_events.id as a number", async () => {
      const orderId = await insertOrder(database.db);
      const { id } = await database.db.insertInto("payment_events").values(paymentEvent(orderId)).returning("id").executeTakeFirstOrThrow();
      expect(id).toEqual(expect.any(Number));
    });
  });

  describe("unique constraints", () => {
    it("payment_events.order_id: an order becomes paid once", async () => {
      const orderId = await insertOrder(database.db);
      await database.db.insertInto("payment_events").values(paymentEvent(orderId)).execute();
      await expectViolation(database.db.insertInto("payment_events").values(paymentEvent(orderId)).execute(), "unique");
    });

    it("users.openid", async () => {
      await database.db
        .insertInto("users")
        .values({ id: uniqueId("user"), openid: "same-openid", created_at: NOW })
        .execute();
      await expectViolation(
        database.db
          .insertInto("users")
          .values({ id: uniqueId("user"), openid: "same-openid", created_at: NOW })
          .execute(),
        "unique",
      );
    });

    it("refunds.request_key", async () => {
      const orderId = await insertOrder(database.db, { status: "paid" });
      await database.db
        .insertInto("refunds")
        .values(refundRow(orderId, { request_key: "same-key" }))
        .execute();
      await expectViolation(
        database.db
          .insertInto("refunds")
          .values(refundRow(orderId, { request_key: "same-key" }))
          .execute(),
        "unique",
      );
    });

    it("orders (user_id, idempotency_key), while orders without a key and other users' keys are free", async () => {
      const userId = await insertUser(database.db);
      const otherUserId = await insertUser(database.db);
      await insertOrder(database.db, { user_id: userId, idempotency_key: "k1" });
      await expectViolation(insertOrder(database.db, { user_id: userId, idempotency_key: "k1" }), "unique");
      await insertOrder(database.db, { user_id: otherUserId, idempotency_key: "k1" });
      await insertOrder(database.db, { user_id: userId, idempotency_key: null });
      await insertOrder(database.db, { user_id: userId, idempotency_key: null });
    });

    it("orders.transaction_id", async () => {
      await insertOrder(database.db, { status: "paid", transaction_id: "4200000001" });
      await expectViolation(insertOrder(database.db, { status: "paid", transaction_id: "4200000001" }), "unique");
    });
  });

  describe("check and foreign key constraints", () => {
    it.each([
      ["negative total_fee", { total_fee: -1 }],
      ["reserved_refund_fee above total_fee", { total_fee: 100, reserved_refund_fee: 101 }],
      ["refunded_fee above reserved_refund_fee", { total_fee: 100, reserved_refund_fee: 50, refunded_fee: 51 }],
      ["negative refunded_fee", { refunded_fee: -1 }],
      ["an unknown status", { status: "shipped" as NewOrderRow["status"] }],
    ] satisfies [string, Partial<NewOrderRow>][])("orders reject %s", async (_name, overrides) => {
      await expectViolation(insertOrder(database.db, overrides), "check");
    });

    it("an update cannot reserve more than the order total", async () => {
      const id = await insertOrder(database.db, { status: "paid", total_fee: 100 });
      await expectViolation(database.db.updateTable("orders").set({ reserved_refund_fee: 101 }).where("id", "=", id).execute(), "check");
    });

    it("products, refunds and payment events reject negative money", async () => {
      await expectViolation(
        database.db
          .insertInto("products")
          .values({ id: uniqueId("p"), name: "x", price: -1, currency: "CNY", active: 1, sort_order: 0 })
          .execute(),
        "check",
      );
      const orderId = await insertOrder(database.db, { status: "paid" });
      await expectViolation(
        database.db
          .insertInto("refunds")
          .values(refundRow(orderId, { refund_fee: -1 }))
          .execute(),
        "check",
      );
      await expectViolation(
        database.db
          .insertInto("refunds")
          .values(refundRow(orderId, { status: "lost" as NewRefundRow["status"] }))
          .execute(),
        "check",
      );
      await expectViolation(
        database.db
          .insertInto("payment_events")
          .values({ ...paymentEvent(orderId), total_fee: -1 })
          .execute(),
        "check",
      );
    });

    it("an order needs an existing user, and a refund an existing order", async () => {
      await expectViolation(insertOrder(database.db, { user_id: "no-such-user" }), "foreign_key");
      await expectViolation(database.db.insertInto("refunds").values(refundRow("no-such-order")).execute(), "foreign_key");
    });
  });

  it("a conditional pending -> paid update run 50 times at once changes exactly one row", async () => {
    const id = await insertOrder(database.db);
    // PostgreSQL: 50 statements race over the pool's connections. SQLite: the single connection
    // runs them one after another, which is what the API sees there too.
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        database.db.updateTable("orders").set({ status: "paid", paid_at: NOW, updated_at: NOW }).where("id", "=", id).where("status", "=", "pending").executeTakeFirst(),
      ),
    );
    expect(results.reduce((sum, result) => sum + result.numUpdatedRows, 0n)).toBe(1n);
    const { status } = await database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirstOrThrow();
    expect(status).toBe("paid");
  });

  it("seedProducts inserts the catalogue, then updates products by id without duplicating them", async () => {
    await seedProducts(database.db, DEFAULT_PRODUCTS);
    await seedProducts(database.db, DEFAULT_PRODUCTS);
    const listed = () => database.db.selectFrom("products").selectAll().orderBy("sort_order").execute();
    expect(await listed()).toEqual(DEFAULT_PRODUCTS);

    const mug: ProductRow = { id: "mug", name: "Large mug", price: 4590, currency: "CNY", active: 0, sort_order: 5 };
    const poster: ProductRow = { id: "poster", name: "Poster", price: 1200, currency: "CNY", active: 1, sort_order: 50 };
    await seedProducts(database.db, [mug, poster]);
    const after = await listed();
    expect(after).toHaveLength(DEFAULT_PRODUCTS.length + 1);
    expect(after.find((product) => product.id === "mug")).toEqual(mug);
    expect(after.find((product) => product.id === "poster")).toEqual(poster);
    expect(after.find((product) => product.id === "coffee-beans")).toEqual(DEFAULT_PRODUCTS[0]);
  });
});

describe("PostgreSQL specifics", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase("postgres");
  });

  afterAll(async () => {
    // Unassigned when beforeAll failed.
    await (database as TestDatabase | undefined)?.close();
  });

  it("migrations run from two pools at once: one applies, the other waits for its lock and finds nothing to do", async () => {
    const fresh = await openTestDatabase("postgres", { migrate: false });
    const other = await openDatabase(fresh.url);
    try {
      const applied = await Promise.all([migrateToLatest(fresh.db), migrateToLatest(other.db)]);
      expect(applied.map((names) => names.length).sort()).toEqual([0, Object.keys(MIGRATIONS).length]);
    } finally {
      await other.close();
      await fresh.close();
    }
  });

  it("refuses a BIGINT beyond Number.MAX_SAFE_INTEGER instead of rounding it", async () => {
    await expect(sql`select 9007199254740993::bigint as value`.execute(database.db)).rejects.toThrow(/MAX_SAFE_INTEGER/);
    // The pool stays usable after the refused row.
    const { rows } = await sql<{ value: number }>`select (-9007199254740991)::bigint as value`.execute(database.db);
    expect(rows).toEqual([{ value: -9007199254740991 }]);
  });

  it("uses at most 10 pooled connections by default", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(database.db)));
    const connections = new Set(results.flatMap((result) => result.rows.map((row) => row.pid))).size;
    expect(connections).toBeGreaterThan(1);
    expect(connections).toBeLessThanOrEqual(10);
  });
});

describe("DEFAULT_PRODUCTS", () => {
  it("is four CNY products priced in fen, including a 1-fen test item", () => {
    expect(DEFAULT_PRODUCTS.map((product) => [product.id, product.price, product.currency])).toEqual([
      ["coffee-beans", 6800, "CNY"],
      ["mug", 3990, "CNY"],
      ["tote", 2500, "CNY"],
      ["test-item", 1, "CNY"],
    ]);
  });
});

describe("openDatabase", () => {
  it("names an unreachable PostgreSQL server without revealing the password", async () => {
    const error: unknown = await openDatabase("postgres://app:secret@127.0.0.1:1/x").catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(DatabaseError);
    const { code, message } = error as DatabaseError;
    expect(code).toBe("connection_failed");
    expect(message).toContain("postgres://app:***@127.0.0.1:1/x");
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toContain("secret");
  });

  it.each([
    ["a port that is not a number", "postgres://app:secret@localhost:port/x"],
    ["a mistyped scheme", "postgres:/app:secret@localhost/x"],
    ["another database's scheme", "mysql://app:secret@localhost/x"],
  ])("rejects %s as invalid_url without revealing the password", async (_name, url) => {
    const error: unknown = await openDatabase(url).catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe("invalid_url");
    expect((error as DatabaseError).message).not.toContain("secret");
  });

  it("SQLite reuses prepared statements: the same query with other parameters, and a stream after it, read the right rows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pay-db-test-"));
    const opened = await openDatabase(join(dir, "api.sqlite"));
    try {
      await migrateToLatest(opened.db);
      await seedProducts(opened.db, DEFAULT_PRODUCTS);
      const priceOf = async (id: string) => (await opened.db.selectFrom("products").select("price").where("id", "=", id).executeTakeFirst())?.price;
      expect(await priceOf("mug")).toBe(3990);
      expect(await priceOf("tote")).toBe(2500);
      expect(await priceOf("no-such-product")).toBeUndefined();
      const streamed: string[] = [];
      for await (const row of opened.db.selectFrom("products").select("id").orderBy("id").stream()) streamed.push(row.id);
      expect(streamed).toEqual(DEFAULT_PRODUCTS.map((product) => product.id).sort());
      expect(await priceOf("mug")).toBe(3990);
    } finally {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens a SQLite file in a new directory with WAL, busy_timeout, foreign keys and synchronous=NORMAL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pay-db-test-"));
    const opened = await openDatabase(join(dir, "nested", "deeper", "api.sqlite"));
    try {
      expect(opened.dialect).toBe("sqlite");
      const pragma = async (name: string): Promise<unknown> => {
        const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(opened.db);
        return Object.values(rows[0] ?? {})[0];
      };
      expect(await pragma("journal_mode")).toBe("wal");
      expect(await pragma("busy_timeout")).toBe(5000);
      expect(await pragma("foreign_keys")).toBe(1);
      expect(await pragma("synchronous")).toBe(1);
    } finally {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
