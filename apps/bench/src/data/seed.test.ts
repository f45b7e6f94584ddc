// The bench's bulk seeding against the API's own migrations, on both databases: 1,000 orders is
// enough to cross the multi-row statement size, and the rows must read back exactly as the API's
// schema types them, the same from SQLite's row builder and from PostgreSQL's generate_series.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateToLatest, openDatabase, type DatabaseDialect, type NewUserRow, type OpenedDatabase } from "@pay/api/db";
import { createTestDatabase } from "@pay/test-kit/postgres/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orderIdAt, transactionIdAt } from "./orders.js";
import { eventRow, openPostgresSeed, openSqliteSeed, orderRow, type SeedDatabase, type SeedUser } from "./seed.js";

const USERS: readonly SeedUser[] = [
  { id: "u-seed-0", openid: "o-seed-0" },
  { id: "u-seed-1", openid: "o-seed-1" },
  { id: "u-seed-2", openid: "o-seed-2" },
];
const SETTLED = 1_000;
const PENDING_FROM = SETTLED;
const PENDING = 10;

describe.each<DatabaseDialect>(["sqlite", "postgres"])("seeding the API's tables on %s", (dialect) => {
  let api: OpenedDatabase;
  let seed: SeedDatabase;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    let url: string;
    if (dialect === "sqlite") {
      const dir = mkdtempSync(join(tmpdir(), "pay-bench-seed-"));
      url = join(dir, "api.sqlite");
      remove = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
    } else {
      const database = await createTestDatabase();
      url = database.url;
      remove = () => database.drop();
    }
    api = await openDatabase(url);
    await migrateToLatest(api.db);
    const users: NewUserRow[] = USERS.map((user) => ({ ...user, created_at: "2024-01-01T00:00:00.000Z" }));
    await api.db.insertInto("users").values(users).execute();
    seed = dialect === "sqlite" ? openSqliteSeed(url) : await openPostgresSeed(url);
  });

  afterAll(async () => {
    await seed.close();
    await api.close();
    await remove();
  });

  it("finds the users' ids by openid, in the order asked, and refuses an unknown openid", async () => {
    expect(await seed.userIds(["o-seed-2", "o-seed-0"])).toEqual(["u-seed-2", "u-seed-0"]);
    await expect(async () => seed.userIds(["o-nobody"])).rejects.toThrow("No user with openid o-nobody.");
  });

  it("refuses to seed orders without users", async () => {
    await expect(async () => seed.insertOrders({ from: 0, count: 1, kind: "pending", users: [] })).rejects.toThrow("needs at least one user");
  });

  it("seeds 1,000 settled orders (nine paid to one closed) with their payment events, as the API reads them", async () => {
    await seed.insertOrders({ from: 0, count: SETTLED, kind: "mixed", users: USERS });
    await seed.settle();
    expect(await seed.countOrders()).toBe(SETTLED);
    expect(await seed.countNotifyEvents()).toBe(0);

    const orders = await api.db.selectFrom("orders").selectAll().orderBy("id").execute();
    expect(orders).toHaveLength(SETTLED);
    orders.forEach((order, index) => expect(order).toEqual(orderRow(index, "mixed", USERS[index % USERS.length] as SeedUser, 0)));
    expect(orders.filter((order) => order.status === "closed")).toHaveLength(SETTLED / 10);

    const events = await api.db.selectFrom("payment_events").selectAll().orderBy("order_id").execute();
    expect(events).toHaveLength((SETTLED * 9) / 10);
    const paidIndexes = orders.flatMap((order, index) => (order.status === "paid" ? [index] : []));
    // raw is JSON: PostgreSQL's json_build_object spaces it differently from JSON.stringify, so it is compared parsed.
    const parsedRaw = <Row extends { raw: string }>(row: Row): Omit<Row, "raw"> & { raw: unknown } => ({ ...row, raw: JSON.parse(row.raw) as unknown });
    events.forEach((event, n) => expect(parsedRaw(event)).toEqual({ id: expect.any(Number) as unknown, ...parsedRaw(eventRow(paidIndexes[n] ?? -1)) }));
  });

  it("seeds pending orders created now, and puts them back to pending after notifies paid them", async () => {
    const before = Date.now();
    await seed.insertOrders({ from: PENDING_FROM, count: PENDING, kind: "pending", users: USERS });
    const after = Date.now();
    const pending = await api.db.selectFrom("orders").selectAll().where("id", ">=", orderIdAt(PENDING_FROM)).orderBy("id").execute();
    expect(pending).toHaveLength(PENDING);
    for (const [n, order] of pending.entries()) {
      const created = Date.parse(order.created_at);
      expect(created).toBeGreaterThanOrEqual(before - 1);
      expect(created).toBeLessThanOrEqual(after);
      expect(order).toEqual(orderRow(PENDING_FROM + n, "pending", USERS[(PENDING_FROM + n) % USERS.length] as SeedUser, created));
    }

    // A notify pays one of them, as the API's paid writer would.
    const paidId = orderIdAt(PENDING_FROM + 3);
    await api.db
      .updateTable("orders")
      .set({ status: "paid", transaction_id: transactionIdAt(PENDING_FROM + 3), paid_at: new Date().toISOString(), updated_at: new Date().toISOString() })
      .where("id", "=", paidId)
      .execute();
    await api.db
      .insertInto("payment_events")
      .values({
        order_id: paidId,
        source: "notify",
        transaction_id: transactionIdAt(PENDING_FROM + 3),
        total_fee: 1,
        fee_type: "CNY",
        cash_fee: 1,
        cash_fee_type: "CNY",
        raw: "{}",
        created_at: new Date().toISOString(),
      })
      .execute();
    expect(await seed.countNotifyEvents()).toBe(1);

    await seed.resetPending(PENDING_FROM, PENDING);
    expect(await seed.countNotifyEvents()).toBe(0);
    const reset = await api.db.selectFrom("orders").selectAll().where("id", "=", paidId).executeTakeFirstOrThrow();
    expect(reset).toMatchObject({ status: "pending", transaction_id: null, paid_at: null, updated_at: reset.created_at });
    // The settled orders and their events are untouched.
    expect(await seed.countOrders()).toBe(SETTLED + PENDING);
    const events = await api.db.selectFrom("payment_events").select("order_id").where("source", "=", "query").execute();
    expect(events).toHaveLength((SETTLED * 9) / 10);
  });

  it("seeds pending orders placed with APIv3 as the API writes them (protocol v3, sign_type RSA, the v3 notify URL)", async () => {
    const from = PENDING_FROM + PENDING;
    await seed.insertOrders({ from, count: PENDING, kind: "pending", users: USERS, protocol: "v3" });
    const v3 = await api.db.selectFrom("orders").selectAll().where("id", ">=", orderIdAt(from)).orderBy("id").execute();
    expect(v3).toHaveLength(PENDING);
    for (const [n, order] of v3.entries()) {
      expect(order).toEqual(orderRow(from + n, "pending", USERS[(from + n) % USERS.length] as SeedUser, Date.parse(order.created_at), "v3"));
      expect(order).toMatchObject({ protocol: "v3", sign_type: "RSA", notify_url: "http://127.0.0.1:9/wxpay/v3/notify" });
    }
    expect(await seed.countOrders()).toBe(SETTLED + 2 * PENDING);
  });
});
