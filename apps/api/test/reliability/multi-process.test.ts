// Concurrency across real OS processes: API children (`node <build>/main.js`, compiled from src in
// beforeAll) on one database, the sandbox in the test process, a round-robin proxy in front of the
// processes for the sandbox's notifies. 200 concurrent duplicate notifies for one order make exactly one
// transition; concurrent refunds never reserve more than was paid.
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import type { OrderPaymentResponse, RefundResponse } from "@pay/core/contract";
import { buildSignedPayNotify } from "@pay/core/testing";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, MERCHANT } from "../support/api-harness.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "./api-process.js";
import { quantile, recordFigure } from "./figures.js";
import { payAtSandbox, payNotifyFields, requestJson, sandboxOrder, signInAt, waitFor } from "./fixtures.js";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy.js";
import { paidEvents } from "./snapshot.js";

const DUPLICATES = 200;
const ROUNDS = 3;
const CONCURRENT_REFUNDS = 50;

let build: ApiBuild;
beforeAll(async () => {
  build = await compileApi();
}, 120_000);

describe.each([
  ["postgres", 2],
  ["sqlite", 1],
] as const)("duplicate notifies and concurrent refunds on %s with %i API process(es)", (kind, processCount) => {
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let balancer: RecordingProxy;
  const processes: ApiProcess[] = [];
  let next = 0;
  /** Round robin over the processes, as a load balancer in front of them would. */
  const anyProcess = (): string => processes[next++ % processes.length]?.url ?? "http://127.0.0.1:9";

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      requireClientCert: false,
      refundSettleMs: 50,
      notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
    });
    balancer = await startRecordingProxy(() => anyProcess());
    const env = sandboxApiEnv({ databaseUrl: database.url, sandboxUrl: sandbox.url, notifyBaseUrl: balancer.url });
    for (let i = 0; i < processCount; i++) processes.push(await startApiProcess(build.main, env));
    expect(new Set(processes.map((p) => p.pid)).size).toBe(processCount);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await balancer.close();
    await sandbox.stop();
    await database.close();
  });

  async function createOrder(productId: string, quantity = 1): Promise<OrderPaymentResponse> {
    const token = await signInAt(anyProcess(), sandbox.url, `user-${Math.random()}`);
    const created = await requestJson(anyProcess(), "POST", "/api/orders", { token, body: { items: [{ productId, quantity }] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as unknown as OrderPaymentResponse;
  }

  it(`${DUPLICATES} concurrent duplicate notifies for one order, spread over the processes: one transition, one paid event, every reply SUCCESS (${ROUNDS} rounds)`, async () => {
    const latencies: number[] = [];
    const walls: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { order } = await createOrder("tote");
      const body = buildSignedPayNotify(payNotifyFields(order), { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true });
      const started = performance.now();
      const replies = await Promise.all(
        Array.from({ length: DUPLICATES }, async (_, i) => {
          const sent = performance.now();
          const response = await fetch(`${processes[i % processes.length]?.url ?? ""}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
          const text = await response.text();
          latencies.push(performance.now() - sent);
          return `${response.status} ${text}`;
        }),
      );
      walls.push(performance.now() - started);
      expect(new Set(replies)).toEqual(new Set([`200 ${NOTIFY_SUCCESS_REPLY}`]));
      expect(await paidEvents(database.db, order.id)).toBe(1);
      const row = await database.db.selectFrom("orders").select(["status", "transaction_id"]).where("id", "=", order.id).executeTakeFirstOrThrow();
      expect(row.status).toBe("paid");
      expect(row.transaction_id).toMatch(/^4200000/);
    }
    // Each process served its share: the transition happened in one of them, the rest found it applied.
    const applied = processes.map((p) => p.output.filter((line) => line.includes('"msg":"order paid"')).length);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(ROUNDS);
    recordFigure(`multi-process.duplicates.${kind}`, {
      processes: processCount,
      notifiesPerRound: DUPLICATES,
      rounds: ROUNDS,
      transitionsPerRound: 1,
      paidEventsPerRound: 1,
      wallMs: walls.map(Math.round),
      p50Ms: Math.round(quantile(latencies, 0.5)),
      p99Ms: Math.round(quantile(latencies, 0.99)),
      maxMs: Math.round(quantile(latencies, 1)),
    });
  }, 60_000);

  it(`${CONCURRENT_REFUNDS} concurrent refunds with distinct Idempotency-Keys asking 5x the paid amount: exactly what fits is accepted, never more than paid`, async () => {
    const { order, payment } = await createOrder("coffee-beans");
    expect(await payAtSandbox(sandbox.url, payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    await waitFor(
      "the sandbox's notify marks the order paid",
      async () => (await database.db.selectFrom("orders").select("status").where("id", "=", order.id).executeTakeFirstOrThrow()).status === "paid",
      10_000,
    );

    const fee = Math.ceil((order.totalFee * 5) / CONCURRENT_REFUNDS);
    const fits = Math.floor(order.totalFee / fee);
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT_REFUNDS }, (_, i) =>
        requestJson(processes[i % processes.length]?.url ?? "", "POST", `/api/admin/orders/${order.id}/refunds`, {
          body: { refundFee: fee },
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `concurrent-${kind}-${i}` },
        }),
      ),
    );
    const wallMs = Math.round(performance.now() - started);
    const accepted = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(accepted.length + refused.length, JSON.stringify(answers.filter((a) => a.status !== 201 && a.status !== 409))).toBe(CONCURRENT_REFUNDS);
    // Once the accepted refunds have settled in full the order is `refunded`, and a late request is told so.
    for (const answer of refused) expect(["REFUND_EXCEEDS_PAID", "ORDER_NOT_REFUNDABLE"]).toContain((answer.body.error as { code: string }).code);
    expect(accepted).toHaveLength(fits);
    const acceptedSum = accepted.reduce((sum, a) => sum + (a.body as unknown as RefundResponse).refund.refundFee, 0);
    expect(acceptedSum).toBeLessThanOrEqual(order.totalFee);

    const stored = await database.db.selectFrom("refunds").select(["id", "refund_fee"]).where("order_id", "=", order.id).execute();
    expect(stored).toHaveLength(fits);
    const reserved = await database.db.selectFrom("orders").select("reserved_refund_fee").where("id", "=", order.id).executeTakeFirstOrThrow();
    expect(reserved.reserved_refund_fee).toBe(acceptedSum);

    // The gateway refunds settle and notify back through the balancer: refunded exactly what was accepted.
    await waitFor(
      "every accepted refund settles",
      async () => (await database.db.selectFrom("orders").select("refunded_fee").where("id", "=", order.id).executeTakeFirstOrThrow()).refunded_fee === acceptedSum,
      10_000,
    );
    const atGateway = await sandboxOrder(sandbox.url, order.id);
    expect(atGateway.refunds.map((r) => r.out_refund_no).sort()).toEqual(stored.map((r) => r.id).sort());
    expect(atGateway.refunds.reduce((sum, r) => sum + r.refund_fee, 0)).toBe(acceptedSum);
    recordFigure(`multi-process.refunds.${kind}`, {
      processes: processCount,
      requests: CONCURRENT_REFUNDS,
      paid: order.totalFee,
      feeEach: fee,
      accepted: accepted.length,
      refused: refused.length,
      acceptedSum,
      wallMs,
    });
  }, 60_000);

  // Regression: on PostgreSQL a request racing the settlement of its own key's refund once deadlocked
  // (the order row, then the refund row, against settleRefund's refund row, then order row): a 500.
  it("20 concurrent refunds under one Idempotency-Key, while the first settles, make one refund and 20 answers naming it (3 rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      const { order, payment } = await createOrder("mug");
      await payAtSandbox(sandbox.url, payment);
      await waitFor(
        "the order is paid",
        async () => (await database.db.selectFrom("orders").select("status").where("id", "=", order.id).executeTakeFirstOrThrow()).status === "paid",
        10_000,
      );
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          requestJson(processes[i % processes.length]?.url ?? "", "POST", `/api/admin/orders/${order.id}/refunds`, {
            body: { refundFee: 1000 },
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `same-key-${kind}-${round}` },
          }),
        ),
      );
      expect(
        answers.map((a) => a.status),
        JSON.stringify(answers.find((a) => a.status !== 201)?.body),
      ).toEqual(Array.from({ length: 20 }, () => 201));
      const ids = new Set(answers.map((a) => (a.body as unknown as RefundResponse).refund.id));
      expect(ids.size).toBe(1);
      expect(await database.db.selectFrom("refunds").select("id").where("order_id", "=", order.id).execute()).toHaveLength(1);
      const row = await database.db.selectFrom("orders").select("reserved_refund_fee").where("id", "=", order.id).executeTakeFirstOrThrow();
      expect(row.reserved_refund_fee).toBe(1000);
      expect((await sandboxOrder(sandbox.url, order.id)).refunds).toHaveLength(1);
    }
  }, 60_000);

  it("every process is still alive and ready", async () => {
    for (const process of processes) {
      const ready = await requestJson(process.url, "GET", "/readyz");
      expect(ready).toMatchObject({ status: 200, body: { status: "ready", database: kind } });
    }
  });
});
