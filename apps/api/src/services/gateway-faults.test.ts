import type { OrderPaymentResponse } from "@pay/core/contract";
import { FaultSchema } from "@pay/sandbox/control";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, eventually, startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";
import { DATABASES } from "../../test/support/databases.js";

describe.each(DATABASES)("gateway faults on %s", (kind) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness(kind);
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(async () => {
    await h.control.clearFaults();
  });

  const fault = (path: string, faults: unknown[], times = 10) => h.control.addFault({ path, faults: faults.map((f) => FaultSchema.parse(f)), times });

  it.each([
    ["a timeout", [{ kind: "timeout" }], 504, "GATEWAY_TIMEOUT"],
    ["HTTP 503", [{ kind: "http", status: 503 }], 503, "GATEWAY_UNAVAILABLE"],
    ["a garbage body", [{ kind: "garbage" }], 502, "GATEWAY_ERROR"],
    ["SYSTEMERROR", [{ kind: "systemerror" }], 503, "GATEWAY_UNAVAILABLE"],
  ])("unifiedorder answering %s: a clear error, a stored pending order, and a retry with the same out_trade_no", async (what, faults, status, code) => {
    const token = await h.signIn(`fault-${code}-${Math.random()}`);
    const key = `k-${what.replace(/\W/g, "-")}`;
    await fault("/pay/unifiedorder", faults);
    const failed = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] }, headers: { "idempotency-key": key } });
    expect(failed.status).toBe(status);
    expect(failed.body).toMatchObject({ error: { code } });
    const stored = await h.database.db.selectFrom("orders").selectAll().where("idempotency_key", "=", key).executeTakeFirstOrThrow();
    expect(stored, JSON.stringify(stored)).toMatchObject({ status: "pending", prepay_id: null });

    await h.control.clearFaults();
    const retried = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] }, headers: { "idempotency-key": key } });
    expect(retried.status).toBe(201);
    expect((retried.body as unknown as OrderPaymentResponse).order.id).toBe(stored.id);
    const gatewayOrders = await h.control.listOrders({ out_trade_no: stored.id });
    expect(gatewayOrders.orders).toHaveLength(1);
  });

  it("a refund whose answer fails is kept reserved; the retry reuses out_refund_no and refunds once", async () => {
    const token = await h.signIn("refund-faults");
    const created = (await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } })).body as unknown as OrderPaymentResponse;
    await h.pay(created.payment);
    await eventually(async () => ((await h.request("GET", `/api/orders/${created.order.id}`, { token })).body.order as { status: string }).status === "paid");
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "refund-under-fault" };
    await fault("/secapi/pay/refund", [{ kind: "http", status: 502 }]);
    const failed = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, { body: { refundFee: 100 }, headers });
    expect(failed.status).toBe(503);
    const reserved = await h.database.db.selectFrom("orders").select(["reserved_refund_fee", "refunded_fee"]).where("id", "=", created.order.id).executeTakeFirstOrThrow();
    expect(reserved).toEqual({ reserved_refund_fee: 100, refunded_fee: 0 });

    await h.control.clearFaults();
    const retried = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, { body: { refundFee: 100 }, headers });
    expect(retried.status).toBe(201);
    const refunds = await h.database.db.selectFrom("refunds").selectAll().where("order_id", "=", created.order.id).execute();
    expect(refunds).toHaveLength(1);
    const view = await h.control.listOrders({ out_trade_no: created.order.id });
    expect(view.orders[0]?.refunds).toHaveLength(1);
  });

  it("orderquery faults leave GET /api/orders/:id answering the stored state", async () => {
    const token = await h.signIn("query-faults");
    const created = (await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } })).body as unknown as OrderPaymentResponse;
    await h.database.db.updateTable("orders").set({ created_at: "2020-01-01T00:00:00.000Z" }).where("id", "=", created.order.id).execute();
    await fault("/pay/orderquery", [{ kind: "http", status: 500 }]);
    const answer = await h.request("GET", `/api/orders/${created.order.id}`, { token });
    expect(answer.status).toBe(200);
    expect(answer.body.order).toMatchObject({ status: "pending" });
  });
});
