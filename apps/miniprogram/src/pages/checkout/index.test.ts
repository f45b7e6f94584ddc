import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiError, apiRefusal, json, type FakeAnswer } from "../../../test/support/fake-platform.js";
import { appPerTest, type TestApp } from "../../../test/support/launch.js";

const newApp = appPerTest();

/** The app on the checkout page with two bags of beans and a tea in the cart. */
async function atCheckout(): Promise<TestApp> {
  const app = newApp();
  const { rt } = app;
  rt.launch();
  await rt.idle();
  await rt.tap("add-coffee-beans");
  await rt.tap("add-coffee-beans");
  await rt.tap("add-tea");
  await rt.tap("checkout");
  await rt.idle();
  return app;
}

/** The order-changing calls: creating and paying (the result page's polling GETs are left out). */
function orderCalls(app: TestApp): string[] {
  return app.platform.requests.filter((r) => r.method === "POST" && r.path.startsWith("/api/orders")).map((r) => `${r.method} ${r.path}`);
}

describe("checkout page", () => {
  it("shows lines, quantities and the total, and changes them", async () => {
    const { rt } = await atCheckout();
    expect(rt.text("total")).toBe("¥108.50");
    expect(rt.text("pay")).toBe("Pay ¥108.50");
    await rt.tap("decrease-coffee-beans");
    expect(rt.text("total")).toBe("¥60.50");
    await rt.tap("decrease-tea");
    expect(rt.text()).not.toContain("Tea");
    await rt.tap("increase-coffee-beans");
    expect(rt.text("total")).toBe("¥96.00");
  });

  it("pays with exactly the server's five fields, then hands over to the result page", async () => {
    const checkout = await atCheckout();
    const { rt, platform, api } = checkout;
    await rt.tap("pay");
    const [order] = [...api.orders.values()];
    expect(platform.payments).toEqual([
      { timeStamp: "1700000000", nonceStr: "fakenonce", package: `prepay_id=wx${order?.id ?? ""}`, signType: "HMAC-SHA256", paySign: "A".repeat(64) },
    ]);
    expect(rt.navigations.at(-1)).toBe(`redirectTo /pages/result/index?id=${order?.id ?? ""}`);
    expect(rt.current().route).toBe("pages/result/index");
    expect(rt.stack().map((p) => p.route)).toEqual(["pages/products/index", "pages/result/index"]);
  });

  it("places one order for a double tap", async () => {
    const checkout = await atCheckout();
    await checkout.rt.tap("pay", { times: 2 });
    expect(checkout.api.orders.size).toBe(1);
    expect(checkout.platform.payments).toHaveLength(1);
    expect(orderCalls(checkout)).toEqual(["POST /api/orders"]);
  });

  it("after a cancel stays on checkout with the order pending, and pays that same order next", async () => {
    const checkout = await atCheckout();
    const { rt, platform, api } = checkout;
    platform.sheet("cancel");
    await rt.tap("pay");
    const [order] = [...api.orders.values()];
    expect(rt.current().route).toBe("pages/checkout/index");
    expect(order?.status).toBe("pending");
    expect(rt.text("notice")).toBe(`Payment cancelled. Order ${order?.id ?? ""} is still waiting for payment: pay it here or from My orders.`);
    expect(rt.text("open-orders")).toBe("My orders");
    expect(rt.text("pay")).toBe("Pay ¥108.50");
    await rt.tap("pay");
    expect(orderCalls(checkout)).toEqual(["POST /api/orders", `POST /api/orders/${order?.id ?? ""}/payment`]);
    expect(rt.current().route).toBe("pages/result/index");
  });

  it("drops its notice about the order once My orders has paid it", async () => {
    const checkout = await atCheckout();
    const { rt, platform, api } = checkout;
    platform.sheet("cancel");
    await rt.tap("pay");
    const [order] = [...api.orders.values()];
    await rt.tap("open-orders");
    await rt.idle();
    await rt.tap(`pay-${order?.id ?? ""}`);
    expect(rt.stack().map((p) => p.route)).toEqual(["pages/products/index", "pages/checkout/index", "pages/orders/index", "pages/result/index"]);
    rt.back(2);
    expect(rt.current().route).toBe("pages/checkout/index");
    expect(rt.text("notice")).toBeUndefined();
    expect(rt.text()).toContain("Your cart is empty.");
  });

  it("shows any other payment failure with its message and a retry", async () => {
    const checkout = await atCheckout();
    const { rt, platform } = checkout;
    platform.sheet({ fail: "requestPayment:fail 余额不足，请更换支付方式" });
    await rt.tap("pay");
    expect(rt.text("notice")).toBe("WeChat Pay could not complete the payment: 余额不足，请更换支付方式");
    expect(rt.text("pay")).toBe("Try again ¥108.50");
    await rt.tap("pay");
    expect(rt.current().route).toBe("pages/result/index");
    expect(checkout.api.orders.size).toBe(1);
  });

  it.each([
    ["a network error", { networkError: "request:fail timeout" }, "The server could not be reached (request:fail timeout). Check the connection and try again."],
    ["an API error", apiError(503, "GATEWAY_UNAVAILABLE", "WeChat Pay is not answering; try again in a moment."), "WeChat Pay is not answering; try again in a moment."],
    ["a proxy's error page", { status: 502, body: "<html><body>502 Bad Gateway</body></html>" }, "The server answered HTTP 502 instead of the app's data. Try again in a moment."],
    [
      "an app too old for the server",
      apiError(426, "UPGRADE_REQUIRED", "This app speaks contract 0.1.0, but the server speaks 0.3.0: please update the app."),
      "please update the app.",
    ],
  ])("says what happened on %s, and the retry places no second order", async (_case, answer, text) => {
    const checkout = await atCheckout();
    const { rt, api } = checkout;
    api.once("createOrder", answer);
    await rt.tap("pay");
    expect(rt.text("notice")).toContain(text);
    expect(rt.text("pay")).toBe("Try again ¥108.50");
    expect(api.orders.size).toBe(0);
    await rt.tap("pay");
    expect(api.orders.size).toBe(1);
    const keys = checkout.platform.requests.filter((r) => r.path === "/api/orders").map((r) => r.header["Idempotency-Key"]);
    expect(keys[1]).toBe(keys[0]);
  });

  it("shows an order answer the contract refuses as an error, opens no payment sheet, and pays on Try again", async () => {
    const checkout = await atCheckout();
    const { rt, api, platform } = checkout;
    platform.serve((request) => {
      const answer = api.handle(request);
      if (request.path !== "/api/orders" || !("status" in answer)) return answer;
      const body = answer.body as { order: unknown; payment: Record<string, unknown> };
      return json(answer.status, { ...body, payment: { ...body.payment, key: "not for a client" } });
    });
    await rt.tap("pay");
    expect(rt.text("notice")).toBe("The server's answer does not match what this version of the app understands. Try again later, or update the app.");
    expect(rt.text("pay")).toBe("Try again ¥108.50");
    expect(platform.payments).toEqual([]);
    expect(rt.current().route).toBe("pages/checkout/index");
    platform.serve((request) => api.handle(request));
    await rt.tap("pay");
    expect(platform.payments).toHaveLength(1);
    expect(Object.keys(platform.payments[0] ?? {}).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);
    expect(rt.current().route).toBe("pages/result/index");
    expect(api.orders.size).toBe(1);
  });
});

describe("checkout page, when the server asks to wait", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse("2026-01-01T00:00:00Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    ["too many attempts", apiRefusal(429, "RATE_LIMITED", 30, "Too many orders; try again in 30 s."), "Too many attempts. Try again in 30 s."],
    ["a busy server", apiRefusal(503, "OVERLOADED", 30, "The API is overloaded."), "The server is busy. Try again in 30 s."],
    [
      "WeChat Pay busy, the wait in the Retry-After header only",
      { status: 503, body: { error: { code: "GATEWAY_UNAVAILABLE", message: "WeChat Pay is not answering." } }, header: { "Retry-After": "30" } } satisfies FakeAnswer,
      "WeChat Pay is busy. Try again in 30 s.",
    ],
  ])("says so for %s, keeps Pay disabled with the countdown, then one order for a double tap", async (_case, answer, text) => {
    const checkout = await atCheckout();
    const { rt, api } = checkout;
    api.once("createOrder", answer);
    await rt.tap("pay");
    expect(rt.text("notice")).toBe(text);
    expect(rt.text("pay")).toBe("Try again in 30 s");
    await expect(rt.tap("pay")).rejects.toThrow(/disabled/);
    await vi.advanceTimersByTimeAsync(12_000);
    expect(rt.text("pay")).toBe("Try again in 18 s");
    await vi.advanceTimersByTimeAsync(17_999);
    expect(rt.text("pay")).toBe("Try again in 1 s");
    expect(orderCalls(checkout)).toEqual(["POST /api/orders"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rt.text("pay")).toBe("Try again ¥108.50");
    await rt.tap("pay", { times: 2 });
    expect(api.orders.size).toBe(1);
    expect(checkout.platform.payments).toHaveLength(1);
    expect(orderCalls(checkout)).toEqual(["POST /api/orders", "POST /api/orders"]);
    expect(rt.current().route).toBe("pages/result/index");
  });

  it("keeps the wait on a checkout page opened again meanwhile, and sends nothing", async () => {
    const checkout = await atCheckout();
    const { rt, api } = checkout;
    api.once("createOrder", apiRefusal(429, "RATE_LIMITED", 60));
    await rt.tap("pay");
    rt.back();
    await vi.advanceTimersByTimeAsync(20_000);
    await rt.tap("checkout");
    await rt.idle();
    expect(rt.text("pay")).toBe("Pay ¥108.50");
    await rt.tap("pay");
    expect(rt.text("notice")).toBe("Too many attempts. Try again in 40 s.");
    expect(rt.text("pay")).toBe("Try again in 40 s");
    expect(orderCalls(checkout)).toEqual(["POST /api/orders"]);
    await vi.advanceTimersByTimeAsync(40_000);
    await rt.tap("pay");
    expect(rt.current().route).toBe("pages/result/index");
    expect(api.orders.size).toBe(1);
  });

  it("waits out a refused renewal of the saved order, and says the order is saved", async () => {
    const checkout = await atCheckout();
    const { rt, api, platform } = checkout;
    platform.sheet("cancel");
    await rt.tap("pay");
    const [order] = [...api.orders.values()];
    api.once("renewPayment", apiRefusal(429, "RATE_LIMITED", 5));
    await rt.tap("pay");
    expect(rt.text("notice")).toBe(`Too many attempts. Try again in 5 s. Order ${order?.id ?? ""} is saved and still waiting for payment.`);
    expect(rt.text("pay")).toBe("Try again in 5 s");
    await vi.advanceTimersByTimeAsync(5_000);
    await rt.tap("pay");
    expect(rt.current().route).toBe("pages/result/index");
    expect(orderCalls(checkout)).toEqual(["POST /api/orders", `POST /api/orders/${order?.id ?? ""}/payment`, `POST /api/orders/${order?.id ?? ""}/payment`]);
  });
});
