import type { Order, OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, eventually, startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";

describe("refunds over mutual TLS", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness("sqlite", { mtls: true });
  });
  afterAll(async () => {
    await h.close();
  });

  it("refunds with the merchant's client certificate against an HTTPS gateway that demands one", async () => {
    expect(h.sandbox.url).toMatch(/^https:/);
    const token = await h.signIn("tls-user");
    const created = (await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "coffee-beans", quantity: 1 }] } })).body as unknown as OrderPaymentResponse;
    await h.pay(created.payment);
    await eventually(async () => ((await h.request("GET", `/api/orders/${created.order.id}`, { token })).body.order as Order).status === "paid");
    const refund = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, {
      body: { refundFee: 800, reason: "partial" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "tls-refund" },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    const refunded = await eventually(async () => {
      const order = (await h.request("GET", `/api/orders/${created.order.id}`, { token })).body.order as Order;
      return order.refundedFee === 800 ? order : undefined;
    });
    expect(refunded.status).toBe("paid");
  });
});
