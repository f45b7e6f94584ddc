// API_WORKERS: the same API with 1 and with 2 worker processes (node:cluster, one port), on SQLite and PostgreSQL,
// under distinct v2 notifies and GET /api/orders/:id. CPU is summed over the primary and its workers (and PostgreSQL).
import { availableParallelism } from "node:os";
import { PendingPool } from "./data/pending-pool.js";
import { describeExtent, describeFailures, FULL_HTTP, HTTP_HEADERS, httpCells, measureHttpInterleaved, QUICK_HTTP, type HttpMeasurement } from "./load/rounds.js";
import { assertAcknowledges, distinctNotifyTarget, fixedTarget, notifyRequest } from "./load/targets.js";
import { formatRatio, markdownTable, type Section } from "./markdown.js";
import { lookupRequests, shuffled } from "./orders.js";
import type { RunOptions } from "./run-options.js";
import { startStack, type ApiInstance, type Dialect } from "./servers/api-stack.js";

/** Older orders in each table (the lookups read them); the pending pool follows. */
const STORED_ORDERS = 10_000;
const USERS = 16;
const WORKER_COUNTS = [1, 2] as const;

function dialectLabel(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

function label(dialect: Dialect, workers: number, what: string): string {
  return `${what} on ${dialectLabel(dialect)}, API_WORKERS=${workers}`;
}

/** One line per database and request: 2 workers against 1, throughput and CPU per request. */
function comparison(measured: readonly HttpMeasurement[]): string[] {
  return (["sqlite", "postgres"] as const).flatMap((dialect) =>
    ["distinct notify", "GET /api/orders/:id"].flatMap((what) => {
      const one = measured.find((m) => m.name === label(dialect, 1, what));
      const two = measured.find((m) => m.name === label(dialect, 2, what));
      if (one === undefined || two === undefined) return [];
      return [
        `- ${what} on ${dialectLabel(dialect)}: 2 workers at ${formatRatio(two.requestsPerSecond / one.requestsPerSecond)} of 1 worker's req/s, ` +
          `${formatRatio(two.cpuMicrosPerRequest / one.cpuMicrosPerRequest)} its CPU per request, p99 ${two.p99Ms.toFixed(1)} ms against ${one.p99Ms.toFixed(1)} ms.`,
      ];
    }),
  );
}

/** The `## API_WORKERS: one process or two` section. */
export async function benchWorkers(run: RunOptions): Promise<Section> {
  // Each worker compiles its own code (JIT) and warms its own caches: with two, each one sees half the warm-up requests.
  const options = run.quick ? { ...QUICK_HTTP, warmup: { seconds: 3 } } : { ...FULL_HTTP, warmup: { seconds: 4 } };
  const poolSize = run.quick ? 30_000 : 300_000;
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const targets = [];
    for (const dialect of ["sqlite", "postgres"] as const) {
      for (const workers of WORKER_COUNTS) {
        run.log(`workers: starting the API on ${dialect} with API_WORKERS=${workers} and seeding ${STORED_ORDERS + poolSize} orders`);
        const api: ApiInstance = await stack.startApi(`workers-${workers}-${dialect}`, dialect, USERS, undefined, "v2", { env: { API_WORKERS: String(workers) } });
        await api.db.insertOrders({ from: 0, count: STORED_ORDERS, kind: "mixed", users: api.users });
        await api.db.insertOrders({ from: STORED_ORDERS, count: poolSize, kind: "pending", users: api.users });
        await api.db.settle();
        await assertAcknowledges(api.name, api.url, notifyRequest(STORED_ORDERS));
        const pool = new PendingPool(STORED_ORDERS + 1, poolSize - 1);
        targets.push(
          distinctNotifyTarget(label(dialect, workers, "distinct notify"), api, pool),
          fixedTarget(
            label(dialect, workers, "GET /api/orders/:id"),
            api.url,
            () => api.cpuSeconds(),
            lookupRequests(api, shuffled(Array.from({ length: STORED_ORDERS }, (_, i) => i))),
          ),
        );
      }
    }
    run.log(`workers: ${targets.length} contenders, ${options.rounds} interleaved rounds of ${describeExtent(options.measure)}`);
    const measured = await measureHttpInterleaved(targets, options, run.log);
    const cores = availableParallelism();
    const body = [
      `${options.rounds} rounds of ${describeExtent(options.measure)} per contender (after ${describeExtent(options.warmup)} of warm-up), ${options.connections} connections. ` +
        `Each API has its own database: ${STORED_ORDERS.toLocaleString("en-US")} older orders (the lookups read every one, scattered, with the owner's session) ` +
        `and a pool of pending orders the distinct v2 notifies pay (each checked: one payment event per acknowledged notify). ` +
        `\`API_WORKERS=2\` is a primary and two workers on one port (node:cluster; docs/workers.md); its CPU column adds up the primary, both workers ` +
        `and, on PostgreSQL, the database server.`,
      "",
      markdownTable([...HTTP_HEADERS], measured.map(httpCells)),
      "",
      ...comparison(measured),
      "",
      `What this machine can show: it has ${cores} core${cores === 1 ? "" : "s"}, and the load generator, the sandbox, PostgreSQL and the API ` +
        `processes all run on ${cores === 1 ? "it" : "them"}. A single API process already keeps one core busy while the load generator takes much of ` +
        `another, so a second worker has little idle CPU to use: throughput can only grow by what the load generator leaves, and the primary's ` +
        `round-robin hand-off of each connection and two processes' caches and JIT cost some CPU per request. On a host with cores to spare ` +
        `(the load coming from elsewhere) the workers scale with the cores until the database's writer serialises: SQLite takes one write at a time ` +
        `across processes (BEGIN IMMEDIATE), PostgreSQL commits in parallel.`,
      "",
      describeFailures(measured),
    ].join("\n");
    return { heading: "## API_WORKERS: one process or two", body, checks: [] };
  } finally {
    await stack.stop();
  }
}
