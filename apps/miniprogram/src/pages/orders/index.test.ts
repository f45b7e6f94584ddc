import { describe, expect, it } from "vitest";
import { apiError } from "../../../test/support/fake-platform.js";
import { appPerTest, type TestApp } from "../../../test/support/launch.js";

const newApp = appPerTest();

/** My orders with a paid order and, newer, a pending one. */
async function atOrders(): Promise<TestApp & { readonly pendingId: string; readonly paidId: string }> {
  const app = newApp();
  const paid = app.api.seedOrder("paid", [{ productId: "tea", quantity: 1 }]);
  const pending = app.api.seedOrder("pending", [{ productId: "coffee-beans", quantity: 2 }]);
  app.rt.launch("/pages/orders/index");
  await app.rt.idle();
  return { ...app, pendingId: pending.id, paidId: paid.id };
}

describe("my orders page", () => {
  it("lists orders newest first with status and total; only pending ones can be paid or closed", async () => {
    const { rt, pendingId, paidId } = await atOrders();
    expect(rt.text(`order-${pendingId}`)).toMatch(new RegExp(`^Coffee beans x2 ¥96.00 Awaiting payment · \\S+ \\S+ · ${pendingId} Pay Close$`));
    expect(rt.text(`order-${paidId}`)).toMatch(new RegExp(`^Tea ¥12.50 Paid · \\S+ \\S+ · ${paidId}$`));
    expect(rt.text(`pay-${paidId}`)).toBeUndefined();
    const text = rt.text() ?? "";
    expect(text.indexOf(pendingId)).toBeLessThan(text.indexOf(paidId));
  });

  it("re-pays a pending order with fresh params from the server, then confirms on the result page", async () => {
    const { rt, platform, pendingId } = await atOrders();
    await rt.tap(`pay-${pendingId}`);
    expect(platform.requests.filter((r) => r.method === "POST").map((r) => r.path)).toContain(`/api/orders/${pendingId}/payment`);
    expect(platform.payments).toHaveLength(1);
    expect(rt.current().route).toBe("pages/result/index");
    expect(rt.current().options).toEqual({ id: pendingId });
  });

  it("starts one payment for a double tap", async () => {
    const { rt, platform, pendingId } = await atOrders();
    await rt.tap(`pay-${pendingId}`, { times: 2 });
    expect(platform.requests.filter((r) => r.path === `/api/orders/${pendingId}/payment`)).toHaveLength(1);
    expect(platform.payments).toHaveLength(1);
  });

  it("keeps the order pending on a cancel and says so; shows other failures with the way to retry", async () => {
    const { rt, platform, api, pendingId } = await atOrders();
    platform.sheet("cancel", { fail: "requestPayment:fail 支付失败" });
    await rt.tap(`pay-${pendingId}`);
    expect(rt.text("notice")).toBe(`Payment cancelled. Order ${pendingId} is still waiting for payment.`);
    expect(api.orders.get(pendingId)?.status).toBe("pending");
    await rt.tap(`pay-${pendingId}`);
    expect(rt.text("notice")).toBe("WeChat Pay could not complete the payment: 支付失败 Tap Pay to try again.");
    api.once("renewPayment", apiError(502, "GATEWAY_ERROR", "WeChat Pay refused the request: SYSTEMERROR."));
    await rt.tap(`pay-${pendingId}`);
    expect(rt.text("notice")).toBe("WeChat Pay refused the request: SYSTEMERROR. Tap Pay to try again.");
    expect(rt.current().route).toBe("pages/orders/index");
  });

  it("refreshes the list when the server says an order is no longer payable", async () => {
    const { rt, api, pendingId } = await atOrders();
    api.markPaid(pendingId);
    await rt.tap(`pay-${pendingId}`);
    expect(rt.text("notice")).toBe(`Order ${pendingId} is paid; it cannot be paid.`);
    expect(rt.text(`status-${pendingId}`)).toBe("Paid");
  });

  it("closes a pending order", async () => {
    const { rt, api, pendingId } = await atOrders();
    await rt.tap(`close-${pendingId}`);
    expect(api.orders.get(pendingId)?.status).toBe("closed");
    expect(rt.text(`status-${pendingId}`)).toBe("Closed");
    expect(rt.text("notice")).toBe(`Order ${pendingId} is closed; nothing was charged.`);
    expect(rt.text(`pay-${pendingId}`)).toBeUndefined();
  });

  it("says why the list could not be loaded, and loads it again", async () => {
    const app = newApp();
    app.api.once("listOrders", apiError(500, "INTERNAL", "Something went wrong on our side; nothing was charged by this request."));
    app.rt.launch("/pages/orders/index");
    await app.rt.idle();
    expect(app.rt.text("error")).toBe("Your orders could not be loaded. Something went wrong on our side; nothing was charged by this request.");
    await app.rt.tap("retry");
    expect(app.rt.text("error")).toBeUndefined();
    expect(app.rt.text()).toContain("No orders yet.");
  });
});
