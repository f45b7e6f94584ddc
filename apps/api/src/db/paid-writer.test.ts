import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { FIXTURE_NOW as NOW, pendingOrderRow } from "../../test/support/rows.js";
import { CompiledQuery } from "kysely";
import { POSTGRES_ORDERS_BY_IDS, SQLITE_ORDERS_BY_IDS } from "./order-reads.js";
import {
  createPaidWriter,
  MAX_PAID_BATCH,
  POSTGRES_MARK_PAID,
  SQLITE_INSERT_ONE_DELIVERY,
  SQLITE_INSERT_ONE_EVENT,
  SQLITE_INSERT_ONE_OUTBOX,
  SQLITE_MARK_ONE_PAID,
  type PaidTransition,
  type PaidWriter,
} from "./paid-writer.js";

const PAID_AT = "2025-01-02T03:10:00.000Z";
let sequence = 0;

describe.each(DATABASES)("paid writer on %s", (dialect) => {
  let database: TestDatabase;
  let writer: PaidWriter;
  let userId: string;

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    writer = createPaidWriter(database.db, dialect);
    userId = `user_${dialect}`;
    await database.db
      .insertInto("users")
      .values({ id: userId, openid: `openid_${dialect}`, created_at: NOW })
      .execute();
  });
  afterAll(async () => {
    await writer.drain();
    await database.close();
  });

  async function pendingOrders(count: number): Promise<string[]> {
    const rows = Array.from({ length: count }, () => pendingOrderRow(`pw${dialect}${String((sequence += 1)).padStart(8, "0")}`, userId));
    for (let from = 0; from < rows.length; from += 100)
      await database.db
        .insertInto("orders")
        .values(rows.slice(from, from + 100))
        .execute();
    return rows.map((row) => row.id);
  }

  const transition = (orderId: string, overrides: Partial<PaidTransition> = {}): PaidTransition => ({
    orderId,
    source: "notify",
    transactionId: `42000${orderId}`,
    totalFee: 6800,
    feeType: "CNY",
    cashFee: 6770,
    cashFeeType: "CNY",
    raw: JSON.stringify({ out_trade_no: orderId, attach: '深圳 "quoted" \\ back' }),
    at: PAID_AT,
    eventId: `evt_${orderId
      .replace(/[^0-9A-Za-z]/g, "")
      .slice(-24)
      .padStart(24, "0")}`,
    eventPayload: JSON.stringify({ orderId }),
    ...overrides,
  });

  async function eventsFor(ids: readonly string[]) {
    return database.db.selectFrom("payment_events").selectAll().where("order_id", "in", ids).orderBy("order_id").execute();
  }

  /** The order.paid outbox rows of these orders: exactly one per order the writer moved, committed with it. */
  async function outboxFor(ids: readonly string[]) {
    return database.db
      .selectFrom("webhook_events")
      .select(["id", "type", "order_id", "refund_id", "payload", "created_at"])
      .where("order_id", "in", ids)
      .orderBy("order_id")
      .execute();
  }

  it("a burst of transitions (more than one batch holds) pays every order once, with its event as given", async () => {
    const ids = await pendingOrders(MAX_PAID_BATCH * 2 + 5);
    const applied = await Promise.all(ids.map((id) => writer.write(transition(id))));
    expect(applied.every((a) => a)).toBe(true);
    const orders = await database.db.selectFrom("orders").select(["id", "status", "transaction_id", "paid_at", "updated_at"]).where("id", "in", ids).orderBy("id").execute();
    expect(orders).toEqual(ids.map((id) => ({ id, status: "paid", transaction_id: `42000${id}`, paid_at: PAID_AT, updated_at: PAID_AT })));
    const events = await eventsFor(ids);
    expect(events).toHaveLength(ids.length);
    expect(events[0]).toMatchObject({
      order_id: ids[0],
      source: "notify",
      transaction_id: `42000${ids[0]}`,
      total_fee: 6800,
      fee_type: "CNY",
      cash_fee: 6770,
      cash_fee_type: "CNY",
      raw: JSON.stringify({ out_trade_no: ids[0], attach: '深圳 "quoted" \\ back' }),
      created_at: PAID_AT,
    });
    const outbox = await outboxFor(ids);
    expect(outbox).toEqual(
      [...ids]
        .sort()
        .map((id) => ({ id: transition(id).eventId, type: "order.paid", order_id: id, refund_id: null, payload: JSON.stringify({ orderId: id }), created_at: PAID_AT })),
    );
  });

  it("copies of one transition in one burst: exactly one applies, the others find the order paid", async () => {
    const [id = ""] = await pendingOrders(1);
    const applied = await Promise.all(Array.from({ length: 20 }, () => writer.write(transition(id))));
    expect(applied.filter((a) => a)).toHaveLength(1);
    expect(await eventsFor([id])).toHaveLength(1);
    expect(await outboxFor([id])).toHaveLength(1);
  });

  it("a transition for an order that is not pending writes nothing", async () => {
    const [id = ""] = await pendingOrders(1);
    await database.db.updateTable("orders").set({ status: "closed", closed_at: NOW }).where("id", "=", id).execute();
    expect(await writer.write(transition(id))).toBe(false);
    expect(await eventsFor([id])).toEqual([]);
    expect(await outboxFor([id])).toEqual([]);
    expect((await database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status).toBe("closed");
  });

  it("a transition that breaks a constraint fails alone; the rest of its batch is committed", async () => {
    const ids = await pendingOrders(4);
    // Two orders cannot share a transaction_id (orders_transaction_id_key).
    const [a = "", b = "", c = "", d = ""] = ids;
    const settled = await Promise.allSettled([
      writer.write(transition(a)),
      writer.write(transition(b, { transactionId: `42000${a}` })),
      writer.write(transition(c)),
      writer.write(transition(d, { cashFee: -1 })),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
    const orders = await database.db.selectFrom("orders").select(["id", "status"]).where("id", "in", ids).orderBy("id").execute();
    expect(orders.map((o) => o.status)).toEqual(["paid", "pending", "paid", "pending"]);
    expect((await eventsFor(ids)).map((e) => e.order_id)).toEqual([a, c]);
    expect((await outboxFor(ids)).map((e) => e.order_id)).toEqual([a, c]);
  });

  it("two writers on one database pay a contested order once", async () => {
    const other = createPaidWriter(database.db, dialect);
    const ids = await pendingOrders(30);
    const results = await Promise.all(ids.flatMap((id) => [writer.write(transition(id)), other.write(transition(id))]));
    for (let n = 0; n < ids.length; n++) expect([results[2 * n], results[2 * n + 1]].filter((a) => a)).toHaveLength(1);
    expect(await eventsFor(ids)).toHaveLength(ids.length);
    expect(await outboxFor(ids)).toHaveLength(ids.length);
    await other.drain();
  });

  it("on SQLite the order.paid row is fanned out in the payment's transaction: a delivery per enabled endpoint subscribed to it (on PostgreSQL the dispatcher fans out)", async () => {
    // No endpoint enabled: on both databases the row is written fanned out (to nobody), as the dispatcher would mark it.
    const [lone = ""] = await pendingOrders(1);
    expect(await writer.write(transition(lone))).toBe(true);
    expect(await database.db.selectFrom("webhook_events").select("fanned_out").where("order_id", "=", lone).execute()).toEqual([{ fanned_out: 1 }]);
    expect(await database.db.selectFrom("webhook_deliveries").select("id").where("order_id", "=", lone).execute()).toEqual([]);
    const endpoint = (id: string, eventTypes: string, enabled: 0 | 1) => ({
      id,
      url: `https://hooks.example.com/${id}`,
      description: null,
      event_types: eventTypes,
      secret: "whsec_test_secret_0123456789abcdef",
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled,
      source: "api" as const,
      created_at: NOW,
      updated_at: NOW,
    });
    await database.db
      .insertInto("webhook_endpoints")
      .values([
        endpoint("we_fan_all", JSON.stringify(["order.paid", "order.closed"]), 1),
        endpoint("we_fan_paid", JSON.stringify(["order.paid"]), 1),
        endpoint("we_fan_closed", JSON.stringify(["order.closed"]), 1),
        endpoint("we_fan_disabled", JSON.stringify(["order.paid"]), 0),
        endpoint("we_fan_malformed", '["order.paid"', 1),
      ])
      .execute();
    try {
      const ids = await pendingOrders(3);
      expect(await Promise.all(ids.map((id) => writer.write(transition(id))))).toEqual([true, true, true]);
      const events = await database.db.selectFrom("webhook_events").select(["seq", "id", "order_id", "fanned_out"]).where("order_id", "in", ids).orderBy("order_id").execute();
      const deliveries = await database.db
        .selectFrom("webhook_deliveries")
        .select(["endpoint_id", "event_id", "event_seq", "order_id", "state", "attempts", "next_attempt_at", "expires_at", "created_at"])
        .where("order_id", "in", ids)
        .orderBy("order_id")
        .orderBy("endpoint_id")
        .execute();
      if (dialect === "sqlite") {
        expect(events.map((event) => event.fanned_out)).toEqual([1, 1, 1]);
        expect(deliveries).toEqual(
          events.flatMap((event) =>
            ["we_fan_all", "we_fan_paid"].map((endpointId) => ({
              endpoint_id: endpointId,
              event_id: event.id,
              event_seq: event.seq,
              order_id: event.order_id,
              state: "pending",
              attempts: 0,
              next_attempt_at: PAID_AT,
              expires_at: "2025-01-05T03:10:00.000Z",
              created_at: PAID_AT,
            })),
          ),
        );
      } else {
        expect(events.map((event) => event.fanned_out)).toEqual([0, 0, 0]);
        expect(deliveries).toEqual([]);
      }
    } finally {
      await database.db.deleteFrom("webhook_deliveries").execute();
      await database.db.deleteFrom("webhook_endpoints").execute();
    }
  });

  it("the batch statements look orders up by primary key, never by scanning pending orders, on a large analysed table", async () => {
    await pendingOrders(3000);
    if (dialect === "sqlite") {
      const plan = async (statement: string, parameters: readonly unknown[]): Promise<string> =>
        (await database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${statement}`, [...parameters]))).rows.map((row) => row.detail).join("\n");
      // Without statistics (a new database) and with them.
      for (const analysed of [false, true]) {
        if (analysed) await database.db.executeQuery(CompiledQuery.raw("analyze"));
        for (const [statement, parameters] of [
          [SQLITE_MARK_ONE_PAID, ["t", PAID_AT, PAID_AT, "x"]],
          [SQLITE_ORDERS_BY_IDS, [JSON.stringify(["x"])]],
        ] as const) {
          const text = await plan(statement, parameters);
          expect(text).toMatch(/SEARCH orders USING (INDEX sqlite_autoindex_orders_1|PRIMARY KEY) \(id=\?\)/);
          expect(text).not.toMatch(/orders_status/);
        }
        expect(await plan(SQLITE_INSERT_ONE_EVENT, ["x", "notify", "t", 1, "CNY", null, null, "{}", PAID_AT])).not.toMatch(/SCAN (orders|payment_events)/);
        expect(await plan(SQLITE_INSERT_ONE_OUTBOX, ["evt_x", "x", "{}", PAID_AT])).not.toMatch(/SCAN (orders|webhook_events)/);
        expect(await plan(SQLITE_INSERT_ONE_DELIVERY, ["we", "evt_x", 1, "x", PAID_AT, PAID_AT, PAID_AT, PAID_AT])).not.toMatch(/SCAN/);
      }
    } else {
      const arrays = [["x"], ["notify"], ["t"], [1], ["CNY"], [null], [null], ["{}"], [PAID_AT], ["evt_x"], ["{}"]];
      const statements: Array<[string, unknown[]]> = [
        [POSTGRES_MARK_PAID, arrays],
        [POSTGRES_ORDERS_BY_IDS, [["x", "y"]]],
      ];
      for (const analysed of [false, true]) {
        if (analysed) await database.db.executeQuery(CompiledQuery.raw("analyze orders"));
        for (const [statement, parameters] of statements) {
          const rows = (await database.db.executeQuery<{ "QUERY PLAN": string }>(CompiledQuery.raw(`explain ${statement}`, parameters))).rows;
          const text = rows.map((row) => row["QUERY PLAN"]).join("\n");
          expect(text).toMatch(/Index Scan using orders_pkey on orders|Bitmap Index Scan on orders_pkey/);
          expect(text).not.toMatch(/orders_status|Seq Scan on orders/);
        }
      }
    }
  });
});
