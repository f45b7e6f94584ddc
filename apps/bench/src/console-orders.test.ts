// The console-orders benchmark without the API: the dataset's model against a brute-force filter of its
// own rows, the seeding on both databases against the API's migrations, the harness against a small
// reference server of the contract (and against broken ones: it must catch them), and the section.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateToLatest, openDatabase, type DatabaseDialect } from "@pay/api/db";
import { ADMIN_TOKEN } from "@pay/test-kit/merchants";
import { createTestDatabase } from "@pay/test-kit/postgres/vitest";
import { AdminOrderListQuerySchema, OrderSchema, type AdminOrder } from "@pay/core/contract";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateBenchmarks } from "./docs-update.js";
import {
  beijingDay,
  ConsoleModel,
  consoleDataset,
  consoleOrderRow,
  createdAtMs,
  datasetDay,
  openidOf,
  orderIdOf,
  transactionIdOf,
  userOf,
  type ConsoleOrderRow,
  type OrdersFilter,
} from "./console-orders-data.js";
import { buildPlan, PAGE_LIMIT, QUERY_KINDS, requestPath, type PlanSizes, type QueryKind } from "./console-orders-queries.js";
import { openPostgresShop, openSqliteShop, type ConsoleShopDatabase } from "./console-orders-seed.js";
import { consoleOrdersCheck, consoleOrdersSection, percentile, runProbe, walkWindow, type ConsoleOrdersResult, type DialectRun } from "./console-orders.js";
import { beijingDayStartSeconds } from "./reconciliation/day.js";

const DATA = consoleDataset(3_000, "2026-12-02");
const MODEL = new ConsoleModel(DATA);
const ROWS: ConsoleOrderRow[] = Array.from({ length: DATA.orders }, (_, i) => consoleOrderRow(DATA, i));
const SMALL_PLAN: PlanSizes = { window: 16, status: 4, dates: 4, latest: 2, searchOrder: 4, searchTransaction: 4, searchOpenid: 4 };

/** The filter's rows straight from the row builder: the definition `ConsoleModel.page` must agree with. */
function bruteForce(filter: OrdersFilter): ConsoleOrderRow[] {
  const from = filter.fromDay === undefined ? "" : new Date(beijingDayStartSeconds(datasetDay(DATA, filter.fromDay)) * 1000).toISOString();
  const to = filter.toDay === undefined ? "~" : new Date((beijingDayStartSeconds(datasetDay(DATA, filter.toDay)) + 86_400) * 1000).toISOString();
  return ROWS.filter(
    (r) =>
      (filter.status === undefined || r.status === filter.status) &&
      r.created_at >= from &&
      r.created_at < to &&
      (filter.q === undefined || r.id === filter.q || r.transaction_id === filter.q || r.openid === filter.q),
  ).sort((a, b) => (a.created_at === b.created_at ? b.id.localeCompare(a.id) : b.created_at.localeCompare(a.created_at)));
}

describe("the console-orders dataset", () => {
  it("creates orders in index order over the 90 Beijing days ending with the last day, ids unique and in the contract's form", () => {
    expect(DATA.firstDay).toBe("2026-09-04");
    expect(beijingDay(createdAtMs(DATA, 0))).toBe("2026-09-04");
    expect(beijingDay(createdAtMs(DATA, DATA.orders - 1))).toBe("2026-12-02");
    for (let i = 1; i < DATA.orders; i++) expect(createdAtMs(DATA, i)).toBeGreaterThan(createdAtMs(DATA, i - 1));
    expect(new Set(ROWS.map((r) => r.id)).size).toBe(DATA.orders);
    const transactions = ROWS.flatMap((r) => (r.transaction_id === null ? [] : [r.transaction_id]));
    expect(new Set(transactions).size).toBe(transactions.length);
    expect(transactions.every((t) => /^\d{28}$/.test(t))).toBe(true);
    const million = consoleDataset(1_000_000, "2026-12-02");
    expect(million.users).toBe(20_000);
    for (const id of [orderIdOf(million, 0), orderIdOf(million, 999_999), ...ROWS.slice(0, 50).map((r) => r.id)]) expect(OrderSchema.shape.id.safeParse(id).success).toBe(true);
    expect(openidOf(19_999)).toHaveLength(28);
  });

  it("mixes statuses mostly paid, then closed, pending and refunded, with payment fields exactly on paid and refunded orders", () => {
    const counts = MODEL.statusCounts();
    expect(counts.paid + counts.closed + counts.pending + counts.refunded).toBe(DATA.orders);
    expect(counts.paid / DATA.orders).toBeCloseTo(0.8, 1);
    expect(counts.paid).toBeGreaterThan(counts.closed);
    expect(counts.closed).toBeGreaterThan(counts.pending);
    expect(counts.pending).toBeGreaterThan(counts.refunded);
    for (const row of ROWS) {
      const paid = row.status === "paid" || row.status === "refunded";
      expect(row.transaction_id !== null && row.paid_at !== null).toBe(paid);
      expect(row.closed_at !== null).toBe(row.status === "closed");
      expect(row.refunded_fee === row.total_fee).toBe(row.status === "refunded");
    }
    expect(new Set(ROWS.map((r) => r.openid)).size).toBe(DATA.users);
  });

  it("pages every kind of filter exactly as a brute-force filter of its rows does, newest first", () => {
    const filters: OrdersFilter[] = [
      {},
      { status: "paid" },
      { status: "refunded", fromDay: 80, toDay: 86 },
      { status: "paid", fromDay: 0, toDay: 6 },
      { fromDay: 45, toDay: 45 },
      { q: ROWS[1234]?.id ?? "" },
      {
        q: transactionIdOf(
          DATA,
          ROWS.findIndex((r) => r.status === "paid"),
        ),
      },
      { q: openidOf(userOf(DATA, 42)) },
      { q: "P20261202000000AAAAAAAAAA" },
      { q: "nobody" },
    ];
    for (const filter of filters) {
      const expected = bruteForce(filter).map((r) => r.id);
      for (const skip of [0, 50, 150]) {
        const page = MODEL.page(filter, skip, PAGE_LIMIT);
        expect(page.indexes.map((i) => orderIdOf(DATA, i))).toEqual(expected.slice(skip, skip + PAGE_LIMIT));
        expect(page.more).toBe(expected.length > skip + PAGE_LIMIT);
      }
      if (filter.q === undefined) expect(MODEL.count(filter)).toBe(expected.length);
    }
  });

  it("plans every kind, windows spread over the range with the latest week every fourth, in a fixed shuffled order", () => {
    const plan = buildPlan(MODEL, SMALL_PLAN, 7);
    expect(buildPlan(MODEL, SMALL_PLAN, 7)).toEqual(plan);
    expect(plan).toHaveLength(Object.values(SMALL_PLAN).reduce((a, b) => a + b, 0));
    const windows = plan.filter((p) => p.kind === "window");
    expect(new Set(windows.map((w) => w.filter.fromDay))).toContain(0);
    expect(windows.filter((w) => w.filter.fromDay === DATA.days - 7).length).toBeGreaterThanOrEqual(SMALL_PLAN.window / 4);
    expect(new Set(windows.map((w) => w.filter.fromDay)).size).toBeGreaterThanOrEqual(SMALL_PLAN.window * 0.75);
    expect(windows.every((w) => (w.filter.toDay ?? 0) - (w.filter.fromDay ?? 0) === 6 && w.filter.status !== undefined)).toBe(true);
    expect(plan.slice(0, 8).map((p) => p.kind)).not.toEqual(Array(8).fill(plan[0]?.kind));
    const searched = plan.filter((p) => p.kind === "searchTransaction").map((p) => bruteForce(p.filter));
    expect(searched.every((rows) => rows.length === 1)).toBe(true);
    expect(requestPath(DATA, { status: "paid", fromDay: 0, toDay: 6 }, 50, "c1")).toBe("/api/admin/orders?status=paid&from=2026-09-04&to=2026-09-10&limit=50&cursor=c1");
  });
});

describe.each<DatabaseDialect>(["sqlite", "postgres"])("seeding the console-orders shop on %s", (dialect) => {
  let shop: ConsoleShopDatabase;
  let url: string;
  let remove: () => Promise<void>;

  beforeAll(async () => {
    if (dialect === "sqlite") {
      const dir = mkdtempSync(join(tmpdir(), "pay-bench-console-"));
      url = join(dir, "api.sqlite");
      remove = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
    } else {
      const database = await createTestDatabase();
      url = database.url;
      remove = () => database.drop();
    }
    const api = await openDatabase(url);
    await migrateToLatest(api.db);
    await api.close();
    shop = dialect === "sqlite" ? openSqliteShop(url) : await openPostgresShop(url);
    const lines: string[] = [];
    const seeded = await shop.seed(DATA, (line) => lines.push(line));
    expect(seeded).toMatchObject({ users: DATA.users, orders: DATA.orders });
  });

  afterAll(async () => {
    await shop.close();
    await remove();
  });

  it("writes the model's orders, as the API reads them back", async () => {
    expect(await shop.statusCounts()).toEqual(MODEL.statusCounts());
    const api = await openDatabase(url);
    try {
      const ids = [0, 1, 777, DATA.orders - 1].map((i) => orderIdOf(DATA, i));
      const rows = await api.db.selectFrom("orders").selectAll().where("id", "in", ids).orderBy("created_at").execute();
      expect(rows.map((r) => ({ ...r, total_fee: Number(r.total_fee), refunded_fee: Number(r.refunded_fee), reserved_refund_fee: Number(r.reserved_refund_fee) }))).toEqual(
        [0, 1, 777, DATA.orders - 1].map((i) => consoleOrderRow(DATA, i)),
      );
      const users = await api.db
        .selectFrom("users")
        .select(({ fn }) => fn.countAll<number | string>().as("n"))
        .executeTakeFirstOrThrow();
      expect(Number(users.n)).toBe(DATA.users);
    } finally {
      await api.close();
    }
  });

  it("counts a window directly as the model does", async () => {
    const filter: OrdersFilter = { status: "paid", fromDay: 10, toDay: 16 };
    const fromIso = new Date(beijingDayStartSeconds(datasetDay(DATA, 10)) * 1000).toISOString();
    const toIso = new Date(beijingDayStartSeconds(datasetDay(DATA, 17)) * 1000).toISOString();
    expect(await shop.count({ status: "paid", fromIso, toIso })).toBe(MODEL.count(filter));
    expect(await shop.count({})).toBe(DATA.orders);
    const plan = await shop.explain("select id from orders where status = ? and created_at >= ? order by created_at desc limit 50", ["paid", fromIso]);
    expect(plan.length).toBeGreaterThan(0);
  });
});

/** What a broken server does wrong. */
type Bug = "none" | "ignoresCursor" | "wrongOrder" | "noCursor" | "unauthorised";

/** A small reference implementation of GET /api/admin/orders on a seeded SQLite file (keyset pages by created_at, id). */
async function referenceServer(path: string): Promise<{ url: string; bug: { value: Bug }; close(): Promise<void> }> {
  const db = new BetterSqlite3(path, { readonly: true });
  const bug = { value: "none" as Bug };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${ADMIN_TOKEN}` || bug.value === "unauthorised") return send(401, { error: { code: "UNAUTHORIZED", message: "no" } });
    const query = AdminOrderListQuerySchema.parse(Object.fromEntries(url.searchParams));
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status !== undefined) {
      where.push("status = ?");
      params.push(query.status);
    }
    if (query.from !== undefined) {
      where.push("created_at >= ?");
      params.push(new Date(beijingDayStartSeconds(query.from) * 1000).toISOString());
    }
    if (query.to !== undefined) {
      where.push("created_at < ?");
      params.push(new Date((beijingDayStartSeconds(query.to) + 86_400) * 1000).toISOString());
    }
    if (query.q !== undefined) {
      where.push("(id = ? or transaction_id = ? or openid = ?)");
      params.push(query.q, query.q, query.q);
    }
    if (query.cursor !== undefined && bug.value !== "ignoresCursor") {
      const [at, id] = JSON.parse(Buffer.from(query.cursor, "base64url").toString()) as [string, string];
      where.push("(created_at < ? or (created_at = ? and id < ?))");
      params.push(at, at, id);
    }
    const sql = `select * from orders${where.length > 0 ? ` where ${where.join(" and ")}` : ""} order by created_at ${bug.value === "wrongOrder" ? "asc" : "desc"}, id desc limit ?`;
    const rows = db.prepare(sql).all(...params, query.limit + 1) as ConsoleOrderRow[];
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const orders: AdminOrder[] = page.map((r) => ({
      id: r.id,
      status: r.status,
      totalFee: r.total_fee,
      refundedFee: r.refunded_fee ?? 0,
      feeType: r.fee_type,
      items: JSON.parse(r.items) as AdminOrder["items"],
      createdAt: r.created_at,
      paidAt: r.paid_at,
      transactionId: r.transaction_id,
      userId: r.user_id,
      openid: r.openid,
      protocol: r.protocol ?? "v2",
      refundableFee: r.status === "paid" ? r.total_fee - (r.reserved_refund_fee ?? 0) : 0,
      description: r.body,
      closedAt: r.closed_at,
    }));
    const more = rows.length > query.limit && bug.value !== "noCursor";
    send(200, { orders, nextCursor: more && last !== undefined ? Buffer.from(JSON.stringify([last.created_at, last.id])).toString("base64url") : null });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bug,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      db.close();
    },
  };
}

describe("the console-orders harness against a reference server of the contract", () => {
  let dir: string;
  let shop: ConsoleShopDatabase;
  let server: Awaited<ReturnType<typeof referenceServer>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-console-http-"));
    const path = join(dir, "api.sqlite");
    const api = await openDatabase(path);
    await migrateToLatest(api.db);
    await api.close();
    shop = openSqliteShop(path);
    await shop.seed(DATA, () => undefined);
    server = await referenceServer(path);
  });

  afterAll(async () => {
    await server.close();
    await shop.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const runPlan = async (): Promise<{ problems: string[]; latencies: Record<QueryKind, number[]> }> => {
    const latencies = Object.fromEntries(QUERY_KINDS.map((k) => [k, [] as number[]])) as Record<QueryKind, number[]>;
    const problems: string[] = [];
    for (const probe of buildPlan(MODEL, SMALL_PLAN, 11)) {
      problems.push(...(await runProbe(server.url, MODEL, probe, PAGE_LIMIT, (kind, ms) => latencies[kind].push(ms))).problems);
    }
    return { problems, latencies };
  };

  it("finds every answer of a correct server as seeded, times every page by kind, and walks a whole day to the SQL count", async () => {
    server.bug.value = "none";
    const { problems, latencies } = await runPlan();
    expect(problems).toEqual([]);
    const plan = buildPlan(MODEL, SMALL_PLAN, 11);
    for (const kind of QUERY_KINDS.filter((k) => k !== "next")) expect(latencies[kind]).toHaveLength(plan.filter((p) => p.kind === kind).length);
    expect(latencies.next.length).toBeGreaterThan(0);
    const walked = await walkWindow(server.url, MODEL, shop);
    expect(walked.problems).toEqual([]);
    expect(walked.walk.orders).toBe(walked.walk.sqlCount);
    expect(walked.walk.orders).toBeGreaterThan(0);
  });

  it.each<[Bug, string]>([
    ["ignoresCursor", "already on an earlier page"],
    ["wrongOrder", "first difference at 0"],
    ["noCursor", "nextCursor null but more orders follow"],
    ["unauthorised", "401"],
  ])("catches a server that %s", async (bug, message) => {
    server.bug.value = bug;
    try {
      const { problems } = await runPlan();
      expect(problems.some((p) => p.includes(message))).toBe(true);
    } finally {
      server.bug.value = "none";
    }
  });
});

function fakeRun(dialect: DialectRun["dialect"], ms: (kind: QueryKind, n: number) => number): DialectRun {
  const latencies = Object.fromEntries(QUERY_KINDS.map((k) => [k, Array.from({ length: 100 }, (_, n) => ms(k, n))])) as Record<QueryKind, number[]>;
  return {
    dialect,
    seeded: { users: DATA.users, orders: DATA.orders, seconds: 12.5 },
    statusCounts: MODEL.statusCounts(),
    latencies,
    answersChecked: 900,
    cpuMsPerRequest: 1.5,
    walk: { filter: {}, label: "status=paid&from=2026-10-19&to=2026-10-19", pages: 3, orders: 250, sqlCount: 250, modelCount: 250, seconds: 0.1 },
    problems: [],
  };
}

describe("the console-orders section", () => {
  it("takes percentiles by nearest rank", () => {
    const samples = Array.from({ length: 100 }, (_, n) => 100 - n);
    expect([percentile(samples, 0.5), percentile(samples, 0.95), percentile(samples, 0.99), percentile(samples, 1)]).toEqual([50, 95, 99, 100]);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it("passes a database only when every kind's p95 is under 50 ms, and names the slowest", () => {
    const fast = fakeRun("sqlite", (_k, n) => 1 + n / 10);
    expect(consoleOrdersCheck(fast, 1_000_000)).toEqual({
      label: "Console orders page on SQLite, 1,000,000 orders: p95 < 50 ms for every kind of query (measured 10.4 ms overall; slowest: status + 7-day window, first page, 10.4 ms)",
      pass: true,
    });
    const slowSearch = fakeRun("postgres", (k, n) => (k === "searchOpenid" ? 30 + n : 1 + n / 10));
    const check = consoleOrdersCheck(slowSearch, 1_000_000);
    expect(check.pass).toBe(false);
    expect(check.label).toContain("slowest: search: openid, 124.0 ms");
    const none = consoleOrdersCheck(
      fakeRun("sqlite", () => Number.NaN),
      1_000_000,
    );
    expect(none).toEqual({ label: expect.stringContaining("(measured n/a overall; slowest: status + 7-day window, first page, n/a)") as string, pass: false });
  });

  it("reports every kind on both databases and is added to the published file before the performance history", () => {
    const result: ConsoleOrdersResult = { data: DATA, modelStatusCounts: MODEL.statusCounts(), runs: [fakeRun("sqlite", () => 4), fakeRun("postgres", () => 6)], quick: true };
    const section = consoleOrdersSection(result);
    expect(section.heading).toBe("## Console: orders page (issue 19)");
    expect(section.body).toContain("| query | requests | SQLite p50 | p95 | p99 | PostgreSQL p50 | p95 | p99 |");
    expect(section.body).toContain("| search: openid | 100 | 4.0 ms | 4.0 ms | 4.0 ms | 6.0 ms | 6.0 ms | 6.0 ms |");
    expect(section.body).toContain("| **every request** | 800 |");
    expect(section.body).toContain("`--quick`");
    expect(section.checks.map((c) => c.pass)).toEqual([true, true]);
    const published = readFileSync(new URL("../../../docs/benchmarks.md", import.meta.url), "utf8");
    const context = {
      date: "2026-12-03 20:00 UTC",
      command: "npx -y pnpm@10.34.9 bench -- --only console-orders --update-docs",
      loadAtStart: 0.4,
      loadAtEnd: 0.6,
      durationMinutes: 6,
    };
    const updated = updateBenchmarks(published, [section], context, { addMissing: true });
    expect(updated.indexOf(section.heading)).toBeGreaterThan(updated.indexOf("## Reconciliation (issue 18)"));
    expect(updated.indexOf(section.heading)).toBeLessThan(updated.indexOf("## Payment path: what the profiles found"));
    expect(updated).toContain(`- PASS ${section.checks[0]?.label ?? ""}`);
    expect(updated).toContain('"Console: orders page (issue 19)" on 2026-12-03 20:00 UTC');
  });
});
