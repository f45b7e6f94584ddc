// The shutdown sequence driven by hand: manual timers and clock, steps that finish when the test says so.
import { describe, expect, it } from "vitest";
import { captureLogs } from "../test/support/captured-logs.js";
import { createInFlightTracker, createLifecycle, createShutdownController, FORCED_EXIT_CODE, type InFlightResponse, type ShutdownTimers, type StopStep } from "./shutdown.js";

/** Timers that fire only when the test advances them. */
function manualTimers(): ShutdownTimers & { now: number; advance(ms: number): void; pending(): number } {
  let now = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let next = 0;
  return {
    get now() {
      return now;
    },
    set(callback, ms) {
      const id = next++;
      timers.set(id, { at: now + ms, callback });
      return () => void timers.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.callback();
      }
    },
    pending: () => timers.size,
  };
}

/** A step that records its start and finishes when released. */
function heldStep(name: string, log: string[]): StopStep & { release(): void; fail(error: Error): void } {
  let release: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return {
    name,
    run: () => {
      log.push(name);
      return done;
    },
    release: () => release(),
    fail: (error) => fail(error),
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(options: { readinessDelayMs?: number; timeoutMs?: number } = {}) {
  const timers = manualTimers();
  const { logger, logs } = captureLogs();
  const started: string[] = [];
  const http = heldStep("requests in flight", started);
  const commit = heldStep("group commit", started);
  const database = heldStep("database", started);
  const lifecycle = createLifecycle({ readinessDelayMs: options.readinessDelayMs ?? 5000, steps: [http, commit, database], timers, logger });
  const exits: number[] = [];
  const controller = createShutdownController({
    lifecycle,
    timeoutMs: options.timeoutMs ?? 25_000,
    timers,
    logger,
    inFlight: () => [{ method: "POST", path: "/api/orders", ms: 1200 }],
    exit: (code) => exits.push(code),
  });
  const lines = (): Array<Record<string, unknown>> => logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { timers, lifecycle, controller, started, http, commit, database, exits, lines };
}

describe("the shutdown sequence", () => {
  it("readiness first: draining at once, the listener closes only after the delay, then every step in order, then exit 0", async () => {
    const s = setup();
    expect(s.lifecycle.draining).toBe(false);
    s.controller.signal("SIGTERM");
    expect(s.lifecycle.draining).toBe(true);
    expect(s.lifecycle.phase).toBe("unready");
    s.timers.advance(4999);
    await settle();
    expect(s.started).toEqual([]);
    s.timers.advance(1);
    await settle();
    expect(s.lifecycle.phase).toBe("stopping");
    expect(s.started).toEqual(["requests in flight"]);
    expect(s.lifecycle.step).toBe("requests in flight");
    s.http.release();
    await settle();
    expect(s.started).toEqual(["requests in flight", "group commit"]);
    s.commit.release();
    await settle();
    s.database.release();
    await settle();
    expect(s.lifecycle.phase).toBe("stopped");
    expect(s.exits).toEqual([0]);
    // The deadline was cancelled: nothing fires later.
    expect(s.timers.pending()).toBe(0);
    expect(s.lines().map((line) => line.msg)).toEqual([
      "stopping",
      "draining: readiness is 503, still serving",
      "draining: closing the listener, finishing requests in flight",
      "stopped cleanly",
    ]);
  });

  it("a second signal forces exit 1 at once and logs the step and the requests still in flight", async () => {
    const s = setup();
    s.controller.signal("SIGTERM");
    s.timers.advance(5000);
    await settle();
    s.controller.signal("SIGINT");
    expect(s.exits).toEqual([FORCED_EXIT_CODE]);
    expect(FORCED_EXIT_CODE).toBe(1);
    const forced = s.lines().find((line) => line.msg === "shutdown forced: exiting with work in flight");
    expect(forced).toMatchObject({
      reason: "second SIGINT",
      phase: "stopping",
      step: "requests in flight",
      inFlightRequests: 1,
      requests: [{ method: "POST", path: "/api/orders", ms: 1200 }],
    });
    // The drain finishing afterwards exits nothing more.
    s.http.release();
    s.commit.release();
    s.database.release();
    await settle();
    expect(s.exits).toEqual([1]);
  });

  it("the deadline counts from the first signal and forces exit 1 while a step never ends", async () => {
    const s = setup({ readinessDelayMs: 1000, timeoutMs: 3000 });
    s.controller.signal("SIGTERM");
    s.timers.advance(1000);
    await settle();
    s.http.release();
    await settle();
    expect(s.lifecycle.step).toBe("group commit");
    s.timers.advance(1999);
    expect(s.exits).toEqual([]);
    s.timers.advance(1);
    expect(s.exits).toEqual([1]);
    expect(s.lines().find((line) => line.msg === "shutdown forced: exiting with work in flight")).toMatchObject({ reason: "deadline of 3000 ms passed", step: "group commit" });
  });

  it("a failing step exits 1 with the step named; a zero delay closes at once", async () => {
    const s = setup({ readinessDelayMs: 0 });
    s.controller.signal("SIGTERM");
    await settle();
    expect(s.started).toEqual(["requests in flight"]);
    s.http.release();
    await settle();
    s.commit.fail(new Error("disk full"));
    await settle();
    expect(s.exits).toEqual([1]);
    expect(s.lines().find((line) => line.msg === "stopping failed")).toMatchObject({ step: "group commit" });
    expect(s.started).toEqual(["requests in flight", "group commit"]);
  });

  it("begin() (a worker's primary asking) starts the drain once and never forces; stop() skips the delay and is shared with drain()", async () => {
    const s = setup();
    s.controller.begin("primary");
    s.controller.begin("primary");
    expect(s.exits).toEqual([]);
    expect(s.lifecycle.phase).toBe("unready");
    // An embedding process stopping at once during the delay: the drain joins that stop.
    const stopped = s.lifecycle.stop();
    await settle();
    expect(s.started).toEqual(["requests in flight"]);
    s.http.release();
    s.commit.release();
    s.database.release();
    await stopped;
    s.timers.advance(5000);
    await settle();
    expect(s.started).toEqual(["requests in flight", "group commit", "database"]);
    expect(s.exits).toEqual([0]);
    expect(s.lifecycle.stop()).toBe(stopped);
  });
});

describe("the in-flight tracker", () => {
  function response(): InFlightResponse & { close(): void } {
    let onClose: () => void = () => undefined;
    return {
      headersSent: false,
      shouldKeepAlive: true,
      once(_event, listener) {
        onClose = listener;
        return this;
      },
      close: () => onClose(),
    };
  }

  it("lists the requests being answered, oldest first, without their query; closing() turns keep-alive off for the rest", () => {
    let now = 1000;
    const tracker = createInFlightTracker(() => now);
    const first = response();
    const second = response();
    tracker.track({ method: "POST", url: "/wxpay/notify" }, first);
    now = 1500;
    tracker.track({ method: "GET", url: "/api/orders/o1?token=secret" }, second);
    now = 2000;
    expect(tracker.list()).toEqual([
      { method: "POST", path: "/wxpay/notify", ms: 1000 },
      { method: "GET", path: "/api/orders/o1", ms: 500 },
    ]);
    first.close();
    expect(tracker.list()).toHaveLength(1);
    tracker.closing();
    expect(second.shouldKeepAlive).toBe(false);
    const late = response();
    tracker.track({ method: "GET", url: "/healthz" }, late);
    expect(late.shouldKeepAlive).toBe(false);
    const answered = { ...response(), headersSent: true };
    tracker.track({ method: "GET", url: "/readyz" }, answered);
    expect(answered.shouldKeepAlive).toBe(true);
  });
});
