import { describe, expect, it } from "vitest";
import { createFakeGateway } from "./fake.js";
import { createGatewayGuard, isUnwell, type GatewayGuardOptions, type Schedule, type ShedReason } from "./guard.js";
import type { GatewayCallError, GatewayResult, OrderState, PaymentGateway } from "./port.js";

const merchant = { appId: "wxguard0000000001", mchId: "1900000109", subAppId: undefined, subMchId: undefined };

const TIMEOUT: GatewayCallError = { kind: "timeout", message: "no answer", retryable: true };
const ORDER_PAID: GatewayCallError = { kind: "business", message: "ORDERPAID", retryable: false, code: "ORDERPAID", reason: "ORDER_PAID" };
const PENDING: GatewayResult<OrderState> = { ok: true, value: { state: "pending" } };

/** A gateway whose queryOrder answers what the test says, when it says (each call waits for `answer`). */
function scriptedGateway(): {
  gateway: PaymentGateway;
  readonly calls: number;
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Answers the call about `orderId`, or the oldest open call. */
  answer(result: GatewayResult<OrderState> | Error, orderId?: string): Promise<void>;
} {
  const base = createFakeGateway({ merchant, protocol: "v2" });
  const open: Array<{ orderId: string; answer: (result: GatewayResult<OrderState> | Error) => void }> = [];
  let calls = 0;
  let maxInFlight = 0;
  const gateway: PaymentGateway = {
    ...base,
    notifyContentTypes: base.notifyContentTypes,
    queryOrder: (orderId) => {
      calls++;
      return new Promise<GatewayResult<OrderState>>((resolve, reject) => {
        open.push({ orderId, answer: (result) => (result instanceof Error ? reject(result) : resolve(result)) });
        maxInFlight = Math.max(maxInFlight, open.length);
      });
    },
  };
  return {
    gateway,
    get calls() {
      return calls;
    },
    get inFlight() {
      return open.length;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    async answer(result, orderId) {
      const at = orderId === undefined ? 0 : open.findIndex((call) => call.orderId === orderId);
      const [next] = at === -1 ? [] : open.splice(at, 1);
      if (next === undefined) throw new Error(`no call ${orderId ?? ""} is waiting for an answer`);
      next.answer(result);
      await settle();
    },
  };
}

/** Lets every promise that can settle settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A schedule the test fires by hand: no wall time passes. */
function manualSchedule(): { schedule: Schedule; readonly pending: number; fireAll(): void } {
  const timers: Array<{ run: () => void; cancelled: boolean }> = [];
  return {
    schedule: (_delayMs, run) => {
      const timer = { run, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    get pending() {
      return timers.filter((timer) => !timer.cancelled).length;
    },
    fireAll() {
      for (const timer of timers.splice(0)) if (!timer.cancelled) timer.run();
    },
  };
}

function setup(overrides: Partial<GatewayGuardOptions> = {}) {
  let now = 1_000_000;
  const shed: Array<[string, ShedReason]> = [];
  const timers = manualSchedule();
  const guard = createGatewayGuard({
    maxConcurrentCalls: 4,
    maxQueuedCalls: 2,
    maxQueueWaitMs: 500,
    breaker: { failures: 3, openMs: 10_000, maxOpenMs: 35_000 },
    clock: () => now,
    schedule: timers.schedule,
    onShed: (protocol, reason) => shed.push([protocol, reason]),
    ...overrides,
  });
  const inner = scriptedGateway();
  const gateway = guard.guard(inner.gateway, "v2");
  return {
    guard,
    inner,
    gateway,
    shed,
    timers,
    advance(ms: number) {
      now += ms;
    },
    /** Starts a query and answers it with `result`. */
    async callAnswered(result: GatewayResult<OrderState> | Error): Promise<GatewayResult<OrderState>> {
      const call = gateway.queryOrder("o1");
      // Marked handled at once: a throwing call rejects while the test still settles the answer.
      call.catch(() => undefined);
      await settle();
      await inner.answer(result);
      return call;
    },
  };
}

describe("the gateway breaker", () => {
  it("opens after N consecutive unwell failures, then fails fast without calling, the retry-after counting down", async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) {
      expect(t.guard.breakerState("v2")).toBe("closed");
      expect(await t.callAnswered({ ok: false, error: TIMEOUT })).toEqual({ ok: false, error: TIMEOUT });
    }
    expect(t.guard.breakerState("v2")).toBe("open");
    const calls = t.inner.calls;

    const fast = await t.gateway.queryOrder("o2");
    expect(fast).toEqual({ ok: false, error: { kind: "shed", message: expect.stringContaining("APIv2") as string, retryable: true, retryAfterSeconds: 10 } });
    t.advance(6_500);
    expect(await t.gateway.closeOrder("o3")).toMatchObject({ ok: false, error: { kind: "shed", retryAfterSeconds: 4 } });
    t.advance(3_400);
    expect(await t.gateway.refund({ orderId: "o4", refundId: "r4", orderAmount: 100, amount: 100, currency: "CNY" })).toMatchObject({
      ok: false,
      error: { kind: "shed", retryAfterSeconds: 1 },
    });
    expect(t.inner.calls).toBe(calls);
    expect(t.shed).toEqual([
      ["v2", "breaker_open"],
      ["v2", "breaker_open"],
      ["v2", "breaker_open"],
    ]);
  });

  it("a success between failures starts the count again; refusals of a working gateway never count", async () => {
    const t = setup();
    await t.callAnswered({ ok: false, error: TIMEOUT });
    await t.callAnswered({ ok: false, error: TIMEOUT });
    await t.callAnswered(PENDING);
    await t.callAnswered({ ok: false, error: TIMEOUT });
    await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.breakerState("v2")).toBe("closed");
    for (const error of [
      ORDER_PAID,
      { kind: "http", message: "400", retryable: false, httpStatus: 400 },
      { kind: "invalid", message: "bad signature", retryable: false },
      { kind: "protocol", message: "SIGNERROR", retryable: false, code: "SIGNERROR" },
    ] satisfies GatewayCallError[]) {
      await t.callAnswered({ ok: false, error });
      await t.callAnswered({ ok: false, error: TIMEOUT });
      await t.callAnswered({ ok: false, error: TIMEOUT });
      expect(t.guard.breakerState("v2")).toBe("closed");
    }
    await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.breakerState("v2")).toBe("open");
  });

  it("half-open: one probe goes through while the others are shed; its success closes the breaker", async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.callAnswered({ ok: false, error: { kind: "http", message: "503", retryable: true, httpStatus: 503 } });
    t.advance(10_000);
    expect(t.guard.breakerState("v2")).toBe("half-open");
    expect(t.guard.refusal("v2")).toBeUndefined();

    const probe = t.gateway.queryOrder("probe");
    await settle();
    expect(t.inner.inFlight).toBe(1);
    expect(await t.gateway.queryOrder("other")).toMatchObject({ ok: false, error: { kind: "shed", retryAfterSeconds: 1 } });
    expect(t.guard.refusal("v2")).toMatchObject({ kind: "shed", retryAfterSeconds: 1 });
    expect(t.inner.calls).toBe(4);

    await t.inner.answer(PENDING);
    expect(await probe).toEqual(PENDING);
    expect(t.guard.breakerState("v2")).toBe("closed");
    expect(await t.callAnswered(PENDING)).toEqual(PENDING);
    // Closed again from scratch: it takes N failures to open it.
    await t.callAnswered({ ok: false, error: TIMEOUT });
    await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.breakerState("v2")).toBe("closed");
  });

  it("a failed probe opens it again for twice as long, up to the maximum; a success brings back the first opening", async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.callAnswered({ ok: false, error: TIMEOUT });
    const openings: number[] = [];
    for (let round = 0; round < 3; round++) {
      t.advance(35_000);
      await t.callAnswered({ ok: false, error: { kind: "network", message: "ECONNREFUSED", retryable: true } });
      expect(t.guard.breakerState("v2")).toBe("open");
      openings.push(t.guard.refusal("v2")?.retryAfterSeconds ?? 0);
    }
    expect(openings).toEqual([20, 35, 35]);
    t.advance(35_000);
    await t.callAnswered(PENDING);
    expect(t.guard.breakerState("v2")).toBe("closed");
    for (let i = 0; i < 3; i++) await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.refusal("v2")?.retryAfterSeconds).toBe(10);
  });

  it("a probe that throws counts as a failure and frees its slot; a call that throws in the closed state counts too", async () => {
    const t = setup();
    for (let i = 0; i < 2; i++) await expect(t.callAnswered(new Error("bug"))).rejects.toThrow("bug");
    await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.breakerState("v2")).toBe("open");
    t.advance(10_000);
    await expect(t.callAnswered(new Error("bug"))).rejects.toThrow("bug");
    expect(t.guard.breakerState("v2")).toBe("open");
    expect(t.guard.inFlight).toBe(0);
  });

  it("calls let through before the breaker opened decide nothing after it: a late failure does not extend it, a late success does not close it", async () => {
    const t = setup({ maxConcurrentCalls: 10 });
    const stragglers = [t.gateway.queryOrder("late-failure"), t.gateway.queryOrder("late-success")];
    const failing = ["c", "d", "e"].map((id) => t.gateway.queryOrder(id));
    await settle();
    for (const id of ["c", "d", "e"]) await t.inner.answer({ ok: false, error: TIMEOUT }, id);
    await Promise.all(failing);
    expect(t.guard.breakerState("v2")).toBe("open");
    t.advance(5_000);
    await t.inner.answer({ ok: false, error: TIMEOUT }, "late-failure");
    expect(t.guard.refusal("v2")?.retryAfterSeconds).toBe(5);
    t.advance(5_000);
    const probe = t.gateway.queryOrder("probe");
    await settle();
    await t.inner.answer(PENDING, "late-success");
    await Promise.all(stragglers);
    expect(t.guard.breakerState("v2")).toBe("half-open");
    await t.inner.answer({ ok: false, error: TIMEOUT }, "probe");
    expect(await probe).toEqual({ ok: false, error: TIMEOUT });
    expect(t.guard.refusal("v2")?.retryAfterSeconds).toBe(20);
  });

  it("GATEWAY_BREAKER_FAILURES=off: no breaker, every call goes through", async () => {
    const t = setup({ breaker: undefined });
    for (let i = 0; i < 10; i++) await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.breakerState("v2")).toBe("closed");
    expect(t.guard.refusal("v2")).toBeUndefined();
    expect(t.inner.calls).toBe(10);
  });

  it("keeps one breaker per protocol", async () => {
    const t = setup();
    const v3 = scriptedGateway();
    const guardedV3 = t.guard.guard(v3.gateway, "v3");
    for (let i = 0; i < 3; i++) await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(t.guard.breakerState("v2")).toBe("open");
    expect(t.guard.breakerState("v3")).toBe("closed");
    const call = guardedV3.queryOrder("v3-order");
    await settle();
    await v3.answer(PENDING);
    expect(await call).toEqual(PENDING);
    expect(t.guard.refusal("v3")).toBeUndefined();
    expect(t.guard.refusal("v2")?.message).toContain("APIv2");
  });

  it("bill downloads, notify parsing and paySign pass straight through an open breaker", async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.callAnswered({ ok: false, error: TIMEOUT });
    expect(await t.gateway.openBill("2026-12-01")).toEqual({ ok: true, value: { kind: "none" } });
    expect(t.gateway.notifyContentTypes).toEqual(t.inner.gateway.notifyContentTypes);
    expect(t.gateway.notifyReply({ acknowledged: true })).toEqual(t.inner.gateway.notifyReply({ acknowledged: true }));
    expect(t.gateway.paymentParams({ prepayId: "wx1", now: 0 })).toEqual(t.inner.gateway.paymentParams({ prepayId: "wx1", now: 0 }));
    expect(t.shed).toEqual([]);
  });
});

describe("the gateway bulkhead", () => {
  it("never has more than N calls in flight; the next Q wait in order, the rest are shed at once", async () => {
    const t = setup({ breaker: undefined });
    const calls = Array.from({ length: 9 }, (_, i) => t.gateway.queryOrder(`o${i}`));
    await settle();
    expect(t.inner.inFlight).toBe(4);
    expect(t.guard.inFlight).toBe(4);
    expect(t.guard.queued).toBe(2);
    // Calls 7 to 9 found four in flight and two waiting.
    for (const call of calls.slice(6))
      expect(await call).toEqual({ ok: false, error: { kind: "shed", message: expect.any(String) as string, retryable: true, retryAfterSeconds: 1 } });
    expect(t.shed).toEqual([
      ["v2", "bulkhead_full"],
      ["v2", "bulkhead_full"],
      ["v2", "bulkhead_full"],
    ]);
    expect(t.guard.refusal("v2")).toMatchObject({ kind: "shed", retryAfterSeconds: 1 });

    for (let i = 0; i < 6; i++) await t.inner.answer(PENDING);
    for (const call of calls.slice(0, 6)) expect(await call).toEqual(PENDING);
    expect(t.inner.maxInFlight).toBe(4);
    expect(t.inner.calls).toBe(6);
    expect(t.guard.inFlight).toBe(0);
    expect(t.guard.queued).toBe(0);
    expect(t.timers.pending).toBe(0);
  });

  it("a queued call that gets no slot within the wait is shed, and is never sent later", async () => {
    const t = setup({ breaker: undefined, maxConcurrentCalls: 1, maxQueuedCalls: 1 });
    const first = t.gateway.queryOrder("first");
    const waiting = t.gateway.queryOrder("waiting");
    await settle();
    expect(t.guard.queued).toBe(1);
    expect(t.timers.pending).toBe(1);
    t.timers.fireAll();
    expect(await waiting).toMatchObject({ ok: false, error: { kind: "shed", retryAfterSeconds: 1 } });
    expect(t.shed).toEqual([["v2", "queue_timeout"]]);
    await t.inner.answer(PENDING);
    expect(await first).toEqual(PENDING);
    expect(t.inner.calls).toBe(1);
    expect(t.guard.inFlight).toBe(0);
  });

  it("with no queue, a call finding every slot taken is shed at once", async () => {
    const t = setup({ breaker: undefined, maxConcurrentCalls: 2, maxQueuedCalls: 0 });
    const running = [t.gateway.queryOrder("a"), t.gateway.queryOrder("b")];
    await settle();
    expect(t.guard.refusal("v2")).toMatchObject({ kind: "shed" });
    expect(await t.gateway.queryOrder("c")).toMatchObject({ ok: false, error: { kind: "shed" } });
    expect(t.timers.pending).toBe(0);
    await t.inner.answer(PENDING);
    await t.inner.answer(PENDING);
    await Promise.all(running);
    expect(t.guard.refusal("v2")).toBeUndefined();
  });

  it("is shared by every protocol's gateway", async () => {
    const t = setup({ breaker: undefined, maxConcurrentCalls: 2, maxQueuedCalls: 0 });
    const v3 = scriptedGateway();
    const guardedV3 = t.guard.guard(v3.gateway, "v3");
    const running = [t.gateway.queryOrder("a"), guardedV3.queryOrder("b")];
    await settle();
    expect(await guardedV3.queryOrder("c")).toMatchObject({ ok: false, error: { kind: "shed" } });
    expect(t.shed).toEqual([["v3", "bulkhead_full"]]);
    await t.inner.answer(PENDING);
    await v3.answer(PENDING);
    await Promise.all(running);
  });

  it("an open breaker answers at once without taking a slot or a place in the queue", async () => {
    const t = setup({ maxConcurrentCalls: 1, maxQueuedCalls: 1 });
    for (let i = 0; i < 3; i++) await t.callAnswered({ ok: false, error: TIMEOUT });
    const shed = await t.gateway.queryOrder("x");
    expect(shed).toMatchObject({ ok: false, error: { kind: "shed", retryAfterSeconds: 10 } });
    expect(t.guard.inFlight).toBe(0);
    expect(t.guard.queued).toBe(0);
    expect(t.timers.pending).toBe(0);
  });
});

describe("createGatewayGuard", () => {
  it.each([
    [{ maxConcurrentCalls: 0 }, "maxConcurrentCalls must be a whole number >= 1."],
    [{ maxQueuedCalls: -1 }, "maxQueuedCalls must be a whole number >= 0."],
    [{ maxQueueWaitMs: 1.5 }, "maxQueueWaitMs must be a whole number >= 0."],
    [{ breaker: { failures: 0, openMs: 1000, maxOpenMs: 1000 } }, "breaker.failures must be a whole number >= 1."],
    [{ breaker: { failures: 1, openMs: 2000, maxOpenMs: 1000 } }, "breaker.openMs must be > 0 and breaker.maxOpenMs at least openMs."],
  ])("refuses bad options (%#)", (options, message) => {
    expect(() => createGatewayGuard({ maxConcurrentCalls: 1, maxQueuedCalls: 0, maxQueueWaitMs: 0, breaker: undefined, clock: () => 0, ...options })).toThrow(message);
  });
});

describe("isUnwell", () => {
  it.each<[string, GatewayCallError, boolean]>([
    ["a timeout", TIMEOUT, true],
    ["no connection", { kind: "network", message: "ECONNRESET", retryable: true }, true],
    ["a TLS failure", { kind: "network", message: "TLS", retryable: false }, true],
    ["HTTP 500", { kind: "http", message: "500", retryable: true, httpStatus: 500 }, true],
    ["HTTP 503", { kind: "http", message: "503", retryable: true, httpStatus: 503 }, true],
    ["HTTP 429", { kind: "http", message: "429", retryable: false, httpStatus: 429 }, true],
    ["HTTP 404", { kind: "http", message: "404", retryable: false, httpStatus: 404 }, false],
    ["SYSTEMERROR", { kind: "business", message: "SYSTEMERROR", retryable: true, code: "SYSTEMERROR" }, true],
    ["a retryable protocol refusal", { kind: "protocol", message: "SYSTEMERROR", retryable: true, code: "SYSTEMERROR" }, true],
    ["ORDERPAID", ORDER_PAID, false],
    ["PARAM_ERROR", { kind: "business", message: "PARAM_ERROR", retryable: false, code: "PARAM_ERROR" }, false],
    ["a bad signature on the answer", { kind: "invalid", message: "SIGN_MISMATCH", retryable: false }, false],
    ["a shed call", { kind: "shed", message: "paused", retryable: true, retryAfterSeconds: 3 }, false],
  ])("%s: %s", (_what, error, unwell) => {
    expect(isUnwell(error)).toBe(unwell);
  });
});
