import type { Order, RequestPaymentParams } from "@pay/core/contract";
import { OrderPaymentResponseSchema, ProductListResponseSchema } from "@pay/core/contract";
import { verifySign } from "@pay/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, eventually, MERCHANT, startApiHarness, type ApiHarness } from "./support/api-harness.js";
import { DATABASES } from "./support/databases.js";

describe.each(DATABASES)("payment flows on %s", (kind) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness(kind);
  });
  afterAll(async () => {
    await h.close();
  });

  async function createOrder(token: string, items = [{ productId: "coffee-beans", quantity: 2 }], headers: Record<string, string> = {}) {
    const answer = await h.request("POST", "/api/orders", { token, body: { items }, headers });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return OrderPaymentResponseSchema.parse(answer.body);
  }

  async function orderOf(token: string, id: string): Promise<Order> {
    const answer = await h.request("GET", `/api/orders/${id}`, { token });
    expect(answer.status).toBe(200);
    return answer.body.order as Order;
  }

  it("the whole purchase: login, products, order, pay, notify, paid", async () => {
    const token = await h.signIn("alice");
    const products = ProductListResponseSchema.parse((await h.request("GET", "/api/products")).body);
    const beans = products.products.find((p) => p.id === "coffee-beans");
    expect(beans).toMatchObject({ currency: "CNY" });
    const { order, payment } = await createOrder(token);
    expect(order).toMatchObject({ status: "pending", totalFee: (beans?.price ?? 0) * 2, refundedFee: 0, feeType: "CNY", paidAt: null, transactionId: null });
    expect(Object.keys(payment).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);
    // paySign covers appId + the four other fields, with the merchant key; appId is never sent to the client.
    const signed = verifySign(
      { appId: MERCHANT.appId, timeStamp: payment.timeStamp, nonceStr: payment.nonceStr, package: payment.package, signType: payment.signType, sign: payment.paySign },
      { key: MERCHANT.key, signType: "HMAC-SHA256", inferSignType: true },
    );
    expect(signed.ok).toBe(true);

    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    const paid = await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.status === "paid" ? current : undefined;
    });
    expect(paid.transactionId).toMatch(/^4200\d{24}$/);
    expect(paid.paidAt).not.toBeNull();
    const events = await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", order.id).execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: "notify", total_fee: paid.totalFee });
  });

  it("cancel, then pay again from the same order", async () => {
    const token = await h.signIn("bob");
    const { order, payment } = await createOrder(token);
    expect(await h.pay(payment, "cancel")).toMatchObject({ errMsg: "requestPayment:fail cancel" });
    expect((await orderOf(token, order.id)).status).toBe("pending");
    const again = await h.request("POST", `/api/orders/${order.id}/payment`, { token });
    expect(again.status).toBe(200);
    const renewed = (again.body.payment as RequestPaymentParams).package;
    expect(renewed).toBe(payment.package);
    await h.pay(again.body.payment as RequestPaymentParams);
    await eventually(async () => (await orderOf(token, order.id)).status === "paid");
    const afterPaid = await h.request("POST", `/api/orders/${order.id}/payment`, { token });
    expect(afterPaid.status).toBe(409);
    expect(afterPaid.body).toMatchObject({ error: { code: "ORDER_NOT_PAYABLE" } });
  });

  it("close: a pending order closes at the gateway and locally; closing twice is fine; paid orders refuse", async () => {
    const token = await h.signIn("carol");
    const { order, payment } = await createOrder(token);
    const closed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
    expect(closed.status).toBe(200);
    expect(closed.body.order).toMatchObject({ status: "closed" });
    expect((await h.request("POST", `/api/orders/${order.id}/close`, { token })).status).toBe(200);
    expect(await h.pay(payment)).toMatchObject({ error: { code: "ORDER_CLOSED" } });
    expect((await h.request("POST", `/api/orders/${order.id}/payment`, { token })).body).toMatchObject({ error: { code: "ORDER_NOT_PAYABLE" } });

    const second = await createOrder(token);
    await h.pay(second.payment);
    await eventually(async () => (await orderOf(token, second.order.id)).status === "paid");
    const refused = await h.request("POST", `/api/orders/${second.order.id}/close`, { token });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "ORDER_NOT_CLOSABLE" } });
  });

  it("an Idempotency-Key replays the same order; another body under it is refused", async () => {
    const token = await h.signIn("dave");
    const first = await createOrder(token, undefined, { "idempotency-key": "checkout-1" });
    const replay = await createOrder(token, undefined, { "idempotency-key": "checkout-1" });
    expect(replay.order.id).toBe(first.order.id);
    expect(replay.payment.package).toBe(first.payment.package);
    const conflict = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] }, headers: { "idempotency-key": "checkout-1" } });
    expect(conflict.status).toBe(422);
    expect(conflict.body).toMatchObject({ error: { code: "IDEMPOTENCY_CONFLICT" } });
  });

  it("refunds: partial then the rest, with refund notifies; never more than paid; retries reuse out_refund_no", async () => {
    const token = await h.signIn("erin");
    const { order, payment } = await createOrder(token, [{ productId: "mug", quantity: 1 }]);
    await h.pay(payment);
    await eventually(async () => (await orderOf(token, order.id)).status === "paid");
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const refund = (fee: number, key: string) =>
      h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: fee, reason: "damaged" }, headers: { ...admin, "idempotency-key": key } });

    const partial = await refund(1000, "refund-a");
    expect(partial.status, JSON.stringify(partial.body)).toBe(201);
    expect(partial.body.refund).toMatchObject({ refundFee: 1000, status: "processing", currency: "CNY" });
    const retried = await refund(1000, "refund-a");
    expect(retried.status).toBe(201);
    expect((retried.body.refund as { id: string }).id).toBe((partial.body.refund as { id: string }).id);
    expect((await refund(order.totalFee, "refund-b")).body).toMatchObject({ error: { code: "REFUND_EXCEEDS_PAID", field: "refundFee" } });

    await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.refundedFee === 1000 ? current : undefined;
    });
    expect((await orderOf(token, order.id)).status).toBe("paid");
    const rest = await refund(order.totalFee - 1000, "refund-c");
    expect(rest.status).toBe(201);
    const refunded = await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.status === "refunded" ? current : undefined;
    });
    expect(refunded.refundedFee).toBe(order.totalFee);
    const rows = await h.database.db.selectFrom("refunds").selectAll().where("order_id", "=", order.id).execute();
    expect(rows.map((r) => r.status).sort()).toEqual(["succeeded", "succeeded"]);
    const gatewayView = await h.control.listOrders({ out_trade_no: order.id });
    expect(gatewayView.orders[0]?.refunds).toHaveLength(2);
    expect((await refund(1, "refund-d")).body).toMatchObject({ error: { code: "ORDER_NOT_REFUNDABLE" } });
  });

  it("refunds need the admin token and an Idempotency-Key", async () => {
    const token = await h.signIn("frank");
    const { order } = await createOrder(token);
    const path = `/api/admin/orders/${order.id}/refunds`;
    expect((await h.request("POST", path, { body: { refundFee: 1 } })).status).toBe(401);
    expect((await h.request("POST", path, { token, body: { refundFee: 1 }, headers: { "idempotency-key": "k" } })).status).toBe(403);
    const noKey = await h.request("POST", path, { body: { refundFee: 1 }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(noKey.body).toMatchObject({ error: { code: "VALIDATION_FAILED", field: "Idempotency-Key" } });
    const unpaid = await h.request("POST", path, { body: { refundFee: 1 }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "k1" } });
    expect(unpaid.body).toMatchObject({ error: { code: "ORDER_NOT_REFUNDABLE" } });
  });

  it("another user's order is invisible: read, pay, close and list all refuse it", async () => {
    const owner = await h.signIn("grace");
    const other = await h.signIn("mallory");
    const { order } = await createOrder(owner);
    for (const [method, path] of [
      ["GET", `/api/orders/${order.id}`],
      ["POST", `/api/orders/${order.id}/payment`],
      ["POST", `/api/orders/${order.id}/close`],
    ] as const) {
      const answer = await h.request(method, path, { token: other });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
    const list = await h.request("GET", "/api/orders", { token: other });
    expect((list.body.orders as Order[]).map((o) => o.id)).not.toContain(order.id);
    expect((await orderOf(owner, order.id)).status).toBe("pending");
  });

  it("lists the caller's orders newest first, a page at a time", async () => {
    const token = await h.signIn("heidi");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createOrder(token)).order.id);
    const first = await h.request("GET", "/api/orders?limit=2", { token });
    expect(first.status).toBe(200);
    const page1 = (first.body.orders as Order[]).map((o) => o.id);
    const second = await h.request("GET", `/api/orders?limit=2&cursor=${String(first.body.nextCursor)}`, { token });
    const page2 = (second.body.orders as Order[]).map((o) => o.id);
    const third = await h.request("GET", `/api/orders?limit=2&cursor=${String(second.body.nextCursor)}`, { token });
    const page3 = (third.body.orders as Order[]).map((o) => o.id);
    expect([...page1, ...page2, ...page3]).toEqual([...ids].reverse());
    expect(third.body.nextCursor).toBeNull();
  });

  it("healthz and readyz answer", async () => {
    expect((await h.request("GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await h.request("GET", "/readyz")).body).toEqual({ status: "ready", database: kind });
  });
});
