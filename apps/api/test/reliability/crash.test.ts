// kill -9 of an API process (SQLite file) while the sandbox's pay notifies stream in, twice. Every
// notify that got a SUCCESS reply is in the database the moment the process dies; after a restart on
// the same port and file the sandbox's retries deliver the rest. Nothing acknowledged is lost.
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import type { OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MERCHANT, sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "./api-process.js";
import { recordFigure } from "./figures.js";
import { deliveries, payAtSandbox, requestJson, signInAt, waitFor } from "./fixtures.js";

const ORDERS = 30;
const CRASHES = 2;
/** Pays are spaced so notifies are still arriving when the process dies. */
const PAY_EVERY_MS = 20;
/** Orders paid at the gateway while the process is down, before it restarts. */
const PAID_WHILE_DOWN = 3;

describe("kill -9 while notifies stream in (SQLite)", () => {
  let build: ApiBuild;
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let api: ApiProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    build = await compileApi();
    database = await openTestDatabase("sqlite");
    sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      requireClientCert: false,
      // 15 ms, 15 ms, 30 ms, 180 ms, 600 ms, 1.2 s, 1.8 s ... between attempts; two copies of each first attempt.
      notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 2, timeoutMs: 2000 },
    });
    // One fixed port, so the restarted process is where the sandbox keeps delivering.
    const port = await freePort();
    env = sandboxApiEnv({
      databaseUrl: database.url,
      sandboxUrl: sandbox.url,
      notifyBaseUrl: `http://127.0.0.1:${port}`,
      port,
      // Only notifies may pay an order here: no orderquery from reads or the sweep.
      extra: { ORDER_QUERY_AFTER_SECONDS: "86400", SWEEP_INTERVAL_SECONDS: "86400" },
    });
    api = await startApiProcess(build.main, env);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await sandbox.stop();
    await database.close();
  });

  const paidInDatabase = async (): Promise<Map<string, number>> => {
    const rows = await database.db
      .selectFrom("orders")
      .leftJoin("payment_events", "payment_events.order_id", "orders.id")
      .select(["orders.id as id", "orders.status as status", "payment_events.source as source"])
      .execute();
    const paid = new Map<string, number>();
    for (const row of rows) if (row.status === "paid" && row.source === "notify") paid.set(row.id, (paid.get(row.id) ?? 0) + 1);
    return paid;
  };
  const acknowledged = async (): Promise<Set<string>> => new Set((await deliveries(sandbox.url, "pay")).filter((d) => d.outcome === "acknowledged").map((d) => d.outTradeNo));

  it(`${ORDERS} paid orders, ${CRASHES} kill -9s mid-stream: every acknowledged notify is persisted at the crash, and the retries complete the rest`, async () => {
    const url = api?.url ?? "";
    const token = await signInAt(url, sandbox.url, "crash-test-payer");
    const orders: OrderPaymentResponse[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const created = await requestJson(url, "POST", "/api/orders", { token, body: { items: [{ productId: "test-item", quantity: i + 1 }] } });
      expect(created.status).toBe(201);
      orders.push(created.body as unknown as OrderPaymentResponse);
    }

    const crashes: Array<{
      paidAtGatewayAtCrash: number;
      ackedAtCrash: number;
      persistedAtCrash: number;
      unacknowledgedAtCrash: number;
      paidWhileDown: number;
      downMs: number;
      restartMs: number;
    }> = [];
    let paidAtGateway = 0;
    const pay = async (count: number, spacingMs: number): Promise<void> => {
      for (let i = 0; i < count && paidAtGateway < ORDERS; i++) {
        if (i > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
        const next = orders[paidAtGateway];
        if (next === undefined) return;
        expect(await payAtSandbox(sandbox.url, next.payment)).toMatchObject({ errMsg: "requestPayment:ok" });
        paidAtGateway += 1;
      }
    };

    const segment = Math.floor(ORDERS / (CRASHES + 1));
    for (let crash = 1; crash <= CRASHES; crash++) {
      await pay(segment - PAID_WHILE_DOWN, PAY_EVERY_MS);
      // kill -9 right after a payment: its notify copies are on the wire, earlier ones may still be in flight.
      const killedAt = performance.now();
      expect(await api?.crash()).toBe("SIGKILL");
      const gatewayPaid = paidAtGateway;
      const acked = await acknowledged();
      // The durability check: straight from the file the dead process wrote, before any restart.
      const persisted = await paidInDatabase();
      for (const id of acked) expect(persisted.get(id), `acknowledged ${id} must be paid`).toBe(1);
      // Payments go on while it is down; their notifies fail and are retried later.
      await pay(PAID_WHILE_DOWN, PAY_EVERY_MS);
      const restartedAt = performance.now();
      api = await startApiProcess(build.main, env);
      crashes.push({
        paidAtGatewayAtCrash: gatewayPaid,
        ackedAtCrash: acked.size,
        persistedAtCrash: persisted.size,
        unacknowledgedAtCrash: gatewayPaid - acked.size,
        paidWhileDown: PAID_WHILE_DOWN,
        downMs: Math.round(restartedAt - killedAt),
        restartMs: Math.round(performance.now() - restartedAt),
      });
    }
    await pay(ORDERS, PAY_EVERY_MS);

    const recoveryStarted = performance.now();
    await waitFor("every order is paid through a notify", async () => (await paidInDatabase()).size === ORDERS, 30_000);
    await waitFor("every order's notify is acknowledged", async () => (await acknowledged()).size === ORDERS, 30_000);
    const recoveryMs = Math.round(performance.now() - recoveryStarted);

    const paid = await paidInDatabase();
    expect([...paid.values()].every((events) => events === 1)).toBe(true);
    const attempts = await deliveries(sandbox.url, "pay");
    const failedAttempts = attempts.filter((d) => d.outcome !== "acknowledged").length;
    const maxAttempt = Math.max(...attempts.map((d) => d.attempt));
    expect(failedAttempts).toBeGreaterThan(0);
    for (const { order } of orders) {
      const answer = await requestJson(api?.url ?? "", "GET", `/api/orders/${order.id}`, { token });
      expect(answer.body.order).toMatchObject({ status: "paid" });
    }
    recordFigure("crash.sqlite", {
      orders: ORDERS,
      crashes,
      deliveryAttempts: attempts.length,
      failedAttempts,
      maxAttempt,
      recoveryAfterLastPayMs: recoveryMs,
      paidEventsPerOrder: 1,
    });
  }, 90_000);
});
