// Graceful shutdown of a real API process (issue 21), on SQLite and PostgreSQL: readiness turns 503 first while
// everything is still served, a request in flight on a slow gateway is answered before the exit, SIGTERM under a
// stream of distinct pay notifies loses nothing acknowledged and writes nothing by halves, and a second SIGTERM or
// the deadline forces exit 1 with what was in flight in the log.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import { buildSignedPayNotify } from "@pay/core/testing";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { MERCHANT, sandboxMerchant } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { pendingOrderRow } from "../support/rows.js";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "./api-process.js";
import { recordFigure } from "./figures.js";
import { clearFaults, injectFaults, payNotifyFields, requestJson, signInAt, waitFor } from "./fixtures.js";

interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** One request over `agent` (keep-alive, so the Connection header of the answer means something). */
function send(url: string, method: string, path: string, options: { body?: string; headers?: Record<string, string>; agent?: Agent } = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = Buffer.byteLength(options.body);
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method, headers, agent: options.agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A notify whose body never completes: the request stays in flight until the server gives up on it. */
function neverEndingNotify(url: string): Promise<string> {
  return new Promise((resolve) => {
    const target = new URL("/wxpay/notify", url);
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-type": "text/xml", "content-length": 1000 } },
      (res) => resolve(`answered ${res.statusCode}`),
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve(`cut ${error.code ?? error.message}`));
    req.write("<xml>");
  });
}

interface LogLine {
  readonly msg: string;
  readonly [key: string]: unknown;
}
const lines = (api: ApiProcess): LogLine[] => api.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let build: ApiBuild;
beforeAll(async () => {
  build = await compileApi();
}, 120_000);

describe.each(DATABASES)("graceful shutdown on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let api: ApiProcess | undefined;
  let seeded = 0;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    await database.db.insertInto("users").values({ id: "shutdown-payer", openid: "o-shutdown-payer", created_at: new Date().toISOString() }).execute();
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)], requireClientCert: false });
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await sandbox.stop();
    await database.close();
  });

  const start = async (extra: Record<string, string>): Promise<ApiProcess> => {
    const env = sandboxApiEnv({
      databaseUrl: database.url,
      sandboxUrl: sandbox.url,
      // Notifies are posted by the test itself; the sandbox's own go nowhere.
      notifyBaseUrl: "http://127.0.0.1:9",
      // Only notifies pay orders here: no orderquery from reads or the sweep.
      extra: { ORDER_QUERY_AFTER_SECONDS: "86400", SWEEP_INTERVAL_SECONDS: "86400", ...extra },
    });
    api = await startApiProcess(build.main, env);
    return api;
  };

  /** `count` pending orders written straight to the database (no gateway calls, no per-user limits), each with its signed pay notify. */
  const seedOrders = async (count: number): Promise<Array<{ id: string; notify: string }>> => {
    const now = new Date();
    const orders = Array.from({ length: count }, (_, i) => {
      const n = seeded + i;
      return { id: `SD${kind === "sqlite" ? "S" : "P"}${String(n).padStart(8, "0")}`, totalFee: 100 + n, n };
    });
    seeded += count;
    // In batches: PostgreSQL takes at most 65,535 parameters a statement.
    for (let at = 0; at < orders.length; at += 200)
      await database.db
        .insertInto("orders")
        .values(
          orders.slice(at, at + 200).map((order) =>
            pendingOrderRow(order.id, "shutdown-payer", {
              total_fee: order.totalFee,
              appid: MERCHANT.appId,
              mch_id: MERCHANT.mchId,
              created_at: now.toISOString(),
              updated_at: now.toISOString(),
              expires_at: new Date(now.getTime() + 3600_000).toISOString(),
            }),
          ),
        )
        .execute();
    return orders.map((order) => ({
      id: order.id,
      notify: buildSignedPayNotify(payNotifyFields(order, { transaction_id: `4200${kind === "sqlite" ? 1 : 2}${String(order.n).padStart(8, "0")}`.padEnd(28, "5") }), {
        key: MERCHANT.key,
        signType: "HMAC-SHA256",
        omitSignType: true,
      }),
    }));
  };

  const postNotify = (url: string, body: string, agent?: Agent): Promise<HttpAnswer> =>
    send(url, "POST", "/wxpay/notify", { body, headers: { "content-type": "text/xml" }, ...(agent === undefined ? {} : { agent }) });

  it("SIGTERM: /readyz is 503 first while /healthz and notifies are served; a create-order on a slow gateway is answered (Connection: close) before the exit 0", async () => {
    const process_ = await start({ SHUTDOWN_READINESS_DELAY_MS: "1500" });
    const token = await signInAt(process_.url, sandbox.url, `shutdown-slow-${kind}`);
    const [early, late] = await seedOrders(2);
    expect((await requestJson(process_.url, "GET", "/readyz")).status).toBe(200);
    // The next unifiedorder takes 2.5 s at the gateway: the request is still in flight when the listener closes.
    await injectFaults(sandbox.url, "/pay/unifiedorder", [{ kind: "delay", ms: 2500 }], 1);
    const agent = new Agent({ keepAlive: true });
    const sentAt = Date.now();
    const slowOrder = send(process_.url, "POST", "/api/orders", {
      agent,
      body: JSON.stringify({ items: [{ productId: "tote", quantity: 1 }] }),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    await sleep(200);
    process.kill(process_.pid, "SIGTERM");
    await waitFor("/readyz says draining", async () => (await requestJson(process_.url, "GET", "/readyz")).status === 503, 1000);
    const draining = await requestJson(process_.url, "GET", "/readyz");
    expect(draining.body).toMatchObject({ status: "draining" });
    // Still serving everything during the delay.
    expect((await requestJson(process_.url, "GET", "/healthz")).status).toBe(200);
    const paid = await postNotify(process_.url, early?.notify ?? "");
    expect(paid).toMatchObject({ status: 200, text: NOTIFY_SUCCESS_REPLY });
    // After the delay: nothing new is accepted.
    await waitFor(
      "the listener is closed",
      () =>
        fetch(`${process_.url}/healthz`).then(
          () => false,
          () => true,
        ),
      3000,
    );
    await expect(postNotify(process_.url, late?.notify ?? "")).rejects.toThrow();
    const answer = await slowOrder;
    expect(answer.status).toBe(201);
    expect(answer.headers.connection).toBe("close");
    expect(await process_.exited).toBe("0");
    const elapsedMs = Date.now() - sentAt;
    agent.destroy();
    await clearFaults(sandbox.url);
    const created = (JSON.parse(answer.text) as { order: { id: string } }).order.id;
    expect(await database.db.selectFrom("orders").select(["id", "status"]).where("id", "=", created).executeTakeFirst()).toMatchObject({ status: "pending" });
    expect(
      await database.db
        .selectFrom("orders")
        .select("status")
        .where("id", "=", early?.id ?? "")
        .executeTakeFirst(),
    ).toEqual({ status: "paid" });
    expect(
      await database.db
        .selectFrom("orders")
        .select("status")
        .where("id", "=", late?.id ?? "")
        .executeTakeFirst(),
    ).toEqual({ status: "pending" });
    const msgs = lines(process_).map((line) => line.msg);
    expect(msgs.indexOf("draining: readiness is 503, still serving")).toBeLessThan(msgs.indexOf("draining: closing the listener, finishing requests in flight"));
    expect(msgs).toContain("stopped cleanly");
    recordFigure(`shutdown.slow-request.${kind}`, { readinessDelayMs: 1500, gatewayDelayMs: 2500, answeredAndExitedAfterMs: elapsedMs });
  }, 30_000);

  it("SIGTERM under a stream of distinct pay notifies: every one answered SUCCESS is committed with its payment event, nothing half-written, exit 0", async () => {
    const process_ = await start({ SHUTDOWN_READINESS_DELAY_MS: "300" });
    const orders = await seedOrders(3000);
    const acked: string[] = [];
    const failed: string[] = [];
    let next = 0;
    let signalledAt = 0;
    let ackedAfterSignal = 0;
    const sender = async (): Promise<void> => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (;;) {
          const order = orders[next++];
          if (order === undefined) return;
          try {
            const answer = await postNotify(process_.url, order.notify, agent);
            if (answer.status === 200 && answer.text === NOTIFY_SUCCESS_REPLY) {
              acked.push(order.id);
              if (signalledAt > 0) ackedAfterSignal += 1;
            } else failed.push(`${order.id} ${answer.status}`);
          } catch {
            // Refused or cut once the listener is closed: never acknowledged, so WeChat Pay would retry it.
            if (signalledAt > 0 && Date.now() - signalledAt > 300) return;
          }
        }
      } finally {
        agent.destroy();
      }
    };
    const senders = Array.from({ length: 8 }, () => sender());
    await waitFor("the stream is flowing", () => Promise.resolve(acked.length >= 50), 10_000);
    signalledAt = Date.now();
    const ackedAtSignal = acked.length;
    process.kill(process_.pid, "SIGTERM");
    await Promise.all(senders);
    expect(await process_.exited).toBe("0");
    expect(failed).toEqual([]);
    expect(next).toBeLessThan(orders.length);
    expect(ackedAfterSignal).toBeGreaterThan(0);

    const ids = orders.map((order) => order.id);
    // Every seeded order of this test (ids are unique to it), read by prefix rather than a 3,000-value list.
    const first = ids[0] ?? "";
    const last = ids[ids.length - 1] ?? "";
    const rows = await database.db.selectFrom("orders").select(["id", "status", "transaction_id"]).where("id", ">=", first).where("id", "<=", last).execute();
    const events = await database.db.selectFrom("payment_events").select(["order_id"]).where("order_id", ">=", first).where("order_id", "<=", last).execute();
    expect(rows).toHaveLength(ids.length);
    const paid = new Set(rows.filter((row) => row.status === "paid").map((row) => row.id));
    const withEvent = new Map<string, number>();
    for (const event of events) withEvent.set(event.order_id, (withEvent.get(event.order_id) ?? 0) + 1);
    // Every acknowledged notify is committed.
    for (const id of acked) {
      expect(paid.has(id), `acknowledged ${id} must be paid`).toBe(true);
      expect(withEvent.get(id), `acknowledged ${id} must have one payment event`).toBe(1);
    }
    // Nothing half-written: a paid order has exactly one payment event, an event belongs to a paid order.
    for (const id of paid) expect(withEvent.get(id), `paid ${id}`).toBe(1);
    for (const id of withEvent.keys()) expect(paid.has(id), `event of ${id}`).toBe(true);
    for (const row of rows) if (!paid.has(row.id)) expect(row).toMatchObject({ status: "pending", transaction_id: null });
    recordFigure(`shutdown.under-load.${kind}`, {
      senders: 8,
      readinessDelayMs: 300,
      ackedBeforeSignal: ackedAtSignal,
      ackedAfterSignal,
      acked: acked.length,
      committedWithoutAck: paid.size - acked.length,
      sent: Math.min(next, orders.length),
    });
  }, 40_000);

  it("a second SIGTERM forces the exit at once (exit 1), logging the request still in flight", async () => {
    const process_ = await start({ SHUTDOWN_READINESS_DELAY_MS: "200", SHUTDOWN_TIMEOUT_SECONDS: "60" });
    const cut = neverEndingNotify(process_.url);
    await sleep(200);
    process.kill(process_.pid, "SIGTERM");
    // Past the readiness delay: the drain waits for the notify that never ends.
    await waitFor(
      "the listener is closed",
      () =>
        fetch(`${process_.url}/healthz`).then(
          () => false,
          () => true,
        ),
      3000,
    );
    const secondAt = Date.now();
    process.kill(process_.pid, "SIGTERM");
    expect(await process_.exited).toBe("1");
    expect(Date.now() - secondAt).toBeLessThan(2000);
    expect(await cut).toMatch(/^cut /);
    const forced = lines(process_).find((line) => line.msg === "shutdown forced: exiting with work in flight");
    expect(forced).toMatchObject({ reason: "second SIGTERM", step: "requests in flight", inFlightRequests: 1, exitCode: 1, requests: [{ method: "POST", path: "/wxpay/notify" }] });
  }, 30_000);

  it("SHUTDOWN_TIMEOUT_SECONDS forces the exit (exit 1) when a request never ends", async () => {
    const process_ = await start({ SHUTDOWN_READINESS_DELAY_MS: "100", SHUTDOWN_TIMEOUT_SECONDS: "2" });
    const cut = neverEndingNotify(process_.url);
    await sleep(200);
    const signalledAt = Date.now();
    process.kill(process_.pid, "SIGTERM");
    expect(await process_.exited).toBe("1");
    const tookMs = Date.now() - signalledAt;
    expect(tookMs).toBeGreaterThanOrEqual(1900);
    // Well before the 15 s request timeout would have ended the request.
    expect(tookMs).toBeLessThan(5000);
    expect(await cut).toMatch(/^cut /);
    expect(lines(process_).find((line) => line.msg === "shutdown forced: exiting with work in flight")).toMatchObject({
      reason: "deadline of 2000 ms passed",
      step: "requests in flight",
      requests: [{ method: "POST", path: "/wxpay/notify" }],
    });
  }, 30_000);
});

describe("graceful shutdown with API_WORKERS=2 (SQLite)", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase("sqlite", { migrate: false });
  }, 60_000);

  afterAll(async () => {
    await database.close();
  });

  it("SIGTERM to the primary: every worker's /readyz says draining while /healthz is served, then the listener closes and the primary exits 0", async () => {
    const env = sandboxApiEnv({
      databaseUrl: database.url,
      sandboxUrl: "http://127.0.0.1:9",
      notifyBaseUrl: "http://127.0.0.1:9",
      extra: { API_WORKERS: "2", SHUTDOWN_READINESS_DELAY_MS: "1500", SHUTDOWN_TIMEOUT_SECONDS: "10" },
    });
    const cluster = await startApiProcess(build.main, env, 40_000);
    await waitFor("both workers listen", () => Promise.resolve(lines(cluster).filter((line) => line.msg === "worker listening").length === 2), 10_000);
    const signalledAt = Date.now();
    process.kill(cluster.pid, "SIGTERM");
    await waitFor("both workers drain", () => Promise.resolve(lines(cluster).filter((line) => line.msg === "draining: readiness is 503, still serving").length === 2), 1000);
    // Fresh connections land on either worker: all say draining, and still answer everything else.
    for (let i = 0; i < 6; i++) {
      const fresh = new Agent({ keepAlive: false });
      expect(await send(cluster.url, "GET", "/readyz", { agent: fresh })).toMatchObject({ status: 503 });
      expect(await send(cluster.url, "GET", "/healthz", { agent: fresh })).toMatchObject({ status: 200 });
      fresh.destroy();
    }
    expect(Date.now() - signalledAt).toBeLessThan(1500);
    expect(await cluster.exited).toBe("0");
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1500);
    const logs = lines(cluster);
    expect(logs.filter((line) => line.msg === "stopped cleanly")).toHaveLength(2);
    expect(logs.filter((line) => line.msg === "stopped")).toEqual([expect.objectContaining({ role: "primary", code: 0 })]);
  }, 60_000);
});
