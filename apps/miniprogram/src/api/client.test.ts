import type { ApiResponseBody, Order, RequestPaymentParams } from "@pay/core/contract";
import { describe, expect, expectTypeOf, it } from "vitest";
import { createFakeApi, type FakeApi } from "../../test/support/fake-api.js";
import { apiError, apiRefusal, createFakePlatform, fakeWx, json, type FakePlatform } from "../../test/support/fake-platform.js";
import { createApiClient, type CallInput } from "./client.js";
import { describeError, isTransient, type CallResult } from "./errors.js";

const BASE_URL = "https://pay.example.test";

function setup() {
  const platform = createFakePlatform();
  const api = createFakeApi();
  platform.serve((request) => api.handle(request));
  const wx = fakeWx(platform);
  const client = createApiClient({ wx, baseUrl: BASE_URL, contractVersion: "0.1.0", clock: { now: () => Date.parse("2026-01-01T00:00:00Z") } });
  return { platform, api, wx, client };
}

describe("createApiClient", () => {
  it("calls public routes without signing in, naming the contract version", async () => {
    const { platform, client } = setup();
    const answer = await client.call("listProducts", {});
    expect(answer.ok && answer.value.products.map((p) => p.id)).toEqual(["coffee-beans", "tea"]);
    expect(platform.logins.count).toBe(0);
    expect(platform.requests[0]).toMatchObject({ method: "GET", path: "/api/products", header: { "X-Pay-Contract": "0.1.0" } });
    expect(platform.requests[0]?.header).not.toHaveProperty("Authorization");
  });

  it("signs in with wx.login on the first user call, keeps the token in storage and reuses it", async () => {
    const { platform, wx, client } = setup();
    await client.call("listOrders", {});
    await client.call("listOrders", { query: { limit: 5 } });
    expect(platform.logins.count).toBe(1);
    expect(platform.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/session", "GET /api/orders", "GET /api/orders"]);
    expect(platform.requests[0]?.body).toEqual({ code: "code-1" });
    expect(platform.requests[2]).toMatchObject({ query: { limit: "5" }, header: { Authorization: "Bearer token-1" } });
    expect(wx.storage.get("pay.session")).toEqual({ token: "token-1", expiresAt: "2099-01-01T00:00:00.000Z" });
  });

  it("shares one sign-in between calls made at the same time", async () => {
    const { platform, client } = setup();
    await Promise.all([client.call("listOrders", {}), client.call("getOrder", { params: { id: "P1" } }), client.call("listOrders", {})]);
    expect(platform.logins.count).toBe(1);
    expect(platform.requests.filter((r) => r.path === "/api/session")).toHaveLength(1);
  });

  it("on a 401 signs in again once and repeats the call", async () => {
    const { platform, api, client } = setup();
    await client.call("listOrders", {});
    api.tokens.clear();
    const answer = await client.call("listOrders", {});
    expect(answer.ok).toBe(true);
    expect(platform.logins.count).toBe(2);
    expect(platform.requests.map((r) => `${r.method} ${r.path} ${r.header.Authorization ?? ""}`.trim())).toEqual([
      "POST /api/session",
      "GET /api/orders Bearer token-1",
      "GET /api/orders Bearer token-1",
      "POST /api/session",
      "GET /api/orders Bearer token-2",
    ]);
  });

  it("gives up after the one retry: a second 401 is returned as the error", async () => {
    const { platform, api, client } = setup();
    api.once("listOrders", apiError(401, "UNAUTHORIZED", "The session token is invalid or has expired; sign in again."));
    api.once("listOrders", apiError(401, "UNAUTHORIZED", "The session token is invalid or has expired; sign in again."));
    const answer = await client.call("listOrders", {});
    expect(answer).toEqual({ ok: false, error: { kind: "api", status: 401, code: "UNAUTHORIZED", message: "The session token is invalid or has expired; sign in again." } });
    expect(platform.logins.count).toBe(2);
    expect(platform.requests.filter((r) => r.path === "/api/orders")).toHaveLength(2);
  });

  it("reports a failed wx.login and a refused code as errors, without calling the route", async () => {
    const { platform, api, client } = setup();
    platform.failNextLogin("login:fail network");
    expect(await client.call("listOrders", {})).toEqual({ ok: false, error: { kind: "login", message: "login:fail network" } });
    api.once("createSession", apiError(401, "LOGIN_FAILED", "WeChat did not accept the login code."));
    expect(await client.call("listOrders", {})).toEqual({ ok: false, error: { kind: "api", status: 401, code: "LOGIN_FAILED", message: "WeChat did not accept the login code." } });
    expect(platform.requests.filter((r) => r.path === "/api/orders")).toHaveLength(0);
  });

  it("turns network failures, foreign pages and unknown error codes into error values", async () => {
    const { platform, client } = setup();
    platform.serve(() => ({ networkError: "request:fail timeout" }));
    expect(await client.call("listProducts", {})).toEqual({ ok: false, error: { kind: "network", message: "request:fail timeout" } });
    platform.serve(() => ({ status: 502, body: "<html>Bad Gateway</html>" }));
    expect(await client.call("listProducts", {})).toEqual({ ok: false, error: { kind: "http", status: 502, message: "HTTP 502" } });
    platform.serve(() => json(418, { error: { code: "TEAPOT", message: "I am a teapot" } }));
    expect(await client.call("listProducts", {})).toEqual({ ok: false, error: { kind: "http", status: 418, message: "HTTP 418" } });
    platform.serve(() => json(200, "not an object"));
    expect(await client.call("listProducts", {})).toMatchObject({ ok: false, error: { kind: "http", status: 200 } });
  });

  it("sends JSON bodies, fills path params and passes the Idempotency-Key", async () => {
    const { platform, client } = setup();
    const created = await client.call("createOrder", { body: { items: [{ productId: "tea", quantity: 2 }] }, idempotencyKey: "mp-key-1" });
    expect(created.ok).toBe(true);
    const id = created.ok ? created.value.order.id : "";
    await client.call("closeOrder", { params: { id } });
    const [, create, close] = platform.requests;
    expect(create).toMatchObject({
      method: "POST",
      path: "/api/orders",
      header: { "Content-Type": "application/json", "Idempotency-Key": "mp-key-1" },
      body: { items: [{ productId: "tea", quantity: 2 }] },
    });
    expect(close).toMatchObject({ method: "POST", path: `/api/orders/${id}/close`, body: undefined });
    expect(close?.header).not.toHaveProperty("Content-Type");
  });

  it("refuses a base URL that is not a bare origin", () => {
    const platform = createFakePlatform();
    expect(() => createApiClient({ wx: fakeWx(platform), baseUrl: "https://pay.example.test/api/", contractVersion: "0.1.0", clock: { now: () => 0 } })).toThrow(/origin/);
  });
});

type Json = Record<string, unknown>;

/** Serves the fake API, but lets `change` edit the success body of `path` first (or replace it, by returning another). */
function tamper(platform: FakePlatform, api: FakeApi, path: RegExp, change: (body: Json) => unknown): void {
  platform.serve((request) => {
    const answer = api.handle(request);
    if (!path.test(request.path) || !("status" in answer) || answer.status >= 300) return answer;
    const body = structuredClone(answer.body) as Json;
    const replaced = change(body);
    return json(answer.status, replaced === undefined ? body : replaced);
  });
}

function field(body: Json, name: string): Json {
  return body[name] as Json;
}

describe("every answer is checked against the route's response schema", () => {
  it.each([
    ["a missing field", /^\/api\/orders$/, (body: Json) => void delete field(body, "order").status, "order.status: Invalid option"],
    ["a wrong type", /^\/api\/orders$/, (body: Json) => void (field(body, "order").totalFee = "10850"), "order.totalFee: Invalid input: expected number, received string"],
    [
      "money that is not whole minor units",
      /^\/api\/orders$/,
      (body: Json) => void (field(body, "order").totalFee = 108.5),
      "order.totalFee: Invalid input: expected int, received number",
    ],
    ["an extra payment field", /^\/api\/orders$/, (body: Json) => void (field(body, "payment").appId = "wx8888888888888888"), 'payment: Unrecognized key: "appId"'],
    // "RSA" became a valid signType with APIv3 (issue 14); "SHA1" never was one.
    ["a payment field of the wrong shape", /^\/api\/orders$/, (body: Json) => void (field(body, "payment").signType = "SHA1"), "payment.signType: Invalid option"],
    ["an RSA signType with a hex paySign", /^\/api\/orders$/, (body: Json) => void (field(body, "payment").signType = "RSA"), "payment.paySign: "],
    ["a currency the contract does not know", /^\/api\/orders$/, (body: Json) => void (field(body, "order").feeType = "XYZ"), "order.feeType: "],
    ["a body that is not an object", /^\/api\/orders$/, () => "not an object", "(body): Invalid input: expected object, received string"],
  ])("%s becomes an error value (INVALID_RESPONSE), never the page's data", async (_case, path, change, detail) => {
    const { platform, api, client } = setup();
    tamper(platform, api, path, change);
    const answer = await client.call("createOrder", { body: { items: [{ productId: "tea", quantity: 1 }] } });
    expect(answer).toEqual({ ok: false, error: { kind: "http", status: 201, code: "INVALID_RESPONSE", message: expect.stringContaining(detail) as string } });
    expect(answer.ok || answer.error.message).toMatch(/^createOrder answered a body the contract does not allow \(/);
    expect(answer.ok || describeError(answer.error)).toBe("The server's answer does not match what this version of the app understands. Try again later, or update the app.");
    expect(answer.ok || isTransient(answer.error)).toBe(false);
  });

  it("checks the public routes too: a product without its currency is refused", async () => {
    const { platform, api, client } = setup();
    tamper(platform, api, /^\/api\/products$/, (body) => void delete (body.products as Json[])[0]?.currency);
    expect(await client.call("listProducts", {})).toMatchObject({
      ok: false,
      error: { kind: "http", status: 200, code: "INVALID_RESPONSE", message: expect.stringContaining("products.0.currency: ") as string },
    });
  });

  it("keeps no session from a sign-in answer the contract refuses, and does not call the route", async () => {
    const { platform, api, wx, client } = setup();
    tamper(platform, api, /^\/api\/session$/, (body) => ({ ...body, expiresAt: "next week" }));
    expect(await client.call("listOrders", {})).toMatchObject({
      ok: false,
      error: { kind: "http", status: 200, code: "INVALID_RESPONSE", message: expect.stringContaining("expiresAt: Invalid ISO datetime") as string },
    });
    expect(wx.storage.has("pay.session")).toBe(false);
    expect(platform.requests.map((r) => r.path)).toEqual(["/api/session"]);
  });

  it("passes a good body, and what the schema does not name never reaches the page", async () => {
    const { platform, api, client } = setup();
    tamper(platform, api, /^\/api\/orders$/, (body) => ({ ...body, debug: { sql: "select 1" }, order: { ...field(body, "order"), internalNote: "x" } }));
    const answer = await client.call("createOrder", { body: { items: [{ productId: "tea", quantity: 2 }] } });
    expect(answer.ok).toBe(true);
    const value = answer.ok ? answer.value : undefined;
    expect(value?.order).toMatchObject({ status: "pending", totalFee: 2500, feeType: "CNY" });
    expect(value).not.toHaveProperty("debug");
    expect(value?.order).not.toHaveProperty("internalNote");
    expect(Object.keys(value?.payment ?? {}).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);
  });

  it.each([
    ["an unknown code", { error: { code: "TEAPOT", message: "I am a teapot" } }, { kind: "http", status: 409, message: "HTTP 409" }],
    ["no message", { error: { code: "ORDER_NOT_PAYABLE" } }, { kind: "http", status: 409, message: "HTTP 409" }],
    ["an empty message", { error: { code: "ORDER_NOT_PAYABLE", message: "" } }, { kind: "api", status: 409, code: "ORDER_NOT_PAYABLE", message: "ORDER_NOT_PAYABLE" }],
    [
      "a field named",
      { error: { code: "VALIDATION_FAILED", message: "quantity is too large", field: "items.0.quantity" } },
      { kind: "api", status: 409, code: "VALIDATION_FAILED", message: "quantity is too large" },
    ],
  ])("reads an error body with %s through ApiErrorBodySchema", async (_case, body, error) => {
    const { platform, client } = setup();
    platform.serve(() => json(409, body));
    expect(await client.call("listProducts", {})).toEqual({ ok: false, error });
  });
});

describe("the client's types come from the contract", () => {
  it("answers each route with the contract's response body, or a ClientError", async () => {
    const { client } = setup();
    const answer = await client.call("createOrder", { body: { items: [{ productId: "tea", quantity: 1 }] } });
    expectTypeOf(answer).toEqualTypeOf<CallResult<ApiResponseBody<"createOrder">>>();
    expect(answer.ok).toBe(true);
    expectTypeOf<ApiResponseBody<"createOrder">>().toEqualTypeOf<{ order: Order; payment: RequestPaymentParams }>();
    expectTypeOf<ApiResponseBody<"renewPayment">["payment"]>().toEqualTypeOf<RequestPaymentParams>();
  });

  it("asks for exactly what each route takes", () => {
    expectTypeOf<{ params: { id: string } }>().toExtend<CallInput<"getOrder">>();
    expectTypeOf<Record<string, never>>().not.toExtend<CallInput<"getOrder">>();
    expectTypeOf<{ body: { items: { productId: string; quantity: number }[] }; idempotencyKey: string }>().toExtend<CallInput<"createOrder">>();
    expectTypeOf<{ body: { items: { productId: string; quantity: number }[] }; idempotencyKey: string }>().not.toExtend<CallInput<"renewPayment">>();
    expectTypeOf<{ query: { limit: number; cursor: string } }>().toExtend<CallInput<"listOrders">>();
    expectTypeOf<{ query: { limit: number } }>().not.toExtend<CallInput<"getOrder">>();
  });
});

describe("a refusal that names a wait", () => {
  /** The client on a clock the test moves by hand. */
  function waiting() {
    const platform = createFakePlatform();
    const api = createFakeApi();
    platform.serve((request) => api.handle(request));
    const time = { now: Date.parse("2026-01-01T00:00:00Z") };
    const client = createApiClient({ wx: fakeWx(platform), baseUrl: BASE_URL, contractVersion: "0.1.0", clock: { now: () => time.now } });
    const sent = (path: string) => platform.requests.filter((r) => r.path === path).length;
    return { platform, api, client, time, sent };
  }

  const ORDER: CallInput<"createOrder"> = { body: { items: [{ productId: "tea", quantity: 1 }] }, idempotencyKey: "mp-key-1" };

  it("reads retryAfterSeconds from the body, else from the Retry-After header, else has none", async () => {
    const { platform, client } = waiting();
    platform.serve(() => ({ status: 429, body: { error: { code: "RATE_LIMITED", message: "Slow down.", retryAfterSeconds: 20 } }, header: { "Retry-After": "99" } }));
    expect(await client.call("listProducts", {})).toEqual({ ok: false, error: { kind: "api", status: 429, code: "RATE_LIMITED", message: "Slow down.", retryAfterSeconds: 20 } });
    const { client: second, platform: platform2 } = waiting();
    platform2.serve(() => ({ status: 503, body: { error: { code: "GATEWAY_UNAVAILABLE", message: "Busy." } }, header: { "retry-after": "7" } }));
    expect(await second.call("listProducts", {})).toEqual({ ok: false, error: { kind: "api", status: 503, code: "GATEWAY_UNAVAILABLE", message: "Busy.", retryAfterSeconds: 7 } });
    const { client: third, platform: platform3 } = waiting();
    platform3.serve(() => apiError(503, "GATEWAY_UNAVAILABLE", "Busy."));
    expect(await third.call("listProducts", {})).toEqual({ ok: false, error: { kind: "api", status: 503, code: "GATEWAY_UNAVAILABLE", message: "Busy." } });
  });

  it("keeps a proxy's Retry-After on a page that is not the API's JSON", async () => {
    const { platform, client } = waiting();
    platform.serve(() => ({ status: 503, body: "<html>Service Unavailable</html>", header: { "Retry-After": "Thu, 01 Jan 2026 00:00:12 GMT" } }));
    expect(await client.call("listProducts", {})).toEqual({ ok: false, error: { kind: "http", status: 503, message: "HTTP 503", retryAfterSeconds: 12 } });
  });

  it("sends nothing on a rate-limited route until the wait has passed, counting the seconds down; other routes go on", async () => {
    const { api, client, time, sent } = waiting();
    await client.call("listOrders", {});
    api.once("createOrder", apiRefusal(429, "RATE_LIMITED", 30));
    expect(await client.call("createOrder", ORDER)).toMatchObject({ ok: false, error: { code: "RATE_LIMITED", retryAfterSeconds: 30 } });
    time.now += 12_500;
    expect(await client.call("createOrder", ORDER)).toEqual({
      ok: false,
      error: { kind: "api", status: 429, code: "RATE_LIMITED", message: "RATE_LIMITED: try again later.", retryAfterSeconds: 18 },
    });
    expect(sent("/api/orders")).toBe(2);
    expect((await client.call("listOrders", {})).ok).toBe(true);
    expect(sent("/api/orders")).toBe(3);
    time.now += 17_499;
    expect(await client.call("createOrder", ORDER)).toMatchObject({ ok: false, error: { retryAfterSeconds: 1 } });
    time.now += 1;
    expect((await client.call("createOrder", ORDER)).ok).toBe(true);
    expect(sent("/api/orders")).toBe(4);
  });

  it("holds every route after OVERLOADED, and only the refusing route after GATEWAY_UNAVAILABLE", async () => {
    const { platform, api, client, time } = waiting();
    await client.call("listOrders", {});
    api.once("listOrders", apiRefusal(503, "OVERLOADED", 5));
    await client.call("listOrders", {});
    const before = platform.requests.length;
    expect(await client.call("listProducts", {})).toMatchObject({ ok: false, error: { code: "OVERLOADED", retryAfterSeconds: 5 } });
    expect(await client.call("getOrder", { params: { id: "P1" } })).toMatchObject({ ok: false, error: { code: "OVERLOADED", retryAfterSeconds: 5 } });
    expect(platform.requests).toHaveLength(before);
    time.now += 5_000;
    api.once("renewPayment", apiRefusal(503, "GATEWAY_UNAVAILABLE", 10));
    await client.call("renewPayment", { params: { id: "P1" } });
    expect(await client.call("renewPayment", { params: { id: "P1" } })).toMatchObject({ ok: false, error: { code: "GATEWAY_UNAVAILABLE", retryAfterSeconds: 10 } });
    expect((await client.call("listProducts", {})).ok).toBe(true);
    expect(platform.requests.filter((r) => r.path === "/api/orders/P1/payment")).toHaveLength(1);
  });

  it("does not sign in again (nor ask wx.login for a code) before a refused sign-in's wait has passed", async () => {
    const { platform, api, client, time, sent } = waiting();
    api.once("createSession", apiRefusal(429, "RATE_LIMITED", 60));
    expect(await client.call("listOrders", {})).toMatchObject({ ok: false, error: { code: "RATE_LIMITED", retryAfterSeconds: 60 } });
    time.now += 30_000;
    expect(await client.call("getOrder", { params: { id: "P1" } })).toMatchObject({ ok: false, error: { code: "RATE_LIMITED", retryAfterSeconds: 30 } });
    expect(platform.logins.count).toBe(1);
    expect(sent("/api/session")).toBe(1);
    expect(platform.requests.map((r) => r.path)).toEqual(["/api/session"]);
    time.now += 30_000;
    expect((await client.call("listOrders", {})).ok).toBe(true);
    expect(sent("/api/session")).toBe(2);
  });

  it("after a 401, waits out a refused fresh sign-in the same way", async () => {
    const { platform, api, client, time, sent } = waiting();
    await client.call("listOrders", {});
    api.tokens.clear();
    api.once("createSession", apiRefusal(429, "RATE_LIMITED", 10));
    expect(await client.call("listOrders", {})).toMatchObject({ ok: false, error: { code: "RATE_LIMITED", retryAfterSeconds: 10 } });
    time.now += 1_000;
    expect(await client.call("listOrders", {})).toMatchObject({ ok: false, error: { code: "RATE_LIMITED", retryAfterSeconds: 9 } });
    expect(sent("/api/session")).toBe(2);
    expect(platform.logins.count).toBe(2);
  });
});
