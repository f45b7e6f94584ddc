// The overload section's pieces: the open-loop schedule and generator (against a real local server),
// the classification of create-order answers, the committed check on both databases, and the section's
// checks and text as docs/benchmarks.md receives them.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateToLatest, openDatabase, type DatabaseDialect, type OpenedDatabase } from "@pay/api/db";
import { createTestDatabase } from "@pay/test-kit/postgres/vitest";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { orderIdAt } from "../data/orders.js";
import { eventRow, openPostgresSeed, openSqliteSeed, type SeedDatabase } from "../data/seed.js";
import { updateBenchmarks } from "../docs-update.js";
import { FULL_OVERLOAD, notifyFigures, overloadChecks, overloadSection, type OverloadRun } from "../overload.js";
import { PERFORMANCE_HISTORY_HEADING } from "../performance-history.js";
import { acknowledged, classifyCreate, errorCode, tallyCreates } from "./classify.js";
import { checkCommitted } from "./committed.js";
import { arrivalSchedule, dueBy, NO_ANSWER, NOT_SENT, quantile, TIMED_OUT, type OpenLoopJob } from "./open-loop.js";
import { openLoop } from "./open-loop-run.js";

describe("the open-loop schedule", () => {
  it("spaces arrivals evenly from 0 at the given rate", () => {
    expect(arrivalSchedule(4, 2)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750]);
    expect(arrivalSchedule(1000, 0.01)).toHaveLength(10);
  });

  it.each([
    [0, 1],
    [-5, 1],
    [10, 0],
    [Number.NaN, 1],
  ])("refuses %s/s for %s s", (rate, seconds) => {
    expect(() => arrivalSchedule(rate, seconds)).toThrow(/positive rate and duration/);
  });

  it("counts the arrivals due by a time, from where it left off", () => {
    const schedule = arrivalSchedule(4, 2);
    expect(dueBy(schedule, 0)).toBe(1);
    expect(dueBy(schedule, 600)).toBe(3);
    expect(dueBy(schedule, 600, 3)).toBe(3);
    expect(dueBy(schedule, 10_000, 3)).toBe(8);
  });

  it("takes quantiles by nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("the open-loop generator against a slow server", () => {
  let server: Server;
  let url: string;
  const received: { path: string; atMs: number }[] = [];
  let startedAt = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push({ path: req.url ?? "", atMs: performance.now() - startedAt });
      req.resume();
      if (req.url === "/never") return; // held open: the client's deadline must end it
      setTimeout(() => res.writeHead(req.url === "/fail" ? 503 : 200, { "content-type": "text/plain" }).end(`answer to ${req.url ?? ""}`), 300);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    received.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const job = (overrides: Partial<OpenLoopJob>): OpenLoopJob => ({
    url,
    rate: 50,
    seconds: 1,
    requests: [{ method: "GET", path: "/ok", headers: {} }],
    maxSockets: 100,
    maxPending: 1_000,
    timeoutMs: 5_000,
    keepBodies: "all",
    ...overrides,
  });

  it("keeps arriving on schedule while earlier requests wait: 50 arrivals in 1 s, each answered after 300 ms", async () => {
    startedAt = performance.now();
    const result = await openLoop(job({}));
    expect(result.answers).toHaveLength(50);
    expect(result.answers.every((a) => a.status === 200 && a.latencyMs >= 290)).toBe(true);
    expect(result.answers.map((a) => a.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Open loop: the last arrival reaches the server about 980 ms in, not after 50 answers of 300 ms each.
    expect(received).toHaveLength(50);
    expect(received.at(-1)?.atMs).toBeLessThan(1_800);
    expect(result.elapsedMs).toBeLessThan(3_000);
  });

  it("counts the wait for a connection in the latency: one connection, answers every 300 ms", async () => {
    const result = await openLoop(job({ rate: 10, seconds: 0.5, maxSockets: 1 }));
    const latencies = result.answers.map((a) => a.latencyMs);
    expect(latencies[0]).toBeGreaterThanOrEqual(290);
    // The fifth arrival (at 400 ms) waits for four answers before it: about 5 x 300 - 400 = 1,100 ms.
    expect(latencies[4]).toBeGreaterThan(900);
  });

  it("gives up at the deadline, refuses arrivals past its backlog and keeps bodies as asked", async () => {
    const timedOut = await openLoop(job({ rate: 20, seconds: 0.25, requests: [{ method: "GET", path: "/never", headers: {} }], timeoutMs: 400 }));
    expect(timedOut.answers.map((a) => a.status)).toEqual([TIMED_OUT, TIMED_OUT, TIMED_OUT, TIMED_OUT, TIMED_OUT]);
    expect(timedOut.answers.every((a) => Number.isNaN(a.latencyMs))).toBe(true);

    const backlog = await openLoop(job({ rate: 100, seconds: 0.1, maxPending: 3 }));
    const statuses = backlog.answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === NOT_SENT)).toHaveLength(7);

    const mixed = await openLoop(
      job({
        rate: 20,
        seconds: 0.1,
        requests: [
          { method: "POST", path: "/ok", headers: {}, body: "x" },
          { method: "GET", path: "/fail", headers: {} },
        ],
        keepBodies: "non2xx",
      }),
    );
    expect(mixed.answers.map((a) => [a.status, a.body])).toEqual([
      [200, undefined],
      [503, "answer to /fail"],
    ]);
  });

  it("records a refused connection as NO_ANSWER", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await openLoop(job({ url: `http://127.0.0.1:${port}`, rate: 10, seconds: 0.2 }));
    expect(result.answers.map((a) => a.status)).toEqual([NO_ANSWER, NO_ANSWER]);
  });
});

describe("classifying create-order answers under the flood", () => {
  const json = (code: string): string => JSON.stringify({ error: { code, message: "m", retryAfterSeconds: 2 } });

  it.each([
    [201, "{}", "201 created"],
    [429, json("RATE_LIMITED"), "429 RATE_LIMITED"],
    [503, json("GATEWAY_UNAVAILABLE"), "503 GATEWAY_UNAVAILABLE"],
    [503, json("OVERLOADED"), "503 OVERLOADED"],
    [400, json("VALIDATION_FAILED"), "other 4xx"],
    [429, "not json", "other 4xx"],
    [503, json("INTERNAL"), "5xx violation"],
    [503, "<html>503</html>", "5xx violation"],
    [504, json("GATEWAY_TIMEOUT"), "5xx violation"],
    [500, json("INTERNAL"), "5xx violation"],
    [TIMED_OUT, undefined, "no answer before the client's timeout"],
    [NO_ANSWER, undefined, "connection error"],
    [NOT_SENT, undefined, "not sent (generator backlog full)"],
  ])("%s %s -> %s", (status, body, expected) => {
    expect(classifyCreate({ status, ...(body === undefined ? {} : { body }) })).toBe(expected);
  });

  it("reads the contract code only from a contract error body", () => {
    expect(errorCode(json("OVERLOADED"))).toBe("OVERLOADED");
    expect(errorCode('{"error":{"code":7}}')).toBeUndefined();
    expect(errorCode("[]")).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
  });

  it("tallies every class and names each violation by status and code, largest first", () => {
    const tally = tallyCreates([
      { status: 201 },
      { status: 201 },
      { status: 504, body: json("GATEWAY_TIMEOUT") },
      { status: 502, body: "<html/>" },
      { status: 504, body: json("GATEWAY_TIMEOUT") },
      { status: 503, body: json("OVERLOADED") },
      { status: TIMED_OUT },
    ]);
    expect(tally.total).toBe(7);
    expect(tally.counts["201 created"]).toBe(2);
    expect(tally.counts["5xx violation"]).toBe(3);
    expect(tally.counts["503 OVERLOADED"]).toBe(1);
    expect(tally.counts["no answer before the client's timeout"]).toBe(1);
    expect(tally.counts["429 RATE_LIMITED"]).toBe(0);
    expect(tally.violations).toEqual([
      { what: "504 GATEWAY_TIMEOUT", count: 2 },
      { what: "502 (no contract code)", count: 1 },
    ]);
  });

  it("counts a notify acknowledged only for HTTP 200 with SUCCESS in the body", () => {
    expect(acknowledged({ status: 200, body: "<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>" }, "SUCCESS")).toBe(true);
    expect(acknowledged({ status: 200, body: "<xml><return_code><![CDATA[FAIL]]></return_code></xml>" }, "SUCCESS")).toBe(false);
    expect(acknowledged({ status: 500, body: "SUCCESS" }, "SUCCESS")).toBe(false);
    expect(acknowledged({ status: 200 }, "SUCCESS")).toBe(false);
  });
});

describe.each<DatabaseDialect>(["sqlite", "postgres"])("the committed check on %s", (dialect) => {
  let api: OpenedDatabase;
  let seed: SeedDatabase;
  let remove: () => Promise<void>;
  const users = [{ id: "u-overload", openid: "o-overload" }];

  beforeAll(async () => {
    let url: string;
    if (dialect === "sqlite") {
      const dir = mkdtempSync(join(tmpdir(), "pay-bench-overload-"));
      url = join(dir, "api.sqlite");
      remove = () => Promise.resolve(rmSync(dir, { recursive: true, force: true }));
    } else {
      const database = await createTestDatabase();
      url = database.url;
      remove = () => database.drop();
    }
    api = await openDatabase(url);
    await migrateToLatest(api.db);
    await api.db
      .insertInto("users")
      .values(users.map((u) => ({ ...u, created_at: "2024-01-01T00:00:00.000Z" })))
      .execute();
    seed = dialect === "sqlite" ? openSqliteSeed(url) : await openPostgresSeed(url);
    // 0..3 pending; 1 paid by a notify (order paid + notify event); 2 has a notify event but is still pending;
    // 3 is paid without any event; 10 was paid by a query (seeded), not by a notify.
    await seed.insertOrders({ from: 0, count: 4, kind: "pending", users });
    await seed.insertOrders({ from: 10, count: 1, kind: "paid", users });
    await api.db
      .updateTable("orders")
      .set({ status: "paid" })
      .where("id", "in", [orderIdAt(1), orderIdAt(3)])
      .execute();
    await api.db
      .insertInto("payment_events")
      .values([1, 2].map((i) => ({ ...eventRow(i), source: "notify" as const })))
      .execute();
  });

  afterAll(async () => {
    await seed.close();
    await api.close();
    await remove();
  });

  it("finds only orders paid with a notify's payment event", async () => {
    const ids = [0, 1, 2, 3, 10].map(orderIdAt);
    expect(await seed.committedByNotify(ids)).toEqual([orderIdAt(1)]);
    expect(await checkCommitted(seed, [...ids, "B_UNKNOWN"])).toEqual({ checked: 6, missing: [0, 2, 3, 10].map(orderIdAt).concat("B_UNKNOWN") });
    expect(await checkCommitted(seed, [orderIdAt(1)])).toEqual({ checked: 1, missing: [] });
  });

  it("checks long lists in batches", async () => {
    const ids = [orderIdAt(1), ...Array.from({ length: 2_500 }, (_, i) => `B_NONE_${i}`)];
    const result = await checkCommitted(seed, ids);
    expect(result.checked).toBe(2_501);
    expect(result.missing).toHaveLength(2_500);
    expect(result.missing).not.toContain(orderIdAt(1));
  });
});

describe("the overload section", () => {
  const phase = {
    sent: 3_000,
    acknowledged: 3_000,
    p50Ms: 4,
    p99Ms: 10,
    cpuSeconds: 3,
    notifyWorkerCpuSeconds: 0.9,
    answers: 3_000,
    elapsedSeconds: 15,
    rssPeakBytes: 150 * 1024 * 1024,
    maxSendLagMs: 5,
  };
  const run = (dialect: "sqlite" | "postgres", floodP99: number, violations: number, missing: string[]): OverloadRun => ({
    dialect,
    capacity: 500,
    floodRate: 2_000,
    alone: phase,
    flood: { ...phase, p99Ms: floodP99, answers: 40_000, cpuSeconds: 38 },
    creates: tallyCreates([
      ...Array.from({ length: 10 }, () => ({ status: 201 })),
      ...Array.from({ length: violations }, () => ({ status: 504, body: '{"error":{"code":"GATEWAY_TIMEOUT"}}' })),
      { status: 503, body: '{"error":{"code":"OVERLOADED"}}' },
    ]),
    createdP50Ms: 320,
    createdP99Ms: 900,
    committed: { checked: 7_000, missing },
  });

  it("passes a database whose notify p99 stays within 2x, with no violation and everything committed", () => {
    expect(overloadChecks(run("sqlite", 20, 0, [])).map((c) => c.pass)).toEqual([true, true, true]);
  });

  it("misses each target on its own", () => {
    const checks = overloadChecks(run("postgres", 20.1, 2, ["B000000001"]));
    expect(checks.map((c) => c.pass)).toEqual([false, false, false]);
    expect(checks[0]?.label).toContain("Overload on PostgreSQL: notify p99 under the create flood <= 2x the p99 alone, same run (measured 20.1 ms vs 10.0 ms, 2.01x)");
    expect(checks[1]?.label).toContain("measured 2 of 13 creates");
    expect(checks[2]?.label).toContain("6,999 of 7,000");
  });

  it("takes notify quantiles over every notify sent, unanswered ones the slowest, and a p99 without an answer misses", () => {
    const ok = (index: number, latencyMs: number) => ({ index, status: 200, latencyMs, body: "<xml><return_code>SUCCESS</return_code></xml>" });
    const answers = [
      ...Array.from({ length: 98 }, (_, i) => ok(i, i + 1)),
      { index: 98, status: TIMED_OUT, latencyMs: Number.NaN },
      { index: 99, status: 500, latencyMs: 5, body: "x" },
    ];
    const figures = notifyFigures({ answers, maxSendLagMs: 0, elapsedMs: 1 });
    expect(figures.acknowledgedIndices).toHaveLength(98);
    expect(figures.acknowledgedIndices).not.toContain(99);
    expect(figures.p50Ms).toBe(49);
    expect(figures.p99Ms).toBe(98);
    const mostlyLost = notifyFigures({ answers: [ok(0, 3), { index: 1, status: TIMED_OUT, latencyMs: Number.NaN }], maxSendLagMs: 0, elapsedMs: 1 });
    expect(mostlyLost.p99Ms).toBe(Number.POSITIVE_INFINITY);
    const lost = { ...run("sqlite", 10, 0, []), flood: { ...phase, p99Ms: mostlyLost.p99Ms } };
    const [p99] = overloadChecks(lost);
    expect(p99?.pass).toBe(false);
    expect(p99?.label).toContain("(measured no answer vs 10.0 ms, n/a)");
    expect(overloadSection([lost], FULL_OVERLOAD).body).toContain("| 3,000 / 3,000 | 4.0 ms | no answer |");
  });

  it("renders both tables, names the violations and replaces only its own section in docs/benchmarks.md", () => {
    const section = overloadSection([run("sqlite", 12, 0, []), run("postgres", 30, 3, [])], FULL_OVERLOAD);
    expect(section.heading).toBe("## Overload: notifies under a create-order flood");
    expect(section.body).toContain("| SQLite, under 2,000 creates/s | 3,000 / 3,000 | 4.0 ms | 12.0 ms | 950 µs | 300 µs |");
    // Without a notify worker (an API started without NOTIFY_PORT) the column says so.
    const single = overloadSection([{ ...run("sqlite", 12, 0, []), alone: { ...phase, notifyWorkerCpuSeconds: undefined } }], FULL_OVERLOAD);
    expect(single.body).toContain("| SQLite, notifies alone | 3,000 / 3,000 | 4.0 ms | 10.0 ms | 1,000 µs | n/a |");
    expect(section.body).toContain("| 503 OVERLOADED | 1 | 1 |");
    expect(section.body).toContain("- PostgreSQL: 3 x 504 GATEWAY_TIMEOUT.");
    expect(section.body).toContain("`API_MAX_IN_FLIGHT=256`");
    expect(section.checks.map((c) => c.pass)).toEqual([true, true, true, false, false, true]);

    const doc = [
      "# Benchmarks",
      "",
      "Generated by `npx -y pnpm@10.34.9 bench` from the repo root.",
      "",
      "## Targets",
      "",
      "1 of 1 met.",
      "",
      "- PASS another target",
      "",
      "## Orders: lookup and create",
      "",
      "orders text",
      "",
      PERFORMANCE_HISTORY_HEADING,
      "",
      "history",
      "",
      "## Running it",
      "",
      "old",
      "",
    ].join("\n");
    const context = { date: "2026-12-04 04:00 UTC", command: "npx -y pnpm@10.34.9 bench -- --only overload --update-docs", loadAtStart: 1, loadAtEnd: 1, durationMinutes: 3 };
    const added = updateBenchmarks(doc, [section], context, { addMissing: true });
    expect(added).toContain("orders text");
    expect(added.indexOf("## Overload: notifies under a create-order flood")).toBeLessThan(added.indexOf(PERFORMANCE_HISTORY_HEADING));
    expect(added).toContain("5 of 7 met.");
    const again = updateBenchmarks(added, [overloadSection([run("sqlite", 12, 0, []), run("postgres", 12, 0, [])], FULL_OVERLOAD)], context, { addMissing: true });
    expect(again.match(/## Overload: notifies under a create-order flood/g)).toHaveLength(1);
    expect(again).toContain("orders text");
    expect(again).toContain("7 of 7 met.");
    expect(again).not.toContain("GATEWAY_TIMEOUT.");
  });
});
