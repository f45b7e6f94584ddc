// API_WORKERS=2 as real processes (`node <build>/main.js`, compiled from src): one primary, two workers on one
// port, on SQLite and PostgreSQL. The primary migrates once; concurrent notifies spread over both workers pay
// each order once (one payment event, one order.paid event, delivered once to the webhook endpoint); the
// sweep's queries are claimed (never twice within ORDER_QUERY_AFTER_SECONDS); each day is reconciled by one
// run; /metrics on the primary adds the workers up; a killed worker is replaced; SIGTERM drains a request in
// flight and exits 0.
import { request as httpRequest } from "node:http";
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import type { OrderPaymentResponse, WebhookEvent } from "@pay/core/contract";
import { buildSignedPayNotify } from "@pay/core/testing";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "./metrics/prometheus-text.js";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "./reliability/api-process.js";
import { payNotifyFields, requestJson, signInAt, waitFor } from "./reliability/fixtures.js";
import { startRecordingProxy, type Exchange, type RecordingProxy } from "./reliability/recording-proxy.js";
import { MERCHANT } from "./support/api-harness.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "./support/databases.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const ORDERS = 24;
const COPIES = 4;
const PENDING = 6;
const QUERY_AFTER_SECONDS = 3;
const WEBHOOK_SECRET = "whsec_cluster_secret_0123456789abcdef";

interface LogLine {
  readonly msg?: string;
  readonly pid?: number;
  readonly worker?: number;
  readonly role?: string;
  readonly [field: string]: unknown;
}

function lines(api: ApiProcess): LogLine[] {
  return api.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine);
}

/** A notify POST whose body is sent in two parts, `pauseMs` apart: a request in flight for that long. */
function slowNotify(url: string, body: string, sent: () => void, pauseMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL("/wxpay/notify", url);
    const req = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "content-type": "text/xml", "content-length": Buffer.byteLength(body) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half), () => {
      sent();
      setTimeout(() => req.end(body.slice(half)), pauseMs);
    });
  });
}

let build: ApiBuild;
beforeAll(async () => {
  build = await compileApi();
}, 120_000);

describe.each(DATABASES)("API_WORKERS=2 on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let receiver: WebhookReceiver;
  /** Between the API and the sandbox: every gateway call the workers make. */
  let gatewayProxy: RecordingProxy;
  let api: ApiProcess;
  let metricsUrl: string;
  let startedAt: number;

  beforeAll(async () => {
    // Not migrated: the primary does it, once.
    database = await openTestDatabase(kind, { migrate: false });
    sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      requireClientCert: false,
    });
    gatewayProxy = await startRecordingProxy(() => sandbox.url);
    receiver = await startWebhookReceiver({ secrets: [WEBHOOK_SECRET], answer: { kind: "status", status: 204 } });
    const env = sandboxApiEnv({
      databaseUrl: database.url,
      sandboxUrl: gatewayProxy.url,
      notifyBaseUrl: "http://127.0.0.1:9",
      extra: {
        API_WORKERS: "2",
        METRICS_PORT: "0",
        // http to loopback is allowed outside production only.
        NODE_ENV: "development",
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET,
        WEBHOOK_POLL_INTERVAL_MS: "100",
        SWEEP_INTERVAL_SECONDS: "1",
        ORDER_QUERY_AFTER_SECONDS: String(QUERY_AFTER_SECONDS),
        RECONCILE_AT: "00:00",
        RECONCILE_POLL_SECONDS: "5",
      },
    });
    startedAt = Date.now();
    api = await startApiProcess(build.main, env, 40_000);
    const listening = lines(api).find((line) => line.msg === "API listening") as LogLine & { metrics: string };
    metricsUrl = listening.metrics;
  }, 90_000);

  afterAll(async () => {
    await api.stop();
    await receiver.close();
    await gatewayProxy.close();
    await sandbox.stop();
    await database.close();
  });

  it("the primary migrates, upserts WEBHOOK_URL and seeds once, then two workers listen on its port; every line names its worker", async () => {
    // The primary logs "API listening" once both listen; a worker's own line may come just after.
    await waitFor("both workers' lines", () => Promise.resolve(lines(api).filter((line) => line.msg === "worker listening").length === 2), 5_000);
    const logs = lines(api);
    const listening = logs.find((line) => line.msg === "API listening") as LogLine & { workers: { worker: number; pid: number }[]; url: string };
    expect(listening).toMatchObject({ role: "primary", pid: api.pid, url: api.url });
    expect(listening.workers).toHaveLength(2);
    const workerPids = listening.workers.map((w) => w.pid);
    expect(new Set([api.pid, ...workerPids]).size).toBe(3);
    for (const msg of ["database migrated", "webhook endpoint from WEBHOOK_URL"]) {
      const found = logs.filter((line) => line.msg === msg);
      expect(found, msg).toHaveLength(1);
      expect(found[0]).toMatchObject({ role: "primary", pid: api.pid });
    }
    const workerLines = logs.filter((line) => line.msg === "worker listening");
    expect(workerLines.map((line) => line.pid).sort()).toEqual([...workerPids].sort());
    for (const line of workerLines) expect(line.worker).toEqual(listening.workers.find((w) => w.pid === line.pid)?.worker);
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it(`${ORDERS} orders x ${COPIES} concurrent notifies over both workers: one payment event and one order.paid each, each delivered once; metrics add the workers up`, async () => {
    const orders: OrderPaymentResponse["order"][] = [];
    const token = await signInAt(api.url, sandbox.url, `cluster-${kind}`);
    for (let i = 0; i < ORDERS; i++) {
      const created = await requestJson(api.url, "POST", "/api/orders", { token, body: { items: [{ productId: "tote", quantity: 1 }] } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      orders.push((created.body as unknown as OrderPaymentResponse).order);
    }
    const replies = await Promise.all(
      orders.flatMap((order, i) => {
        const body = buildSignedPayNotify(payNotifyFields(order, { transaction_id: `4200000${kind === "sqlite" ? 1 : 2}${String(i).padStart(4, "0")}`.padEnd(28, "3") }), {
          key: MERCHANT.key,
          signType: "HMAC-SHA256",
          omitSignType: true,
        });
        return Array.from({ length: COPIES }, async () => {
          const response = await fetch(`${api.url}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
          return `${response.status} ${await response.text()}`;
        });
      }),
    );
    expect(new Set(replies)).toEqual(new Set([`200 ${NOTIFY_SUCCESS_REPLY}`]));
    const ids = orders.map((order) => order.id);
    const payments = await database.db.selectFrom("payment_events").select("order_id").where("order_id", "in", ids).execute();
    expect(payments.map((row) => row.order_id).sort()).toEqual([...ids].sort());
    const events = await database.db.selectFrom("webhook_events").select(["order_id", "id"]).where("type", "=", "order.paid").where("order_id", "in", ids).execute();
    expect(events.map((row) => row.order_id).sort()).toEqual([...ids].sort());
    const paid = await database.db.selectFrom("orders").select("status").where("id", "in", ids).execute();
    expect(paid.every((row) => row.status === "paid")).toBe(true);

    // Both workers served notifies; "order paid" once per order over the two.
    const logs = lines(api);
    const paidLines = logs.filter((line) => line.msg === "order paid");
    expect(paidLines).toHaveLength(ORDERS);
    const servedBy = new Set(logs.filter((line) => line.path === "/wxpay/notify").map((line) => line.worker));
    expect(servedBy.size).toBe(2);
    expect(servedBy.has(undefined)).toBe(false);

    // Every order.paid reaches the endpoint once, whichever worker's dispatcher claimed it.
    const eventIds = new Set(events.map((row) => row.id));
    await receiver.waitFor(() => [...receiver.acceptedCounts().keys()].filter((id) => eventIds.has(id)).length === ORDERS, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const counts = receiver.acceptedCounts();
    for (const id of eventIds) expect(counts.get(id), id).toBe(1);
    for (const request of receiver.accepted().filter((r) => eventIds.has(r.eventId))) expect((JSON.parse(request.body) as WebhookEvent).type).toBe("order.paid");

    // One view of the host: accepted + duplicates over both workers; the database gauge taken once.
    const samples = parsePrometheusText(await (await fetch(metricsUrl)).text());
    const notifies = (outcome: string, reason: string): number => sampleValue(samples, "pay_notifies_total", { kind: "pay", protocol: "v2", outcome, reason });
    expect(notifies("accepted", "none")).toBe(ORDERS);
    expect(notifies("duplicate", "DUPLICATE")).toBe(ORDERS * (COPIES - 1));
    const pending = await database.db.selectFrom("webhook_deliveries").select("id").where("state", "=", "pending").execute();
    expect(sampleValue(samples, "pay_webhook_pending_deliveries")).toBe(pending.length);
  }, 90_000);

  it(`the sweep of both workers queries a stale order at most once per ${QUERY_AFTER_SECONDS} s (the claim)`, async () => {
    const token = await signInAt(api.url, sandbox.url, `cluster-sweep-${kind}`);
    const ids: string[] = [];
    for (let i = 0; i < PENDING; i++) {
      const created = await requestJson(api.url, "POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
      expect(created.status).toBe(201);
      ids.push((created.body as unknown as OrderPaymentResponse).order.id);
    }
    // When each orderquery reached the gateway (stamped as the proxy's record grows, every 20 ms).
    const stamps = new Map<Exchange, number>();
    const queriesOf = (id: string): number[] => {
      for (const exchange of gatewayProxy.exchanges) if (!stamps.has(exchange)) stamps.set(exchange, Date.now());
      return gatewayProxy.exchanges.filter((e) => e.path === "/pay/orderquery" && e.requestBody.includes(id)).map((e) => stamps.get(e) as number);
    };
    // Two rounds of queries: the first after QUERY_AFTER_SECONDS, the second no earlier than as long again.
    await waitFor("each pending order is swept twice", () => Promise.resolve(ids.every((id) => queriesOf(id).length >= 2)), 30_000);
    for (const id of ids) {
      const times = queriesOf(id);
      for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number), id).toBeGreaterThanOrEqual(QUERY_AFTER_SECONDS * 1000 - 100);
    }
  }, 60_000);

  it("each due day is reconciled by one run, though both workers' schedulers look", async () => {
    // RECONCILE_AT=00:00: yesterday and the two days before are due from the first look, 5 s after the start.
    await waitFor(
      "three days reconciled",
      async () => (await database.db.selectFrom("reconciliation_runs").select("state").where("state", "!=", "running").execute()).length >= 3,
      Math.max(5_000, 30_000 - (Date.now() - startedAt)),
    );
    const runs = await database.db.selectFrom("reconciliation_runs").select(["bill_date", "attempt", "trigger", "state", "error_code"]).orderBy("bill_date").execute();
    expect(runs).toHaveLength(3);
    for (const run of runs) expect(run, JSON.stringify(runs)).toMatchObject({ attempt: 1, trigger: "schedule" });
    const started = lines(api).filter((line) => line.msg === "reconciliation started");
    expect(started.map((line) => line.date).sort()).toEqual(runs.map((run) => run.bill_date));
  }, 40_000);

  it("a worker killed with SIGKILL is replaced: the port keeps answering, the primary logs the death and the restart", async () => {
    const listening = lines(api).find((line) => line.msg === "API listening") as LogLine & { workers: { pid: number }[] };
    const victim = listening.workers[0]?.pid as number;
    process.kill(victim, "SIGKILL");
    await waitFor("the worker is replaced", () => Promise.resolve(lines(api).some((line) => line.msg === "worker restarted")), 20_000);
    const died = lines(api).find((line) => line.msg === "worker died: restarting it");
    expect(died).toMatchObject({ role: "primary", pid: api.pid, workerPid: victim, signal: "SIGKILL", quickDeaths: 1, restartInMs: 500 });
    const restarted = lines(api).find((line) => line.msg === "worker restarted") as LogLine & { port: number };
    expect(restarted.port).toBe(api.port);
    for (let i = 0; i < 10; i++) expect((await requestJson(api.url, "GET", "/readyz")).status).toBe(200);
  }, 30_000);

  it("SIGTERM drains: a notify in flight is answered SUCCESS and committed, every worker stops, the primary exits 0", async () => {
    const token = await signInAt(api.url, sandbox.url, `cluster-drain-${kind}`);
    const created = await requestJson(api.url, "POST", "/api/orders", { token, body: { items: [{ productId: "tote", quantity: 1 }] } });
    const { order } = created.body as unknown as OrderPaymentResponse;
    const body = buildSignedPayNotify(payNotifyFields(order, { transaction_id: `4200000${kind === "sqlite" ? 5 : 6}`.padEnd(28, "9") }), {
      key: MERCHANT.key,
      signType: "HMAC-SHA256",
      omitSignType: true,
    });
    let signalled: Promise<void> | undefined;
    const answer = slowNotify(
      api.url,
      body,
      () => {
        // Half the body is on its way: stop the API now, and send the rest 500 ms later.
        signalled = new Promise((resolve) => setTimeout(resolve, 100)).then(() => void process.kill(api.pid, "SIGTERM"));
      },
      500,
    );
    expect(await answer).toEqual({ status: 200, text: NOTIFY_SUCCESS_REPLY });
    await signalled;
    expect(await api.exited).toBe("0");
    expect(await database.db.selectFrom("payment_events").select("order_id").where("order_id", "=", order.id).execute()).toHaveLength(1);
    const logs = lines(api);
    expect(logs.filter((line) => line.msg === "worker stopped").every((line) => line.code === 0)).toBe(true);
    expect(logs.filter((line) => line.msg === "worker stopped").length).toBeGreaterThanOrEqual(2);
    expect(logs.filter((line) => line.msg === "stopped")).toEqual([expect.objectContaining({ role: "primary", pid: api.pid, code: 0 })]);
    // Refused afterwards: nothing listens on the port.
    await expect(fetch(`${api.url}/readyz`)).rejects.toThrow();
  }, 40_000);
});
