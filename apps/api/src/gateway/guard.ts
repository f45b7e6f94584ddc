import type { Clock } from "../clock.js";
import type { GatewayCallError, GatewayResult, PaymentGateway } from "./port.js";
import { PROTOCOL_NAMES, type Protocol } from "./registry.js";

/**
 * The gateway guard: a bulkhead (at most N calls to WeChat Pay in flight per process, a few more waiting
 * briefly) and a circuit breaker per protocol (after consecutive failures that mean the gateway is unwell,
 * calls fail fast for a while; then one probe call decides whether it closes or opens again, for twice as
 * long). A refused call is never sent: it answers a `shed` error with the seconds after which trying again
 * may go through. Hand-written rather than cockatiel or opossum: both read Date.now() and their own timers,
 * and every state change here must follow the injected clock.
 */

/** Why a call was shed, as the `reason` label of pay_gateway_shed_total names it. */
export const SHED_REASONS = ["breaker_open", "bulkhead_full", "queue_timeout"] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

/** closed: calls go through. open: calls are shed until the opening ends. half-open: one probe call is let through. */
export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerOptions {
  /** Consecutive unwell failures (isUnwell) that open the breaker. */
  readonly failures: number;
  /** How long the first opening lasts. */
  readonly openMs: number;
  /** A failed probe opens it again for twice as long as the last opening, at most this long. */
  readonly maxOpenMs: number;
}

/** Runs `run` after `delayMs` (wall time) and returns what cancels it. */
export type Schedule = (delayMs: number, run: () => void) => () => void;

export interface GatewayGuardOptions {
  /** Calls in flight at once, over every guarded gateway of the process (the merchant's rate limit is per merchant). */
  readonly maxConcurrentCalls: number;
  /** Calls that may wait for a slot; 0: a call finding every slot taken is shed at once. */
  readonly maxQueuedCalls: number;
  /** How long a call waits for a slot before it is shed. */
  readonly maxQueueWaitMs: number;
  /** The breaker of each guarded protocol; undefined: no breaker (GATEWAY_BREAKER_FAILURES=off). */
  readonly breaker: BreakerOptions | undefined;
  readonly clock: Clock;
  /** Ends a queued call's wait; default setTimeout (a waiting call must be woken, which no injected clock can do). */
  readonly schedule?: Schedule | undefined;
  /** Told of every shed call (the shed counter). */
  readonly onShed?: ((protocol: Protocol, reason: ShedReason) => void) | undefined;
}

export interface GatewayGuard {
  /** The gateway of `protocol` with its calls to WeChat Pay guarded; notify parsing, paySign and bill downloads pass straight through. */
  guard(gateway: PaymentGateway, protocol: Protocol): PaymentGateway;
  /**
   * The shed error a call of `protocol` would get now (counted as shed), or undefined when it would be let
   * through or wait for a slot: asked before writing anything a refused call would leave behind.
   */
  refusal(protocol: Protocol): GatewayCallError | undefined;
  /** The breaker state of `protocol` now (closed when it has none). */
  breakerState(protocol: Protocol): BreakerState;
  /** Calls to WeChat Pay in flight now. */
  readonly inFlight: number;
  /** Calls waiting for a slot now. */
  readonly queued: number;
}

/**
 * True for a failure that means the gateway is unwell (counted by the breaker): no answer in time, no
 * connection, HTTP 5xx or 429, and refusals WeChat Pay marks as worth retrying (SYSTEMERROR, rate limits).
 * A verified refusal of the request (ORDERPAID, a bad parameter), a 4xx and an unusable answer are answers
 * of a working gateway and count as successes.
 */
export function isUnwell(error: GatewayCallError): boolean {
  switch (error.kind) {
    case "timeout":
    case "network":
      return true;
    case "http":
      return (error.httpStatus ?? 500) >= 500 || error.httpStatus === 429;
    case "business":
    case "protocol":
      return error.retryable;
    case "invalid":
    case "shed":
      return false;
  }
}

/** Whole seconds until `ms` from now have passed, at least 1 (Retry-After). */
function secondsFor(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** A call let through by a breaker: whether it is the probe, and the breaker's generation when it was let through. */
interface Ticket {
  readonly probe: boolean;
  readonly generation: number;
}

interface Breaker {
  state(now: number): BreakerState;
  /** Seconds until a call may go through, or undefined when one may now. Changes nothing. */
  wait(now: number): number | undefined;
  /** Lets a call through (half-open: as the probe), or says how many seconds until one may go. */
  admit(now: number): Ticket | number;
  /** The outcome of a call it let through. */
  settle(ticket: Ticket, unwell: boolean, now: number): void;
}

/** The breaker state machine; time comes only from the `now` it is given. */
function createBreaker(options: BreakerOptions): Breaker {
  let state: "closed" | "open" | "half-open" = "closed";
  let failures = 0;
  let openUntil = 0;
  let openMs = options.openMs;
  let probing = false;
  // Bumped at each opening and closing: a call let through before either cannot decide anything after it.
  let generation = 0;

  const open = (now: number): void => {
    state = "open";
    openUntil = now + openMs;
    failures = 0;
    generation++;
  };
  const wait = (now: number): number | undefined => {
    if (state === "open" && now < openUntil) return secondsFor(openUntil - now);
    // The probe is out: its answer (bounded by the gateway's timeout) decides; ask again shortly.
    if (state === "half-open" && probing) return 1;
    return undefined;
  };
  return {
    state: (now) => (state === "open" && now >= openUntil ? "half-open" : state),
    wait,
    admit(now) {
      const seconds = wait(now);
      if (seconds !== undefined) return seconds;
      if (state === "closed") return { probe: false, generation };
      state = "half-open";
      probing = true;
      return { probe: true, generation };
    },
    settle(ticket, unwell, now) {
      if (ticket.probe) {
        probing = false;
        if (unwell) {
          openMs = Math.min(openMs * 2, options.maxOpenMs);
          open(now);
        } else {
          state = "closed";
          failures = 0;
          openMs = options.openMs;
          generation++;
        }
        return;
      }
      if (state !== "closed" || ticket.generation !== generation) return;
      if (!unwell) {
        failures = 0;
        return;
      }
      failures++;
      if (failures >= options.failures) open(now);
    },
  };
}

type Acquired = "acquired" | "bulkhead_full" | "queue_timeout";

interface Bulkhead {
  readonly inFlight: number;
  readonly queued: number;
  /** True when a call now would find every slot taken and the queue full. */
  saturated(): boolean;
  /** A slot at once, or after a wait in the queue, or why not. */
  acquire(): Acquired | Promise<Acquired>;
  release(): void;
}

const defaultSchedule: Schedule = (delayMs, run) => {
  const timer = setTimeout(run, delayMs);
  return () => clearTimeout(timer);
};

/** At most `max` slots; up to `maxQueued` callers wait (first come, first served) at most `maxWaitMs` for one. */
function createBulkhead(max: number, maxQueued: number, maxWaitMs: number, schedule: Schedule): Bulkhead {
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  return {
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return waiting.length;
    },
    saturated: () => inFlight >= max && (waiting.length >= maxQueued || maxWaitMs === 0),
    acquire() {
      if (inFlight < max) {
        inFlight++;
        return "acquired";
      }
      if (waiting.length >= maxQueued || maxWaitMs === 0) return "bulkhead_full";
      return new Promise<Acquired>((resolve) => {
        let cancel = (): void => undefined;
        const granted = (): void => {
          cancel();
          resolve("acquired");
        };
        waiting.push(granted);
        cancel = schedule(maxWaitMs, () => {
          const at = waiting.indexOf(granted);
          if (at === -1) return;
          waiting.splice(at, 1);
          resolve("queue_timeout");
        });
      });
    },
    release() {
      // A freed slot passes straight to the first waiter: in flight stays the same.
      const next = waiting.shift();
      if (next === undefined) inFlight--;
      else next();
    },
  };
}

const SHED_MESSAGES: Readonly<Record<ShedReason, (protocol: Protocol) => string>> = {
  breaker_open: (protocol) => `calls to WeChat Pay ${PROTOCOL_NAMES[protocol]} are paused after repeated gateway failures`,
  bulkhead_full: () => "too many calls to WeChat Pay are in flight",
  queue_timeout: () => "no call to WeChat Pay could start in time",
};

/** Builds the guard of a process: one bulkhead shared by every gateway it guards, one breaker per protocol. */
export function createGatewayGuard(options: GatewayGuardOptions): GatewayGuard {
  const { clock } = options;
  for (const [name, value, min] of [
    ["maxConcurrentCalls", options.maxConcurrentCalls, 1],
    ["maxQueuedCalls", options.maxQueuedCalls, 0],
    ["maxQueueWaitMs", options.maxQueueWaitMs, 0],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) throw new TypeError(`${name} must be a whole number >= ${min}.`);
  }
  if (options.breaker !== undefined) {
    const { failures, openMs, maxOpenMs } = options.breaker;
    if (!Number.isSafeInteger(failures) || failures < 1) throw new TypeError("breaker.failures must be a whole number >= 1.");
    if (!(openMs > 0) || !(maxOpenMs >= openMs)) throw new TypeError("breaker.openMs must be > 0 and breaker.maxOpenMs at least openMs.");
  }
  const bulkhead = createBulkhead(options.maxConcurrentCalls, options.maxQueuedCalls, options.maxQueueWaitMs, options.schedule ?? defaultSchedule);
  const breakers = new Map<Protocol, Breaker>();

  const shed = (protocol: Protocol, reason: ShedReason, retryAfterSeconds: number): GatewayCallError => {
    options.onShed?.(protocol, reason);
    return { kind: "shed", message: SHED_MESSAGES[reason](protocol), retryable: true, retryAfterSeconds };
  };

  async function call<T>(protocol: Protocol, breaker: Breaker | undefined, run: () => Promise<GatewayResult<T>>): Promise<GatewayResult<T>> {
    // An open breaker answers at once, without taking a slot or a place in the queue.
    const early = breaker?.wait(clock());
    if (early !== undefined) return { ok: false, error: shed(protocol, "breaker_open", early) };
    const slot = bulkhead.acquire();
    const acquired = typeof slot === "string" ? slot : await slot;
    if (acquired !== "acquired") return { ok: false, error: shed(protocol, acquired, 1) };
    try {
      // Asked again once the slot is held: the breaker may have opened, or another call taken the probe, meanwhile.
      const ticket = breaker?.admit(clock());
      if (typeof ticket === "number") return { ok: false, error: shed(protocol, "breaker_open", ticket) };
      let unwell = true;
      try {
        const result = await run();
        unwell = !result.ok && isUnwell(result.error);
        return result;
      } finally {
        // A call that threw counts as unwell: a probe must always decide.
        if (ticket !== undefined) breaker?.settle(ticket, unwell, clock());
      }
    } finally {
      bulkhead.release();
    }
  }

  return {
    guard(gateway, protocol) {
      const breaker = options.breaker === undefined ? undefined : createBreaker(options.breaker);
      if (breaker !== undefined) breakers.set(protocol, breaker);
      return {
        placeOrder: (order) => call(protocol, breaker, () => gateway.placeOrder(order)),
        paymentParams: (input) => gateway.paymentParams(input),
        queryOrder: (orderId) => call(protocol, breaker, () => gateway.queryOrder(orderId)),
        closeOrder: (orderId) => call(protocol, breaker, () => gateway.closeOrder(orderId)),
        refund: (input) => call(protocol, breaker, () => gateway.refund(input)),
        queryRefund: (refundId) => call(protocol, breaker, () => gateway.queryRefund(refundId)),
        // Reconciliation's daily download: one at a time per day across the processes, streamed long after this
        // call returns, from its own endpoint; it neither takes a slot nor tells the breaker anything.
        openBill: (date) => gateway.openBill(date),
        get notifyContentTypes() {
          return gateway.notifyContentTypes;
        },
        parsePayNotify: (body, headers) => gateway.parsePayNotify(body, headers),
        parseRefundNotify: (body, headers) => gateway.parseRefundNotify(body, headers),
        notifyReply: (answer) => gateway.notifyReply(answer),
      };
    },
    refusal(protocol) {
      const seconds = breakers.get(protocol)?.wait(clock());
      if (seconds !== undefined) return shed(protocol, "breaker_open", seconds);
      if (bulkhead.saturated()) return shed(protocol, "bulkhead_full", 1);
      return undefined;
    },
    breakerState: (protocol) => breakers.get(protocol)?.state(clock()) ?? "closed",
    get inFlight() {
      return bulkhead.inFlight;
    },
    get queued() {
      return bulkhead.queued;
    },
  };
}
