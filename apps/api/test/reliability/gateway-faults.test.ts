// Gateway faults on orderquery, closeorder, refund and refundquery, injected through the sandbox's fault
// queue (services/gateway-faults.test.ts covers unifiedorder). Each answer is clear, nothing is half
// written, and the retry after the fault reuses the same out_trade_no / out_refund_no.
import type { Order, RefundResponse } from "@pay/core/contract";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepOnce } from "../../src/services/sweeper.js";
import { ADMIN_TOKEN, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { recordFigure } from "./figures.js";
import { clearFaults, createPendingOrder, injectFaults, sandboxOrder } from "./fixtures.js";
import { paidEvents, snapshotState } from "./snapshot.js";

/** Each fault, and what the API must answer when the gateway keeps giving it (the client retries 3 times). */
const FAULTS = [
  { what: "a timeout", faults: [{ kind: "timeout" }], status: 504, code: "GATEWAY_TIMEOUT" },
  { what: "HTTP 500", faults: [{ kind: "http", status: 500 }], status: 503, code: "GATEWAY_UNAVAILABLE" },
  { what: "HTTP 503", faults: [{ kind: "http", status: 503 }], status: 503, code: "GATEWAY_UNAVAILABLE" },
  // The garbage body holds a NUL byte: on PostgreSQL it once made the refund's failure note (refunds.last_error) throw, a 500.
  { what: "a garbage body", faults: [{ kind: "garbage" }], status: 502, code: "GATEWAY_ERROR" },
  { what: "SYSTEMERROR", faults: [{ kind: "systemerror" }], status: 503, code: "GATEWAY_UNAVAILABLE" },
] as const;
/** The harness's gateway gives up on an attempt after 2 s and makes 3; anything else answers at once. */
const boundFor = (what: string): number => (what === "a timeout" ? 8000 : 1500);
/**
 * A timeout costs 6 s of CI time per case and does not depend on the database, except where the
 * failure is written down (a refund's last_error): read-only and closing calls time out on SQLite only.
 */
const faultsFor = (kind: string) => (kind === "sqlite" ? FAULTS : FAULTS.filter(({ what }) => what !== "a timeout"));

describe.each(DATABASES)("gateway faults on orderquery, closeorder, refund and refundquery on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    // Notifies are lost so that only orderquery can learn of a payment; the clock moves past the query delay.
    // Each case is about one call's answer: no breaker (the sweep's failing refund queries would open it; the
    // breaker has its own suite, gateway-breaker.test.ts).
    h = await startApiHarness(kind, { notifies: "lost", clock: () => Date.now() + offset, sandbox: { refundSettleMs: null }, env: { GATEWAY_BREAKER_FAILURES: "off" } });
  });
  afterEach(async () => {
    await clearFaults(h.sandbox.url);
  });
  afterAll(async () => {
    recordFigure(`gateway-faults.${kind}`, { answerMs: timings });
    await h.close();
  });

  const admin = (key: string) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key });

  async function timed<T>(label: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await call();
    timings[label] = Math.round(performance.now() - started);
    return result;
  }

  /** An order paid at the gateway and confirmed by a query (its notify was lost). */
  async function paidOrder(): Promise<{ order: Order; token: string }> {
    const { order, payment, token } = await createPendingOrder(h, undefined, "mug");
    await h.pay(payment);
    offset += 6000;
    const answer = await h.request("GET", `/api/orders/${order.id}`, { token });
    expect((answer.body.order as Order).status).toBe("paid");
    return { order: answer.body.order as Order, token };
  }

  it.each(faultsFor(kind))("orderquery answering $what: GET /api/orders/:id answers the stored state in time; the next query confirms the payment", async ({ what, faults }) => {
    const { order, payment, token } = await createPendingOrder(h);
    await h.pay(payment);
    offset += 6000;
    await injectFaults(h.sandbox.url, "/pay/orderquery", faults);
    const before = await snapshotState(h.database.db);
    const answer = await timed(`orderquery ${what}`, () => h.request("GET", `/api/orders/${order.id}`, { token }));
    expect(answer.status).toBe(200);
    expect(answer.body.order).toMatchObject({ id: order.id, status: "pending", transactionId: null });
    expect(timings[`orderquery ${what}`]).toBeLessThan(boundFor(what));
    expect(await snapshotState(h.database.db)).toBe(before);

    await clearFaults(h.sandbox.url);
    offset += 6000;
    const confirmed = await h.request("GET", `/api/orders/${order.id}`, { token });
    expect(confirmed.body.order).toMatchObject({ status: "paid" });
    expect(await paidEvents(h.database.db, order.id)).toBe(1);
  });

  it.each(faultsFor(kind))("closeorder answering $what: $status $code, the order stays pending, the retry closes it", async ({ what, faults, status, code }) => {
    const { order, token } = await createPendingOrder(h);
    await injectFaults(h.sandbox.url, "/pay/closeorder", faults);
    const before = await snapshotState(h.database.db);
    const failed = await timed(`closeorder ${what}`, () => h.request("POST", `/api/orders/${order.id}/close`, { token }));
    expect(failed.status).toBe(status);
    expect(failed.body).toMatchObject({ error: { code } });
    expect(timings[`closeorder ${what}`]).toBeLessThan(boundFor(what));
    expect(await snapshotState(h.database.db)).toBe(before);
    expect((await sandboxOrder(h.sandbox.url, order.id)).trade_state).toBe("NOTPAY");

    await clearFaults(h.sandbox.url);
    const closed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
    expect(closed.status).toBe(200);
    expect((await sandboxOrder(h.sandbox.url, order.id)).trade_state).toBe("CLOSED");
  });

  it.each(FAULTS)(
    "refund answering $what: $status $code, the amount stays reserved and unpaid, the retry reuses out_refund_no and refunds once",
    async ({ what, faults, status, code }) => {
      const { order } = await paidOrder();
      const key = `fault-${what.replace(/\W/g, "-")}-${kind}`;
      await injectFaults(h.sandbox.url, "/secapi/pay/refund", faults);
      const failed = await timed(`refund ${what}`, () => h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: 700 }, headers: admin(key) }));
      expect(failed.status).toBe(status);
      expect(failed.body).toMatchObject({ error: { code } });
      expect(timings[`refund ${what}`]).toBeLessThan(boundFor(what));
      const rows = await h.database.db.selectFrom("refunds").selectAll().where("order_id", "=", order.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "processing", submitted: 0, refund_id: null, refund_fee: 700 });
      expect(await h.database.db.selectFrom("orders").select(["status", "reserved_refund_fee", "refunded_fee"]).where("id", "=", order.id).executeTakeFirstOrThrow()).toEqual({
        status: "paid",
        reserved_refund_fee: 700,
        refunded_fee: 0,
      });
      expect((await sandboxOrder(h.sandbox.url, order.id)).refunds).toHaveLength(0);

      await clearFaults(h.sandbox.url);
      const retried = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: 700 }, headers: admin(key) });
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);
      expect((retried.body as unknown as RefundResponse).refund.id).toBe(rows[0]?.id);
      expect((await sandboxOrder(h.sandbox.url, order.id)).refunds).toEqual([expect.objectContaining({ out_refund_no: rows[0]?.id, refund_fee: 700 })]);
    },
  );

  it.each(FAULTS.filter(({ what }) => what !== "a timeout"))(
    "refundquery answering $what in the sweep: the refund stays processing; the next sweep settles it",
    async ({ what, faults }) => {
      const { order } = await paidOrder();
      const created = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: 100 }, headers: admin(`sweep-${what.replace(/\W/g, "-")}-${kind}`) });
      expect(created.status).toBe(201);
      const refundId = (created.body as unknown as RefundResponse).refund.id;
      const settled = await h.control.settleRefund({ mch_id: h.config.merchant.mchId, out_refund_no: refundId, status: "SUCCESS" });
      expect(settled.refund_status).toBe("SUCCESS");
      await injectFaults(h.sandbox.url, "/pay/refundquery", faults, 100);
      offset += 6000;
      const faulted = await sweepOnce(h.services);
      expect(faulted.errors).toBeGreaterThanOrEqual(1);
      expect(await h.database.db.selectFrom("refunds").select("status").where("id", "=", refundId).executeTakeFirstOrThrow()).toEqual({ status: "processing" });
      expect(await h.database.db.selectFrom("orders").select("refunded_fee").where("id", "=", order.id).executeTakeFirstOrThrow()).toEqual({ refunded_fee: 0 });

      await clearFaults(h.sandbox.url);
      offset += 6000;
      await sweepOnce(h.services);
      expect(await h.database.db.selectFrom("refunds").select("status").where("id", "=", refundId).executeTakeFirstOrThrow()).toEqual({ status: "succeeded" });
      expect(await h.database.db.selectFrom("orders").select("refunded_fee").where("id", "=", order.id).executeTakeFirstOrThrow()).toEqual({ refunded_fee: 100 });
    },
  );
});
