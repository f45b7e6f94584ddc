// The repositories' conditional writes on both databases: each write returns the row it wrote, and each
// WHERE clause that makes a transition happen once is pinned here directly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { FIXTURE_NOW as NOW, pendingOrderRow, processingRefundRow } from "../../test/support/rows.js";
import { readOrder } from "./order-reads.js";
import { claimOrderQuery, insertOrder, listOrdersOfUser, markOrderClosed, reserveRefundFee, setPrepay } from "./orders.js";
import { listActiveProducts, findActiveProducts, findOrderingInputs, hasProducts } from "./products.js";
import { claimRefundQuery, insertReservedRefund, markRefundSubmitted, settleRefundRow } from "./refunds.js";
import { orderEvent, refundEvent } from "../services/events.js";
import type { NewRefundRow, OrderRow } from "./schema.js";
import { ensureUser, findUserOpenid } from "./users.js";

const LATER = "2025-01-02T03:10:00.000Z";

/** The outbox rows a settlement to `status` writes, as the service builds them. */
const settlementEvents = (status: "succeeded" | "closed" | "abnormal") => ({
  refund: (row: Parameters<typeof refundEvent>[1]) => refundEvent(status === "succeeded" ? "refund.succeeded" : "refund.failed", row, LATER).row,
  orderRefunded: (order: OrderRow) => orderEvent("order.refunded", order, LATER).row,
});
let sequence = 0;

describe.each(DATABASES)("repositories on %s", (dialect) => {
  let database: TestDatabase;
  const user = "repo-user";

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    await database.db.insertInto("users").values({ id: user, openid: "openid-repo", created_at: NOW }).execute();
  });
  afterAll(() => database.close());

  const newId = (prefix: string): string => `${prefix}-${dialect}-${++sequence}`;
  const paidOrder = (totalFee = 1000) =>
    insertOrder(database.db, pendingOrderRow(newId("paid"), user, { status: "paid", total_fee: totalFee, transaction_id: newId("tx"), paid_at: NOW }));
  const refundRow = (orderId: string, refundFee: number, overrides: Partial<NewRefundRow> = {}): NewRefundRow =>
    processingRefundRow(newId("refund"), orderId, { refund_fee: refundFee, ...overrides });

  it("insertOrder and setPrepay return the row as stored", async () => {
    const row = pendingOrderRow(newId("order"), user, { total_fee: 6800 });
    const stored = await insertOrder(database.db, row);
    expect(stored).toEqual({ ...row, refunded_fee: 0, reserved_refund_fee: 0 });
    expect(stored).toEqual(await readOrder(database.db, row.id));
    const prepaid = await setPrepay(database.db, stored, { prepayId: "wx201410272009395522657a690389285100", expiresAt: LATER }, LATER);
    expect(prepaid).toEqual({ ...stored, prepay_id: "wx201410272009395522657a690389285100", prepay_expires_at: LATER, updated_at: LATER });
    expect(prepaid).toEqual(await readOrder(database.db, row.id));
  });

  it("insertOrder reads back what the database filled in when the row leaves the protocol to it", async () => {
    const { protocol: _omitted, ...row } = pendingOrderRow(newId("order"), user);
    const stored = await insertOrder(database.db, row);
    expect(stored).toEqual(await readOrder(database.db, row.id));
    expect(stored.refunded_fee).toBe(0);
  });

  it("setPrepay returns the row as it now stands when it moved after the caller read it", async () => {
    const stored = await insertOrder(database.db, pendingOrderRow(newId("order"), user));
    // Another process queried it meanwhile (last_queried_at only, as the sweep's claim does).
    expect(await claimOrderQuery(database.db, stored.id, LATER, LATER)).toBe(true);
    const prepaid = await setPrepay(database.db, stored, { prepayId: "wx-moved-1", expiresAt: LATER }, LATER);
    expect(prepaid).toEqual({ ...stored, last_queried_at: LATER, prepay_id: "wx-moved-1", prepay_expires_at: LATER, updated_at: LATER });
    expect(prepaid).toEqual(await readOrder(database.db, stored.id));
    // Paid meanwhile: the stale pending row is not taken for the truth.
    const paid = await paidOrder();
    const again = await setPrepay(database.db, { ...paid, status: "pending", transaction_id: null, paid_at: null }, { prepayId: "wx-moved-2", expiresAt: LATER }, LATER);
    expect(again).toEqual({ ...paid, prepay_id: "wx-moved-2", prepay_expires_at: LATER, updated_at: LATER });
    expect(again).toEqual(await readOrder(database.db, paid.id));
  });

  it("markOrderClosed closes only a pending order and otherwise returns the order as it stands", async () => {
    const pending = await insertOrder(database.db, pendingOrderRow(newId("order"), user));
    const closedEvent = (row: OrderRow) => orderEvent("order.closed", row, LATER).row;
    const closedRow = { ...pending, status: "closed", closed_at: LATER, updated_at: LATER };
    expect(await markOrderClosed(database.db, pending.id, LATER, closedEvent)).toEqual({ order: closedRow, closed: true });
    const paid = await paidOrder();
    expect(await markOrderClosed(database.db, paid.id, LATER, closedEvent)).toEqual({ order: paid, closed: false });
    // Exactly one order.closed, of the order it closed, carrying the row as closed.
    const events = await database.db.selectFrom("webhook_events").selectAll().where("order_id", "in", [pending.id, paid.id]).execute();
    expect(events.map((event) => [event.type, event.order_id, event.refund_id])).toEqual([["order.closed", pending.id, null]]);
    expect(JSON.parse(events[0]?.payload ?? "{}")).toMatchObject({ type: "order.closed", data: { order: { id: pending.id, status: "closed" } } });
  });

  it("claimOrderQuery lets one caller query a pending order per interval", async () => {
    const pending = await insertOrder(database.db, pendingOrderRow(newId("order"), user));
    expect(await claimOrderQuery(database.db, pending.id, LATER, NOW)).toBe(true);
    expect(await claimOrderQuery(database.db, pending.id, LATER, NOW)).toBe(false);
    expect(await claimOrderQuery(database.db, pending.id, "2025-01-02T03:20:00.000Z", LATER)).toBe(true);
    const paid = await paidOrder();
    expect(await claimOrderQuery(database.db, paid.id, LATER, LATER)).toBe(false);
  });

  it("listOrdersOfUser pages newest first by (created_at, id)", async () => {
    const owner = newId("pager");
    await database.db
      .insertInto("users")
      .values({ id: owner, openid: `openid-${owner}`, created_at: NOW })
      .execute();
    const times = ["2025-01-02T03:00:00.000Z", "2025-01-02T03:00:00.000Z", "2025-01-02T04:00:00.000Z"];
    const ids = ["a", "b", "c"].map((suffix) => `${owner}-${suffix}`);
    for (const [n, id] of ids.entries()) await insertOrder(database.db, pendingOrderRow(id, owner, { created_at: times[n] ?? NOW }));
    const first = await listOrdersOfUser(database.db, owner, undefined, 2);
    expect(first.map((o) => o.id)).toEqual([ids[2], ids[1]]);
    const last = first[1];
    if (last === undefined) throw new Error("no second row");
    const rest = await listOrdersOfUser(database.db, owner, { createdAt: last.created_at, id: last.id }, 2);
    expect(rest.map((o) => o.id)).toEqual([ids[0]]);
  });

  it("reserveRefundFee never reserves more than was paid, and only on a paid order", async () => {
    const paid = await paidOrder(1000);
    expect(await reserveRefundFee(database.db, paid.id, 600, LATER)).toBe(true);
    expect(await reserveRefundFee(database.db, paid.id, 401, LATER)).toBe(false);
    expect(await reserveRefundFee(database.db, paid.id, 400, LATER)).toBe(true);
    expect((await readOrder(database.db, paid.id)).reserved_refund_fee).toBe(1000);
    const pending = await insertOrder(database.db, pendingOrderRow(newId("order"), user));
    expect(await reserveRefundFee(database.db, pending.id, 1, LATER)).toBe(false);
  });

  it("insertReservedRefund stores the refund and its reservation together, or neither", async () => {
    const paid = await paidOrder(1000);
    const first = refundRow(paid.id, 700);
    expect(await insertReservedRefund(database.db, first, LATER)).toEqual({ outcome: "reserved", refund: { ...first } });
    const over = refundRow(paid.id, 301);
    expect(await insertReservedRefund(database.db, over, LATER)).toEqual({ outcome: "exceeds" });
    expect(await database.db.selectFrom("refunds").select("id").where("id", "=", over.id).execute()).toEqual([]);
    const sameKey = await insertReservedRefund(database.db, refundRow(paid.id, 100, { request_key: first.request_key }), LATER);
    expect(sameKey.outcome).toBe("key-taken");
    expect((await readOrder(database.db, paid.id)).reserved_refund_fee).toBe(700);
  });

  it("settleRefundRow moves a processing refund once and adjusts its order in the same transaction", async () => {
    const paid = await paidOrder(1000);
    const partial = refundRow(paid.id, 400);
    const full = refundRow(paid.id, 600);
    const refused = refundRow(paid.id, 100, { request_key: newId("key") });
    for (const row of [partial, full]) await insertReservedRefund(database.db, row, NOW);
    expect(await markRefundSubmitted(database.db, partial.id, "50300000000000000001", LATER)).toEqual({
      ...partial,
      submitted: 1,
      refund_id: "50300000000000000001",
      updated_at: LATER,
    });

    expect(await settleRefundRow(database.db, partial, { status: "succeeded", now: LATER, succeededAt: NOW }, settlementEvents("succeeded"))).toBe(true);
    expect(await settleRefundRow(database.db, partial, { status: "closed", now: LATER }, settlementEvents("closed"))).toBe(false);
    expect(await readOrder(database.db, paid.id)).toMatchObject({ status: "paid", refunded_fee: 400, reserved_refund_fee: 1000 });
    expect(await settleRefundRow(database.db, full, { status: "succeeded", now: LATER }, settlementEvents("succeeded"))).toBe(true);
    expect(await readOrder(database.db, paid.id)).toMatchObject({ status: "refunded", refunded_fee: 1000 });
    // One refund.succeeded per settled refund, then order.refunded from the refund that completed the total, in that order.
    const events = await database.db.selectFrom("webhook_events").select(["type", "refund_id"]).where("order_id", "=", paid.id).orderBy("seq").execute();
    expect(events).toEqual([
      { type: "refund.succeeded", refund_id: partial.id },
      { type: "refund.succeeded", refund_id: full.id },
      { type: "order.refunded", refund_id: null },
    ]);
    expect(await database.db.selectFrom("refunds").select(["status", "succeeded_at"]).where("id", "in", [partial.id, full.id]).orderBy("refund_fee").execute()).toEqual([
      { status: "succeeded", succeeded_at: NOW },
      { status: "succeeded", succeeded_at: LATER },
    ]);

    const other = await paidOrder(1000);
    const closing = { ...refused, order_id: other.id };
    await insertReservedRefund(database.db, closing, NOW);
    expect(await settleRefundRow(database.db, closing, { status: "closed", now: LATER, note: "NOTENOUGH: balance" }, settlementEvents("closed"))).toBe(true);
    expect(await database.db.selectFrom("webhook_events").select(["type", "refund_id"]).where("order_id", "=", other.id).execute()).toEqual([
      { type: "refund.failed", refund_id: closing.id },
    ]);
    expect(await readOrder(database.db, other.id)).toMatchObject({ status: "paid", reserved_refund_fee: 0, refunded_fee: 0 });
    expect(await database.db.selectFrom("refunds").select(["status", "last_error", "succeeded_at"]).where("id", "=", closing.id).executeTakeFirstOrThrow()).toEqual({
      status: "closed",
      last_error: "NOTENOUGH: balance",
      succeeded_at: null,
    });
  });

  it("claimRefundQuery claims a processing refund once per interval", async () => {
    const paid = await paidOrder(1000);
    const row = refundRow(paid.id, 100);
    await insertReservedRefund(database.db, row, NOW);
    expect(await claimRefundQuery(database.db, row.id, LATER, NOW)).toBe(true);
    expect(await claimRefundQuery(database.db, row.id, LATER, NOW)).toBe(false);
    await settleRefundRow(database.db, row, { status: "succeeded", now: LATER }, settlementEvents("succeeded"));
    expect(await claimRefundQuery(database.db, row.id, "2025-01-03T00:00:00.000Z", LATER)).toBe(false);
  });

  it("ensureUser creates a user once per openid", async () => {
    const openid = newId("openid");
    const id = await ensureUser(database.db, openid, newId("user"), NOW);
    expect(await ensureUser(database.db, openid, newId("user"), NOW)).toBe(id);
    expect(await findUserOpenid(database.db, id)).toBe(openid);
    expect(await findUserOpenid(database.db, "no-such-user")).toBeUndefined();
  });

  it("lists active products in a currency, in catalogue order", async () => {
    expect(await hasProducts(database.db)).toBe(false);
    await database.db
      .insertInto("products")
      .values([
        { id: "b", name: "B", price: 200, currency: "CNY", active: 1, sort_order: 2 },
        { id: "a", name: "A", price: 100, currency: "CNY", active: 1, sort_order: 1 },
        { id: "h", name: "H", price: 100, currency: "HKD", active: 1, sort_order: 0 },
        { id: "x", name: "X", price: 100, currency: "CNY", active: 0, sort_order: 0 },
      ])
      .execute();
    expect(await hasProducts(database.db)).toBe(true);
    expect((await listActiveProducts(database.db, "CNY")).map((p) => p.id)).toEqual(["a", "b"]);
    expect((await findActiveProducts(database.db, ["x", "h", "b"])).map((p) => p.id).sort()).toEqual(["b", "h"]);
    // Create-order's one read: the user's openid and the same products, as full rows.
    await database.db.insertInto("users").values({ id: "buyer", openid: "openid-buyer", created_at: NOW }).execute();
    const inputs = await findOrderingInputs(database.db, "buyer", ["x", "h", "b"]);
    expect(inputs?.openid).toBe("openid-buyer");
    expect([...(inputs?.products ?? [])].sort((p, q) => p.id.localeCompare(q.id))).toEqual([
      { id: "b", name: "B", price: 200, currency: "CNY", active: 1, sort_order: 2 },
      { id: "h", name: "H", price: 100, currency: "HKD", active: 1, sort_order: 0 },
    ]);
    expect(await findOrderingInputs(database.db, "buyer", ["x", "none"])).toEqual({ openid: "openid-buyer", products: [] });
    expect(await findOrderingInputs(database.db, "no-such-user", ["b"])).toBeUndefined();
  });
});
