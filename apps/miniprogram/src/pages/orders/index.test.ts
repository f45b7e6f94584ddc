import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, apiRefusal } from "../../../test/support/fake-platform.js";
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

describe("my orders page, when the server asks to wait", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps Pay disabled with the countdown after a refused renewal, leaves Close usable, then pays once", async () => {
    const { rt, api, platform, pendingId } = await atOrders();
    api.once("renewPayment", apiRefusal(429, "RATE_LIMITED", 20));
    await rt.tap(`pay-${pendingId}`);
    expect(rt.text("notice")).toBe("Too many attempts. Try again in 20 s. Tap Pay to try again.");
    expect(rt.text(`pay-${pendingId}`)).toBe("Pay in 20 s");
    expect(rt.text(`close-${pendingId}`)).toBe("Close");
    await expect(rt.tap(`pay-${pendingId}`)).rejects.toThrow(/disabled/);
    await vi.advanceTimersByTimeAsync(19_000);
    expect(rt.text(`pay-${pendingId}`)).toBe("Pay in 1 s");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rt.text(`pay-${pendingId}`)).toBe("Pay");
    await rt.tap(`pay-${pendingId}`, { times: 2 });
    expect(platform.requests.filter((r) => r.path === `/api/orders/${pendingId}/payment`)).toHaveLength(2);
    expect(platform.payments).toHaveLength(1);
    expect(rt.current().route).toBe("pages/result/index");
  });

  it("waits out a refused close the same way", async () => {
    const { rt, api, pendingId } = await atOrders();
    api.once("closeOrder", apiRefusal(503, "GATEWAY_UNAVAILABLE", 3));
    await rt.tap(`close-${pendingId}`);
    expect(rt.text("notice")).toBe(`Order ${pendingId} could not be closed. WeChat Pay is busy. Try again in 3 s.`);
    expect(rt.text(`close-${pendingId}`)).toBe("Close in 3 s");
    await vi.advanceTimersByTimeAsync(3_000);
    await rt.tap(`close-${pendingId}`);
    expect(api.orders.get(pendingId)?.status).toBe("closed");
  });

  it("says the server is busy when the list is refused, and loads it once the wait is over", async () => {
    const app = newApp();
    app.api.seedOrder("pending");
    app.api.once("listOrders", apiRefusal(503, "OVERLOADED", 3));
    app.rt.launch("/pages/orders/index");
    await app.rt.idle();
    expect(app.rt.text("error")).toBe("Your orders could not be loaded. The server is busy. Try again in 3 s.");
    expect(app.rt.text("retry")).toBe("Try again in 3 s");
    await expect(app.rt.tap("retry")).rejects.toThrow(/disabled/);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(app.rt.text("retry")).toBe("Try again");
    await app.rt.tap("retry");
    expect(app.rt.text("error")).toBeUndefined();
    expect(app.rt.text()).toContain("Awaiting payment");
    expect(app.platform.requests.filter((r) => r.path === "/api/orders")).toHaveLength(2);
  });
});
