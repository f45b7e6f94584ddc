import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiRefusal } from "../../../test/support/fake-platform.js";
import { appPerTest, type TestApp } from "../../../test/support/launch.js";

const newApp = appPerTest();

/** Opens the result page for an order, as checkout does after the payment sheet said ok. */
function openResult(app: TestApp, orderId: string): void {
  app.rt.launch(`/pages/result/index?id=${orderId}`);
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse("2026-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("result page", () => {
  it("asks the server until the order is paid: requestPayment:ok alone proves nothing", async () => {
    const app = newApp();
    const { rt, api } = app;
    const order = api.seedOrder("pending", [{ productId: "coffee-beans", quantity: 2 }]);
    openResult(app, order.id);
    await vi.advanceTimersByTimeAsync(0);
    expect(rt.text("title")).toBe("Confirming your payment…");
    expect(rt.text("detail")).toBe(`Waiting for WeChat Pay to confirm order ${order.id}.`);
    expect(rt.text("total")).toBe("¥96.00");
    await vi.advanceTimersByTimeAsync(3_000);
    expect(rt.text("title")).toBe("Confirming your payment…");
    api.markPaid(order.id);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rt.text("title")).toBe("Payment received");
    expect(rt.text("detail")).toBe(`Order ${order.id} is paid. Thank you!`);
    expect(rt.text()).toContain("WeChat Pay transaction 4200000000202601010000000001");
    expect(rt.text("check-again")).toBeUndefined();
  });

  it("says clearly when it could not confirm in time, stops asking, and checks again on request", async () => {
    const app = newApp();
    const { rt, api, platform } = app;
    const order = api.seedOrder();
    openResult(app, order.id);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(rt.text("title")).toBe("Confirming your payment…");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rt.text("title")).toBe("Payment not confirmed yet");
    expect(rt.text("detail")).toBe(
      `WeChat Pay has not confirmed order ${order.id} within 30 seconds. If you paid, the order will show as paid in My orders shortly; you will not be charged twice.`,
    );
    const polls = platform.requests.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(platform.requests).toHaveLength(polls);
    api.markPaid(order.id);
    await rt.tap("check-again");
    expect(rt.text("title")).toBe("Payment received");
  });

  it("names the last failure when the server could not be reached until the deadline", async () => {
    const app = newApp();
    app.platform.serve(() => ({ networkError: "request:fail timeout" }));
    openResult(app, "P20260101000001");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(app.rt.text("title")).toBe("Payment not confirmed yet");
    expect(app.rt.text("detail")).toContain("Last attempt: The server could not be reached (request:fail timeout).");
  });

  it("shows a closed order as closed", async () => {
    const app = newApp();
    openResult(app, app.api.seedOrder("closed").id);
    await vi.advanceTimersByTimeAsync(0);
    expect(app.rt.text("title")).toBe("Order closed");
    expect(app.rt.text("detail")).toMatch(/^Order P\d+ was closed without payment; nothing was charged\.$/);
  });

  it("shows an error it cannot wait out, with Check again", async () => {
    const app = newApp();
    openResult(app, "P20269999999999");
    await vi.advanceTimersByTimeAsync(0);
    expect(app.rt.text("title")).toBe("Could not check the order");
    expect(app.rt.text("detail")).toBe("No order P20269999999999.");
    expect(app.rt.text("check-again")).toBe("Check again");
  });

  it("stops asking once the page is closed", async () => {
    const app = newApp();
    openResult(app, app.api.seedOrder().id);
    await vi.advanceTimersByTimeAsync(2_000);
    app.rt.close();
    const polls = app.platform.requests.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(app.platform.requests).toHaveLength(polls);
  });

  it.each([
    ["orders", "redirectTo /pages/orders/index", ["pages/orders/index"]],
    ["products", "reLaunch /pages/products/index", ["pages/products/index"]],
  ])("#%s leads on with %s", async (button, navigation, stack) => {
    const app = newApp();
    const order = app.api.seedOrder();
    app.api.markPaid(order.id);
    openResult(app, order.id);
    await vi.advanceTimersByTimeAsync(0);
    await app.rt.tap(button);
    expect(app.rt.navigations).toEqual([navigation]);
    expect(app.rt.stack().map((p) => p.route)).toEqual(stack);
  });
});

describe("result page, when the server asks to wait", () => {
  it("asks again only after the Retry-After, then confirms the payment", async () => {
    const app = newApp();
    const { rt, api, platform } = app;
    const order = api.seedOrder();
    const checks = () => platform.requests.filter((r) => r.path === `/api/orders/${order.id}`).length;
    api.once("getOrder", apiRefusal(503, "OVERLOADED", 5));
    openResult(app, order.id);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(checks()).toBe(1);
    expect(rt.text("title")).toBe("Confirming your payment…");
    api.markPaid(order.id);
    await vi.advanceTimersByTimeAsync(1);
    expect(checks()).toBe(2);
    expect(rt.text("title")).toBe("Payment received");
  });

  it("stops early on a wait past its deadline, says why, and keeps Check again disabled until the wait is over", async () => {
    const app = newApp();
    const { rt, api, platform } = app;
    const order = api.seedOrder();
    api.once("getOrder", apiRefusal(429, "RATE_LIMITED", 60));
    openResult(app, order.id);
    await vi.advanceTimersByTimeAsync(0);
    expect(rt.text("title")).toBe("Payment not confirmed yet");
    expect(rt.text("detail")).toBe(
      `Order ${order.id} could not be checked just now: Too many attempts. Try again in 60 s. If you paid, the order will show as paid in My orders shortly; you will not be charged twice.`,
    );
    expect(rt.text("check-again")).toBe("Check again in 60 s");
    await expect(rt.tap("check-again")).rejects.toThrow(/disabled/);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(rt.text("check-again")).toBe("Check again in 1 s");
    const polls = platform.requests.filter((r) => r.path === `/api/orders/${order.id}`).length;
    expect(polls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rt.text("check-again")).toBe("Check again");
    api.markPaid(order.id);
    await rt.tap("check-again");
    expect(rt.text("title")).toBe("Payment received");
  });
});
