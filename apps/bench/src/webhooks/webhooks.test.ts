// The webhooks benchmark in quick form, on both databases: the API configured as the bench configures it, with
// an endpoint subscribed and delivery on, delivering to the bench's receiver (in this process, over plain http
// to loopback, so NODE_ENV is development here); the distinct notify target wrapped as the benchmark wraps it;
// and the outbox comparison on a database of its own.
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig, startApi, type RunningApi } from "@pay/api";
import { POSTGRES_MARK_PAID } from "@pay/api/db";
import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER, WebhookEventIdSchema } from "@pay/core/contract";
import { webhookSignatureHeader } from "@pay/core/webhooks";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { createTestDatabase } from "@pay/test-kit/postgres/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MERCHANT } from "../data/merchant.js";
import { PendingPool } from "../data/pending-pool.js";
import { openPostgresSeed, openSqliteSeed, type SeedDatabase } from "../data/seed.js";
import type { LoadRequest } from "../load/job.js";
import { distinctNotifyTarget, SUCCESS_MARK } from "../load/targets.js";
import { apiEnv } from "../servers/api-stack.js";
import type { BenchPostgres } from "../servers/postgres.js";
import { backlogFigures, halfRate, pacedTarget, runFigures } from "../webhooks.js";
import { deliveringTarget, type RunDeliveries } from "./delivering-target.js";
import { DeliveryLedger, EMPTY_WINDOW, mergeWindows, quantile } from "./ledger.js";
import { benchEventId, measureOutboxCost, withoutOutboxCte } from "./outbox-cost.js";
import { createReceiverHandler } from "./receiver.js";
import { webhookVerifier } from "./verify.js";

const SECRET = "bench-webhook-secret-0123456789abcdef";
const PENDING_FROM = 100;
const PENDING = 30;

async function send(url: string, request: LoadRequest): Promise<{ status: number; text: string }> {
  const answer = await fetch(`${url}${request.path}`, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
  return { status: answer.status, text: await answer.text() };
}

describe("the receiver's ledger", () => {
  it("counts each event id once, keeps lags ascending, and merges windows", () => {
    const ledger = new DeliveryLedger();
    expect(ledger.record("evt_a", "2026-12-03T10:00:00.000Z", Date.parse("2026-12-03T10:00:00.250Z"))).toBe("new");
    expect(ledger.record("evt_b", "2026-12-03T10:00:00.000Z", Date.parse("2026-12-03T10:00:00.040Z"))).toBe("new");
    expect(ledger.record("evt_a", "2026-12-03T10:00:00.000Z", Date.parse("2026-12-03T10:00:01.000Z"))).toBe("duplicate");
    ledger.refuse();
    const first = ledger.takeWindow();
    expect(first).toEqual({
      delivered: 2,
      duplicates: 1,
      refused: 1,
      lagsMs: [40, 250],
      firstAtMs: Date.parse("2026-12-03T10:00:00.250Z"),
      lastAtMs: Date.parse("2026-12-03T10:00:00.040Z"),
    });
    expect(ledger.takeWindow()).toMatchObject({ delivered: 0, lagsMs: [] });
    expect(ledger.totals()).toEqual({ distinct: 2, duplicates: 1, refused: 1 });
    ledger.record("evt_c", "2026-12-03T10:00:00.000Z", Date.parse("2026-12-03T10:00:00.100Z"));
    const merged = mergeWindows(first, ledger.takeWindow());
    expect(merged.lagsMs).toEqual([40, 100, 250]);
    expect(merged.delivered).toBe(3);
    expect(mergeWindows(EMPTY_WINDOW, EMPTY_WINDOW).firstAtMs).toBeNaN();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe("the paced delivery runs", () => {
  it("pace the wrapped target's load at half the saturated rate, in tens", async () => {
    expect(halfRate(437)).toBe(210);
    expect(halfRate(12)).toBe(10);
    const base = { name: "base", cpuSeconds: () => 1, job: () => ({ url: "http://127.0.0.1:1", connections: 50, measure: { seconds: 1 }, requests: [] }) };
    const paced = pacedTarget(base, 210, "paced");
    expect(paced.name).toBe("paced");
    expect(paced.cpuSeconds()).toBe(1);
    expect(await paced.job("measure", { seconds: 1 }, 50)).toMatchObject({ overallRate: 210, connections: 50 });
  });

  it("time a backlog from its first receipt to its last", () => {
    const window = { ...EMPTY_WINDOW, delivered: 500, firstAtMs: 1_000, lastAtMs: 3_500 };
    expect(backlogFigures("sqlite", 500, window)).toEqual({ dialect: "sqlite", events: 500, deliveredPerSecond: 200, seconds: 2.5 });
    expect(backlogFigures("postgres", 0, EMPTY_WINDOW).deliveredPerSecond).toBeNaN();
  });
});

describe("the outbox comparison's statements", () => {
  it("drops exactly the outbox CTE from the writer's PostgreSQL statement, and refuses a statement without one", () => {
    const without = withoutOutboxCte(POSTGRES_MARK_PAID);
    expect(without).not.toContain("webhook_events");
    expect(without).toContain("insert into payment_events");
    expect(without).toContain("), moved as (");
    expect(POSTGRES_MARK_PAID.length - without.length).toBeGreaterThan(50);
    expect(() => withoutOutboxCte("select 1")).toThrow(/outbox CTE was not found/);
  });

  it("makes distinct event ids of the API's form", () => {
    const ids = [0, 1, 61, 62, 123_456_789].map(benchEventId);
    for (const id of ids) expect(WebhookEventIdSchema.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe.each(["sqlite", "postgres"] as const)("the webhooks benchmark's targets on %s", (dialect) => {
  let dir: string;
  let sandbox: RunningSandbox;
  let api: RunningApi;
  let db: SeedDatabase;
  let receiver: Server;
  let receiverUrl: string;
  const ledger = new DeliveryLedger();
  const drops: Array<() => Promise<void>> = [];
  const postgres: BenchPostgres = {
    url: "",
    cpuSeconds: () => 0,
    async createDatabase() {
      const database = await createTestDatabase();
      drops.push(() => database.drop());
      return database.url;
    },
    stop: () => Promise.resolve(),
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-webhooks-"));
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)], requireClientCert: false });
    receiver = createServer(createReceiverHandler(webhookVerifier(SECRET), ledger));
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
    const databaseUrl = dialect === "sqlite" ? join(dir, "api.sqlite") : await postgres.createDatabase("api");
    const port = await freePort();
    const config = loadConfig({
      ...apiEnv(port, databaseUrl, sandbox.url),
      NODE_ENV: "development",
      WEBHOOK_URL: receiverUrl,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_DELIVERY: "on",
      WEBHOOK_POLL_INTERVAL_MS: "100",
    });
    expect(config.webhooks.delivery).toBe(true);
    api = await startApi(config, createLogger({ level: "silent" }));
    const control = createSandboxControlClient({ baseUrl: sandbox.url });
    const { code, openid } = await control.createLoginCode({ appid: MERCHANT.appId, user: "bench-webhooks-user" });
    const session = await fetch(`${api.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION },
      body: JSON.stringify({ code }),
    });
    expect(session.status).toBe(200);
    db = dialect === "sqlite" ? openSqliteSeed(databaseUrl) : await openPostgresSeed(databaseUrl);
    const [id] = await db.userIds([openid]);
    const users = [{ id: id ?? "", openid }];
    await db.insertOrders({ from: 0, count: PENDING_FROM, kind: "mixed", users });
    await db.insertOrders({ from: PENDING_FROM, count: PENDING, kind: "pending", users });
  });

  afterAll(async () => {
    await db.close();
    await api.stop();
    await sandbox.stop();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    for (const drop of drops) await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers every event of a measured run before the CPU is read, verified, and records its lags", async () => {
    const runs: RunDeliveries[] = [];
    const base = distinctNotifyTarget("subscribed", { url: api.url, db, cpuSeconds: () => 0 }, new PendingPool(PENDING_FROM, 10));
    const target = deliveringTarget(base, db, { takeWindow: () => Promise.resolve({ type: "receiver-window", window: ledger.takeWindow(), totals: ledger.totals() }) }, runs, {
      drainTimeoutMs: 15_000,
      pollMs: 20,
    });
    const job = await target.job("measure", { amount: 5 }, 1);
    expect(job.requests).toHaveLength(7);
    for (const request of job.requests) expect(await send(api.url, request)).toEqual({ status: 200, text: expect.stringContaining(SUCCESS_MARK) as string });
    await target.settle?.();
    expect(runs).toHaveLength(1);
    const [run] = runs;
    if (run === undefined) throw new Error("no run recorded");
    expect(run).toMatchObject({ events: 7, drained: true });
    expect(run.window).toMatchObject({ delivered: 7, refused: 0 });
    expect(run.window.lagsMs.every((lag) => Number.isFinite(lag) && lag >= 0)).toBe(true);
    const outcome = { requestsPerSecond: 1, p50Ms: 1, p99Ms: 1, completed: 7, non2xx: 0, errors: 0, timeouts: 0, mismatches: 0, seconds: 1, used: 7 };
    expect(await target.check?.(outcome)).toBeUndefined();
    const figures = runFigures(run);
    expect(figures.events).toBe(7);
    expect(figures.lagP99Ms).toBeGreaterThanOrEqual(figures.lagP50Ms);
    expect(figures.drainMs).toBeGreaterThanOrEqual(0);
    expect(figures.duplicates).toBe(0);
  });

  it("has the receiver refuse a delivery whose signature does not match, and count a repeat once", async () => {
    const template = await db.latestPaidEvent();
    if (template === undefined) throw new Error("no order.paid event in the outbox");
    const now = Math.floor(Date.now() / 1000);
    const post = (body: string, signature: string): Promise<number> =>
      fetch(receiverUrl, { method: "POST", headers: { "content-type": "application/json", "pay-signature": signature }, body }).then((r) => r.status);
    const before = ledger.totals();
    expect(await post(template.payload, webhookSignatureHeader(template.payload, ["another-secret-0123456789abcdef"], now))).toBe(400);
    expect(await post(template.payload.replace("paid", "PAID"), webhookSignatureHeader(template.payload, [SECRET], now))).toBe(400);
    expect(await post(template.payload, webhookSignatureHeader(template.payload, [SECRET], now))).toBe(200);
    expect(ledger.totals()).toEqual({ distinct: before.distinct, duplicates: before.duplicates + 1, refused: before.refused + 2 });
    ledger.takeWindow();
  });

  it("measures the paid writer's batch with and without the outbox statement on a database of its own", async () => {
    const template = await db.latestPaidEvent();
    if (template === undefined) throw new Error("no order.paid event in the outbox");
    const cost = await measureOutboxCost(dialect, template, { batchSize: 5, batches: 3, rounds: 2, warmupRounds: 1 }, () => Promise.resolve(postgres));
    expect(cost.dialect).toBe(dialect);
    expect(cost.transitionsPerVariant).toBe(30);
    for (const value of [cost.withOutboxMicros, cost.withoutOutboxMicros, cost.outboxMicros]) expect(Number.isFinite(value)).toBe(true);
    expect(cost.withOutboxMicros).toBeGreaterThan(0);
  });
});
