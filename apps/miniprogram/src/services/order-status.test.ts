import { describe, expect, it } from "vitest";
import { createFakeApi } from "../../test/support/fake-api.js";
import { apiError, apiRefusal, createFakePlatform, fakeWx } from "../../test/support/fake-platform.js";
import { createApiClient } from "../api/client.js";
import type { Clock } from "../utils/clock.js";
import { confirmOrder } from "./order-status.js";

/** A clock whose sleep moves time at once, and runs `onSleep` after each step (a notify arriving, say). */
function fakeClock(onSleep: (now: number) => void = () => undefined): Clock & { readonly slept: number[] } {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      onSleep(now);
      return Promise.resolve();
    },
  };
}

async function setup(clock: Pick<Clock, "now"> = { now: () => Date.parse("2026-01-01T00:00:00Z") }) {
  const platform = createFakePlatform();
  const fake = createFakeApi();
  platform.serve((request) => fake.handle(request));
  const api = createApiClient({ wx: fakeWx(platform), baseUrl: "https://pay.example.test", contractVersion: "0.1.0", clock });
  const created = await api.call("createOrder", { body: { items: [{ productId: "tea", quantity: 1 }] } });
  if (!created.ok) throw new Error("fake API refused the order");
  return { platform, fake, api, orderId: created.value.order.id };
}

describe("confirmOrder", () => {
  it("asks until the server says paid", async () => {
    const { fake, api, orderId } = await setup();
    let steps = 0;
    const clock = fakeClock(() => {
      steps += 1;
      if (steps === 3) fake.markPaid(orderId);
    });
    const seen: string[] = [];
    const outcome = await confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 30_000, onCheck: (o) => seen.push(o.status) }).done;
    expect(outcome).toMatchObject({ kind: "settled", status: "paid", order: { id: orderId, transactionId: expect.stringMatching(/^4200/) as unknown } });
    expect(seen).toEqual(["pending", "pending", "pending", "paid"]);
    expect(clock.slept).toEqual([1000, 1000, 1000]);
  });

  it("ends with a timeout when the order stays pending, with a last check at the deadline", async () => {
    const { api, orderId } = await setup();
    const clock = fakeClock();
    const outcome = await confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 2500 }).done;
    expect(outcome).toMatchObject({ kind: "timeout", order: { id: orderId, status: "pending" }, lastError: undefined });
    expect(clock.slept).toEqual([1000, 1000, 500]);
  });

  it("keeps asking through network and gateway failures, and reports the last one on timeout", async () => {
    const { platform, fake, api, orderId } = await setup();
    const clock = fakeClock();
    platform.serve(() => ({ networkError: "request:fail timeout" }));
    const outcome = await confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 3000 }).done;
    expect(outcome).toEqual({ kind: "timeout", order: undefined, lastError: { kind: "network", message: "request:fail timeout" } });

    platform.serve((request) => fake.handle(request));
    fake.once("getOrder", apiError(503, "GATEWAY_UNAVAILABLE", "WeChat Pay is unavailable."));
    fake.once("getOrder", apiError(504, "GATEWAY_TIMEOUT", "WeChat Pay did not answer in time."));
    fake.markPaid(orderId);
    expect(await confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 30_000 }).done).toMatchObject({ kind: "settled", status: "paid" });
  });

  it("stops at once on an error waiting cannot fix", async () => {
    const { api } = await setup();
    const outcome = await confirmOrder({ api, clock: fakeClock(), orderId: "P0000000000", intervalMs: 1000, timeoutMs: 30_000 }).done;
    expect(outcome).toEqual({ kind: "error", error: { kind: "api", status: 404, code: "NOT_FOUND", message: "No order P0000000000." } });
  });

  it("reports a closed order as settled, and stops when asked", async () => {
    const { fake, api, orderId } = await setup();
    const clock = fakeClock();
    const confirmation = confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 30_000 });
    confirmation.stop();
    expect(await confirmation.done).toEqual({ kind: "stopped" });
    const order = fake.orders.get(orderId);
    if (order !== undefined) fake.orders.set(orderId, { ...order, status: "closed" });
    expect(await confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 30_000 }).done).toMatchObject({ kind: "settled", status: "closed" });
  });

  it("waits out a refusal's Retry-After before the next check, then goes on at its interval", async () => {
    const clock = fakeClock();
    const { platform, fake, api, orderId } = await setup(clock);
    fake.once("getOrder", apiRefusal(503, "OVERLOADED", 5));
    fake.once("getOrder", apiRefusal(429, "RATE_LIMITED", 3));
    let steps = 0;
    const times: number[] = [];
    platform.serve((request) => {
      if (request.path.startsWith("/api/orders/")) times.push(clock.now());
      return fake.handle(request);
    });
    const start = clock.now();
    const outcome = confirmOrder({
      api,
      clock,
      orderId,
      intervalMs: 1000,
      timeoutMs: 30_000,
      onCheck: () => {
        steps += 1;
        if (steps === 1) fake.markPaid(orderId);
      },
    }).done;
    expect(await outcome).toMatchObject({ kind: "settled", status: "paid" });
    expect(clock.slept).toEqual([5000, 3000, 1000]);
    expect(times.map((t) => t - start)).toEqual([0, 5000, 8000, 9000]);
  });

  it("ends early with the refusal when its wait reaches past the deadline, rather than ask again too soon", async () => {
    const clock = fakeClock();
    const { fake, api, orderId } = await setup(clock);
    fake.once("getOrder", apiError(504, "GATEWAY_TIMEOUT", "WeChat Pay did not answer in time."));
    fake.once("getOrder", apiRefusal(503, "GATEWAY_UNAVAILABLE", 60, "WeChat Pay is unavailable."));
    const outcome = await confirmOrder({ api, clock, orderId, intervalMs: 1000, timeoutMs: 30_000 }).done;
    expect(outcome).toEqual({
      kind: "timeout",
      order: undefined,
      lastError: { kind: "api", status: 503, code: "GATEWAY_UNAVAILABLE", message: "WeChat Pay is unavailable.", retryAfterSeconds: 60 },
    });
    expect(clock.slept).toEqual([1000]);
  });
});
