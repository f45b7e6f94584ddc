// A v2 shop migrating to v3 without losing an order, on fake gateways (one playing v2, one v3) and a real
// database: orders placed by a v2-only process, the process restarted with v3 as the version for new
// orders and both gateways, then the old orders keep settling through v2 (notify, query recovery, refund,
// the sweep) while new ones go through v3 (purchase, notify, close, refund, the sweep) in the same process.
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import { OrderPaymentResponseSchema, RefundResponseSchema, type OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OrderRow } from "../src/db/schema.js";
import type { FakeGateway } from "../src/gateway/fake.js";
import { sweepOnce } from "../src/services/sweeper.js";
import { DATABASES } from "./support/databases.js";
import { createFakeWorld, FAKE_START, FAKE_USER, type FakeProcess, type FakeWorld } from "./support/fake-app.js";

const XML = { "content-type": "text/xml" };
const JSON_TYPE = { "content-type": "application/json" };
const ADMIN_TOKEN = "admin-token-for-tests-0123456789";

describe.each(DATABASES)("migrating from v2 to v3 on %s", (kind) => {
  let world: FakeWorld;
  let v2Only: FakeProcess;
  let both: FakeProcess;
  /** The v2 orders placed before the restart, by what happens to them after it. */
  const old = { notified: "", recovered: "", refunded: "", expiring: "" };

  beforeAll(async () => {
    world = await createFakeWorld(kind);
    v2Only = await world.start({ v2: true, v3: false });
  });
  afterAll(async () => {
    await world.close();
  });

  async function call(
    process: FakeProcess,
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown }> {
    const token = process.services.tokens.issue(FAKE_USER, world.now).token;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...options.headers };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${process.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
  }

  async function placeOrder(process: FakeProcess): Promise<OrderPaymentResponse> {
    const answer = await call(process, "POST", "/api/orders", { body: { items: [{ productId: "mug", quantity: 1 }] } });
    expect(answer.status).toBe(201);
    return OrderPaymentResponseSchema.parse(answer.body);
  }

  async function notify(process: FakeProcess, path: string, body: Uint8Array, headers: Record<string, string>): Promise<{ status: number; text: string }> {
    const response = await fetch(`${process.url}${path}`, { method: "POST", headers, body });
    return { status: response.status, text: await response.text() };
  }

  async function refund(process: FakeProcess, orderId: string, key: string): Promise<string> {
    const answer = await call(process, "POST", `/api/admin/orders/${orderId}/refunds`, {
      body: { refundFee: 100 },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key },
    });
    expect(answer.status).toBe(201);
    return RefundResponseSchema.parse(answer.body).refund.id;
  }

  async function row(id: string): Promise<OrderRow> {
    return world.database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  }

  const callsAbout = (fake: FakeGateway, id: string): string[] => fake.calls.filter((c) => c.id === id).map((c) => c.method);

  it("a v2-only process places v2 orders: protocol v2, the merchant's sign type, paid by a v2 notify", async () => {
    for (const name of ["notified", "recovered", "refunded", "expiring"] as const) {
      const { order, payment } = await placeOrder(v2Only);
      old[name] = order.id;
      expect(payment.signType).toBe(world.config.merchant.signType);
      expect(await row(order.id)).toMatchObject({ protocol: "v2", sign_type: world.config.merchant.signType });
    }
    const paid = await notify(v2Only, "/wxpay/notify", world.v2.payNotifyBody(world.v2.pay(old.refunded)), XML);
    expect(paid).toEqual({ status: 200, text: NOTIFY_SUCCESS_REPLY });
    expect(world.v3.calls).toEqual([]);
    await v2Only.stop();
  });

  it("after the restart with v3 for new orders and both gateways, a v2 notify still pays an old order through the v2 route", async () => {
    both = await world.start({ v2: true, v3: true, apiVersion: "v3" });
    const body = world.v2.payNotifyBody(world.v2.pay(old.notified));
    // v3's route does not take it: the v3 gateway cannot verify a v2 notify.
    expect((await notify(both, "/wxpay/v3/notify", body, JSON_TYPE)).status).toBe(400);
    expect((await row(old.notified)).status).toBe("pending");
    expect(await notify(both, "/wxpay/notify", body, XML)).toEqual({ status: 200, text: NOTIFY_SUCCESS_REPLY });
    expect((await row(old.notified)).status).toBe("paid");
  });

  it("a v2 order whose notify was lost is recovered by a query through v2", async () => {
    world.v2.pay(old.recovered);
    world.now += (world.config.orderQueryAfterSeconds + 1) * 1000;
    const answer = await call(both, "GET", `/api/orders/${old.recovered}`);
    expect(answer).toMatchObject({ status: 200, body: { order: { status: "paid" } } });
    expect(callsAbout(world.v2, old.recovered)).toContain("queryOrder");
    expect(callsAbout(world.v3, old.recovered)).toEqual([]);
  });

  it("a v2 order is refunded through v2, and its refund notify settles it on the v2 route only", async () => {
    const refundId = await refund(both, old.refunded, "refund-old-v2-order");
    expect(world.v2.refunds.has(refundId)).toBe(true);
    expect(world.v3.refunds.size).toBe(0);
    const body = world.v2.refundNotifyBody(world.v2.settleRefund(refundId, "succeeded", "2026-01-01T04:10:00.000Z"));
    expect((await notify(both, "/wxpay/v3/refund-notify", body, JSON_TYPE)).status).toBe(400);
    expect(await notify(both, "/wxpay/refund-notify", body, XML)).toEqual({ status: 200, text: NOTIFY_SUCCESS_REPLY });
    expect(await row(old.refunded)).toMatchObject({ refunded_fee: 100, status: "paid" });
  });

  it("a new order is placed with v3: protocol v3, RSA params from the v3 gateway, paid by a v3 notify, refunded through v3", async () => {
    const { order, payment } = await placeOrder(both);
    expect(payment.signType).toBe("RSA");
    expect(await row(order.id)).toMatchObject({ protocol: "v3", sign_type: "RSA" });
    expect(world.v3.orders.has(order.id)).toBe(true);
    expect(world.v2.orders.has(order.id)).toBe(false);
    // The params again, unchanged and still RSA, without placing the order again.
    const again = await call(both, "POST", `/api/orders/${order.id}/payment`);
    expect(again.status).toBe(200);
    expect(OrderPaymentResponseSchema.parse(again.body).payment).toEqual(payment);
    expect(callsAbout(world.v3, order.id)).toEqual(["placeOrder"]);

    const body = world.v3.payNotifyBody(world.v3.pay(order.id));
    // The v2 route refuses it (its gateway cannot verify it) and nothing changes.
    expect((await notify(both, "/wxpay/notify", body, XML)).text).toContain("FAIL");
    expect((await row(order.id)).status).toBe("pending");
    expect(await notify(both, "/wxpay/v3/notify", body, JSON_TYPE)).toEqual({ status: 200, text: "" });
    expect((await row(order.id)).status).toBe("paid");

    const refundId = await refund(both, order.id, "refund-new-v3-order");
    expect(world.v3.refunds.has(refundId)).toBe(true);
    const settled = world.v3.refundNotifyBody(world.v3.settleRefund(refundId, "succeeded", "2026-01-01T04:20:00.000Z"));
    expect(await notify(both, "/wxpay/v3/refund-notify", settled, JSON_TYPE)).toEqual({ status: 200, text: "" });
    expect((await row(order.id)).refunded_fee).toBe(100);
    expect(world.v2.calls.filter((c) => c.id === order.id || c.id === refundId)).toEqual([]);
  });

  it("a v3 order closes through v3", async () => {
    const { order } = await placeOrder(both);
    const closed = await call(both, "POST", `/api/orders/${order.id}/close`);
    expect(closed).toMatchObject({ status: 200, body: { order: { status: "closed" } } });
    expect(callsAbout(world.v3, order.id)).toEqual(["placeOrder", "closeOrder"]);
    expect(world.v3.orders.get(order.id)?.state).toBe("closed");
  });

  it("one sweep closes an expired v2 order through v2, recovers a v3 payment and settles a v3 refund through v3", async () => {
    // The old v2 order expires; a new v3 order is paid at the gateway and its notify is lost.
    world.now = FAKE_START + world.config.orderTtlMinutes * 60 * 1000;
    const { order: lost } = await placeOrder(both);
    world.v3.pay(lost.id);
    const { order: refunded } = await placeOrder(both);
    await notify(both, "/wxpay/v3/notify", world.v3.payNotifyBody(world.v3.pay(refunded.id)), JSON_TYPE);
    const refundId = await refund(both, refunded.id, "refund-swept-v3-order");
    world.v3.settleRefund(refundId, "succeeded", "2026-01-01T05:00:00.000Z");
    world.now += (world.config.orderQueryAfterSeconds + 1) * 1000;

    const report = await sweepOnce(both.services);
    expect(report).toMatchObject({ closed: 1, queried: 1, refundsChecked: 1, errors: 0 });
    expect((await row(old.expiring)).status).toBe("closed");
    expect(callsAbout(world.v2, old.expiring)).toContain("closeOrder");
    expect(callsAbout(world.v3, old.expiring)).toEqual([]);
    expect((await row(lost.id)).status).toBe("paid");
    expect(callsAbout(world.v3, lost.id)).toContain("queryOrder");
    expect(callsAbout(world.v3, refundId)).toEqual(["refund", "queryRefund"]);
    expect((await row(refunded.id)).refunded_fee).toBe(100);
    expect(world.v2.calls.filter((c) => c.id === lost.id || c.id === refundId)).toEqual([]);
  });

  it("every order kept the protocol it was placed with", async () => {
    const rows = await world.database.db.selectFrom("orders").select(["id", "protocol"]).execute();
    const v2 = rows.filter((r) => r.protocol === "v2").map((r) => r.id);
    expect(v2.sort()).toEqual(Object.values(old).sort());
    expect(rows.filter((r) => r.protocol === "v3")).toHaveLength(rows.length - 4);
  });
});
