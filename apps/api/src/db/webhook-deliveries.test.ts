import { CompiledQuery, sql, type LogEvent } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { addEndpoint, addEvents, USER_ID } from "../../test/webhooks/delivery-fixtures.js";
import { openDatabase, type OpenedDatabase } from "./database.js";
import { claimDueDeliveries, fanOutEvents, recordDelivered, recordFailedAttempt, subscribedTypes } from "./webhook-deliveries.js";

const T0 = "2026-01-01T04:00:00.000Z";
const at = (seconds: number): string => new Date(Date.parse(T0) + seconds * 1000).toISOString();
const EXPIRES = at(3 * 24 * 3600);

describe("subscribedTypes", () => {
  it.each([
    ['["order.paid","refund.failed"]', ["order.paid", "refund.failed"]],
    ['["order.paid","nonsense",3]', ["order.paid"]],
    ['{"order.paid":true}', []],
    ["not json", []],
  ])("%s subscribes to %j", (stored, expected) => {
    expect([...subscribedTypes(stored)]).toEqual(expected);
  });
});

describe.each(DATABASES)("webhook delivery queries (%s)", (dialect) => {
  let database: TestDatabase;
  let order = 0;

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    await database.db.insertInto("users").values({ id: USER_ID, openid: "o", created_at: T0 }).execute();
    await addEndpoint(database, { id: "we_all", url: "http://127.0.0.1:9/all" });
    await addEndpoint(database, { id: "we_paid", url: "http://127.0.0.1:9/paid", eventTypes: ["order.paid"] });
    await addEndpoint(database, { id: "we_off", url: "http://127.0.0.1:9/off", enabled: false });
  });

  afterAll(async () => {
    await database.close();
  });

  beforeEach(async () => {
    await database.db.deleteFrom("webhook_deliveries").execute();
    await database.db.updateTable("webhook_events").set({ fanned_out: 1 }).execute();
    await database.db.updateTable("webhook_endpoints").set({ enabled: 1 }).where("id", "<>", "we_off").execute();
  });

  const newOrder = (): string => `wh-order-${dialect}-${++order}`;
  const claim = (owner: string, seconds = 0, limit = 100) => claimDueDeliveries(database.db, dialect, { owner, now: at(seconds), leaseUntil: at(seconds + 60), limit });

  it("fans each event out to the enabled endpoints subscribed to its type, once, and marks it fanned out", async () => {
    const orderId = newOrder();
    const [paid, closed] = await addEvents(database, orderId, ["order.paid", "order.closed"]);
    expect(await fanOutEvents(database.db, dialect, T0, EXPIRES, 100)).toEqual({ events: 2, deliveries: 3 });
    expect(await fanOutEvents(database.db, dialect, T0, EXPIRES, 100)).toEqual({ events: 0, deliveries: 0 });
    const rows = await database.db.selectFrom("webhook_deliveries").selectAll().orderBy("event_seq").orderBy("endpoint_id").execute();
    expect(rows.map((row) => [row.event_id, row.endpoint_id, row.state, row.next_attempt_at, row.expires_at, row.attempts])).toEqual([
      [paid, "we_all", "pending", T0, EXPIRES, 0],
      [paid, "we_paid", "pending", T0, EXPIRES, 0],
      [closed, "we_all", "pending", T0, EXPIRES, 0],
    ]);
    const events = await database.db.selectFrom("webhook_events").select("fanned_out").where("order_id", "=", orderId).execute();
    expect(events.map((event) => event.fanned_out)).toEqual([1, 1]);
  });

  it("fans out oldest first, at most `limit` events at a time, and never duplicates a delivery that exists", async () => {
    const ids = await addEvents(database, newOrder(), ["order.paid", "order.closed", "order.refunded"]);
    // Another process made the delivery of the first event to we_all already.
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 1);
    await database.db
      .updateTable("webhook_events")
      .set({ fanned_out: 0 })
      .where("id", "=", ids[0] as string)
      .execute();
    expect(await fanOutEvents(database.db, dialect, T0, EXPIRES, 2)).toEqual({ events: 2, deliveries: 1 });
    expect(await fanOutEvents(database.db, dialect, T0, EXPIRES, 2)).toEqual({ events: 1, deliveries: 1 });
    const rows = await database.db.selectFrom("webhook_deliveries").select(["event_id", "endpoint_id"]).orderBy("event_seq").orderBy("endpoint_id").execute();
    expect(rows.map((row) => `${row.event_id}>${row.endpoint_id}`)).toEqual([`${ids[0]}>we_all`, `${ids[0]}>we_paid`, `${ids[1]}>we_all`, `${ids[2]}>we_all`]);
  });

  it("claims with the event body and the endpoint's secrets, counts the attempt, and takes the lease", async () => {
    const orderId = newOrder();
    const [paid] = await addEvents(database, orderId, ["order.paid"]);
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 100);
    const claimed = await claim("owner-a");
    expect(claimed.map((d) => [d.eventId, d.endpointId, d.attempts, d.eventType, d.orderId])).toEqual([
      [paid, "we_all", 1, "order.paid", orderId],
      [paid, "we_paid", 1, "order.paid", orderId],
    ]);
    expect(JSON.parse(claimed[0]?.payload ?? "")).toMatchObject({ id: paid, type: "order.paid" });
    expect(claimed[0]).toMatchObject({ url: "http://127.0.0.1:9/all", secret: "whsec_test_secret_0123456789abcdef", previousSecret: null, expiresAt: EXPIRES });
    const row = await database.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("id", "=", claimed[0]?.id ?? 0)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ lease_owner: "owner-a", lease_expires_at: at(60), attempts: 1, last_attempt_at: T0 });
  });

  it("a leased delivery is not claimed again until the lease expires, and the stale holder's result does not overwrite the new holder's", async () => {
    await addEvents(database, newOrder(), ["order.paid"]);
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 100);
    await database.db.updateTable("webhook_endpoints").set({ enabled: 0 }).where("id", "=", "we_paid").execute();
    const [first] = await claim("owner-a");
    expect(first?.attempts).toBe(1);
    expect(await claim("owner-b", 0)).toEqual([]);
    expect(await claim("owner-b", 59.999)).toEqual([]);
    const [second] = await claim("owner-b", 60);
    expect(second).toMatchObject({ id: first?.id, attempts: 2 });
    const leaseA = { id: first?.id ?? 0, owner: "owner-a", attempts: 1 };
    const leaseB = { id: first?.id ?? 0, owner: "owner-b", attempts: 2 };
    // A's late success, then B's failure, then A's late failure: only B's counts.
    expect(await recordDelivered(database.db, leaseA, { now: at(61), status: 200 })).toBe(false);
    expect(await recordFailedAttempt(database.db, leaseB, { now: at(62), nextAttemptAt: at(82), status: 500, error: "HTTP 500" })).toBe("pending");
    expect(await recordFailedAttempt(database.db, leaseA, { now: at(63), nextAttemptAt: at(73), status: 502, error: "HTTP 502" })).toBeUndefined();
    // B's own result of the same claim cannot be recorded twice either.
    expect(await recordDelivered(database.db, leaseB, { now: at(64), status: 200 })).toBe(false);
    const row = await database.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("id", "=", first?.id ?? 0)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "pending", attempts: 2, next_attempt_at: at(82), last_status: 500, last_error: "HTTP 500", lease_owner: null, lease_expires_at: null });
    expect(await claim("owner-c", 81)).toEqual([]);
    const [third] = await claim("owner-c", 82);
    expect(await recordDelivered(database.db, { id: third?.id ?? 0, owner: "owner-c", attempts: 3 }, { now: at(83), status: 204 })).toBe(true);
    expect(
      await database.db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("id", "=", first?.id ?? 0)
        .executeTakeFirstOrThrow(),
    ).toMatchObject({
      state: "delivered",
      delivered_at: at(83),
      last_status: 204,
      last_error: null,
    });
  });

  it("a failed attempt at or past expires_at gives the delivery up", async () => {
    await addEvents(database, newOrder(), ["order.closed"]);
    await fanOutEvents(database.db, dialect, T0, at(100), 100);
    const [first] = await claim("owner-a", 50);
    expect(
      await recordFailedAttempt(
        database.db,
        { id: first?.id ?? 0, owner: "owner-a", attempts: 1 },
        { now: at(99), nextAttemptAt: at(109), status: undefined, error: "ECONNREFUSED" },
      ),
    ).toBe("pending");
    const [second] = await claim("owner-a", 109);
    expect(
      await recordFailedAttempt(database.db, { id: second?.id ?? 0, owner: "owner-a", attempts: 2 }, { now: at(110), nextAttemptAt: at(130), status: 500, error: "HTTP 500" }),
    ).toBe("failed");
    const row = await database.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("id", "=", first?.id ?? 0)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "failed", failed_at: at(110), next_attempt_at: at(109), attempts: 2 });
    expect(await claim("owner-a", 10_000)).toEqual([]);
  });

  it("per order and endpoint: a delivery waits for the earlier pending one (even one not due), other orders and endpoints do not", async () => {
    const a = newOrder();
    const b = newOrder();
    const [aPaid, aRefund] = await addEvents(database, a, ["order.paid", "refund.succeeded"]);
    const [bPaid, bRefund] = await addEvents(database, b, ["order.paid", "refund.succeeded"]);
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 100);
    const first = await claim("x");
    expect(first.map((d) => `${d.eventId}>${d.endpointId}`).sort()).toEqual([`${aPaid}>we_all`, `${aPaid}>we_paid`, `${bPaid}>we_all`, `${bPaid}>we_paid`].sort());
    // While the order.paid deliveries are in flight, the refunds behind them wait.
    expect(await claim("y", 1)).toEqual([]);
    const byKey = new Map(first.map((d) => [`${d.eventId}>${d.endpointId}`, d]));
    const lease = (key: string) => ({ id: byKey.get(key)?.id ?? 0, owner: "x", attempts: 1 });
    await recordFailedAttempt(database.db, lease(`${aPaid}>we_all`), { now: at(1), nextAttemptAt: at(11), status: 500, error: "HTTP 500" });
    await recordDelivered(database.db, lease(`${aPaid}>we_paid`), { now: at(1), status: 200 });
    await recordDelivered(database.db, lease(`${bPaid}>we_all`), { now: at(1), status: 200 });
    await recordDelivered(database.db, lease(`${bPaid}>we_paid`), { now: at(1), status: 200 });
    // B's refund goes; A's waits behind A's order.paid, which is not due yet.
    expect((await claim("y", 2)).map((d) => d.eventId)).toEqual([bRefund]);
    const retried = await claim("y", 11);
    expect(retried.map((d) => d.eventId)).toEqual([aPaid]);
    await recordDelivered(database.db, { id: retried[0]?.id ?? 0, owner: "y", attempts: 2 }, { now: at(12), status: 200 });
    expect((await claim("y", 12)).map((d) => d.eventId)).toEqual([aRefund]);
  });

  it("a delivery waits while an earlier event of its order is not fanned out yet, and while its endpoint is disabled", async () => {
    const a = newOrder();
    const [paid, closed] = await addEvents(database, a, ["order.paid", "order.closed"]);
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 100);
    // As if another process had fanned out only the later event so far.
    await database.db
      .deleteFrom("webhook_deliveries")
      .where("event_id", "=", paid as string)
      .execute();
    await database.db
      .updateTable("webhook_events")
      .set({ fanned_out: 0 })
      .where("id", "=", paid as string)
      .execute();
    expect(await claim("x")).toEqual([]);
    await database.db.updateTable("webhook_endpoints").set({ enabled: 0 }).where("id", "=", "we_all").execute();
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 100);
    expect((await claim("x")).map((d) => `${d.eventId}>${d.endpointId}`)).toEqual([`${paid}>we_paid`]);
    await database.db.updateTable("webhook_endpoints").set({ enabled: 1 }).where("id", "=", "we_all").execute();
    expect((await claim("x")).map((d) => `${d.eventId}>${d.endpointId}`)).toEqual([`${closed}>we_all`]);
  });

  it("the claim and fan-out statements find due work through indexes, not by scanning every delivery, on a large analysed table", async () => {
    // 20 000 deliveries already delivered, a few pending.
    const orders = Array.from({ length: 50 }, newOrder);
    for (const orderId of orders)
      await addEvents(
        database,
        orderId,
        Array.from({ length: 200 }, () => "order.paid" as const),
      );
    await database.db.updateTable("webhook_endpoints").set({ enabled: 0 }).where("id", "=", "we_paid").execute();
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 20_000);
    await database.db.updateTable("webhook_deliveries").set({ state: "delivered" }).execute();
    await addEvents(database, newOrder(), ["order.paid", "order.closed"]);
    const statements: CompiledQuery[] = [];
    const handle: OpenedDatabase = await openDatabase(database.url, {
      log: (event: LogEvent) => {
        if (event.level === "query") statements.push(event.query);
      },
    });
    try {
      await fanOutEvents(handle.db, dialect, T0, EXPIRES, 100);
      await claimDueDeliveries(handle.db, dialect, { owner: "x", now: T0, leaseUntil: at(60), limit: 100 });
    } finally {
      await handle.close();
    }
    const interesting = statements.filter((query) => /^\s*(update|with)/i.test(query.sql));
    expect(interesting.length).toBeGreaterThanOrEqual(2);
    for (const analysed of [false, true]) {
      if (analysed) await database.db.executeQuery(CompiledQuery.raw("analyze"));
      for (const query of interesting) {
        if (dialect === "sqlite") {
          const plan = (await database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]))).rows
            .map((row) => row.detail)
            .join("\n");
          // Due deliveries come in the index's order: no sort of every due delivery per claim.
          if (/ d /.test(query.sql)) expect(plan).not.toMatch(/TEMP B-TREE/);
          if (/ d /.test(query.sql))
            expect(plan).toMatch(/SEARCH p USING (COVERING )?INDEX webhook_deliveries_pending_order_idx \(endpoint_id=\? AND order_id=\? AND event_seq<\?\)/);
          expect(plan, query.sql).not.toMatch(/SCAN (webhook_deliveries|webhook_events|d|p|u)\b(?! USING)/);
        } else {
          const plan = (await database.db.executeQuery<{ "QUERY PLAN": string }>(CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]))).rows
            .map((row) => row["QUERY PLAN"])
            .join("\n");
          expect(plan, query.sql).not.toMatch(/Seq Scan on webhook_(deliveries|events)/);
        }
      }
    }
  }, 60_000);
});

// SKIP LOCKED is PostgreSQL's: SQLite has one writer at a time, so its claims and fan-outs never overlap.
describe("webhook delivery queries under concurrent transactions (postgres)", () => {
  const dialect = "postgres";
  let database: TestDatabase;
  let order = 0;

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    await database.db.insertInto("users").values({ id: USER_ID, openid: "o", created_at: T0 }).execute();
    await addEndpoint(database, { id: "we_all", url: "http://127.0.0.1:9/all" });
    await addEndpoint(database, { id: "we_paid", url: "http://127.0.0.1:9/paid", eventTypes: ["order.paid"] });
  });

  afterAll(async () => {
    await database.close();
  });

  beforeEach(async () => {
    await database.db.deleteFrom("webhook_deliveries").execute();
    await database.db.updateTable("webhook_events").set({ fanned_out: 1 }).execute();
  });

  const newOrder = (): string => `wh-locks-${++order}`;

  it("two processes fanning out at once take different events: one held by another transaction is skipped, not waited for", async () => {
    const [held, free] = await addEvents(database, newOrder(), ["order.paid"]).then(async (first) => [...first, ...(await addEvents(database, newOrder(), ["order.paid"]))]);
    const other = await openDatabase(database.url);
    try {
      await other.db.transaction().execute(async (trx) => {
        await sql`select seq from webhook_events where id = ${held} for update`.execute(trx);
        // Inside the other process's transaction: this fan-out must neither block nor take the held event.
        expect(await fanOutEvents(database.db, dialect, T0, EXPIRES, 100)).toEqual({ events: 1, deliveries: 2 });
      });
    } finally {
      await other.close();
    }
    const fanned = await database.db
      .selectFrom("webhook_events")
      .select(["id", "fanned_out"])
      .where("id", "in", [held as string, free as string])
      .orderBy("seq")
      .execute();
    expect(fanned.map((event) => event.fanned_out)).toEqual([0, 1]);
    expect(await fanOutEvents(database.db, dialect, T0, EXPIRES, 100)).toEqual({ events: 1, deliveries: 2 });
  });

  it("two processes claiming at once take different deliveries: one locked by another claim is skipped", async () => {
    await addEvents(database, newOrder(), ["order.closed"]);
    await addEvents(database, newOrder(), ["order.closed"]);
    await fanOutEvents(database.db, dialect, T0, EXPIRES, 100);
    const other = await openDatabase(database.url);
    try {
      await other.db.transaction().execute(async (trx) => {
        const [first] = await claimDueDeliveries(trx, dialect, { owner: "a", now: T0, leaseUntil: at(60), limit: 1 });
        // A's claim is not committed yet: B skips the row it locked instead of waiting, and takes the other one.
        const second = await claimDueDeliveries(database.db, dialect, { owner: "b", now: T0, leaseUntil: at(60), limit: 10 });
        expect(second).toHaveLength(1);
        expect(second[0]?.id).not.toBe(first?.id);
      });
    } finally {
      await other.close();
    }
  });
});
