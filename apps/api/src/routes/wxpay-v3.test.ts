// The v3 notify routes (POST /wxpay/v3/notify, /wxpay/v3/refund-notify) and the routing of orders by the
// protocol they were placed with, on fake gateways playing v2 and v3 and a real database: the same raw-body
// reading, matching and once-only commit as v2's routes, each route only for orders of its protocol.
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import { OrderPaymentResponseSchema, RefundResponseSchema, type OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES } from "../../test/support/databases.js";
import { createFakeWorld, FAKE_START, FAKE_USER, type FakeProcess, type FakeWorld } from "../../test/support/fake-app.js";
import { rawRequest } from "../../test/reliability/raw-http.js";
import type { OrderRow } from "../db/schema.js";
import { MAX_NOTIFY_BYTES } from "../gateway/port.js";
import { sweepOnce } from "../services/sweeper.js";

const XML = { "content-type": "text/xml" };
const JSON_TYPE = { "content-type": "application/json" };
const ADMIN_TOKEN = "admin-token-for-tests-0123456789";

describe.each(DATABASES)("v3 notify routes and protocol routing on %s", (kind) => {
  let world: FakeWorld;
  /** Places v3 orders; has both gateways. */
  let v3: FakeProcess;
  /** Places v2 orders; has both gateways (a second process on the same database). */
  let v2: FakeProcess;

  beforeAll(async () => {
    world = await createFakeWorld(kind);
    v3 = await world.start({ v2: true, v3: true, apiVersion: "v3" });
    v2 = await world.start({ v2: true, v3: true, apiVersion: "v2" });
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

  async function placeOrder(process: FakeProcess): Promise<OrderPaymentResponse["order"]> {
    const answer = await call(process, "POST", "/api/orders", { body: { items: [{ productId: "tote", quantity: 1 }] } });
    expect(answer.status).toBe(201);
    return OrderPaymentResponseSchema.parse(answer.body).order;
  }

  async function notify(process: FakeProcess, path: string, body: Uint8Array | string, headers: Record<string, string> = JSON_TYPE): Promise<{ status: number; text: string }> {
    const response = await fetch(`${process.url}${path}`, { method: "POST", headers, body });
    return { status: response.status, text: await response.text() };
  }

  async function row(id: string): Promise<OrderRow> {
    return world.database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  }

  async function events(orderId: string): Promise<number> {
    return (await world.database.db.selectFrom("payment_events").select("id").where("order_id", "=", orderId).execute()).length;
  }

  /** The reason the last notify line gives. */
  function lastNotifyReason(): string | undefined {
    return world.logs.map((line) => JSON.parse(line) as { msg: string; reason?: string }).findLast((line) => line.msg === "notify")?.reason;
  }

  async function paidWithRefund(process: FakeProcess, key: string): Promise<{ orderId: string; refundId: string }> {
    const order = await placeOrder(process);
    const fake = process === v3 ? world.v3 : world.v2;
    const path = process === v3 ? "/wxpay/v3/notify" : "/wxpay/notify";
    expect((await notify(process, path, fake.payNotifyBody(fake.pay(order.id)), process === v3 ? JSON_TYPE : XML)).status).toBe(200);
    const answer = await call(process, "POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: 50 },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key },
    });
    expect(answer.status).toBe(201);
    return { orderId: order.id, refundId: RefundResponseSchema.parse(answer.body).refund.id };
  }

  it("200 concurrent duplicates of a v3 notify make exactly one transition, each acknowledged after the commit", async () => {
    const order = await placeOrder(v3);
    const body = world.v3.payNotifyBody(world.v3.pay(order.id));
    const answers = await Promise.all(Array.from({ length: 200 }, () => notify(v3, "/wxpay/v3/notify", body)));
    expect(answers.every((a) => a.status === 200 && a.text === "")).toBe(true);
    expect(await events(order.id)).toBe(1);
    expect(await row(order.id)).toMatchObject({ status: "paid", protocol: "v3" });
    // Another process answers a later duplicate the same way.
    expect(await notify(v2, "/wxpay/v3/notify", body)).toEqual({ status: 200, text: "" });
    expect(await events(order.id)).toBe(1);
  });

  it("refuses a v3 report about a v2 order, and a v2 report about a v3 order, changing nothing", async () => {
    const v2Order = await placeOrder(v2);
    expect((await row(v2Order.id)).protocol).toBe("v2");
    const v3Signed = world.v3.payNotifyBody(world.v2.pay(v2Order.id));
    expect(await notify(v3, "/wxpay/v3/notify", v3Signed)).toEqual({ status: 400, text: JSON.stringify({ code: "FAIL", message: "订单信息不一致" }) });
    expect(lastNotifyReason()).toBe("PROTOCOL_MISMATCH");
    expect(await row(v2Order.id)).toMatchObject({ status: "pending", transaction_id: null });

    const v3Order = await placeOrder(v3);
    const v2Signed = world.v2.payNotifyBody(world.v3.pay(v3Order.id));
    expect((await notify(v2, "/wxpay/notify", v2Signed, XML)).text).toContain("FAIL");
    expect(lastNotifyReason()).toBe("PROTOCOL_MISMATCH");
    expect(await row(v3Order.id)).toMatchObject({ status: "pending", transaction_id: null });
    expect((await events(v2Order.id)) + (await events(v3Order.id))).toBe(0);
  });

  it("refuses an unknown out_trade_no, a smaller amount, another merchant and a body the v3 gateway did not sign", async () => {
    const order = await placeOrder(v3);
    const genuine = world.v3.pay(order.id);
    const cases: Array<[string, Uint8Array]> = [
      ["UNKNOWN_ORDER", world.v3.payNotifyBody({ ...genuine, orderId: "P20990101000000NOPE" })],
      ["AMOUNT_MISMATCH", world.v3.payNotifyBody({ ...genuine, amount: 1 })],
      ["MCH_ID_MISMATCH", world.v3.payNotifyBody({ ...genuine, merchant: { ...genuine.merchant, mchId: "1999999999" } })],
      ["SIGN_ERROR", world.v2.payNotifyBody(genuine)],
    ];
    for (const [reason, body] of cases) {
      const answer = await notify(v3, "/wxpay/v3/notify", body);
      expect(answer.status, reason).toBe(400);
      expect(JSON.parse(answer.text), reason).toMatchObject({ code: "FAIL" });
      expect(lastNotifyReason()).toBe(reason);
    }
    expect(await row(order.id)).toMatchObject({ status: "pending", transaction_id: null });
    expect(await events(order.id)).toBe(0);
  });

  it("acknowledges an event the API does not act on, on both v3 routes, and changes nothing", async () => {
    const order = await placeOrder(v3);
    const before = await row(order.id);
    expect(await notify(v3, "/wxpay/v3/notify", world.v3.ignoredNotifyBody("event_type TRANSACTION.SOMETHING_NEW"))).toEqual({ status: 200, text: "" });
    expect(lastNotifyReason()).toBe("ignored: event_type TRANSACTION.SOMETHING_NEW");
    expect(await notify(v3, "/wxpay/v3/refund-notify", world.v3.ignoredNotifyBody("event_type REFUND.SOMETHING_NEW"))).toEqual({ status: 200, text: "" });
    expect(await row(order.id)).toEqual(before);
  });

  it("refuses a wrong content type and an oversized body unread or cut off, with the v3 refusal", async () => {
    const order = await placeOrder(v3);
    const body = world.v3.payNotifyBody(world.v3.pay(order.id));
    expect((await notify(v3, "/wxpay/v3/notify", body, XML)).status).toBe(400);
    expect(lastNotifyReason()).toBe("WRONG_CONTENT_TYPE");
    const huge = `{"pad":"${"x".repeat(MAX_NOTIFY_BYTES)}"}`;
    expect((await notify(v3, "/wxpay/v3/notify", huge)).status).toBe(400);
    expect(lastNotifyReason()).toBe("TOO_LARGE");
    expect((await row(order.id)).status).toBe("pending");
  });

  it("cuts off a slow-drip body with the v3 refusal after the body deadline", async () => {
    const answer = await rawRequest(v3.url, {
      path: "/wxpay/v3/notify",
      headers: JSON_TYPE,
      body: '{"kind":"paid"',
      drip: { bytes: 1, everyMs: 50, endless: true },
      timeoutMs: 10_000,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ code: "FAIL", message: "body too slow" });
    expect(answer.ms).toBeLessThan(8_000);
  }, 15_000);

  it("applies a v3 refund notify once; duplicates are acknowledged; a v3 refund notify for a v2 order's refund is refused", async () => {
    const { orderId, refundId } = await paidWithRefund(v3, "v3-refund-notify-key");
    const body = world.v3.refundNotifyBody(world.v3.settleRefund(refundId, "succeeded", "2026-01-01T04:30:00.000Z"));
    const answers = await Promise.all(Array.from({ length: 20 }, () => notify(v3, "/wxpay/v3/refund-notify", body)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await row(orderId)).toMatchObject({ refunded_fee: 50, reserved_refund_fee: 50 });

    const old = await paidWithRefund(v2, "v2-refund-notify-key");
    const report = world.v2.settleRefund(old.refundId, "succeeded", "2026-01-01T04:30:00.000Z");
    expect((await notify(v3, "/wxpay/v3/refund-notify", world.v3.refundNotifyBody(report))).status).toBe(400);
    expect(lastNotifyReason()).toBe("PROTOCOL_MISMATCH");
    const refund = await world.database.db.selectFrom("refunds").selectAll().where("id", "=", old.refundId).executeTakeFirstOrThrow();
    expect(refund.status).toBe("processing");
    expect(await notify(v2, "/wxpay/refund-notify", world.v2.refundNotifyBody(report), XML)).toEqual({ status: 200, text: NOTIFY_SUCCESS_REPLY });
  });
});

describe.each(DATABASES)("a process without a gateway for a protocol on %s", (kind) => {
  let world: FakeWorld;

  beforeAll(async () => {
    world = await createFakeWorld(kind);
  });
  afterAll(async () => {
    await world.close();
  });

  it("answers the v3 routes with 404 without reading the body when no v3 gateway is configured", async () => {
    const v2Only = await world.start({ v2: true, v3: false });
    for (const path of ["/wxpay/v3/notify", "/wxpay/v3/refund-notify"]) {
      // An endless body: only an answer that does not wait for it comes back.
      const answer = await rawRequest(v2Only.url, { path, headers: JSON_TYPE, body: "{", drip: { bytes: 1, everyMs: 50, endless: true }, timeoutMs: 3_000 });
      expect(answer.status, path).toBe(404);
      expect(JSON.parse(answer.body)).toEqual({ code: "FAIL", message: "APIv3 notifies are not served here" });
      expect(answer.ms).toBeLessThan(2_000);
    }
    await v2Only.stop();
  });

  it("a v3-only process refuses everything about a v2 order with 503 GATEWAY_UNAVAILABLE and leaves it unchanged; its sweep leaves v2 orders alone", async () => {
    const v2Only = await world.start({ v2: true, v3: false });
    const token = v2Only.services.tokens.issue(FAKE_USER, world.now).token;
    const place = async (url: string): Promise<string> => {
      const answer = await fetch(`${url}/api/orders`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ items: [{ productId: "tote", quantity: 1 }] }),
      });
      expect(answer.status).toBe(201);
      return OrderPaymentResponseSchema.parse(await answer.json()).order.id;
    };
    const pending = await place(v2Only.url);
    const paid = await place(v2Only.url);
    expect((await fetch(`${v2Only.url}/wxpay/notify`, { method: "POST", headers: XML, body: world.v2.payNotifyBody(world.v2.pay(paid)) })).status).toBe(200);
    await v2Only.stop();
    const callsBefore = world.v2.calls.length;

    const v3Only = await world.start({ v2: false, v3: true, apiVersion: "v3" });
    const before = await world.database.db.selectFrom("orders").selectAll().where("id", "in", [pending, paid]).orderBy("id").execute();
    const attempts: Array<[string, string, Record<string, string>, unknown]> = [
      ["POST", `/api/orders/${pending}/payment`, {}, undefined],
      ["POST", `/api/orders/${pending}/close`, {}, undefined],
      ["POST", `/api/admin/orders/${paid}/refunds`, { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "refund-without-v2" }, { refundFee: 10 }],
    ];
    for (const [method, path, headers, body] of attempts) {
      const answer = await fetch(`${v3Only.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(answer.status, path).toBe(503);
      expect(await answer.json(), path).toMatchObject({ error: { code: "GATEWAY_UNAVAILABLE", message: expect.stringContaining("APIv2") as unknown } });
    }
    // Reading the order answers the stored state (no query is made or claimed).
    world.now += (world.config.orderQueryAfterSeconds + 1) * 1000;
    const read = await fetch(`${v3Only.url}/api/orders/${pending}`, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    // The v2 routes are not served by this process.
    expect((await fetch(`${v3Only.url}/wxpay/notify`, { method: "POST", headers: XML, body: "<xml/>" })).status).toBe(404);
    // Past expiry, the sweep neither queries nor closes the v2 order.
    world.now = FAKE_START + (world.config.orderTtlMinutes + 1) * 60 * 1000;
    expect(await sweepOnce(v3Only.services)).toEqual({ queried: 0, closed: 0, refundsChecked: 0, errors: 0, deferred: 0 });
    expect(await world.database.db.selectFrom("orders").selectAll().where("id", "in", [pending, paid]).orderBy("id").execute()).toEqual(before);
    expect(await world.database.db.selectFrom("refunds").selectAll().execute()).toEqual([]);
    expect(world.v2.calls.length).toBe(callsBefore);
    expect(world.v3.calls).toEqual([]);
    await v3Only.stop();
  });
});
