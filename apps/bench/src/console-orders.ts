// Console orders page (issue 19): GET /api/admin/orders over a million orders, through the real API
// process over HTTP, on SQLite and on PostgreSQL. One request at a time (staff browsing, not load): the
// time of each from the request to the last byte of its answer, by kind of query (see
// console-orders-queries.ts), p50/p95/p99. Every answer is checked against the dataset's model, and one
// whole window is walked page by page to the end and its count compared with a direct SQL count.
import { formatCount, formatMs, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import { ConsoleModel, consoleDataset, datasetDay, type ConsoleDataset, type OrdersFilter } from "./console-orders-data.js";
import {
  adminHeaders,
  buildPlan,
  checkPage,
  FULL_PLAN,
  PAGE_LIMIT,
  QUERY_KIND_LABELS,
  QUERY_KINDS,
  QUICK_PLAN,
  requestPath,
  WARMUP_PLAN,
  type PlanSizes,
  type Probe,
  type QueryKind,
} from "./console-orders-queries.js";
import { openPostgresShop, openSqliteShop, type ConsoleShopDatabase, type SeededShop } from "./console-orders-seed.js";
import type { OrderStatus } from "@pay/core/contract";
import { DAY_SECONDS, previousBeijingDay } from "./reconciliation/day.js";
import type { RunOptions } from "./run-options.js";
import { startStack, type Dialect } from "./servers/api-stack.js";

const FULL_ORDERS = 1_000_000;
const QUICK_ORDERS = 10_000;
/** The issue's target, per database. */
export const MAX_P95_MS = 50;
/** The whole-window walk's page size (the contract's largest). */
const WALK_LIMIT = 100;
const PLAN_SEED = 0x19c0de;
const WARMUP_SEED = 0x5eed19;
const DIALECTS: readonly Dialect[] = ["sqlite", "postgres"];

export function dialectLabel(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

/** The p-th percentile (0 < p <= 1) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1] ?? Number.NaN;
}

/** One whole window walked to its end. */
export interface WalkCheck {
  readonly filter: OrdersFilter;
  readonly label: string;
  readonly pages: number;
  /** Distinct orders the pages held. */
  readonly orders: number;
  readonly sqlCount: number;
  readonly modelCount: number;
  readonly seconds: number;
}

export interface DialectRun {
  readonly dialect: Dialect;
  readonly seeded: SeededShop;
  /** Orders by status as the database counts them. */
  readonly statusCounts: Record<OrderStatus, number>;
  readonly latencies: Readonly<Record<QueryKind, readonly number[]>>;
  /** Answers checked, warm-up and walk included. */
  readonly answersChecked: number;
  /** User + system CPU of the API process (and on PostgreSQL the whole server) per measured request. */
  readonly cpuMsPerRequest: number;
  readonly walk: WalkCheck;
  readonly problems: readonly string[];
}

export interface ConsoleOrdersResult {
  readonly data: ConsoleDataset;
  readonly modelStatusCounts: Record<OrderStatus, number>;
  readonly runs: readonly DialectRun[];
  readonly quick: boolean;
}

/** Sends one request; its time is from the call to the last byte of the body. */
async function timedGet(url: string): Promise<{ ms: number; status: number; text: string }> {
  const started = performance.now();
  const response = await fetch(url, { headers: adminHeaders() });
  const text = await response.text();
  return { ms: performance.now() - started, status: response.status, text };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Runs a probe: its pages in order, each checked, the ids of the chain checked not to repeat. `record` gets each page's time. */
export async function runProbe(
  baseUrl: string,
  model: ConsoleModel,
  probe: Probe,
  limit: number,
  record: (kind: QueryKind, ms: number) => void,
): Promise<{ problems: string[]; answers: number; ids: number; more: boolean }> {
  const problems: string[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  let answers = 0;
  for (let n = 0; n < probe.pages; n++) {
    const path = requestPath(model.data, probe.filter, limit, cursor);
    const answer = await timedGet(`${baseUrl}${path}`);
    answers++;
    if (answer.status !== 200) {
      problems.push(`GET ${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
      break;
    }
    record(n === 0 ? probe.kind : "next", answer.ms);
    const checked = checkPage(model, probe.filter, n, limit, parseJson(answer.text));
    problems.push(...checked.problems);
    if (checked.page === undefined) break;
    for (const order of checked.page.orders) {
      if (seen.has(order.id)) problems.push(`GET ${path}: order ${order.id} already on an earlier page of the same filter`);
      seen.add(order.id);
    }
    if (checked.page.nextCursor === null) return { problems, answers, ids: seen.size, more: false };
    cursor = checked.page.nextCursor;
  }
  return { problems, answers, ids: seen.size, more: cursor !== undefined };
}

/** The day the walk reads: a middle day of the range, paid orders only, to the last page. */
export function walkFilter(data: ConsoleDataset): OrdersFilter {
  const day = Math.floor(data.days / 2);
  return { status: "paid", fromDay: day, toDay: day };
}

export async function walkWindow(baseUrl: string, model: ConsoleModel, shop: ConsoleShopDatabase): Promise<{ walk: WalkCheck; problems: string[]; answers: number }> {
  const filter = walkFilter(model.data);
  const [from, to] = [filter.fromDay ?? 0, filter.toDay ?? 0];
  const started = performance.now();
  const pages = Math.ceil(model.count(filter) / WALK_LIMIT) + 2;
  const walked = await runProbe(baseUrl, model, { kind: "window", filter, pages }, WALK_LIMIT, () => undefined);
  const seconds = (performance.now() - started) / 1000;
  const dayStart = (day: number): string => new Date(model.data.startMs + day * DAY_SECONDS * 1000).toISOString();
  const sqlCount = await shop.count({ status: "paid", fromIso: dayStart(from), toIso: dayStart(to + 1) });
  const modelCount = model.count(filter);
  const problems = [...walked.problems];
  if (walked.more) problems.push(`the walk of ${datasetDay(model.data, from)} did not reach the last page in ${pages} pages`);
  if (walked.ids !== sqlCount || sqlCount !== modelCount)
    problems.push(`the walk of ${datasetDay(model.data, from)} found ${walked.ids} orders; SQL counts ${sqlCount}, the model ${modelCount}`);
  const label = `status=paid&from=${datasetDay(model.data, from)}&to=${datasetDay(model.data, to)}`;
  return { walk: { filter, label, pages: walked.answers, orders: walked.ids, sqlCount, modelCount, seconds }, problems, answers: walked.answers };
}

function emptyLatencies(): Record<QueryKind, number[]> {
  return Object.fromEntries(QUERY_KINDS.map((kind) => [kind, [] as number[]])) as Record<QueryKind, number[]>;
}

/** Seeds a fresh API's database, warms up, measures the plan, walks one window; stops the API. */
export async function measureDialect(run: Pick<RunOptions, "log" | "apiNodeArgs">, dialect: Dialect, model: ConsoleModel, plan: PlanSizes, warmup: PlanSizes): Promise<DialectRun> {
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const api = await stack.startApi(`console-orders-${dialect}`, dialect, 0);
    const shop = dialect === "sqlite" ? openSqliteShop(api.databaseUrl) : await openPostgresShop(api.databaseUrl);
    try {
      run.log(`console-orders: ${dialect}: seeding ${formatCount(model.data.orders)} orders of ${formatCount(model.data.users)} users`);
      const seeded = await shop.seed(model.data, run.log);
      run.log(`console-orders: ${dialect}: seeded in ${seeded.seconds.toFixed(1)} s (not measured)`);
      const problems: string[] = [];
      const statusCounts = await shop.statusCounts();
      const expected = model.statusCounts();
      if (JSON.stringify(statusCounts) !== JSON.stringify(expected)) problems.push(`orders by status ${JSON.stringify(statusCounts)}, the model ${JSON.stringify(expected)}`);
      let answers = 0;
      for (const probe of buildPlan(model, warmup, WARMUP_SEED)) {
        const result = await runProbe(api.url, model, probe, PAGE_LIMIT, () => undefined);
        answers += result.answers;
        problems.push(...result.problems);
      }
      run.log(`console-orders: ${dialect}: warmed up (${answers} requests); measuring`);
      const latencies = emptyLatencies();
      const cpuBefore = api.cpuSeconds();
      let measured = 0;
      for (const probe of buildPlan(model, plan, PLAN_SEED)) {
        const result = await runProbe(api.url, model, probe, PAGE_LIMIT, (kind, ms) => {
          latencies[kind].push(ms);
          measured++;
        });
        answers += result.answers;
        problems.push(...result.problems);
      }
      const cpuMsPerRequest = ((api.cpuSeconds() - cpuBefore) * 1000) / measured;
      const walked = await walkWindow(api.url, model, shop);
      answers += walked.answers;
      problems.push(...walked.problems);
      const all = Object.values(latencies).flat();
      run.log(
        `console-orders: ${dialect}: ${measured} requests, p50 ${formatMs(percentile(all, 0.5))}, p95 ${formatMs(percentile(all, 0.95))}, p99 ${formatMs(percentile(all, 0.99))}; ` +
          `walk ${walked.walk.label}: ${walked.walk.orders} orders in ${walked.walk.pages} pages (SQL ${walked.walk.sqlCount}); ` +
          `${problems.length === 0 ? "every answer as expected" : `${problems.length} PROBLEMS, first: ${problems.slice(0, 5).join(" | ")}`}`,
      );
      await api.server.stop();
      return { dialect, seeded, statusCounts, latencies, answersChecked: answers, cpuMsPerRequest, walk: walked.walk, problems };
    } finally {
      await shop.close();
    }
  } finally {
    await stack.stop();
  }
}

export async function measureConsoleOrders(run: RunOptions, orders: number): Promise<ConsoleOrdersResult> {
  const data = consoleDataset(orders, previousBeijingDay(Date.now()));
  const model = new ConsoleModel(data);
  const plan = run.quick ? QUICK_PLAN : FULL_PLAN;
  const runs: DialectRun[] = [];
  for (const dialect of DIALECTS) runs.push(await measureDialect(run, dialect, model, plan, WARMUP_PLAN));
  return { data, modelStatusCounts: model.statusCounts(), runs, quick: run.quick };
}

function kindP95(run: DialectRun, kind: QueryKind): number {
  return percentile(run.latencies[kind], 0.95);
}

/** The target check of one database: p95 under 50 ms overall and for every kind of query. */
export function consoleOrdersCheck(run: DialectRun, orders: number): TargetCheck {
  const all = Object.values(run.latencies).flat();
  const overall = percentile(all, 0.95);
  const slowest = QUERY_KINDS.reduce<QueryKind>((a, b) => (kindP95(run, b) > kindP95(run, a) ? b : a), "window");
  return {
    label:
      `Console orders page on ${dialectLabel(run.dialect)}, ${formatCount(orders)} orders: p95 < ${MAX_P95_MS} ms for every kind of query ` +
      `(measured ${formatMs(overall)} overall; slowest: ${QUERY_KIND_LABELS[slowest]}, ${formatMs(kindP95(run, slowest))})`,
    pass: QUERY_KINDS.every((k) => kindP95(run, k) < MAX_P95_MS),
  };
}

function share(count: number, total: number): string {
  return `${formatCount(count)} (${((100 * count) / total).toFixed(0)}%)`;
}

/** The `## Console: orders page (issue 19)` section. */
export function consoleOrdersSection(result: ConsoleOrdersResult): Section {
  const { data, runs } = result;
  const cells = (samples: readonly number[]): string[] => [formatMs(percentile(samples, 0.5)), formatMs(percentile(samples, 0.95)), formatMs(percentile(samples, 0.99))];
  const headers = ["query", "requests", ...runs.flatMap((r) => [`${dialectLabel(r.dialect)} p50`, "p95", "p99"])];
  const kindRows = QUERY_KINDS.map((kind) => [QUERY_KIND_LABELS[kind], formatCount(runs[0]?.latencies[kind].length ?? 0), ...runs.flatMap((r) => cells(r.latencies[kind]))]);
  const allOf = (r: DialectRun): number[] => Object.values(r.latencies).flat();
  const overallRow = ["**every request**", formatCount(runs[0] === undefined ? 0 : allOf(runs[0]).length), ...runs.flatMap((r) => cells(allOf(r)).map((c) => `**${c}**`))];
  const counts = result.modelStatusCounts;
  const last = datasetDay(data, data.days - 1);
  const dataRows = [
    ["orders", formatCount(data.orders)],
    ["users (openids)", formatCount(data.users)],
    ["created", `${data.firstDay} to ${last} (${data.days} Beijing days), evenly with jitter`],
    [
      "paid (1 in 40 partly refunded) / closed / pending / refunded",
      `${share(counts.paid, data.orders)} / ${share(counts.closed, data.orders)} / ${share(counts.pending, data.orders)} / ${share(counts.refunded, data.orders)}`,
    ],
    ...runs.map((r) => [`seeding on ${dialectLabel(r.dialect)} (not measured)`, `${r.seeded.seconds.toFixed(1)} s`]),
    ...runs.map((r) => [`server CPU per request on ${dialectLabel(r.dialect)}`, formatMs(r.cpuMsPerRequest)]),
  ];
  const walks = runs
    .map(
      (r) =>
        `${dialectLabel(r.dialect)}: \`${r.walk.label}\` walked in ${formatCount(r.walk.pages)} pages of ${WALK_LIMIT}, ${formatCount(r.walk.orders)} distinct orders = ` +
        `SQL count ${formatCount(r.walk.sqlCount)} = model ${formatCount(r.walk.modelCount)}; ${formatCount(r.answersChecked)} answers checked, ${r.problems.length} problems`,
    )
    .join("; ");
  const body = [
    "The merchant console's orders page, `GET /api/admin/orders?status=paid&from=<day>&to=<day+6>&limit=50` with " +
      "`Authorization: Bearer <ADMIN_TOKEN>`, sent to the API process as deployed (see above) over HTTP, one request at a time " +
      "(staff browsing, not load), on a fresh SQLite file and on a fresh database of the bench's PostgreSQL. Before it, the bench " +
      `writes ${formatCount(data.orders)} orders of ${formatCount(data.users)} users straight into the API's migrated database ` +
      "(SQLite: one transaction of prepared multi-row inserts; PostgreSQL: multi-row inserts of 5,000 rows, each column one array " +
      "unnested server-side), rows as the API writes them (order ids `P<time><10 chars>`, 28-digit transaction ids and paid times " +
      "on paid and refunded orders, openids on all). PostgreSQL is then vacuumed and analyzed, as its autovacuum would have; SQLite is " +
      "not analyzed, because nothing in the API runs ANALYZE, so a production file has no statistics either.",
    "",
    markdownTable(["shop", ""], dataRows),
    "",
    `The mix, shuffled: 7-day windows with a status at places spread over the ${data.days} days (every fourth the latest week), ` +
      "one to four pages each, following pages by `nextCursor`; status only; 7-day window only; no filter (the page as it opens); " +
      "and `q` searches by an order id, a transaction id and an openid. A discarded warm-up of the same mix comes first. Times are " +
      "from the request to the last byte of the answer, on the bench's side. Every answer is checked, warm-up included, " +
      "and any difference fails the benchmark instead of publishing figures: AdminOrderListResponseSchema, exactly the orders the " +
      "seeded data says the filter gives on that page (newest first) with their fields as seeded, `nextCursor` set exactly when more " +
      `follow, and no order twice across the pages of one filter. One day's paid orders are walked to the last page: ${walks}.` +
      (result.quick ? ` **\`--quick\`: ${formatCount(data.orders)} orders and a short mix, not the issue's figure.**` : ""),
    "",
    markdownTable(headers, [...kindRows, overallRow]),
    "",
    `Target (issue 19): the orders page's query over one million orders with a status and date filter answers within ${MAX_P95_MS} ms at p95 on both databases; ` +
      "the check below holds every kind of query to it.",
  ].join("\n");
  return { heading: "## Console: orders page (issue 19)", body, checks: runs.map((r) => consoleOrdersCheck(r, data.orders)) };
}

/** `--only console-orders`. */
export async function benchConsoleOrders(run: RunOptions): Promise<Section> {
  const orders = run.quick ? QUICK_ORDERS : FULL_ORDERS;
  const result = await measureConsoleOrders(run, orders);
  const section = consoleOrdersSection(result);
  const problems = result.runs.flatMap((r) => r.problems.map((p) => `${dialectLabel(r.dialect)}: ${p}`));
  if (problems.length > 0) {
    run.log(`\n${section.heading}\n\n${section.body}\n`);
    throw new Error(`The console orders page did not answer as seeded (${problems.length} problems): ${problems.slice(0, 10).join(" | ")}`);
  }
  return section;
}
