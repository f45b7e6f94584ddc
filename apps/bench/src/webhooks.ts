// Order events on the payment path: the distinct notify with an endpoint subscribed (delivery on) against
// the same notify without one, what the outbox insert itself adds to the paid writer's batch, and how fast
// and how soon the events reach a receiver under that notify load.
import { PendingPool } from "./data/pending-pool.js";
import { describeExtent, describeFailures, FULL_HTTP, HTTP_HEADERS, httpCells, measureHttpInterleaved, QUICK_HTTP, type HttpMeasurement, type LoadTarget } from "./load/rounds.js";
import { assertAcknowledges, distinctNotifyTarget, SUCCESS_MARK, V2_NOTIFIES } from "./load/targets.js";
import { median } from "./harness.js";
import { loadAverage } from "./machine.js";
import { formatCount, formatMs, formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import type { RunOptions } from "./run-options.js";
import { runLoad } from "./load/load.js";
import { startStack, type ApiInstance, type Dialect, type Stack, type WebhookReceiver } from "./servers/api-stack.js";
import { DELIVERING, deliveringTarget, type RunDeliveries } from "./webhooks/delivering-target.js";
import { EMPTY_WINDOW, mergeWindows, quantile, type DeliveryWindow } from "./webhooks/ledger.js";
import { FULL_OUTBOX_COST, measureOutboxCost, QUICK_OUTBOX_COST, type OutboxCost } from "./webhooks/outbox-cost.js";

/** Orders already in the table besides the pending pool, as in the notify benchmark. */
const BACKGROUND_ORDERS = 10_000;
const FIRST_PENDING = BACKGROUND_ORDERS;
/** Events in the backlog the dispatcher's ceiling is measured with. */
const BACKLOG = 3_000;
const QUICK_BACKLOG = 1_000;
/** The bound: the outbox insert under 10% of the notify's server CPU. */
const MAX_OUTBOX_SHARE = 0.1;

function dialectLabel(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

interface Contenders {
  readonly dialect: Dialect;
  readonly plain: ApiInstance;
  readonly subscribed: ApiInstance;
  readonly receiver: WebhookReceiver;
  readonly runs: RunDeliveries[];
  /** Runs of the paced load (half the subscribed API's saturated rate). */
  readonly pacedRuns: RunDeliveries[];
}

/** One measured run's delivery figures. */
export interface RunFigures {
  /** New events received per second, from the first receipt to the last. */
  readonly deliveredPerSecond: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** From the end of the notify load to the last event's receipt (0 when every event was in before the load ended). */
  readonly drainMs: number;
  readonly events: number;
  readonly duplicates: number;
}

/** The figures of one run's deliveries. */
export function runFigures(run: RunDeliveries): RunFigures {
  const { window } = run;
  const spanSeconds = (window.lastAtMs - window.firstAtMs) / 1000;
  return {
    deliveredPerSecond: spanSeconds > 0 ? window.delivered / spanSeconds : Number.NaN,
    lagP50Ms: quantile(window.lagsMs, 0.5),
    lagP99Ms: quantile(window.lagsMs, 0.99),
    lagMaxMs: window.lagsMs[window.lagsMs.length - 1] ?? Number.NaN,
    drainMs: Math.max(0, window.lastAtMs - run.loadEndedAtMs),
    events: run.events,
    duplicates: window.duplicates,
  };
}

async function prepare(api: ApiInstance, poolSize: number): Promise<PendingPool> {
  await api.db.insertOrders({ from: 0, count: BACKGROUND_ORDERS, kind: "mixed", users: api.users });
  await api.db.insertOrders({ from: FIRST_PENDING, count: poolSize, kind: "pending", users: api.users });
  await api.db.settle();
  // One notify first: the API answers, and its outbox holds a real order.paid event to copy for the outbox comparison.
  await assertAcknowledges(api.name, api.url, V2_NOTIFIES.request(FIRST_PENDING));
  return new PendingPool(FIRST_PENDING + 1, poolSize - 1);
}

/** `base` with its load paced at `rate` requests per second over all connections. */
export function pacedTarget(base: LoadTarget, rate: number, name: string): LoadTarget {
  return {
    ...base,
    name,
    async job(phase, extent, connections) {
      return { ...(await base.job(phase, extent, connections)), overallRate: rate };
    },
  };
}

/** Half of a measured rate, rounded down to tens (at least 10 a second). */
export function halfRate(requestsPerSecond: number): number {
  return Math.max(10, Math.floor(requestsPerSecond / 20) * 10);
}

/** How fast one API process empties a backlog of events with nothing else to do. */
export interface BacklogDrain {
  readonly dialect: Dialect;
  readonly events: number;
  /** Events over the time from the first receipt to the last. */
  readonly deliveredPerSecond: number;
  readonly seconds: number;
}

/** The drain figures of a window holding a whole backlog. */
export function backlogFigures(dialect: Dialect, events: number, window: DeliveryWindow): BacklogDrain {
  const seconds = (window.lastAtMs - window.firstAtMs) / 1000;
  return { dialect, events, deliveredPerSecond: seconds > 0 ? window.delivered / seconds : Number.NaN, seconds };
}

/**
 * The dispatcher's ceiling: an API with delivery off takes `count` notifies (their events wait in the outbox),
 * stops, and an API process with delivery on starts on the same database; the receiver times the backlog's deliveries.
 */
async function drainBacklog(stack: Stack, dialect: Dialect, count: number, log: (line: string) => void): Promise<BacklogDrain> {
  const receiver = await stack.startReceiver();
  const name = `webhooks-backlog-${dialect}`;
  const writer = await stack.startApi(name, dialect, 8, undefined, "v2", { env: { ...receiver.apiEnv, WEBHOOK_DELIVERY: "off" } });
  const pool = await prepare(writer, count + 1);
  const range = pool.take(count);
  const load = await runLoad({
    url: writer.url,
    connections: 50,
    measure: { amount: range.count },
    requests: V2_NOTIFIES.requests(range.from, range.count),
    expectBodyIncludes: SUCCESS_MARK,
  });
  const failed = load.non2xx + load.errors + load.timeouts + load.mismatches;
  if (failed > 0) throw new Error(`${name}: ${failed} of the backlog's notifies failed.`);
  await writer.server.stop();
  const events = await writer.db.countWebhookEvents();
  log(`webhooks: ${events} events wait in the outbox on ${dialect}; starting an API with delivery on`);
  await receiver.takeWindow();
  const started = Date.now();
  const deliverer = await stack.startApi(`${name}-delivering`, dialect, 0, undefined, "v2", { env: { ...receiver.apiEnv, WEBHOOK_DELIVERY: "on" }, restartOf: writer });
  let window = EMPTY_WINDOW;
  for (;;) {
    const answer = await receiver.takeWindow();
    window = mergeWindows(window, answer.window);
    if (answer.totals.distinct >= events) break;
    if (Date.now() - started > DELIVERING.drainTimeoutMs)
      throw new Error(`${name}: ${answer.totals.distinct} of ${events} events delivered within ${DELIVERING.drainTimeoutMs / 1000} s.`);
    await new Promise((resolve) => setTimeout(resolve, DELIVERING.pollMs));
  }
  await deliverer.server.stop();
  if (window.refused > 0) throw new Error(`${name}: the receiver refused ${window.refused} deliveries.`);
  return backlogFigures(dialect, events, window);
}

function percent(value: number): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : "n/a";
}

function micros(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} µs` : "n/a";
}

/** The `## Webhooks: notify with an endpoint subscribed` section, with `## Webhook delivery: throughput and lag` after it. */
export async function benchWebhooks(run: RunOptions): Promise<Section> {
  const { log } = run;
  const options = run.quick ? QUICK_HTTP : FULL_HTTP;
  const outboxOptions = run.quick ? QUICK_OUTBOX_COST : FULL_OUTBOX_COST;
  const poolSize = run.quick ? 40_000 : 250_000;
  const loadAtStart = loadAverage();
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const contenders: Contenders[] = [];
    const pools = new Map<ApiInstance, PendingPool>();
    for (const dialect of ["sqlite", "postgres"] as const) {
      log(`webhooks: starting two APIs on ${dialect} (one with an endpoint subscribed) and seeding ${BACKGROUND_ORDERS + poolSize} orders each`);
      const plain = await stack.startApi(`webhooks-plain-${dialect}`, dialect, 8);
      pools.set(plain, await prepare(plain, poolSize));
      // A receiver per API: each one then holds exactly the events of its API.
      const receiver = await stack.startReceiver();
      const subscribed = await stack.startApi(`webhooks-subscribed-${dialect}`, dialect, 8, undefined, "v2", { env: { ...receiver.apiEnv, WEBHOOK_DELIVERY: "on" } });
      pools.set(subscribed, await prepare(subscribed, poolSize));
      contenders.push({ dialect, plain, subscribed, receiver, runs: [], pacedRuns: [] });
    }
    const pool = (api: ApiInstance): PendingPool => {
      const found = pools.get(api);
      if (found === undefined) throw new Error(`${api.name} has no pending pool.`);
      return found;
    };
    const plainName = (d: Dialect): string => `@pay/api on ${dialectLabel(d)}: distinct notifies, no endpoint`;
    const subscribedName = (d: Dialect): string => `@pay/api on ${dialectLabel(d)}: distinct notifies, an endpoint subscribed, delivery on`;
    const targets = contenders.flatMap(({ dialect, plain, subscribed, receiver, runs }) => [
      distinctNotifyTarget(plainName(dialect), plain, pool(plain)),
      deliveringTarget(distinctNotifyTarget(subscribedName(dialect), subscribed, pool(subscribed)), subscribed.db, receiver, runs),
    ]);
    log(
      `webhooks: ${targets.length} contenders, ${options.rounds} interleaved rounds of ${describeExtent(options.measure)} (after ${describeExtent(options.warmup)} warm-up each)`,
    );
    const measured = await measureHttpInterleaved(targets, options, log);
    const byName = (name: string): HttpMeasurement => {
      const found = measured.find((m) => m.name === name);
      if (found === undefined) throw new Error(`The webhooks benchmark lost ${name}.`);
      return found;
    };

    // Delivery lag when the API is not saturated: the same subscribed APIs at half the notify rate they took above.
    const pacedRates = new Map(contenders.map((c) => [c.dialect, halfRate(byName(subscribedName(c.dialect)).requestsPerSecond)]));
    const pacedName = (d: Dialect): string => `@pay/api on ${dialectLabel(d)}: distinct notifies paced at ${pacedRates.get(d) ?? 0}/s, an endpoint subscribed, delivery on`;
    const paced = contenders.map(({ dialect, subscribed, receiver, pacedRuns }) =>
      pacedTarget(
        deliveringTarget(distinctNotifyTarget(pacedName(dialect), subscribed, pool(subscribed)), subscribed.db, receiver, pacedRuns),
        pacedRates.get(dialect) ?? 10,
        pacedName(dialect),
      ),
    );
    log(`webhooks: the subscribed APIs again, paced at half their rate, ${options.rounds} interleaved rounds`);
    const pacedMeasured = await measureHttpInterleaved(paced, options, log);

    const backlogs: BacklogDrain[] = [];
    for (const { dialect } of contenders) {
      log(`webhooks: a backlog of ${run.quick ? QUICK_BACKLOG : BACKLOG} events on ${dialect}, delivered with no notify load`);
      backlogs.push(await drainBacklog(stack, dialect, run.quick ? QUICK_BACKLOG : BACKLOG, log));
    }

    const costs: OutboxCost[] = [];
    for (const { dialect, plain } of contenders) {
      const template = await plain.db.latestPaidEvent();
      if (template === undefined) throw new Error(`${plain.name} wrote no order.paid event.`);
      log(`webhooks: the paid writer's batch with and without the outbox statement on ${dialect}`);
      costs.push(await measureOutboxCost(dialect, template, outboxOptions, () => stack.postgres()));
    }

    const checks: TargetCheck[] = [];
    const notifyRows = measured.map((m) => {
      const dialect = m.name.includes("SQLite") ? "sqlite" : "postgres";
      const reference = byName(plainName(dialect));
      return [...httpCells(m), formatRatio(m.cpuMicrosPerRequest / reference.cpuMicrosPerRequest), formatRatio(m.p50Ms / reference.p50Ms)];
    });
    const costRows = costs.map((cost) => {
      const notify = byName(plainName(cost.dialect));
      const share = cost.outboxMicros / notify.cpuMicrosPerRequest;
      checks.push({
        label: `Outbox insert on ${dialectLabel(cost.dialect)}: < ${percent(MAX_OUTBOX_SHARE)} of the notify's server CPU (measured ${percent(share)})`,
        pass: share < MAX_OUTBOX_SHARE,
      });
      return [
        dialectLabel(cost.dialect),
        micros(cost.withoutOutboxMicros),
        micros(cost.withOutboxMicros),
        micros(cost.outboxMicros),
        `${formatCount(notify.cpuMicrosPerRequest)} µs`,
        percent(share),
      ];
    });
    const deliveryRow = (dialect: Dialect, load: string, notify: HttpMeasurement, runs: readonly RunDeliveries[]): string[] => {
      const figures = runs.map(runFigures);
      const pick = (f: (r: RunFigures) => number): number => median(figures.map(f));
      return [
        `${dialectLabel(dialect)}, ${load}`,
        formatCount(notify.requestsPerSecond),
        formatCount(pick((r) => r.events)),
        formatCount(pick((r) => r.deliveredPerSecond)),
        formatMs(pick((r) => r.lagP50Ms)),
        formatMs(pick((r) => r.lagP99Ms)),
        formatMs(pick((r) => r.lagMaxMs)),
        formatMs(pick((r) => r.drainMs)),
        formatCount(figures.reduce((sum, r) => sum + r.duplicates, 0)),
      ];
    };
    const pacedByName = (name: string): HttpMeasurement => {
      const found = pacedMeasured.find((m) => m.name === name);
      if (found === undefined) throw new Error(`The webhooks benchmark lost ${name}.`);
      return found;
    };
    const deliveryRows = contenders.flatMap(({ dialect, runs, pacedRuns }) => [
      deliveryRow(dialect, "saturating load", byName(subscribedName(dialect)), runs),
      deliveryRow(dialect, `paced at ${pacedRates.get(dialect) ?? 0}/s`, pacedByName(pacedName(dialect)), pacedRuns),
    ]);
    const body = [
      `${options.rounds} rounds of ${describeExtent(options.measure)} per contender (after ${describeExtent(options.warmup)} of warm-up), ${options.connections} connections, ` +
        `the notify benchmark's v2 notify (HMAC-SHA256, about 1.3 kB), each one paying a different pending order of a table of ` +
        `${BACKGROUND_ORDERS.toLocaleString("en-US")} older orders.`,
      "",
      "- Every committed payment writes its order.paid event to the outbox (webhook_events) in the paid writer's batch, endpoint or not. " +
        '"No endpoint": nothing else happens to the event. "An endpoint subscribed": the API is started with `WEBHOOK_URL` (a receiver in its own ' +
        "process, over HTTPS with a certificate from a CA made for the run and given to the API as `NODE_EXTRA_CA_CERTS`), `WEBHOOK_SECRET` and " +
        "`WEBHOOK_DELIVERY=on` (the dispatcher's defaults: up to 100 deliveries claimed at a time, 16 POSTs in flight), so the same process also fans each event out, claims the delivery, signs and POSTs it, and records the answer. " +
        "Each subscribed API has its own receiver, which reads the raw body, checks Pay-Signature with @pay/core's `verifyWebhook`, dedupes by event id and answers 200.",
      "- The subscribed API's server CPU includes delivering every event of the run: after each measured run the bench waits until the receiver " +
        "holds every event in the outbox before reading the CPU counters (and before the next contender starts), and checks that none was refused or missing. " +
        "req/s and latency are the notifies' own.",
      "",
      markdownTable([...HTTP_HEADERS, "CPU/req vs no endpoint", "p50 vs no endpoint"], notifyRows),
      "",
      describeFailures([...measured, ...pacedMeasured]),
      "",
      "### The outbox insert's own cost",
      "",
      "Measured apart, because a notify's CPU moves by more than the insert costs between runs (and a build without the insert would not be " +
        "the API): the paid writer's batch, with the API's own statements (exported by `@pay/api/db`), on a fresh database of the API's schema " +
        `in the bench process: ${outboxOptions.batchSize} transitions a batch (about what the group commit holds at 50 connections), ` +
        `${outboxOptions.batches} batches per variant per round, ${outboxOptions.rounds} rounds (after ${outboxOptions.warmupRounds} warm-up), ` +
        "the two variants interleaved. SQLite: the writer's transaction of three statements, and the same without the third (the outbox INSERT); " +
        "PostgreSQL: the writer's single statement, and the same statement without its outbox CTE. Each transition's payload is a real order.paid " +
        "event the API wrote in the runs above, re-addressed to the transition's order. CPU is the bench process's (the driver, Kysely, SQLite itself) " +
        "plus, on PostgreSQL, the whole server's; the insert's cost is the median of the rounds' differences. Building the event in the notify " +
        "path (its id and JSON, a few µs) is not in it: it is in the notify rows above, endpoint or not. The share divides by the no-endpoint " +
        "notify's server CPU per request above.",
      "",
      markdownTable(["database", "batch CPU per transition, without outbox", "with outbox", "the outbox insert", "notify server CPU/req", "share"], costRows),
      "",
      `Target: the outbox insert under ${percent(MAX_OUTBOX_SHARE)} of the notify's server CPU. The 1-minute load average was ${loadAtStart.toFixed(2)} when this ` +
        `benchmark started and ${loadAverage().toFixed(2)} when it ended${Math.max(loadAtStart, loadAverage()) > 2 ? " (above the 2 cores: the machine was shared with other work during the run)" : ""}.`,
    ].join("\n");
    const appendix = [
      "## Webhook delivery: throughput and lag",
      "",
      "One API process delivering to its fast local receiver while it takes the notify load: the subscribed API's measured runs above " +
        '("saturating load": 50 connections, as fast as it answers), and the same API in runs of its own with the notifies paced at half ' +
        'the rate it took at saturation (autocannon\'s overallRate over the same 50 connections, which paces each connection on its own timer, so requests come in small bursts; "notify req/s" is what was measured; same rounds and checks). ' +
        "Per run: \"delivered/s\" is the run's events over the time from the first receipt to the last; lag is the receiver's receipt time minus " +
        "the event's createdAt (the payment's commit time, written by the API), over every event of the run; \"drained\" is how long after the load " +
        "ended the last event arrived. Medians over the rounds. When delivery keeps up, delivered/s follows the notify rate and is not the dispatcher's ceiling.",
      "",
      markdownTable(
        ["database, notify load", "notify req/s", "events per run", "delivered/s", "lag p50", "lag p99", "lag max", "drained after load", "repeated deliveries"],
        deliveryRows,
      ),
      "",
      "The ceiling, with no notify load: an API process with `WEBHOOK_DELIVERY=off` takes the notifies of a backlog (their events wait in " +
        'the outbox), stops, and a new process with delivery on starts on the same database; "delivered/s" is the backlog over the time from ' +
        "its first receipt to its last (one run).",
      "",
      markdownTable(
        ["database", "events in the backlog", "delivered/s", "first to last receipt"],
        backlogs.map((b) => [dialectLabel(b.dialect), formatCount(b.events), formatCount(b.deliveredPerSecond), `${b.seconds.toFixed(1)} s`]),
      ),
    ].join("\n");
    return { heading: "## Webhooks: notify with an endpoint subscribed", body, checks, appendix };
  } finally {
    await stack.stop();
  }
}
