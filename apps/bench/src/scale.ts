// Scale: notify and lookup latency with 10k, 100k and 1M orders stored, as ratios to the 10k table.
import { PendingPool } from "./data/pending-pool.js";
import { describeExtent, describeFailures, measureHttpInterleaved, type HttpMeasurement, type HttpOptions, type LoadTarget } from "./load/rounds.js";
import { distinctNotifyTarget, fixedTarget } from "./load/targets.js";
import { formatCount, formatMs, formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import { lookupRequests, shuffled } from "./orders.js";
import type { RunOptions } from "./run-options.js";
import { startStack, type ApiInstance, type Dialect } from "./servers/api-stack.js";

export const SCALE_SIZES = [10_000, 100_000, 1_000_000] as const;
/** The issue's bound: latency at 1M orders within this factor of 10k. */
const MAX_LATENCY_RATIO = 1.2;
/** Fixed request counts rather than durations: every table size gets the same work, and the pending pool stays small. */
const FULL_SCALE: HttpOptions = { rounds: 5, warmup: { amount: 500 }, measure: { amount: 2_000 }, connections: 50 };
const QUICK_SCALE: HttpOptions = { rounds: 1, warmup: { amount: 300 }, measure: { amount: 1_000 }, connections: 50 };
/** Distinct orders every lookup run cycles through, scattered over the whole table. */
const LOOKUP_SAMPLE = 20_000;
const USERS = 16;

interface SizedApi {
  readonly size: number;
  readonly api: ApiInstance;
  readonly pool: PendingPool;
  /** Stored orders other than the pending pool: what lookups read. */
  readonly settled: number;
}

function sizeLabel(size: number): string {
  return size >= 1_000_000 ? `${size / 1_000_000}M` : `${size / 1_000}k`;
}

function dialectLabel(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

/**
 * Pending orders one round's notifies pay: its warm-up and measured run, and the connections' look-ahead. Before
 * each round they are put back to pending, so the table keeps its size and its mix.
 */
function poolSizeFor(options: HttpOptions): number {
  const amount = (extent: HttpOptions["measure"]): number => ("amount" in extent ? extent.amount : 0);
  return amount(options.warmup) + amount(options.measure) + 2 * options.connections;
}

/** Distinct notifies that first put the pool back to pending (before each warm-up, outside the measured run). */
function recyclingNotifyTarget(name: string, api: ApiInstance, pool: PendingPool): LoadTarget {
  const inner = distinctNotifyTarget(name, api, pool);
  return {
    ...inner,
    async job(phase, extent, connections) {
      if (phase === "warmup") {
        await api.db.resetPending(pool.from, pool.count);
        // The reset's dead rows and WAL frames are the bench's, not the API's: clean them up before measuring.
        await api.db.settle();
        pool.rewind();
      }
      return inner.job(phase, extent, connections);
    },
  };
}

async function seedSized(api: ApiInstance, size: number, poolSize: number, log: (line: string) => void): Promise<SizedApi> {
  const settled = size - poolSize;
  if (settled < poolSize) throw new Error(`A table of ${size} orders cannot hold a pending pool of ${poolSize}: make the scale runs shorter.`);
  const started = performance.now();
  await api.db.insertOrders({ from: 0, count: settled, kind: "mixed", users: api.users });
  await api.db.insertOrders({ from: settled, count: poolSize, kind: "pending", users: api.users });
  await api.db.settle();
  log(`scale: ${api.name}: seeded ${formatCount(size)} orders in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { size, api, pool: new PendingPool(settled, poolSize), settled };
}

interface DialectResult {
  readonly dialect: Dialect;
  readonly sizes: readonly number[];
  readonly notify: readonly HttpMeasurement[];
  readonly lookup: readonly HttpMeasurement[];
  readonly seedSeconds: readonly number[];
}

async function benchDialect(run: RunOptions, dialect: Dialect, sizes: readonly number[], options: HttpOptions): Promise<DialectResult> {
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const poolSize = poolSizeFor(options);
    const sized: SizedApi[] = [];
    const seedSeconds: number[] = [];
    for (const size of sizes) {
      const api = await stack.startApi(`scale-${dialect}-${sizeLabel(size)}`, dialect, USERS);
      const started = performance.now();
      sized.push(await seedSized(api, size, poolSize, run.log));
      seedSeconds.push((performance.now() - started) / 1000);
    }
    const notifyTargets: LoadTarget[] = sized.map(({ size, api, pool }) => recyclingNotifyTarget(`notify, ${sizeLabel(size)} orders`, api, pool));
    const lookupTargets: LoadTarget[] = sized.map(({ size, api, settled }) => {
      const sample = shuffled(Array.from({ length: Math.min(LOOKUP_SAMPLE, settled) }, (_, n) => Math.floor((n * settled) / Math.min(LOOKUP_SAMPLE, settled))));
      return fixedTarget(`lookup, ${sizeLabel(size)} orders`, api.url, () => api.cpuSeconds(), lookupRequests(api, sample));
    });
    run.log(`scale on ${dialect}: ${sizes.length} tables, ${options.rounds} interleaved rounds of ${describeExtent(options.measure)}`);
    const measured = await measureHttpInterleaved([...notifyTargets, ...lookupTargets], options, run.log);
    return { dialect, sizes, notify: measured.slice(0, sizes.length), lookup: measured.slice(sizes.length), seedSeconds };
  } finally {
    await stack.stop();
  }
}

function ratioRows(result: DialectResult, kind: "notify" | "lookup"): string[][] {
  const series = result[kind];
  const base = series[0];
  if (base === undefined) return [];
  return series.map((m, i) => [
    `${kind === "notify" ? "notify (distinct, writes)" : "GET /api/orders/:id"}, ${sizeLabel(result.sizes[i] ?? 0)} orders`,
    formatCount(m.requestsPerSecond),
    formatMs(m.p50Ms),
    formatMs(m.p99Ms),
    `${formatCount(m.cpuMicrosPerRequest)} µs`,
    formatRatio(m.p50Ms / base.p50Ms),
    formatRatio(m.p99Ms / base.p99Ms),
    formatRatio(m.requestsPerSecond / base.requestsPerSecond),
    formatRatio(m.cpuMicrosPerRequest / base.cpuMicrosPerRequest),
  ]);
}

function checksFor(result: DialectResult): TargetCheck[] {
  const last = result.sizes.length - 1;
  if (last < 1) return [];
  const label = sizeLabel(result.sizes[last] ?? 0);
  return (["notify", "lookup"] as const).flatMap((kind) => {
    const series = result[kind];
    const latency = (series[last]?.p50Ms ?? Number.NaN) / (series[0]?.p50Ms ?? Number.NaN);
    const cost = (series[last]?.cpuMicrosPerRequest ?? Number.NaN) / (series[0]?.cpuMicrosPerRequest ?? Number.NaN);
    return [
      {
        label: `Scale on ${dialectLabel(result.dialect)}: ${kind} p50 latency at ${label} orders within ${MAX_LATENCY_RATIO}x of 10k (measured ${formatRatio(latency)})`,
        pass: latency <= MAX_LATENCY_RATIO,
      },
      {
        label: `Scale on ${dialectLabel(result.dialect)}: ${kind} server CPU per request at ${label} orders within ${MAX_LATENCY_RATIO}x of 10k (measured ${formatRatio(cost)})`,
        pass: cost <= MAX_LATENCY_RATIO,
      },
    ];
  });
}

/** The `## Scale` section. */
export async function benchScale(run: RunOptions): Promise<Section> {
  const options = run.quick ? QUICK_SCALE : FULL_SCALE;
  const sizes = SCALE_SIZES.filter((size) => size <= run.scaleMax);
  const results: DialectResult[] = [];
  for (const dialect of ["sqlite", "postgres"] as const) results.push(await benchDialect(run, dialect, sizes, options));
  const headers = ["series", "req/s", "p50", "p99", "server CPU/req", "p50 vs 10k", "p99 vs 10k", "req/s vs 10k", "CPU/req vs 10k"];
  const capped = sizes.length < SCALE_SIZES.length;
  const body = [
    `One API process per table size, all running at once, each on its own database seeded in bulk before the runs ` +
      `(SQLite: prepared 100-row inserts, 10 000 rows per transaction; PostgreSQL: \`INSERT ... SELECT\` over \`generate_series\`; ` +
      `both followed by ANALYZE). A table of N orders holds N - ${formatCount(poolSizeFor(options))} settled orders (nine paid, with their ` +
      `payment events, to one closed) and ${formatCount(poolSizeFor(options))} pending ones that a round's notifies pay; before each ` +
      `round the bench puts them back to pending and then vacuums and analyzes (PostgreSQL) or checkpoints and analyzes (SQLite) ` +
      `the tables, outside the measured run, so every table keeps its size and the clean-up after the reset is not measured. ` +
      `Every run is ${describeExtent(options.measure)} after ${describeExtent(options.warmup)} of warm-up, ${options.connections} connections, ` +
      `${options.rounds} rounds rotating over all tables and both series; medians. Lookups cycle through ${formatCount(LOOKUP_SAMPLE)} ` +
      `settled orders spread evenly over the whole table, in a scattered order.` +
      (capped ? ` **Capped with \`--scale-max\`: the largest table measured holds ${formatCount(sizes[sizes.length - 1] ?? 0)} orders.**` : ""),
    "",
    ...results.flatMap((r) => [
      `${dialectLabel(r.dialect)} (seeding took ${r.seedSeconds.map((s, i) => `${s.toFixed(0)} s for ${sizeLabel(r.sizes[i] ?? 0)}`).join(", ")}):`,
      "",
      markdownTable(headers, [...ratioRows(r, "notify"), ...ratioRows(r, "lookup")]),
      "",
    ]),
    describeFailures(results.flatMap((r) => [...r.notify, ...r.lookup])),
    "",
    `Target: notify and lookup latency (p50) at 1M orders within ${MAX_LATENCY_RATIO}x of 10k. With 50 connections a saturated ` +
      `server's latency is mostly queueing, so it follows throughput and everything else the machine runs; the server's CPU per ` +
      `request is the cost itself, steadier, and is checked against the same bound.`,
  ].join("\n");
  return { heading: "## Scale", body, checks: results.flatMap(checksFor) };
}
