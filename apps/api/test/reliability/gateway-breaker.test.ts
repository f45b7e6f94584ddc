// The gateway guard over HTTP against the sandbox (gateway/guard.ts): after N failing calls the breaker opens and
// create-order, renewal, refunds and the sweep stop asking WeChat Pay (503 GATEWAY_UNAVAILABLE with Retry-After,
// nothing written, no call made); once the clock passes the opening a probe goes through and recovery closes it.
// The bulkhead: a call finding every slot taken is refused before anything is stored.
import type { OrderPaymentResponse, RefundResponse } from "@pay/core/contract";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepOnce } from "../../src/services/sweeper.js";
import { ADMIN_TOKEN, eventually, startApiHarness, type ApiHarness, type JsonAnswer } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { clearFaults, injectFaults, sandboxOrder } from "./fixtures.js";

const MUG = { items: [{ productId: "mug", quantity: 1 }] };
const OPEN_SECONDS = 30;

/** The faults left in the sandbox's queue: unchanged means no request reached the gateway. */
async function faultsLeft(h: ApiHarness): Promise<number> {
  return (await h.control.listFaults()).faults.reduce((sum, rule) => sum + rule.remaining, 0);
}

async function orderCount(h: ApiHarness): Promise<number> {
  return (await h.database.db.selectFrom("orders").select("id").execute()).length;
}

/** A metric's value in the app's Prometheus text. */
async function metric(h: ApiHarness, series: string): Promise<number | undefined> {
  const line = (await h.services.metrics.text()).split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function expectShed(answer: JsonAnswer, retryAfterSeconds: number): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.body).toMatchObject({ error: { code: "GATEWAY_UNAVAILABLE", retryAfterSeconds } });
  expect((answer.body.error as { message: string }).message).toContain("was not attempted");
  expect(answer.headers.get("retry-after")).toBe(String(retryAfterSeconds));
}

describe.each(DATABASES)("the gateway breaker over HTTP on %s", (kind) => {
  let h: ApiHarness;
  // The API's clock stands still unless the test moves it: the Retry-After figures are exact.
  const start = Date.now();
  let offset = 0;
  let token: string;
  const create = (key?: string) => h.request("POST", "/api/orders", { token, body: MUG, ...(key === undefined ? {} : { headers: { "idempotency-key": key } }) });

  /** Three failing unifiedorders (HTTP 503 at the gateway, each retried by the client): the breaker opens. */
  async function openBreaker(): Promise<void> {
    await injectFaults(h.sandbox.url, "/pay/unifiedorder", [{ kind: "http", status: 503 }], 1000);
    for (let i = 0; i < 3; i++) {
      const failed = await create();
      expect(failed.status).toBe(503);
      expect(failed.body).toMatchObject({ error: { code: "GATEWAY_UNAVAILABLE" } });
      expect(failed.headers.get("retry-after")).toBeNull();
    }
    expect(await metric(h, 'pay_gateway_breaker_state{protocol="v2"}')).toBe(2);
  }

  beforeAll(async () => {
    h = await startApiHarness(kind, {
      clock: () => start + offset,
      sandbox: { refundSettleMs: null },
      env: { GATEWAY_BREAKER_FAILURES: "3", GATEWAY_BREAKER_OPEN_SECONDS: String(OPEN_SECONDS), GATEWAY_BREAKER_MAX_OPEN_SECONDS: "120" },
    });
    token = await h.signIn("breaker");
  });
  afterEach(async () => {
    await clearFaults(h.sandbox.url);
  });
  afterAll(async () => {
    await h.close();
  });

  it("after N failures create-order and renewal answer 503 GATEWAY_UNAVAILABLE with Retry-After, writing nothing and calling nothing; the sweep defers; past the opening a probe closes it", async () => {
    await openBreaker();
    const pending = await h.database.db.selectFrom("orders").select("id").where("status", "=", "pending").execute();
    const rows = await orderCount(h);
    const faults = await faultsLeft(h);

    expectShed(await create(), OPEN_SECONDS);
    expectShed(await create("breaker-keyed"), OPEN_SECONDS);
    const someOrder = pending[0]?.id ?? "";
    expectShed(await h.request("POST", `/api/orders/${someOrder}/payment`, { token }), OPEN_SECONDS);
    expect(await orderCount(h)).toBe(rows);
    expect(await faultsLeft(h)).toBe(faults);

    // The order lookup answers the stored state without claiming a query; the sweep asks nothing and logs once.
    offset += 6_000;
    const lookup = await h.request("GET", `/api/orders/${someOrder}`, { token });
    expect(lookup.status).toBe(200);
    expect(lookup.body.order).toMatchObject({ status: "pending" });
    expect(await h.database.db.selectFrom("orders").select("last_queried_at").where("id", "=", someOrder).executeTakeFirstOrThrow()).toEqual({ last_queried_at: null });
    const logged = h.logs.length;
    const swept = await sweepOnce(h.services);
    expect(swept).toMatchObject({ queried: 0, closed: 0, errors: 0 });
    expect(swept.deferred).toBeGreaterThanOrEqual(3);
    expect(await faultsLeft(h)).toBe(faults);
    const deferrals = h.logs.slice(logged).filter((line) => line.includes("deferring this protocol's queries and closes"));
    expect(deferrals).toHaveLength(1);
    expect(JSON.parse(deferrals[0] ?? "{}")).toMatchObject({ protocol: "v2", deferred: swept.deferred, retryAfterSeconds: OPEN_SECONDS - 6 });
    expectShed(await create(), OPEN_SECONDS - 6);
    expect(await metric(h, 'pay_gateway_shed_total{protocol="v2",reason="breaker_open"}')).toBeGreaterThanOrEqual(5);

    // Past the opening: half-open; the gateway has recovered; the next create is the probe and closes the breaker.
    await clearFaults(h.sandbox.url);
    offset += OPEN_SECONDS * 1000;
    expect(await metric(h, 'pay_gateway_breaker_state{protocol="v2"}')).toBe(1);
    const probe = await create();
    expect(probe.status, JSON.stringify(probe.body)).toBe(201);
    expect(await metric(h, 'pay_gateway_breaker_state{protocol="v2"}')).toBe(0);
    expect((await create()).status).toBe(201);
    const renewed = await h.request("POST", `/api/orders/${someOrder}/payment`, { token });
    expect(renewed.status).toBe(200);
    expect(await orderCount(h)).toBe(rows + 2);

    // The sweep is back to querying the orders it deferred.
    offset += 6_000;
    const after = await sweepOnce(h.services);
    expect(after.deferred).toBe(0);
    expect(after.queried).toBeGreaterThanOrEqual(3);
    expect(after.errors).toBe(0);
  });

  it("a failed probe opens the breaker again for twice as long", async () => {
    await openBreaker();
    offset += OPEN_SECONDS * 1000;
    const probe = await create();
    expect(probe.status).toBe(503);
    expect(probe.body).toMatchObject({ error: { code: "GATEWAY_UNAVAILABLE" } });
    expect((probe.body.error as { message: string }).message).toContain("HTTP 503");
    expectShed(await create(), OPEN_SECONDS * 2);

    offset += OPEN_SECONDS * 2 * 1000;
    await clearFaults(h.sandbox.url);
    expect((await create()).status).toBe(201);
    expect(await metric(h, 'pay_gateway_breaker_state{protocol="v2"}')).toBe(0);
  });

  it("refunds: a new refund is refused before anything is reserved; a reserved one whose resubmission is shed stays retryable, and refunds once after recovery", async () => {
    const created = (await create()).body as unknown as OrderPaymentResponse;
    await h.pay(created.payment);
    await eventually(async () => ((await h.request("GET", `/api/orders/${created.order.id}`, { token })).body.order as { status: string }).status === "paid");
    const admin = (key: string) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `${key}-${kind}` });

    // A refund whose answer fails (5xx): reserved, unsubmitted, as before the guard. It is the breaker's first failure.
    await injectFaults(h.sandbox.url, "/secapi/pay/refund", [{ kind: "http", status: 503 }], 3);
    const failed = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, { body: { refundFee: 100 }, headers: admin("reserved") });
    expect(failed.status).toBe(503);
    await injectFaults(h.sandbox.url, "/pay/unifiedorder", [{ kind: "http", status: 503 }], 1000);
    for (let i = 0; i < 2; i++) expect((await create()).status).toBe(503);
    expect(await metric(h, 'pay_gateway_breaker_state{protocol="v2"}')).toBe(2);
    const faults = await faultsLeft(h);

    const fresh = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, { body: { refundFee: 200 }, headers: admin("fresh") });
    expectShed(fresh, OPEN_SECONDS);
    const retried = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, { body: { refundFee: 100 }, headers: admin("reserved") });
    expectShed(retried, OPEN_SECONDS);
    expect(await faultsLeft(h)).toBe(faults);
    const rows = await h.database.db.selectFrom("refunds").selectAll().where("order_id", "=", created.order.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: "processing", submitted: 0, refund_id: null, refund_fee: 100 });
    expect(rows[0]?.last_error).toContain("shed");
    expect(await h.database.db.selectFrom("orders").select(["reserved_refund_fee", "refunded_fee"]).where("id", "=", created.order.id).executeTakeFirstOrThrow()).toEqual({
      reserved_refund_fee: 100,
      refunded_fee: 0,
    });
    expect((await sandboxOrder(h.sandbox.url, created.order.id)).refunds).toHaveLength(0);

    await clearFaults(h.sandbox.url);
    offset += OPEN_SECONDS * 1000;
    const recovered = await h.request("POST", `/api/admin/orders/${created.order.id}/refunds`, { body: { refundFee: 100 }, headers: admin("reserved") });
    expect(recovered.status, JSON.stringify(recovered.body)).toBe(201);
    expect((recovered.body as unknown as RefundResponse).refund.id).toBe(rows[0]?.id);
    expect((await sandboxOrder(h.sandbox.url, created.order.id)).refunds).toEqual([expect.objectContaining({ out_refund_no: rows[0]?.id, refund_fee: 100 })]);
  });
});

describe.each(DATABASES)("the gateway bulkhead over HTTP on %s", (kind) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness(kind, { env: { GATEWAY_MAX_CONCURRENT_CALLS: "1", GATEWAY_MAX_QUEUED_CALLS: "0" } });
  });
  afterAll(async () => {
    await h.close();
  });

  it("with every slot taken, create-order is refused with 503 and Retry-After before an order is stored", async () => {
    const token = await h.signIn("bulkhead");
    await injectFaults(h.sandbox.url, "/pay/unifiedorder", [{ kind: "delay", ms: 1500 }], 1);
    const slow = h.request("POST", "/api/orders", { token, body: MUG });
    await eventually(async () => (await metric(h, "pay_gateway_calls_in_flight")) === 1);
    const rows = await orderCount(h);
    expectShed(await h.request("POST", "/api/orders", { token, body: MUG }), 1);
    expect(await orderCount(h)).toBe(rows);
    expect(await metric(h, 'pay_gateway_shed_total{protocol="v2",reason="bulkhead_full"}')).toBe(1);
    expect((await slow).status).toBe(201);
    expect(await metric(h, "pay_gateway_calls_in_flight")).toBe(0);
    expect((await h.request("POST", "/api/orders", { token, body: MUG })).status).toBe(201);
  });
});
