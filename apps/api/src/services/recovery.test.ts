import type { Order, OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";
import { DATABASES } from "../../test/support/databases.js";
import { sweepOnce } from "./sweeper.js";

describe.each(DATABASES)("lost notifies and the background sweep on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  beforeAll(async () => {
    h = await startApiHarness(kind, { notifies: "lost", clock: () => Date.now() + offset, env: { ORDER_QUERY_AFTER_SECONDS: "5" } });
  });
  afterAll(async () => {
    await h.close();
  });

  async function createOrder(token: string): Promise<OrderPaymentResponse> {
    const answer = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "test-item", quantity: 3 }] } });
    expect(answer.status).toBe(201);
    return answer.body as unknown as OrderPaymentResponse;
  }
  const get = async (token: string, id: string) => (await h.request("GET", `/api/orders/${id}`, { token })).body.order as Order;

  it("a paid order whose notify was lost reaches paid through GET /api/orders/:id, not before the query delay", async () => {
    const token = await h.signIn("ivan");
    const { order, payment } = await createOrder(token);
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    // The client says ok, but nothing is believed until WeChat Pay confirms it.
    expect((await get(token, order.id)).status).toBe("pending");
    offset += 6000;
    const paid = await get(token, order.id);
    expect(paid.status).toBe("paid");
    const events = await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", order.id).execute();
    expect(events.map((e) => e.source)).toEqual(["query"]);
  });

  it("the sweep finds payments nobody asks about, closes expired orders, and settles processing refunds", async () => {
    const token = await h.signIn("judy");
    const paidNobodyAsks = await createOrder(token);
    await h.pay(paidNobodyAsks.payment);
    const abandoned = await createOrder(token);
    offset += 6000;
    let report = await sweepOnce(h.services);
    expect(report.queried).toBeGreaterThanOrEqual(2);
    expect((await get(token, paidNobodyAsks.order.id)).status).toBe("paid");
    expect((await get(token, abandoned.order.id)).status).toBe("pending");

    offset += 31 * 60 * 1000;
    report = await sweepOnce(h.services);
    expect(report.closed).toBeGreaterThanOrEqual(1);
    expect((await get(token, abandoned.order.id)).status).toBe("closed");
    const gatewayView = await h.control.listOrders({ out_trade_no: abandoned.order.id });
    expect(gatewayView.orders[0]?.trade_state).toBe("CLOSED");

    // Refund notifies are lost too: the sweep's refundquery settles the refund.
    const refund = await h.request("POST", `/api/admin/orders/${paidNobodyAsks.order.id}/refunds`, {
      body: { refundFee: 1 },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "sweep-refund" },
    });
    expect(refund.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 100));
    report = await sweepOnce(h.services);
    expect(report.refundsChecked).toBeGreaterThanOrEqual(1);
    expect((await get(token, paidNobodyAsks.order.id)).refundedFee).toBe(1);
    // succeeded_at is the gateway's refund_success_time (the sandbox runs on real time), not the API clock's now (moved ahead by 37 minutes).
    const settled = await h.database.db.selectFrom("refunds").select(["status", "succeeded_at"]).where("order_id", "=", paidNobodyAsks.order.id).executeTakeFirstOrThrow();
    expect(settled.status).toBe("succeeded");
    expect(Math.abs(Date.parse(String(settled.succeeded_at)) - Date.now())).toBeLessThan(60_000);
  });

  it("renewing payment for an expired order closes it instead", async () => {
    const token = await h.signIn("ken");
    const { order: created } = await createOrder(token);
    offset += 31 * 60 * 1000;
    const renew = await h.request("POST", `/api/orders/${created.id}/payment`, { token });
    expect(renew.status).toBe(409);
    expect(renew.body).toMatchObject({ error: { code: "ORDER_NOT_PAYABLE" } });
    expect((await get(token, created.id)).status).toBe("closed");
  });
});
