import { AdminOrderListResponseSchema, CONTRACT_VERSION, ReconciliationDetailResponseSchema, StaffSessionResponseSchema } from "@pay/core/contract";
import { describe, expect, it, vi } from "vitest";
import { adminOrder, ENDPOINT_ID, EVENT_ID, ORDER_ID, reconciliationDetail, staffSession } from "../testing/fixtures.js";
import { createFakeApi } from "../testing/fake-api.js";
import { createApiClient, fillPath, queryString } from "./client.js";
import { ApiClientError } from "./errors.js";

async function failure(promise: Promise<unknown>): Promise<ApiClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiClientError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("fillPath and queryString", () => {
  it("fills :name segments URL-encoded and refuses a missing one", () => {
    expect(fillPath("/api/admin/orders/:id", { id: "A|B*1" })).toBe("/api/admin/orders/A%7CB*1");
    expect(fillPath("/api/admin/webhook-events/:id/replay", { id: "evt_x/../y" })).toBe("/api/admin/webhook-events/evt_x%2F..%2Fy/replay");
    expect(() => fillPath("/api/admin/orders/:id", {})).toThrow(/no value for :id/);
  });

  it("writes only the defined, non-empty fields, encoded", () => {
    expect(queryString(undefined)).toBe("");
    expect(queryString({ status: undefined, q: "" })).toBe("");
    expect(queryString({ status: "paid", from: "2026-12-01", q: "a b&c", limit: 20, cursor: undefined })).toBe("?status=paid&from=2026-12-01&q=a+b%26c&limit=20");
  });
});

describe("createApiClient", () => {
  it("calls a route by name: method, filled path, query, contract header, same-origin credentials; the answer parsed by the route's schema", async () => {
    const body = { orders: [adminOrder()], nextCursor: "c2" };
    const api = createFakeApi({ listAdminOrders: () => ({ status: 200, body }) });
    const client = createApiClient({ fetch: api.fetch });
    const answer = await client.call("listAdminOrders", { query: { status: "paid", q: ORDER_ID, cursor: "c1" } });
    expect(answer).toEqual(AdminOrderListResponseSchema.parse(body));
    const [call] = api.calls;
    expect(call?.method).toBe("GET");
    expect(call?.url).toBe(`/api/admin/orders?status=paid&q=${ORDER_ID}&cursor=c1`);
    expect(call?.headers.get("X-Pay-Contract")).toBe(CONTRACT_VERSION);
    expect(call?.headers.get("Accept")).toBe("application/json");
    expect(call?.credentials).toBe("same-origin");
    expect(call?.headers.has("Content-Type")).toBe(false);
  });

  it("sends x-csrf-token from the session answer on non-GET calls only, and none once it is cleared", async () => {
    const api = createFakeApi({
      getAdminOrder: () => ({ status: 200, body: { order: adminOrder(), items: [], refunds: [], timeline: [] } }),
      replayWebhookEvent: () => ({ status: 200, body: { deliveries: 1 } }),
      staffSignOut: () => ({ status: 200, body: { signedOut: true } }),
    });
    const client = createApiClient({ fetch: api.fetch });
    client.setCsrfToken(staffSession().csrfToken);
    await client.call("getAdminOrder", { params: { id: ORDER_ID } });
    await client.call("replayWebhookEvent", { params: { id: EVENT_ID }, body: { endpointId: ENDPOINT_ID } });
    await client.call("staffSignOut", {});
    client.setCsrfToken(null);
    await client.call("replayWebhookEvent", { params: { id: EVENT_ID }, body: {} });
    expect(api.calls.map((call) => [call.method, call.headers.get("x-csrf-token")])).toEqual([
      ["GET", null],
      ["POST", "csrf-operator"],
      ["DELETE", "csrf-operator"],
      ["POST", null],
    ]);
    expect(api.calls[1]?.url).toBe(`/api/admin/webhook-events/${EVENT_ID}/replay`);
    expect(api.calls[1]?.headers.get("Content-Type")).toBe("application/json");
    expect(api.calls[1]?.body).toEqual({ endpointId: ENDPOINT_ID });
  });

  it("sends the Idempotency-Key of a route that takes one, with the JSON body", async () => {
    const api = createFakeApi({
      createRefund: () => ({
        status: 201,
        body: {
          refund: { id: "RF1", orderId: ORDER_ID, refundFee: 150, currency: "CNY", status: "processing", reason: null, createdAt: "2026-12-03T03:00:00.000Z", succeededAt: null },
          order: adminOrder(),
        },
      }),
    });
    const client = createApiClient({ fetch: api.fetch });
    const answer = await client.call("createRefund", { params: { id: ORDER_ID }, idempotencyKey: "key-1", body: { refundFee: 150, reason: "damaged" } });
    expect(answer.refund.refundFee).toBe(150);
    expect(api.calls[0]?.headers.get("Idempotency-Key")).toBe("key-1");
    expect(api.calls[0]?.body).toEqual({ refundFee: 150, reason: "damaged" });
    expect(api.calls[0]?.url).toBe(`/api/admin/orders/${ORDER_ID}/refunds`);
  });

  it("refuses a success answer whose shape breaks the contract", async () => {
    const api = createFakeApi({
      listAdminOrders: () => ({ status: 200, body: { orders: [{ ...adminOrder(), totalFee: 12.5 }], nextCursor: null } }),
      getStaffSession: () => ({ status: 200, body: { actor: { kind: "staff", id: "x", username: "x", role: "admin" }, csrfToken: null, expiresAt: null } }),
    });
    const client = createApiClient({ fetch: api.fetch });
    const wrongAmount = await failure(client.call("listAdminOrders", {}));
    expect(wrongAmount.code).toBe("INVALID_RESPONSE");
    expect(wrongAmount.kind).toBe("invalid");
    expect(wrongAmount.message).toContain("orders.0.totalFee");
    const wrongRole = await failure(client.call("getStaffSession", {}));
    expect(wrongRole.code).toBe("INVALID_RESPONSE");
  });

  it("turns a contract error body into its code and message, and anything else into HTTP_ERROR", async () => {
    const api = createFakeApi({
      createRefund: () => ({ status: 409, body: { error: { code: "REFUND_EXCEEDS_PAID", message: "More than was paid." } } }),
      getOverview: () => ({ status: 502, body: "<html>Bad gateway</html>" }),
      listAuditLog: () => ({ status: 500, body: { error: { code: "NOT_A_CODE", message: "x" } } }),
    });
    const client = createApiClient({ fetch: api.fetch });
    const refused = await failure(client.call("createRefund", { params: { id: ORDER_ID }, idempotencyKey: "k", body: { refundFee: 99999 } }));
    expect([refused.kind, refused.status, refused.code, refused.message]).toEqual(["api", 409, "REFUND_EXCEEDS_PAID", "More than was paid."]);
    const proxy = await failure(client.call("getOverview", {}));
    expect([proxy.kind, proxy.status, proxy.code]).toEqual(["http", 502, "HTTP_ERROR"]);
    const odd = await failure(client.call("listAuditLog", {}));
    expect(odd.code).toBe("HTTP_ERROR");
  });

  it("a 401 sends the user to sign-in (onUnauthorized); sign-in's own 401 is a wrong password, not a lost session", async () => {
    const onUnauthorized = vi.fn();
    const api = createFakeApi({
      getOverview: () => ({ status: 401, body: { error: { code: "UNAUTHORIZED", message: "Sign in." } } }),
      staffSignIn: () => ({ status: 401, body: { error: { code: "SIGN_IN_FAILED", message: "Wrong username or password." } } }),
    });
    const client = createApiClient({ fetch: api.fetch, onUnauthorized });
    expect((await failure(client.call("staffSignIn", { body: { username: "olivia", password: "nope" } }))).code).toBe("SIGN_IN_FAILED");
    expect(onUnauthorized).not.toHaveBeenCalled();
    expect((await failure(client.call("getOverview", {}))).status).toBe(401);
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it("reads Retry-After on a 429, reports a lost answer as NETWORK, and accepts a route's 202", async () => {
    const api = createFakeApi({
      staffSignIn: () => ({ status: 429, headers: { "Retry-After": "30" }, body: { error: { code: "RATE_LIMITED", message: "Too many attempts." } } }),
      runReconciliation: () => ({ status: 202, body: { ...reconciliationDetail(), items: [] } }),
    });
    const client = createApiClient({ fetch: api.fetch });
    const limited = await failure(client.call("staffSignIn", { body: { username: "olivia", password: "x" } }));
    expect([limited.code, limited.retryAfterSeconds]).toEqual(["RATE_LIMITED", 30]);
    const running = await client.call("runReconciliation", { params: { date: "2026-12-02" } });
    expect(running).toEqual(ReconciliationDetailResponseSchema.parse({ ...reconciliationDetail(), items: [] }));
    const offline = createApiClient({ fetch: () => Promise.reject(new TypeError("Failed to fetch")) });
    const lost = await failure(offline.call("getOverview", {}));
    expect([lost.kind, lost.status, lost.code, lost.message]).toEqual(["network", 0, "NETWORK", "Failed to fetch"]);
  });

  it("builds the CSV export link with the list's filters", () => {
    const client = createApiClient({ fetch: () => Promise.reject(new Error("not called")) });
    expect(client.urlFor("exportAdminOrders", { query: { status: "refunded", from: "2026-12-01", to: "2026-12-03" } })).toBe(
      "/api/admin/exports/orders?status=refunded&from=2026-12-01&to=2026-12-03",
    );
    expect(client.urlFor("exportAdminOrders", { query: {} })).toBe("/api/admin/exports/orders");
  });

  it("the fixtures are contract-valid", () => {
    expect(StaffSessionResponseSchema.safeParse(staffSession("viewer")).success).toBe(true);
    expect(ReconciliationDetailResponseSchema.safeParse(reconciliationDetail()).success).toBe(true);
  });
});
