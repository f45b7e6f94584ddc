// Issue 21: the public routes' rate limits end to end (the API on a real port, the sandbox as WeChat Pay and
// WeChat login, a real database of each kind, the API's clock injected): a refused request is 429 RATE_LIMITED
// with Retry-After and retryAfterSeconds, and changes nothing (no order row, no unifiedorder, no code2session).
import { afterEach, describe, expect, it } from "vitest";
import { parsePrometheusText } from "./metrics/prometheus-text.js";
import { startApiHarness, type ApiHarness, type JsonAnswer } from "./support/api-harness.js";
import { DATABASES } from "./support/databases.js";

/** unifiedorder calls the app made (its gateway metric, every outcome). */
async function placeOrderCalls(harness: ApiHarness): Promise<number> {
  const samples = parsePrometheusText(await harness.services.metrics.text());
  return samples.filter((s) => s.name === "pay_gateway_call_duration_seconds_count" && s.labels.call === "placeOrder").reduce((sum, s) => sum + s.value, 0);
}

async function refusals(harness: ApiHarness, route: string): Promise<number> {
  const samples = parsePrometheusText(await harness.services.metrics.text());
  return samples.find((s) => s.name === "pay_rate_limited_total" && s.labels.route === route)?.value ?? 0;
}

async function orderCount(harness: ApiHarness): Promise<number> {
  const row = await harness.database.db
    .selectFrom("orders")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function expectRateLimited(answer: JsonAnswer, retryAfterSeconds: number, message: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(429);
  expect(answer.headers.get("retry-after")).toBe(String(retryAfterSeconds));
  expect(answer.body).toEqual({ error: { code: "RATE_LIMITED", message: expect.stringMatching(message) as unknown, retryAfterSeconds } });
}

const ORDER = { items: [{ productId: "tote", quantity: 1 }] };

describe.each(DATABASES)("rate limits over HTTP on %s", (kind) => {
  let harness: ApiHarness | undefined;
  // The API's clock starts at real time (the sandbox checks time_expire against its own) and is then moved by the tests.
  let now = Date.now();
  const start = async (env: Record<string, string>): Promise<ApiHarness> => {
    now = Math.floor(Date.now() / 1000) * 1000;
    harness = await startApiHarness(kind, { clock: () => now, env });
    return harness;
  };
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it("POST /api/orders: the burst passes, the next is 429 with Retry-After and writes and calls nothing; the clock moved past it, one more passes", async () => {
    const api = await start({ RATE_LIMIT_ORDERS: "2/60" });
    const token = await api.signIn("alice");
    for (let i = 0; i < 2; i++) expect((await api.request("POST", "/api/orders", { token, body: ORDER })).status).toBe(201);
    expect(await orderCount(api)).toBe(2);
    expect(await placeOrderCalls(api)).toBe(2);

    const refused = await api.request("POST", "/api/orders", { token, body: ORDER, headers: { "idempotency-key": "refused-key-1" } });
    expectRateLimited(refused, 30, /^Too many orders placed; try again in 30 s\.$/);
    expect(await orderCount(api)).toBe(2);
    expect(await placeOrderCalls(api)).toBe(2);
    expect(await refusals(api, "createOrder")).toBe(1);
    // Checked before the body is read: a bad body is refused the same way while the limit holds.
    expectRateLimited(await api.request("POST", "/api/orders", { token, rawBody: "{not json" }), 30, /Too many orders/);

    now += 29_000;
    expectRateLimited(await api.request("POST", "/api/orders", { token, body: ORDER }), 1, /try again in 1 s/);
    now += 1000;
    const again = await api.request("POST", "/api/orders", { token, body: ORDER, headers: { "idempotency-key": "refused-key-1" } });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(await orderCount(api)).toBe(3);
    expect(await placeOrderCalls(api)).toBe(3);
  });

  it("counts per user: another payer still places orders while one is refused", async () => {
    const api = await start({ RATE_LIMIT_ORDERS: "1/60" });
    const alice = await api.signIn("alice");
    const bob = await api.signIn("bob");
    expect((await api.request("POST", "/api/orders", { token: alice, body: ORDER })).status).toBe(201);
    expectRateLimited(await api.request("POST", "/api/orders", { token: alice, body: ORDER }), 60, /Too many orders/);
    expect((await api.request("POST", "/api/orders", { token: bob, body: ORDER })).status).toBe(201);
    expectRateLimited(await api.request("POST", "/api/orders", { token: bob, body: ORDER }), 60, /Too many orders/);
  });

  it("an Idempotency-Key replay of an answered order counts (it may call WeChat Pay again, as a renewal does)", async () => {
    const api = await start({ RATE_LIMIT_ORDERS: "2/60" });
    const token = await api.signIn("alice");
    const headers = { "idempotency-key": "replayed-key-1" };
    const first = await api.request("POST", "/api/orders", { token, body: ORDER, headers });
    const replay = await api.request("POST", "/api/orders", { token, body: ORDER, headers });
    expect([first.status, replay.status]).toEqual([201, 201]);
    expect((replay.body.order as { id: string }).id).toBe((first.body.order as { id: string }).id);
    expectRateLimited(await api.request("POST", "/api/orders", { token, body: ORDER, headers }), 30, /Too many orders/);
    expect(await orderCount(api)).toBe(1);
  });

  it("POST /api/orders/:id/payment: refused past its own limit without a gateway call, apart from placing orders", async () => {
    const api = await start({ RATE_LIMIT_ORDERS: "5/60", RATE_LIMIT_RENEWALS: "1/10" });
    const token = await api.signIn("alice");
    const created = await api.request("POST", "/api/orders", { token, body: ORDER });
    const id = (created.body.order as { id: string }).id;
    // Forget the prepay id (as when it has expired), so a renewal has to call unifiedorder again.
    await api.database.db.updateTable("orders").set({ prepay_id: null, prepay_expires_at: null }).where("id", "=", id).execute();
    const renewed = await api.request("POST", `/api/orders/${id}/payment`, { token });
    expect(renewed.status, JSON.stringify(renewed.body)).toBe(200);
    expect(await placeOrderCalls(api)).toBe(2);
    await api.database.db.updateTable("orders").set({ prepay_id: null, prepay_expires_at: null }).where("id", "=", id).execute();
    expectRateLimited(await api.request("POST", `/api/orders/${id}/payment`, { token }), 10, /^Too many payment attempts; try again in 10 s\.$/);
    expect(await placeOrderCalls(api)).toBe(2);
    expect(await refusals(api, "renewPayment")).toBe(1);
    expect((await api.request("POST", "/api/orders", { token, body: ORDER })).status).toBe(201);
    now += 10_000;
    expect((await api.request("POST", `/api/orders/${id}/payment`, { token })).status).toBe(200);
  });

  it("POST /api/session: per client address; a refused sign-in never reaches WeChat (its code still works once allowed)", async () => {
    const api = await start({ RATE_LIMIT_SIGN_INS: "2/60" });
    await api.signIn("alice");
    await api.signIn("bob");
    const { code } = await api.control.createLoginCode({ appid: api.merchant.loginAppId, user: "carol" });
    expectRateLimited(await api.request("POST", "/api/session", { body: { code } }), 30, /^Too many sign-ins from this address; try again in 30 s\.$/);
    expect(await refusals(api, "createSession")).toBe(1);
    // X-Forwarded-For is not trusted with TRUST_PROXY_HOPS=0: claiming another address changes nothing.
    expectRateLimited(await api.request("POST", "/api/session", { body: { code }, headers: { "x-forwarded-for": "198.51.100.1" } }), 30, /Too many sign-ins/);
    expect(await api.database.db.selectFrom("users").select("id").execute()).toHaveLength(2);
    now += 30_000;
    const allowed = await api.request("POST", "/api/session", { body: { code } });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    expect(await api.database.db.selectFrom("users").select("id").execute()).toHaveLength(3);
  });

  it("POST /api/session behind one proxy (TRUST_PROXY_HOPS=1): counted per X-Forwarded-For's last address, whatever the client prepends", async () => {
    const api = await start({ RATE_LIMIT_SIGN_INS: "1/60", TRUST_PROXY_HOPS: "1" });
    const signIn = async (user: string, forwardedFor: string): Promise<JsonAnswer> => {
      const { code } = await api.control.createLoginCode({ appid: api.merchant.loginAppId, user });
      return api.request("POST", "/api/session", { body: { code }, headers: { "x-forwarded-for": forwardedFor } });
    };
    expect((await signIn("alice", "203.0.113.1")).status).toBe(200);
    expectRateLimited(await signIn("alice", "203.0.113.1"), 60, /Too many sign-ins/);
    // A client that forges the header's left part is still counted under the address the proxy appended.
    expectRateLimited(await signIn("alice", "10.9.9.9, 203.0.113.1"), 60, /Too many sign-ins/);
    expect((await signIn("bob", "203.0.113.2")).status).toBe(200);
    expect((await signIn("carol", "203.0.113.1, 203.0.113.3")).status).toBe(200);
    // IPv6: counted by the /64, so a client cannot take a fresh address of its block per request.
    expect((await signIn("dave", "2001:db8:7:7::1")).status).toBe(200);
    expectRateLimited(await signIn("dave", "2001:db8:7:7:ffff::2"), 60, /Too many sign-ins/);
    expect((await signIn("erin", "2001:db8:7:8::1")).status).toBe(200);
  });

  it("off: no limit at all, and no rate-limit rows", async () => {
    const api = await start({ RATE_LIMIT_ORDERS: "off", RATE_LIMIT_SIGN_INS: "off", RATE_LIMIT_RENEWALS: "off" });
    const token = await api.signIn("alice");
    for (let i = 0; i < 8; i++) await api.signIn(`user-${i}`);
    for (let i = 0; i < 8; i++) expect((await api.request("POST", "/api/orders", { token, body: ORDER })).status).toBe(201);
    expect(await api.database.db.selectFrom("rate_limits").selectAll().execute()).toEqual([]);
  });
});
