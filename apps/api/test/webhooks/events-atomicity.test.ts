// The outbox and its change commit together or not at all, on both databases: when the event row cannot be
// written (here: its id is taken, a unique constraint) the change it reports is rolled back with it (the paid
// transition with its payment event, the close, the refund settlement with its order's amounts), and when the
// change does not happen (not pending, not processing) no event is written. Through the writers the services
// use (db/paid-writer.ts, db/orders.ts markOrderClosed, db/refunds.ts settleRefundRow).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPaidWriter, type PaidTransition, type PaidWriter } from "../../src/db/paid-writer.js";
import { insertOrder, markOrderClosed } from "../../src/db/orders.js";
import { insertReservedRefund, settleRefundRow, type SettlementEvents } from "../../src/db/refunds.js";
import type { OrderRow } from "../../src/db/schema.js";
import { orderEvent, refundEvent } from "../../src/services/events.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { storedEvents } from "../support/events.js";
import { FIXTURE_NOW as NOW, pendingOrderRow, processingRefundRow } from "../support/rows.js";

const LATER = "2025-01-02T03:10:00.000Z";
let sequence = 0;

describe.each(DATABASES)("the outbox commits with its change, or neither, on %s", (dialect) => {
  let database: TestDatabase;
  let writer: PaidWriter;
  const user = "atomic-user";
  /** An event id already in the outbox: writing it again breaks webhook_events_id_key. */
  let takenId: string;

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    writer = createPaidWriter(database.db, dialect);
    await database.db.insertInto("users").values({ id: user, openid: "openid-atomic", created_at: NOW }).execute();
    const holder = await insertOrder(database.db, pendingOrderRow(newId(), user));
    const taken = orderEvent("order.closed", holder, NOW);
    await database.db.insertInto("webhook_events").values(taken.row).execute();
    takenId = taken.row.id;
  });
  afterAll(async () => {
    await writer.drain();
    await database.close();
  });

  function newId(): string {
    return `atomic${dialect}${String((sequence += 1)).padStart(10, "0")}`;
  }

  const pendingOrder = () => insertOrder(database.db, pendingOrderRow(newId(), user));
  const orderRow = async (id: string) => database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const eventsOf = async (id: string) => (await storedEvents(database.db, id)).map((e) => e.type);

  function transition(order: OrderRow, eventId?: string): PaidTransition {
    const paid = orderEvent("order.paid", { ...order, status: "paid", transaction_id: `4200${order.id}`, paid_at: LATER, updated_at: LATER }, LATER);
    return {
      orderId: order.id,
      source: "notify",
      transactionId: `4200${order.id}`,
      totalFee: order.total_fee,
      feeType: order.fee_type,
      cashFee: null,
      cashFeeType: null,
      raw: "{}",
      at: LATER,
      eventId: eventId ?? paid.row.id,
      eventPayload: paid.row.payload,
    };
  }

  it("a paid transition whose order.paid row cannot be written is not committed (no paid order, no payment event); the rest of its batch is, each with its event", async () => {
    const orders = await Promise.all(Array.from({ length: 5 }, () => pendingOrder()));
    const [broken, ...good] = orders;
    if (broken === undefined) throw new Error("no order");
    const settled = await Promise.allSettled([writer.write(transition(broken, takenId)), ...good.map((o) => writer.write(transition(o)))]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", ...good.map(() => "fulfilled")]);
    expect((await orderRow(broken.id)).status).toBe("pending");
    expect(await database.db.selectFrom("payment_events").select("id").where("order_id", "=", broken.id).execute()).toEqual([]);
    expect(await eventsOf(broken.id)).toEqual([]);
    for (const o of good) {
      expect((await orderRow(o.id)).status).toBe("paid");
      expect(await eventsOf(o.id)).toEqual(["order.paid"]);
    }
    // Retried with an event of its own, it commits once.
    expect(await writer.write(transition(broken))).toBe(true);
    expect(await eventsOf(broken.id)).toEqual(["order.paid"]);
  });

  it("a close whose order.closed row cannot be written leaves the order pending; a close of an order no longer pending writes no event", async () => {
    const order = await pendingOrder();
    await expect(markOrderClosed(database.db, order.id, LATER, (closed) => ({ ...orderEvent("order.closed", closed, LATER).row, id: takenId }))).rejects.toThrow();
    expect(await orderRow(order.id)).toMatchObject({ status: "pending", closed_at: null });
    expect(await eventsOf(order.id)).toEqual([]);

    const closed = await markOrderClosed(database.db, order.id, LATER, (row) => orderEvent("order.closed", row, LATER).row);
    expect(closed.closed).toBe(true);
    const again = await markOrderClosed(database.db, order.id, LATER, (row) => orderEvent("order.closed", row, LATER).row);
    expect(again).toMatchObject({ closed: false, order: { status: "closed" } });
    expect(await eventsOf(order.id)).toEqual(["order.closed"]);

    const paid = await pendingOrder();
    expect(await writer.write(transition(paid))).toBe(true);
    expect((await markOrderClosed(database.db, paid.id, LATER, (row) => orderEvent("order.closed", row, LATER).row)).closed).toBe(false);
    expect(await eventsOf(paid.id)).toEqual(["order.paid"]);
  });

  it("a refund settlement whose events cannot be written changes neither the refund nor its order; settled, it writes refund.succeeded and order.refunded once", async () => {
    const order = await pendingOrder();
    expect(await writer.write(transition(order))).toBe(true);
    const refund = processingRefundRow(`R${newId()}`, order.id, { refund_fee: order.total_fee });
    expect((await insertReservedRefund(database.db, refund, NOW)).outcome).toBe("reserved");
    const events = (broken: "refund" | "order" | null): SettlementEvents => ({
      refund: (row) => ({ ...refundEvent("refund.succeeded", row, LATER).row, ...(broken === "refund" ? { id: takenId } : {}) }),
      orderRefunded: (row) => ({ ...orderEvent("order.refunded", row, LATER).row, ...(broken === "order" ? { id: takenId } : {}) }),
    });
    for (const broken of ["refund", "order"] as const) {
      await expect(settleRefundRow(database.db, refund, { status: "succeeded", now: LATER }, events(broken))).rejects.toThrow();
      expect(await database.db.selectFrom("refunds").select(["status", "succeeded_at"]).where("id", "=", refund.id).executeTakeFirstOrThrow()).toEqual({
        status: "processing",
        succeeded_at: null,
      });
      expect(await orderRow(order.id)).toMatchObject({ status: "paid", refunded_fee: 0, reserved_refund_fee: order.total_fee });
      expect(await eventsOf(order.id)).toEqual(["order.paid"]);
    }
    // Two settlements at once: one moves it, with both its events; the other writes nothing.
    const results = await Promise.all([
      settleRefundRow(database.db, refund, { status: "succeeded", now: LATER }, events(null)),
      settleRefundRow(database.db, refund, { status: "succeeded", now: LATER }, events(null)),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await orderRow(order.id)).toMatchObject({ status: "refunded", refunded_fee: order.total_fee });
    expect(await eventsOf(order.id)).toEqual(["order.paid", "refund.succeeded", "order.refunded"]);
  });

  it("a closed refund releases its reservation with its refund.failed, or neither", async () => {
    const order = await pendingOrder();
    expect(await writer.write(transition(order))).toBe(true);
    const refund = processingRefundRow(`R${newId()}`, order.id, { refund_fee: 100 });
    expect((await insertReservedRefund(database.db, refund, NOW)).outcome).toBe("reserved");
    const failedEvents = (id?: string): SettlementEvents => ({
      refund: (row) => ({ ...refundEvent("refund.failed", row, LATER).row, ...(id === undefined ? {} : { id }) }),
      orderRefunded: (row) => orderEvent("order.refunded", row, LATER).row,
    });
    await expect(settleRefundRow(database.db, refund, { status: "closed", now: LATER }, failedEvents(takenId))).rejects.toThrow();
    expect(await orderRow(order.id)).toMatchObject({ reserved_refund_fee: 100 });
    expect(await settleRefundRow(database.db, refund, { status: "closed", now: LATER }, failedEvents())).toBe(true);
    expect(await orderRow(order.id)).toMatchObject({ status: "paid", reserved_refund_fee: 0 });
    const stored = await storedEvents(database.db, order.id);
    expect(stored.map((e) => e.type)).toEqual(["order.paid", "refund.failed"]);
    expect(stored[1]?.event.data).toMatchObject({ refund: { id: refund.id, status: "closed" } });
  });
});
