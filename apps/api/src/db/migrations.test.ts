import { sql } from "kysely";
import { Migrator } from "kysely/migration";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { FIXTURE_NOW, pendingOrderRow } from "../../test/support/rows.js";
import { constraintViolationOf } from "./database.js";
import { MIGRATION_PROVIDER } from "./migrations.js";

describe.each(DATABASES)("0002_order_protocol on %s", (kind) => {
  let database: TestDatabase;
  let migrator: Migrator;

  beforeEach(async () => {
    database = await openTestDatabase(kind, { migrate: false });
    migrator = new Migrator({ db: database.db, provider: MIGRATION_PROVIDER });
    const { error } = await migrator.migrateTo("0001_create_tables");
    expect(error).toBeUndefined();
    await database.db.insertInto("users").values({ id: "u1", openid: "o1", created_at: FIXTURE_NOW }).execute();
  });
  afterEach(async () => {
    await database.close();
  });

  /** An order stored before the column existed: the release 0001 describes, without `protocol`. */
  async function insertOldOrder(id: string): Promise<void> {
    const { protocol: _protocol, ...row } = pendingOrderRow(id, "u1");
    const columns = Object.keys(row);
    await sql`insert into orders (${sql.join(columns.map((c) => sql.ref(c)))}) values (${sql.join(Object.values(row))})`.execute(database.db);
  }

  it("marks every existing order v2, takes v3, and refuses anything else", async () => {
    await insertOldOrder("old-1");
    await insertOldOrder("old-2");
    const { results = [] } = await migrator.migrateTo("0002_order_protocol");
    expect(results.map((result) => [result.migrationName, result.status])).toEqual([["0002_order_protocol", "Success"]]);
    expect(await database.db.selectFrom("orders").select(["id", "protocol"]).orderBy("id").execute()).toEqual([
      { id: "old-1", protocol: "v2" },
      { id: "old-2", protocol: "v2" },
    ]);
    await database.db
      .insertInto("orders")
      .values(pendingOrderRow("new-v3", "u1", { protocol: "v3", sign_type: "RSA" }))
      .execute();
    expect(await database.db.selectFrom("orders").select("protocol").where("id", "=", "new-v3").executeTakeFirst()).toEqual({ protocol: "v3" });
    // An insert that names no protocol is a v2 one (an older process during a rolling deploy).
    const { protocol: _protocol, ...unnamed } = pendingOrderRow("unnamed", "u1");
    await database.db.insertInto("orders").values(unnamed).execute();
    expect(await database.db.selectFrom("orders").select("protocol").where("id", "=", "unnamed").executeTakeFirst()).toEqual({ protocol: "v2" });
    const refused: unknown = await sql`insert into orders (id, user_id, status, total_fee, fee_type, items, body, appid, mch_id, sign_type, spbill_create_ip, notify_url,
      time_start, time_expire, expires_at, created_at, updated_at, protocol) values ('bad', 'u1', 'pending', 1, 'CNY', '[]', 'x', 'a', 'm', 'MD5', '127.0.0.1', 'u',
      't', 't', ${FIXTURE_NOW}, ${FIXTURE_NOW}, ${FIXTURE_NOW}, 'v4')`
      .execute(database.db)
      .catch((error: unknown) => error);
    expect(constraintViolationOf(refused)).toBe("check");
  });

  it("migrates down to 0001 again, keeping the orders", async () => {
    await insertOldOrder("old-1");
    expect((await migrator.migrateTo("0002_order_protocol")).error).toBeUndefined();
    const { error } = await migrator.migrateDown();
    expect(error).toBeUndefined();
    const columns = (await database.db.introspection.getTables()).find((table) => table.name === "orders")?.columns.map((column) => column.name);
    expect(columns).not.toContain("protocol");
    expect(await sql<{ id: string }>`select id from orders`.execute(database.db)).toMatchObject({ rows: [{ id: "old-1" }] });
  });
});

describe.each(DATABASES)("0003_webhooks on %s", (kind) => {
  let database: TestDatabase;
  let migrator: Migrator;

  beforeEach(async () => {
    database = await openTestDatabase(kind, { migrate: false });
    migrator = new Migrator({ db: database.db, provider: MIGRATION_PROVIDER });
    expect((await migrator.migrateTo("0002_order_protocol")).error).toBeUndefined();
    await database.db.insertInto("users").values({ id: "u1", openid: "o1", created_at: FIXTURE_NOW }).execute();
    await database.db.insertInto("orders").values(pendingOrderRow("kept-1", "u1")).execute();
  });
  afterEach(async () => {
    await database.close();
  });

  const tableNames = async (): Promise<string[]> => (await database.db.introspection.getTables()).map((table) => table.name).sort();

  it("adds the outbox, endpoints and deliveries beside existing orders; events take only known types and existing orders", async () => {
    const { results = [] } = await migrator.migrateTo("0003_webhooks");
    expect(results.map((result) => [result.migrationName, result.status])).toEqual([["0003_webhooks", "Success"]]);
    expect(await tableNames()).toEqual(expect.arrayContaining(["webhook_deliveries", "webhook_endpoints", "webhook_events"]));
    const event = { id: "evt_000000000000000000000001", type: "order.paid", order_id: "kept-1", refund_id: null, payload: "{}", created_at: FIXTURE_NOW } as const;
    await database.db.insertInto("webhook_events").values(event).execute();
    const refusals = await Promise.all([
      database.db
        .insertInto("webhook_events")
        .values({ ...event, id: "evt_000000000000000000000002", type: "order.shipped" as "order.paid" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("webhook_events")
        .values({ ...event, id: "evt_000000000000000000000003", order_id: "no-such-order" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("webhook_events")
        .values(event)
        .execute()
        .catch((error: unknown) => error),
    ]);
    expect(refusals.map(constraintViolationOf)).toEqual(["check", "foreign_key", "unique"]);
  });

  it("migrates down to 0002 again, keeping the orders", async () => {
    expect((await migrator.migrateTo("0003_webhooks")).error).toBeUndefined();
    const { error } = await migrator.migrateDown();
    expect(error).toBeUndefined();
    expect(await tableNames()).not.toEqual(expect.arrayContaining(["webhook_events"]));
    expect((await tableNames()).filter((name) => name.startsWith("webhook_"))).toEqual([]);
    expect(await sql<{ id: string }>`select id from orders`.execute(database.db)).toMatchObject({ rows: [{ id: "kept-1" }] });
  });
});

describe.each(DATABASES)("0004_reconciliation on %s", (kind) => {
  let database: TestDatabase;
  let migrator: Migrator;

  beforeEach(async () => {
    database = await openTestDatabase(kind, { migrate: false });
    migrator = new Migrator({ db: database.db, provider: MIGRATION_PROVIDER });
    expect((await migrator.migrateTo("0003_webhooks")).error).toBeUndefined();
    await database.db.insertInto("users").values({ id: "u1", openid: "o1", created_at: FIXTURE_NOW }).execute();
    await database.db
      .insertInto("orders")
      .values(pendingOrderRow("kept-1", "u1", { status: "paid", paid_at: FIXTURE_NOW, transaction_id: "tx-1" }))
      .execute();
  });
  afterEach(async () => {
    await database.close();
  });

  const tableNames = async (): Promise<string[]> => (await database.db.introspection.getTables()).map((table) => table.name).sort();
  const run = {
    bill_date: "2025-01-01",
    state: "running",
    trigger: "cli",
    attempt: 1,
    lease_owner: "me",
    lease_expires_at: FIXTURE_NOW,
    started_at: FIXTURE_NOW,
    updated_at: FIXTURE_NOW,
  } as const;
  const item = {
    bill_date: "2025-01-01",
    class: "unknown_payment",
    resolution: "flagged",
    order_id: "kept-1",
    detail: "an item",
    created_at: FIXTURE_NOW,
  } as const;
  const staged = { bill_date: "2025-01-01", attempt: 1, line: 2, kind: "payment", order_id: "kept-1", amount: 6800, currency: "CNY", state: "SUCCESS" } as const;

  it("adds runs, items and bill-row staging beside existing orders; checks refuse unknown states, attempts, classes, resolutions and kinds", async () => {
    const { results = [] } = await migrator.migrateTo("0004_reconciliation");
    expect(results.map((result) => [result.migrationName, result.status])).toEqual([["0004_reconciliation", "Success"]]);
    expect(await tableNames()).toEqual(expect.arrayContaining(["reconciliation_bill_rows", "reconciliation_items", "reconciliation_runs"]));
    expect(await sql<{ id: string }>`select id from orders`.execute(database.db)).toMatchObject({ rows: [{ id: "kept-1" }] });

    await database.db.insertInto("reconciliation_runs").values(run).execute();
    await database.db.insertInto("reconciliation_items").values(item).execute();
    await database.db.insertInto("reconciliation_bill_rows").values(staged).execute();
    const refusals = await Promise.all([
      database.db
        .insertInto("reconciliation_runs")
        .values({ ...run, bill_date: "2025-01-02", state: "paused" as "running" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("reconciliation_runs")
        .values({ ...run, bill_date: "2025-01-03", attempt: 0 })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("reconciliation_items")
        .values({ ...item, class: "lost_coin" as "unknown_payment" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("reconciliation_items")
        .values({ ...item, resolution: "ignored" as "flagged" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("reconciliation_items")
        .values({ ...item, bill_date: "2025-02-01" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("reconciliation_bill_rows")
        .values({ ...staged, line: 3, kind: "fee" as "payment" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("reconciliation_bill_rows")
        .values(staged)
        .execute()
        .catch((error: unknown) => error),
    ]);
    expect(refusals.map(constraintViolationOf)).toEqual(["check", "check", "check", "check", "foreign_key", "check", "unique"]);
  });

  it("migrates down to 0003 again, keeping the orders", async () => {
    expect((await migrator.migrateTo("0004_reconciliation")).error).toBeUndefined();
    await database.db.insertInto("reconciliation_runs").values(run).execute();
    const { error } = await migrator.migrateDown();
    expect(error).toBeUndefined();
    expect((await tableNames()).filter((name) => name.startsWith("reconciliation_"))).toEqual([]);
    expect(await sql<{ id: string }>`select id from orders`.execute(database.db)).toMatchObject({ rows: [{ id: "kept-1" }] });
  });
});

describe.each(DATABASES)("0005_console on %s", (kind) => {
  let database: TestDatabase;
  let migrator: Migrator;

  beforeEach(async () => {
    database = await openTestDatabase(kind, { migrate: false });
    migrator = new Migrator({ db: database.db, provider: MIGRATION_PROVIDER });
    expect((await migrator.migrateTo("0004_reconciliation")).error).toBeUndefined();
    await database.db.insertInto("users").values({ id: "u1", openid: "o1", created_at: FIXTURE_NOW }).execute();
    await database.db
      .insertInto("orders")
      .values(pendingOrderRow("kept-1", "u1", { status: "paid", paid_at: FIXTURE_NOW, transaction_id: "tx-1" }))
      .execute();
  });
  afterEach(async () => {
    await database.close();
  });

  const CONSOLE_TABLES = ["audit_log", "order_activity", "staff_accounts", "staff_sessions", "staff_sign_in_failures"];
  const tableNames = async (): Promise<string[]> => (await database.db.introspection.getTables()).map((table) => table.name).sort();
  const account = {
    id: "st_1",
    username: "ana",
    password_hash: "scrypt$16384$8$1$x$y",
    role: "operator",
    disabled_at: null,
    created_at: FIXTURE_NOW,
    updated_at: FIXTURE_NOW,
  } as const;
  const session = {
    id: "a".repeat(64),
    staff_id: "st_1",
    csrf_hash: "b".repeat(64),
    created_at: FIXTURE_NOW,
    expires_at: FIXTURE_NOW,
    last_seen_at: FIXTURE_NOW,
    revoked_at: null,
    ip: null,
    user_agent: null,
  };
  const entry = {
    at: FIXTURE_NOW,
    actor_kind: "staff",
    actor_id: "st_1",
    actor_name: "ana",
    action: "createRefund",
    target: "order:kept-1",
    idempotency_key: "k",
    outcome: "ok",
    detail: "{}",
    ip: null,
  } as const;

  it("adds staff accounts, sessions, sign-in failures, the audit log and order activity beside existing orders; checks refuse unknown roles, actors and sessions of nobody", async () => {
    const { results = [] } = await migrator.migrateTo("0005_console");
    expect(results.map((result) => [result.migrationName, result.status])).toEqual([["0005_console", "Success"]]);
    expect(await tableNames()).toEqual(expect.arrayContaining(CONSOLE_TABLES));
    expect(await sql<{ id: string }>`select id from orders`.execute(database.db)).toMatchObject({ rows: [{ id: "kept-1" }] });

    await database.db.insertInto("staff_accounts").values(account).execute();
    await database.db.insertInto("staff_sessions").values(session).execute();
    await database.db.insertInto("audit_log").values(entry).execute();
    await database.db.insertInto("audit_log").values(entry).execute();
    const ids = (await database.db.selectFrom("audit_log").select("id").orderBy("id").execute()).map((row) => row.id);
    expect(ids).toHaveLength(2);
    expect(typeof ids[0]).toBe("number");
    const refusals = await Promise.all([
      database.db
        .insertInto("staff_accounts")
        .values({ ...account, id: "st_2", role: "admin" as "viewer" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("staff_accounts")
        .values({ ...account, id: "st_3" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("staff_sessions")
        .values({ ...session, id: "c".repeat(64), staff_id: "st_nobody" })
        .execute()
        .catch((error: unknown) => error),
      database.db
        .insertInto("audit_log")
        .values({ ...entry, actor_kind: "robot" as "staff" })
        .execute()
        .catch((error: unknown) => error),
    ]);
    expect(refusals.map(constraintViolationOf)).toEqual(["check", "unique", "foreign_key", "check"]);
  });

  it("migrates down to 0004 again, keeping the orders", async () => {
    expect((await migrator.migrateTo("0005_console")).error).toBeUndefined();
    await database.db.insertInto("staff_accounts").values(account).execute();
    await database.db.insertInto("staff_sessions").values(session).execute();
    await database.db.insertInto("audit_log").values(entry).execute();
    const { error } = await migrator.migrateDown();
    expect(error).toBeUndefined();
    expect((await tableNames()).filter((name) => CONSOLE_TABLES.includes(name))).toEqual([]);
    expect(await sql<{ id: string }>`select id from orders`.execute(database.db)).toMatchObject({ rows: [{ id: "kept-1" }] });
    // And up again: the down left nothing behind that 0005 would collide with.
    expect((await migrator.migrateTo("0005_console")).error).toBeUndefined();
  });
});

describe.each(DATABASES)("0006_activity_repeats on %s", (kind) => {
  let database: TestDatabase;
  let migrator: Migrator;

  beforeEach(async () => {
    database = await openTestDatabase(kind, { migrate: false });
    migrator = new Migrator({ db: database.db, provider: MIGRATION_PROVIDER });
    expect((await migrator.migrateTo("0005_console")).error).toBeUndefined();
    // A row written before the columns existed.
    await sql`insert into order_activity (order_id, refund_id, at, kind, protocol, outcome, reason, detail)
      values ('kept-1', null, ${FIXTURE_NOW}, 'pay_notify', 'v2', 'duplicate', 'DUPLICATE', null)`.execute(database.db);
  });
  afterEach(async () => {
    await database.close();
  });

  const columns = async (): Promise<string[]> =>
    ((await database.db.introspection.getTables()).find((table) => table.name === "order_activity")?.columns ?? []).map((column) => column.name);

  it("counts every existing row once, takes a count and a last time, and refuses a count under 1", async () => {
    const { results = [] } = await migrator.migrateTo("0006_activity_repeats");
    expect(results.map((result) => [result.migrationName, result.status])).toEqual([["0006_activity_repeats", "Success"]]);
    expect(await database.db.selectFrom("order_activity").select(["order_id", "repeats", "last_at"]).execute()).toEqual([{ order_id: "kept-1", repeats: 1, last_at: null }]);
    const row = { order_id: "kept-2", refund_id: null, at: FIXTURE_NOW, kind: "pay_notify", protocol: "v2", outcome: "duplicate", reason: "DUPLICATE", detail: null } as const;
    await database.db
      .insertInto("order_activity")
      .values({ ...row, repeats: 7, last_at: "2025-01-02T03:09:00.000Z" })
      .execute();
    expect(await database.db.selectFrom("order_activity").select(["repeats", "last_at"]).where("order_id", "=", "kept-2").executeTakeFirst()).toEqual({
      repeats: 7,
      last_at: "2025-01-02T03:09:00.000Z",
    });
    const refused: unknown = await database.db
      .insertInto("order_activity")
      .values({ ...row, repeats: 0 })
      .execute()
      .catch((error: unknown) => error);
    expect(constraintViolationOf(refused)).toBe("check");
  });

  it("migrates down to 0005 again, keeping the rows, and up again", async () => {
    expect((await migrator.migrateTo("0006_activity_repeats")).error).toBeUndefined();
    const { error } = await migrator.migrateDown();
    expect(error).toBeUndefined();
    expect(await columns()).not.toContain("repeats");
    expect(await columns()).not.toContain("last_at");
    expect(await sql<{ order_id: string }>`select order_id from order_activity`.execute(database.db)).toMatchObject({ rows: [{ order_id: "kept-1" }] });
    expect((await migrator.migrateTo("0006_activity_repeats")).error).toBeUndefined();
    expect(await columns()).toEqual(expect.arrayContaining(["repeats", "last_at"]));
  });
});
