// Issue 21, notifies first: NOTIFY_PORT as real processes on SQLite and PostgreSQL. A primary forks one API worker
// (API_WORKERS=1) and one notify worker listening on NOTIFY_PORT alone. WeChat Pay (the sandbox) delivers to the
// notify port and the notify worker commits the payment; that port answers nothing but the notify and health
// routes; PORT still takes notifies (URLs given out before the change); a notify worker killed with -9 is replaced
// by a notify worker on the same port; the API worker runs at a lower CPU priority (API_WORKER_NICENESS); SIGTERM
// drains both and exits 0.
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import type { OrderPaymentResponse } from "@pay/core/contract";
import { buildSignedPayNotify } from "@pay/core/testing";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "./reliability/api-process.js";
import { payAtSandbox, payNotifyFields, requestJson, signInAt, waitFor } from "./reliability/fixtures.js";
import { DEFAULT_API_WORKER_NICENESS, loadConfig } from "../src/env.js";
import { startApi } from "../src/server.js";
import { MERCHANT } from "./support/api-harness.js";
import { captureLogs } from "./support/captured-logs.js";
import { startApiEnv } from "./support/start-env.js";
import { threadNiceValues } from "./support/thread-nice.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "./support/databases.js";

interface LogLine {
  readonly msg?: string;
  readonly pid?: number;
  readonly worker?: number;
  readonly role?: string;
  readonly path?: string;
  readonly status?: number;
  readonly [field: string]: unknown;
}

function lines(api: ApiProcess): LogLine[] {
  return api.output.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as LogLine);
}

let build: ApiBuild;
beforeAll(async () => {
  build = await compileApi();
}, 120_000);

describe.each(DATABASES)("NOTIFY_PORT on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let api: ApiProcess;
  let notifyUrl: string;
  let token: string;

  beforeAll(async () => {
    database = await openTestDatabase(kind, { migrate: false });
    sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      requireClientCert: false,
    });
    const notifyPort = await freePort();
    notifyUrl = `http://127.0.0.1:${notifyPort}`;
    // WeChat Pay is told the notify port: every notify of the orders below goes there.
    const env = sandboxApiEnv({ databaseUrl: database.url, sandboxUrl: sandbox.url, notifyBaseUrl: notifyUrl, extra: { NOTIFY_PORT: String(notifyPort) } });
    api = await startApiProcess(build.main, env, 40_000);
    token = await signInAt(api.url, sandbox.url, `notify-listener-${kind}`);
  }, 90_000);

  afterAll(async () => {
    await api.stop();
    await sandbox.stop();
    await database.close();
  });

  async function createOrder(): Promise<OrderPaymentResponse> {
    const created = await requestJson(api.url, "POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as unknown as OrderPaymentResponse;
  }

  async function statusOf(orderId: string): Promise<string> {
    const answer = await requestJson(api.url, "GET", `/api/orders/${orderId}`, { token });
    return (answer.body as { order?: { status?: string } }).order?.status ?? `HTTP ${answer.status}`;
  }

  it("the primary forks an API worker on PORT and a notify worker on NOTIFY_PORT, and names both URLs", async () => {
    await waitFor(
      "both workers' lines",
      () => Promise.resolve(lines(api).some((line) => line.msg === "notify worker listening") && lines(api).some((line) => line.msg === "worker listening")),
      5_000,
    );
    const logs = lines(api);
    const listening = logs.find((line) => line.msg === "API listening") as LogLine & { url: string; notifyUrl: string; workers: { pid: number; role: string }[] };
    expect(listening).toMatchObject({ role: "primary", pid: api.pid, url: api.url, notifyUrl });
    expect(listening.workers.map((worker) => worker.role).sort()).toEqual(["api", "notify"]);
    const notifyWorker = listening.workers.find((worker) => worker.role === "notify");
    expect(logs.find((line) => line.msg === "notify worker listening")).toMatchObject({ role: "notify", pid: notifyWorker?.pid, url: notifyUrl });
    expect(logs.filter((line) => line.msg === "worker listening")).toHaveLength(1);
    // The primary migrated, once.
    expect(logs.filter((line) => line.msg === "database migrated")).toHaveLength(1);
  });

  it("the API worker runs API_WORKER_NICENESS (10) nicer than the notify worker and the primary, every thread of it", () => {
    const workers = (lines(api).find((line) => line.msg === "API listening") as LogLine & { workers: { pid: number; role: string }[] }).workers;
    const pidOf = (role: string): number => workers.find((worker) => worker.role === role)?.pid as number;
    const primaryNice = threadNiceValues(api.pid);
    const notifyNice = threadNiceValues(pidOf("notify"));
    const apiNice = threadNiceValues(pidOf("api"));
    // The test runner's own nice value is whatever it was started with: everything is relative to the primary's.
    const base = primaryNice[0] as number;
    expect(new Set(primaryNice)).toEqual(new Set([base]));
    expect(new Set(notifyNice)).toEqual(new Set([base]));
    expect(apiNice.length).toBeGreaterThan(1);
    expect(new Set(apiNice)).toEqual(new Set([Math.min(19, base + DEFAULT_API_WORKER_NICENESS)]));
    expect(lines(api).find((line) => line.msg === "API worker yields the CPU to the notify worker")).toMatchObject({
      pid: pidOf("api"),
      nice: Math.min(19, base + DEFAULT_API_WORKER_NICENESS),
      threads: expect.any(Number) as number,
    });
  });

  it("a payment's notify arrives on the notify port and the notify worker commits it", async () => {
    const { order, payment } = await createOrder();
    const paid = await payAtSandbox(sandbox.url, payment);
    expect(paid).toMatchObject({ errMsg: "requestPayment:ok" });
    await waitFor("the order is paid", async () => (await statusOf(order.id)) === "paid", 15_000);
    const notifyWorkerPid = (lines(api).find((line) => line.msg === "notify worker listening") as LogLine).pid;
    // The order is paid at the commit; the request's log line follows the answer, through the process's stdout.
    const servedLines = (): LogLine[] => lines(api).filter((line) => line.path === "/wxpay/notify" && line.status === 200);
    await waitFor("the notify's log line", () => Promise.resolve(servedLines().length > 0), 5_000);
    const served = servedLines();
    expect(served.length).toBeGreaterThan(0);
    for (const line of served) expect(line).toMatchObject({ role: "notify", pid: notifyWorkerPid });
    const events = await database.db.selectFrom("payment_events").select("order_id").where("order_id", "=", order.id).execute();
    expect(events).toHaveLength(1);
  }, 30_000);

  it("the notify port answers nothing but the notify and health routes; the public API there is 404", async () => {
    const { order } = await createOrder();
    for (const [method, path] of [
      ["GET", `/api/orders/${order.id}`],
      ["POST", "/api/orders"],
      ["POST", "/api/session"],
      ["GET", "/api/admin/overview"],
      ["GET", "/console/"],
      ["GET", "/"],
    ] as const) {
      const answer = await fetch(`${notifyUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(method === "POST" ? { body: JSON.stringify({ items: [{ productId: "mug", quantity: 1 }] }) } : {}),
      });
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
    // Nothing was created through the notify port.
    const orders = await database.db.selectFrom("orders").select("id").execute();
    expect(orders.length).toBe(2);
    expect(await (await fetch(`${notifyUrl}/healthz`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${notifyUrl}/readyz`)).json()).toEqual({ status: "ready", database: kind });
  }, 30_000);

  it("PORT still takes notifies: a notify URL given out before NOTIFY_PORT keeps working", async () => {
    const { order } = await createOrder();
    const body = buildSignedPayNotify(payNotifyFields(order, { transaction_id: `42000099${kind === "sqlite" ? 1 : 2}`.padEnd(28, "7") }), {
      key: MERCHANT.key,
      signType: "HMAC-SHA256",
      omitSignType: true,
    });
    const answer = await fetch(`${api.url}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe(NOTIFY_SUCCESS_REPLY);
    expect(await statusOf(order.id)).toBe("paid");
  }, 30_000);

  it("a notify worker killed with SIGKILL is replaced by a notify worker on the same port", async () => {
    const victim = (lines(api).find((line) => line.msg === "notify worker listening") as LogLine).pid as number;
    process.kill(victim, "SIGKILL");
    await waitFor("the notify worker is replaced", () => Promise.resolve(lines(api).filter((line) => line.msg === "notify worker listening").length === 2), 20_000);
    const died = lines(api).find((line) => line.msg === "worker died: restarting it");
    expect(died).toMatchObject({ role: "primary", workerRole: "notify", workerPid: victim, signal: "SIGKILL" });
    const replacement = lines(api).filter((line) => line.msg === "notify worker listening")[1] as LogLine;
    expect(replacement.pid).not.toBe(victim);
    expect(replacement).toMatchObject({ role: "notify", url: notifyUrl });
    // The API worker was not touched, and the sandbox's next notify lands on the new notify worker.
    expect(lines(api).filter((line) => line.msg === "worker listening")).toHaveLength(1);
    const served = lines(api).filter((line) => line.path === "/wxpay/notify" && line.status === 200).length;
    const { order, payment } = await createOrder();
    expect(await payAtSandbox(sandbox.url, payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    await waitFor("the order is paid", async () => (await statusOf(order.id)) === "paid", 15_000);
    const notifyLines = (): LogLine[] => lines(api).filter((line) => line.path === "/wxpay/notify" && line.status === 200);
    const before = served;
    await waitFor("the notify's log line", () => Promise.resolve(notifyLines().length > before), 5_000);
    expect(notifyLines().at(-1)).toMatchObject({ role: "notify", pid: replacement.pid });
  }, 40_000);

  it("SIGTERM drains both workers and the primary exits 0", async () => {
    expect(await api.stop()).toBe("0");
    // The last lines may still be on their way through the pipe when the process has exited.
    await waitFor("the primary's last line", () => Promise.resolve(lines(api).some((line) => line.msg === "stopped")), 5_000);
    const logs = lines(api);
    expect(
      logs
        .filter((line) => line.msg === "worker stopped")
        .map((line) => (line.workerRole as string | undefined) ?? "api")
        .sort(),
    ).toEqual(["api", "notify"]);
    expect(logs.find((line) => line.msg === "stopped")).toMatchObject({ role: "primary", code: 0 });
  }, 40_000);
});

describe("NOTIFY_PORT in a process that embeds startApi", () => {
  it("is not served there (main() forks the notify worker): startApi says so in a warning and serves notifies on PORT", async () => {
    const sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)], requireClientCert: false });
    const database = await openTestDatabase("sqlite");
    const notifyPort = await freePort();
    const { logger, logs } = captureLogs();
    try {
      const api = await startApi(
        loadConfig(startApiEnv({ databaseUrl: database.url, sandboxUrl: sandbox.url }, { NOTIFY_PORT: String(notifyPort), RECONCILE_SCHEDULE: "off" })),
        logger,
      );
      try {
        const warning = logs.map((line) => JSON.parse(line) as LogLine).find((line) => line.msg?.startsWith("NOTIFY_PORT is set but this process was started with startApi"));
        expect(warning).toMatchObject({ level: 40, notifyPort });
        await expect(fetch(`http://127.0.0.1:${notifyPort}/healthz`)).rejects.toThrow();
        // PORT answers the notify routes as always (an empty body is refused in XML, not 404).
        const answer = await fetch(`${api.url}/wxpay/notify`, { method: "POST", body: "", headers: { "content-type": "text/xml" } });
        expect(answer.status).not.toBe(404);
        expect(await answer.text()).toContain("<return_code><![CDATA[FAIL]]></return_code>");
      } finally {
        await api.stop();
      }
    } finally {
      await database.close();
      await sandbox.stop();
    }
  }, 30_000);
});
