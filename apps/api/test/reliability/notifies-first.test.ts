// Issue 21, notifies first: while the public API is saturated (API_MAX_IN_FLIGHT create-order requests, each
// blocked on a gateway that does not answer), a distinct pay notify is answered SUCCESS and committed,
// /healthz, /readyz and the console's files answer, and further /api requests are refused at once with 503 OVERLOADED and
// Retry-After, writing nothing. Proven by order of events, not by timing: the notify is committed while
// every blocked request is still in flight. On PostgreSQL the cap is above the pool size (10), so blocked
// create-orders holding pool connections would starve the notify.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startApiHarness, type ApiHarness, type JsonAnswer } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { clearFaults, createPendingOrder, deliveries, injectFaults } from "./fixtures.js";

/** More than the PostgreSQL pool's 10 connections. */
const CAP = 12;
const ORDER = { items: [{ productId: "tote", quantity: 1 }] };

async function gaugeValue(h: ApiHarness, name: string): Promise<number> {
  const metric = await h.services.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value ?? 0;
}

describe.each(DATABASES)("notifies first while the public API is saturated on %s", (kind) => {
  let h: ApiHarness;

  beforeAll(async () => {
    // No breaker: the blocked create-orders' timeouts would open it, and this test is about the in-flight cap
    // (the breaker has its own suite, gateway-breaker.test.ts).
    h = await startApiHarness(kind, { env: { API_MAX_IN_FLIGHT: String(CAP), GATEWAY_BREAKER_FAILURES: "off" } });
  });
  afterAll(async () => {
    await clearFaults(h.sandbox.url);
    await h.close();
  });

  it(`a pay notify is answered SUCCESS and committed while ${CAP} create-orders wait on a silent gateway; /healthz answers; more /api requests get 503 OVERLOADED`, async () => {
    // Before the flood: the order the notify pays, the flood's users and one more user whose request is refused.
    const target = await createPendingOrder(h, `payer-${kind}`);
    const floodTokens = await Promise.all(Array.from({ length: CAP }, (_, i) => h.signIn(`flood-${kind}-${i}`)));
    const refusedToken = await h.signIn(`refused-${kind}`);

    // The gateway holds every unifiedorder until the client gives up (2 s, 3 attempts).
    await injectFaults(h.sandbox.url, "/pay/unifiedorder", [{ kind: "timeout" }], CAP * 3);
    const flood: Promise<JsonAnswer>[] = floodTokens.map((token) => h.request("POST", "/api/orders", { token, body: ORDER }));
    await eventually(async () => (await gaugeValue(h, "pay_api_in_flight_requests")) === CAP);

    // The public API is full: a request is refused at once, its body unread, nothing written.
    const refused = await h.request("POST", "/api/orders", { token: refusedToken, body: ORDER });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body).toMatchObject({ error: { code: "OVERLOADED", retryAfterSeconds: 1 } });
    const refusedRead = await h.request("GET", `/api/orders/${target.order.id}`, { token: target.token });
    expect(refusedRead.status).toBe(503);

    // The payer pays: the sandbox delivers the pay notify to /wxpay/notify now.
    await h.pay(target.payment);
    const acknowledged = await eventually(async () => {
      const attempts = (await deliveries(h.sandbox.url, "pay")).filter((attempt) => attempt.outTradeNo === target.order.id);
      return attempts.find((attempt) => attempt.outcome === "acknowledged");
    }, 10_000);
    // Acknowledged on its first attempt: nothing made WeChat Pay retry it.
    expect(acknowledged.attempt).toBe(1);
    const row = await h.database.db.selectFrom("orders").select(["status", "transaction_id"]).where("id", "=", target.order.id).executeTakeFirstOrThrow();
    expect(row.status).toBe("paid");
    expect(row.transaction_id).not.toBeNull();
    const events = await h.database.db.selectFrom("payment_events").select("order_id").where("order_id", "=", target.order.id).execute();
    expect(events).toHaveLength(1);

    // Liveness and readiness (a database round trip) answer too.
    expect((await h.request("GET", "/healthz")).status).toBe(200);
    expect((await h.request("GET", "/readyz")).status).toBe(200);
    // The console's files are not /api: served (or 404 when the console is not built), never refused.
    expect((await h.request("GET", "/console/")).status).not.toBe(503);

    // All of that happened while every flood request was still in flight (the cap is still full).
    expect(await gaugeValue(h, "pay_api_in_flight_requests")).toBe(CAP);
    const again = await h.request("POST", "/api/orders", { token: refusedToken, body: ORDER });
    expect(again.status).toBe(503);

    // The flood ends with the gateway's documented answer (or an order, once the queued faults run out); the places free.
    const answers = await Promise.all(flood);
    for (const answer of answers) expect([201, 504]).toContain(answer.status);
    await eventually(async () => (await gaugeValue(h, "pay_api_in_flight_requests")) === 0);
    expect(await gaugeValue(h, "pay_api_shed_total")).toBe(3);
    // One order per flood request and the target: the refused requests wrote nothing.
    const orders = await h.database.db.selectFrom("orders").select("id").execute();
    expect(orders).toHaveLength(1 + CAP);

    // Served again once there is room.
    await clearFaults(h.sandbox.url);
    const served = await h.request("POST", "/api/orders", { token: refusedToken, body: ORDER });
    expect(served.status).toBe(201);
  });
});
