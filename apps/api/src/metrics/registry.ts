import type { Kysely } from "kysely";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Clock } from "../clock.js";
import { recentDifferences, webhookBacklog } from "../db/metrics-reads.js";
import type { Database } from "../db/schema.js";
import { addDays, beijingDayOf } from "../services/reconciliation/day.js";

/** Days of reconciliation whose differences the gauge adds up (today's Beijing day and the 30 before). */
export const DIFFERENCE_DAYS = 31;

/** The PaymentGateway port's calls, as the latency histogram's `call` label names them. */
export const GATEWAY_CALLS = ["placeOrder", "queryOrder", "closeOrder", "refund", "queryRefund", "openBill"] as const;
export type GatewayCall = (typeof GATEWAY_CALLS)[number];

export type NotifyOutcome = "accepted" | "duplicate" | "refused";

/**
 * The API's Prometheus metrics (docs/console.md "Metrics"), on a registry of its own: each app has one, so
 * tests that build many apps never share counters. Every label value is from a closed set or a sanitized
 * code (codeLabel); never an order id, never free text.
 */
export interface ApiMetrics {
  readonly registry: Registry;
  notify(kind: "pay" | "refund", protocol: "v2" | "v3", outcome: NotifyOutcome, reason: string): void;
  gatewayCall(protocol: "v2" | "v3", call: GatewayCall, outcome: string, seconds: number): void;
  orderTransition(from: string, to: string): void;
  refund(status: "requested" | "succeeded" | "closed" | "abnormal"): void;
  webhookAttempt(outcome: "delivered" | "retrying" | "failed" | "unrecorded", lagSeconds: number | undefined): void;
  activityDropped(count: number): void;
  /** Issue 21: a request refused by a rate limit (429 RATE_LIMITED), by the contract route's name. */
  rateLimited(route: "createSession" | "createOrder" | "renewPayment"): void;
  /** A gateway call the guard refused (gateway/guard.ts), by protocol and reason. */
  gatewayShed(protocol: "v2" | "v3", reason: string): void;
  /** Where the gateway guard's gauges read from when scraped (set once by createApp). */
  watchGatewayGuard(guard: GatewayGuardReadings): void;
  /** Issue 21's in-flight cap (middleware/in-flight.ts): /api requests in flight now, and one refused with OVERLOADED. */
  apiInFlight(count: number): void;
  apiShed(): void;
  /** Prometheus text of everything. */
  text(): Promise<string>;
}

/** What the gateway guard's gauges read: its breakers' states by protocol and its calls in flight. */
export interface GatewayGuardReadings {
  readonly protocols: readonly ("v2" | "v3")[];
  breakerState(protocol: "v2" | "v3"): "closed" | "open" | "half-open";
  readonly inFlight: number;
}

/** pay_gateway_breaker_state's values: the higher, the less goes through. */
const BREAKER_STATE_VALUES = { closed: 0, "half-open": 1, open: 2 } as const;

const CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,47}$/;

/** A code as a label value: kept when it looks like a code, else `other` (a hostile or garbled code cannot grow the label set with text). */
export function codeLabel(code: string | undefined, fallback = "none"): string {
  if (code === undefined || code === "") return fallback;
  return CODE.test(code) ? code : "other";
}

export interface MetricsOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  /** Node process metrics (CPU, memory, event loop, GC); default true. */
  readonly processMetrics?: boolean | undefined;
}

/** Builds the metrics of one app on a new registry. The gauges read the database when scraped, never before. */
export function createMetrics(options: MetricsOptions): ApiMetrics {
  const { db, clock } = options;
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const notifies = new Counter({
    name: "pay_notifies_total",
    help: "WeChat Pay notifies received, by kind (pay, refund), protocol, outcome (accepted, duplicate, refused) and reason (refusal code).",
    labelNames: ["kind", "protocol", "outcome", "reason"] as const,
    registers,
  });
  const gatewayCalls = new Histogram({
    name: "pay_gateway_call_duration_seconds",
    help: "WeChat Pay gateway calls by protocol, call (PaymentGateway method) and outcome (ok, timeout, network, http, protocol, invalid, or the gateway's error code).",
    labelNames: ["protocol", "call", "outcome"] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers,
  });
  const transitions = new Counter({
    name: "pay_order_transitions_total",
    help: "Order status changes made by this process, by from and to (none -> pending when created).",
    labelNames: ["from", "to"] as const,
    registers,
  });
  const refunds = new Counter({
    name: "pay_refunds_total",
    help: "Refunds by status: requested (reserved and sent), then succeeded, closed or abnormal when settled.",
    labelNames: ["status"] as const,
    registers,
  });
  const deliveries = new Counter({
    name: "pay_webhook_deliveries_total",
    help: "Webhook delivery attempts by outcome (delivered, retrying, failed: given up, unrecorded).",
    labelNames: ["outcome"] as const,
    registers,
  });
  const lag = new Histogram({
    name: "pay_webhook_delivery_lag_seconds",
    help: "Seconds from an event's creation to its successful delivery.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
    registers,
  });
  const dropped = new Counter({
    name: "pay_activity_dropped_total",
    help: "Order activity (timeline) rows dropped: the buffer was full, or a batch could not be written twice.",
    registers,
  });
  const rateLimited = new Counter({
    name: "pay_rate_limited_total",
    help: "Requests refused with 429 RATE_LIMITED by a rate limit, by route (createSession, createOrder, renewPayment).",
    labelNames: ["route"] as const,
    registers,
  });
  // Issue 21, the in-flight cap: with API_WORKERS the primary adds the workers' gauges and counters up.
  const inFlight = new Gauge({
    name: "pay_api_in_flight_requests",
    help: "/api requests this process is working on now (API_MAX_IN_FLIGHT caps them; notifies, /healthz and /readyz never count).",
    registers,
  });
  const apiShedTotal = new Counter({
    name: "pay_api_shed_total",
    help: "/api requests refused at once with 503 OVERLOADED because API_MAX_IN_FLIGHT were in flight.",
    registers,
  });
  new Gauge({
    name: "pay_webhook_pending_deliveries",
    help: "Webhook deliveries pending (not yet delivered or given up), read from the database when scraped.",
    registers,
    // Read from the database: with API_WORKERS every worker reads the same value, so the primary keeps one.
    aggregator: "first",
    async collect() {
      this.set((await webhookBacklog(db)).pending);
    },
  });
  new Gauge({
    name: "pay_webhook_oldest_pending_age_seconds",
    help: "Age in seconds of the oldest pending webhook delivery (0 when none), read from the database when scraped.",
    registers,
    // Read from the database: with API_WORKERS every worker reads the same value, so the primary keeps one.
    aggregator: "first",
    async collect() {
      const { oldestCreatedAt } = await webhookBacklog(db);
      this.set(oldestCreatedAt === null ? 0 : Math.max(0, (clock() - Date.parse(oldestCreatedAt)) / 1000));
    },
  });
  new Gauge({
    name: "pay_reconciliation_differences",
    help: `Differences found by the last successful reconciliation of each of the last ${DIFFERENCE_DAYS} Beijing days, added up by class; read from the database when scraped.`,
    labelNames: ["class"] as const,
    registers,
    // Read from the database: with API_WORKERS every worker reads the same value, so the primary keeps one.
    aggregator: "first",
    async collect() {
      const counts = await recentDifferences(db, addDays(beijingDayOf(clock()), -(DIFFERENCE_DAYS - 1)));
      for (const [name, count] of Object.entries(counts)) this.set({ class: name }, count);
    },
  });

  // Issue 21, gateway guard: read from the guard when scraped (nothing until createApp hands it over).
  let guard: GatewayGuardReadings | undefined;
  const shed = new Counter({
    name: "pay_gateway_shed_total",
    help: "Gateway calls refused by the guard without being sent, by protocol and reason (breaker_open, bulkhead_full, queue_timeout).",
    labelNames: ["protocol", "reason"] as const,
    registers,
  });
  new Gauge({
    name: "pay_gateway_breaker_state",
    help: "The gateway breaker of each protocol: 0 closed, 1 half-open (a probe may go), 2 open (calls refused). With API_WORKERS, the worst worker's.",
    labelNames: ["protocol"] as const,
    registers,
    aggregator: "max",
    collect() {
      for (const protocol of guard?.protocols ?? []) this.set({ protocol }, BREAKER_STATE_VALUES[guard?.breakerState(protocol) ?? "closed"]);
    },
  });
  new Gauge({
    name: "pay_gateway_calls_in_flight",
    help: "Calls to WeChat Pay in flight now (the bulkhead's taken slots, both protocols).",
    registers,
    collect() {
      this.set(guard?.inFlight ?? 0);
    },
  });

  return {
    registry,
    notify: (kind, protocol, outcome, reason) => notifies.inc({ kind, protocol, outcome, reason: codeLabel(reason) }),
    gatewayCall: (protocol, call, outcome, seconds) => gatewayCalls.observe({ protocol, call, outcome: codeLabel(outcome, "error") }, seconds),
    orderTransition: (from, to) => transitions.inc({ from, to }),
    refund: (status) => refunds.inc({ status }),
    webhookAttempt(outcome, lagSeconds) {
      deliveries.inc({ outcome });
      if (outcome === "delivered" && lagSeconds !== undefined) lag.observe(Math.max(0, lagSeconds));
    },
    activityDropped: (count) => dropped.inc(count),
    rateLimited: (route) => rateLimited.inc({ route }),
    gatewayShed: (protocol, reason) => shed.inc({ protocol, reason: codeLabel(reason) }),
    watchGatewayGuard(readings) {
      guard = readings;
    },
    apiInFlight: (count) => inFlight.set(count),
    apiShed: () => apiShedTotal.inc(),
    text: () => registry.metrics(),
  };
}
