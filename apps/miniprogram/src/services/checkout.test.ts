import { describe, expect, it } from "vitest";
import { createFakeApi, FAKE_PRODUCTS } from "../../test/support/fake-api.js";
import { apiRefusal, createFakePlatform, fakeWx } from "../../test/support/fake-platform.js";
import { createApiClient } from "../api/client.js";
import { createCart } from "./cart.js";
import { createCheckout } from "./checkout.js";

const [BEANS, TEA] = FAKE_PRODUCTS as [(typeof FAKE_PRODUCTS)[number], (typeof FAKE_PRODUCTS)[number]];

function setup() {
  const platform = createFakePlatform();
  const fake = createFakeApi();
  platform.serve((request) => fake.handle(request));
  const time = { now: Date.parse("2026-01-01T00:00:00Z") };
  const clock = { now: () => time.now };
  const api = createApiClient({ wx: fakeWx(platform), baseUrl: "https://pay.example.test", contractVersion: "0.1.0", clock });
  const cart = createCart();
  cart.add(BEANS);
  let seed = 0;
  const checkout = createCheckout({ api, wx: platform, cart, clock, random: () => ((seed += 1) * 0.137) % 1 });
  const calls = () => platform.requests.filter((r) => r.path !== "/api/session").map((r) => `${r.method} ${r.path}`);
  return { platform, fake, cart, checkout, calls, time };
}

describe("createCheckout", () => {
  it("joins a second tap to the payment already running: one order, one sheet", async () => {
    const { platform, fake, checkout } = setup();
    const [first, second] = await Promise.all([checkout.pay(), checkout.pay()]);
    expect(second).toBe(first);
    expect(first).toMatchObject({ kind: "submitted" });
    expect(fake.orders.size).toBe(1);
    expect(platform.payments).toHaveLength(1);
  });

  it("after a cancel, pays the same order again instead of placing another", async () => {
    const { platform, fake, checkout, calls } = setup();
    platform.sheet("cancel");
    const cancelled = await checkout.pay();
    expect(cancelled).toMatchObject({ kind: "cancelled" });
    expect(checkout.pendingOrderId()).toBe(cancelled.orderId);
    expect(await checkout.pay()).toEqual({ kind: "submitted", orderId: cancelled.orderId });
    expect(calls()).toEqual(["POST /api/orders", `POST /api/orders/${cancelled.orderId ?? ""}/payment`]);
    expect(fake.orders.size).toBe(1);
    expect(platform.payments[1]).toEqual(platform.payments[0]);
  });

  it("retries a create whose answer was lost with the same Idempotency-Key, and gets the same order", async () => {
    const { platform, fake, checkout } = setup();
    let first = true;
    platform.serve((request) => {
      const answer = fake.handle(request);
      if (request.path === "/api/orders" && first) {
        first = false;
        return { networkError: "request:fail timeout" };
      }
      return answer;
    });
    expect(await checkout.pay()).toEqual({ kind: "error", orderId: undefined, error: { kind: "network", message: "request:fail timeout" } });
    expect(await checkout.pay()).toMatchObject({ kind: "submitted" });
    const keys = platform.requests.filter((r) => r.path === "/api/orders").map((r) => r.header["Idempotency-Key"]);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(fake.orders.size).toBe(1);
  });

  it("places a new order under a new key once the cart changed", async () => {
    const { platform, fake, cart, checkout } = setup();
    platform.sheet("cancel");
    const first = await checkout.pay();
    cart.add(TEA);
    expect(checkout.pendingOrderId()).toBeUndefined();
    const second = await checkout.pay();
    expect(second.orderId).not.toBe(first.orderId);
    expect(fake.orders.size).toBe(2);
    const keys = platform.requests.filter((r) => r.path === "/api/orders").map((r) => r.header["Idempotency-Key"]);
    expect(new Set(keys).size).toBe(2);
  });

  it("lets go of an order the server will no longer take payment for", async () => {
    const { platform, fake, checkout } = setup();
    platform.sheet("cancel");
    const first = await checkout.pay();
    fake.markPaid(first.orderId ?? "");
    expect(await checkout.pay()).toMatchObject({ kind: "not-payable", orderId: first.orderId, message: expect.stringContaining("cannot be paid") as unknown });
    expect(checkout.pendingOrderId()).toBeUndefined();
    expect((await checkout.pay()).orderId).not.toBe(first.orderId);
  });

  it("forgets an order paid from another page and empties the cart; a closed one keeps the cart", async () => {
    const { platform, cart, checkout } = setup();
    platform.sheet("cancel", "cancel");
    const first = await checkout.pay();
    checkout.release(first.orderId ?? "", "closed");
    expect(checkout.pendingOrderId()).toBeUndefined();
    expect(cart.lines()).toHaveLength(1);
    const second = await checkout.pay();
    checkout.release(second.orderId ?? "", "paid");
    expect(cart.lines()).toEqual([]);
  });

  it("places nothing while the server's wait runs, then one order under the same key", async () => {
    const { platform, fake, checkout, calls, time } = setup();
    fake.once("createOrder", apiRefusal(429, "RATE_LIMITED", 20));
    expect(await checkout.pay()).toMatchObject({ kind: "error", orderId: undefined, error: { code: "RATE_LIMITED", retryAfterSeconds: 20 } });
    time.now += 10_000;
    const [first, second] = await Promise.all([checkout.pay(), checkout.pay()]);
    expect(second).toBe(first);
    expect(first).toMatchObject({ kind: "error", error: { code: "RATE_LIMITED", retryAfterSeconds: 10 } });
    expect(calls()).toEqual(["POST /api/orders"]);
    time.now += 10_000;
    expect(await checkout.pay()).toMatchObject({ kind: "submitted" });
    expect(calls()).toEqual(["POST /api/orders", "POST /api/orders"]);
    const keys = platform.requests.filter((r) => r.path === "/api/orders").map((r) => r.header["Idempotency-Key"]);
    expect(keys[1]).toBe(keys[0]);
    expect(fake.orders.size).toBe(1);
    expect(platform.payments).toHaveLength(1);
  });

  it("re-pays a saved order only once the renewal's wait has passed", async () => {
    const { platform, fake, checkout, calls, time } = setup();
    platform.sheet("cancel");
    const { orderId } = await checkout.pay();
    fake.once("renewPayment", apiRefusal(429, "RATE_LIMITED", 5));
    expect(await checkout.pay()).toMatchObject({ kind: "error", orderId, error: { code: "RATE_LIMITED", retryAfterSeconds: 5 } });
    time.now += 4_000;
    expect(await checkout.pay()).toMatchObject({ kind: "error", orderId, error: { retryAfterSeconds: 1 } });
    time.now += 1_000;
    expect(await checkout.pay()).toEqual({ kind: "submitted", orderId });
    expect(calls()).toEqual(["POST /api/orders", `POST /api/orders/${orderId ?? ""}/payment`, `POST /api/orders/${orderId ?? ""}/payment`]);
    expect(fake.orders.size).toBe(1);
  });
});
