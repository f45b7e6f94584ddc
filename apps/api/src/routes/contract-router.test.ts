// The server serves exactly the contract's routes: the registered router stack is API_ROUTES, every
// route answers its own method with its success status through the real app, a method the table does
// not give a path is a 405, and no other /api path is served (404).
import { API_ROUTES, CSRF_HEADER, type ApiRouteName, type Order, type RequestPaymentParams } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, eventually, MERCHANT, startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";
import { createAccount, PASSWORD, signIn as staffSignIn } from "../../test/console/staff-support.js";
import { createApiHandlers, createApiRouter, createStaffGate } from "./api.js";
import { createContractRouter, type ApiHandlers } from "./contract-router.js";
import { createHealthRouter } from "./health.js";
import { createWxPayRouter } from "./wxpay.js";

const ROUTE_NAMES = Object.keys(API_ROUTES) as ApiRouteName[];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const MISSING_ID = "P20990101000000000000NOPE";

/** The day the reconciliation routes are called for: long over in Beijing. */
const RECONCILED_DAY = "2026-01-01";

function fill(path: string, id: string): string {
  return path.replace(":id", id).replace(":date", RECONCILED_DAY);
}

describe("the contract router", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness("sqlite");
  });
  afterAll(async () => {
    await h.close();
  });

  it("registers exactly API_ROUTES, in the table's order, one layer each", () => {
    const router = createApiRouter(h.services);
    expect(router.stack.map((layer) => ({ path: layer.path, methods: layer.methods }))).toEqual(
      ROUTE_NAMES.map((name) => ({ path: API_ROUTES[name].path, methods: API_ROUTES[name].method === "GET" ? ["HEAD", "GET"] : [API_ROUTES[name].method] })),
    );
    for (const layer of router.stack) expect(layer.stack).toHaveLength(1);
  });

  it("is the only router that serves /api", () => {
    for (const other of [createHealthRouter(h.services), createWxPayRouter(h.services)]) {
      for (const layer of other.stack) expect(String(layer.path).startsWith("/api")).toBe(false);
    }
  });

  it("refuses at construction a handler table without a route's handler", () => {
    const handlers = createApiHandlers(h.services);
    const auth = { tokens: h.services.tokens, clock: h.services.clock, adminToken: ADMIN_TOKEN, staff: createStaffGate(h.services) };
    expect(() => createContractRouter(handlers, auth)).not.toThrow();
    const { closeOrder: _closeOrder, ...incomplete } = handlers;
    expect(() => createContractRouter(incomplete as unknown as ApiHandlers, auth)).toThrow("no handler for closeOrder");
  });

  it("answers every route on its method with the table's success status", async () => {
    const token = await h.signIn("router-coverage");
    const order = async (): Promise<{ order: Order; payment: RequestPaymentParams }> => {
      const created = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
      return created.body as unknown as { order: Order; payment: RequestPaymentParams };
    };
    const open = await order();
    const paid = await order();
    await h.pay(paid.payment);
    await eventually(async () => ((await h.request("GET", `/api/orders/${paid.order.id}`, { token })).body.order as Order).status === "paid");
    const hook = { url: "https://shop.example.com/hooks", eventTypes: ["order.paid"] };
    const endpoint = (await h.request("POST", "/api/admin/webhook-endpoints", { token: ADMIN_TOKEN, body: hook })).body as { endpoint: { id: string } };
    const event = await h.database.db.selectFrom("webhook_events").select("id").where("order_id", "=", paid.order.id).executeTakeFirstOrThrow();
    const pathId = (name: ApiRouteName): string =>
      name === "createRefund" ? paid.order.id : name === "replayWebhookEvent" ? event.id : name.includes("Webhook") ? endpoint.endpoint.id : open.order.id;

    // One well-formed request per route; a new route without one here fails to compile.
    const requests: { [N in ApiRouteName]: () => Promise<Parameters<ApiHarness["request"]>[2]> } = {
      createSession: async () => {
        const answer = await fetch(`${h.sandbox.url}/sandbox/login-codes`, { method: "POST", body: JSON.stringify({ appid: MERCHANT.appId, user: "router-coverage" }) });
        return { body: { code: ((await answer.json()) as { code: string }).code } };
      },
      listProducts: () => Promise.resolve({}),
      createOrder: () => Promise.resolve({ token, body: { items: [{ productId: "tote", quantity: 1 }] }, headers: { "idempotency-key": "router-coverage" } }),
      listOrders: () => Promise.resolve({ token }),
      getOrder: () => Promise.resolve({ token }),
      renewPayment: () => Promise.resolve({ token }),
      closeOrder: () => Promise.resolve({ token }),
      createRefund: () => Promise.resolve({ body: { refundFee: 1 }, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "router-coverage" } }),
      createWebhookEndpoint: () => Promise.resolve({ token: ADMIN_TOKEN, body: hook }),
      listWebhookEndpoints: () => Promise.resolve({ token: ADMIN_TOKEN }),
      getWebhookEndpoint: () => Promise.resolve({ token: ADMIN_TOKEN }),
      updateWebhookEndpoint: () => Promise.resolve({ token: ADMIN_TOKEN, body: { description: "router coverage" } }),
      rotateWebhookSecret: () => Promise.resolve({ token: ADMIN_TOKEN, body: {} }),
      listWebhookDeliveries: () => Promise.resolve({ token: ADMIN_TOKEN }),
      replayWebhookEvent: () => Promise.resolve({ token: ADMIN_TOKEN, body: {} }),
      replayFailedWebhookDeliveries: () => Promise.resolve({ token: ADMIN_TOKEN, body: { since: "2026-01-01T00:00:00Z" } }),
      listReconciliations: () => Promise.resolve({ token: ADMIN_TOKEN }),
      getReconciliation: async () => {
        // A day some earlier run failed on, so the day exists to read.
        const at = "2026-01-02T02:00:00.000Z";
        await h.database.db
          .insertInto("reconciliation_runs")
          .values({
            bill_date: RECONCILED_DAY,
            state: "failed",
            trigger: "schedule",
            attempt: 1,
            started_at: at,
            finished_at: at,
            error_code: "BILL_NOT_READY",
            error_message: "not ready",
            updated_at: at,
          })
          .execute();
        return { token: ADMIN_TOKEN };
      },
      runReconciliation: () => Promise.resolve({ token: ADMIN_TOKEN }),
      staffSignIn: async () => {
        await createAccount(h, "router-coverage", "viewer");
        return { body: { username: "router-coverage", password: PASSWORD } };
      },
      // The console's own calls: the session cookie, and the CSRF header where something changes.
      getStaffSession: async () => {
        const session = await staffSignIn(h, "router-coverage");
        return { headers: { cookie: session.cookie } };
      },
      staffSignOut: async () => {
        const session = await staffSignIn(h, "router-coverage");
        return { headers: { cookie: session.cookie, [CSRF_HEADER]: session.csrf } };
      },
      getOverview: () => Promise.resolve({ token: ADMIN_TOKEN }),
      listAdminOrders: () => Promise.resolve({ token: ADMIN_TOKEN }),
      exportAdminOrders: () => Promise.resolve({ token: ADMIN_TOKEN }),
      getAdminOrder: () => Promise.resolve({ token: ADMIN_TOKEN }),
      listAuditLog: async () => ({ headers: { cookie: (await staffSignIn(h, "router-coverage")).cookie } }),
    };
    for (const name of ROUTE_NAMES) {
      const route = API_ROUTES[name];
      const answer = await h.request(route.method, fill(route.path, pathId(name)), await requests[name]());
      expect(answer.status, `${name}: ${JSON.stringify(answer.body)}`).toBe(route.status);
    }
  });

  it("answers 405 to every method the table does not give that path", async () => {
    const byPath = new Map<string, string[]>();
    for (const name of ROUTE_NAMES) byPath.set(API_ROUTES[name].path, [...(byPath.get(API_ROUTES[name].path) ?? []), API_ROUTES[name].method]);
    let checked = 0;
    for (const [path, allowed] of byPath) {
      for (const method of METHODS.filter((m) => !allowed.includes(m))) {
        const answer = await h.request(method, fill(path, MISSING_ID));
        expect(answer.status, `${method} ${path}`).toBe(405);
        expect(answer.body).toMatchObject({ error: { code: "METHOD_NOT_ALLOWED" } });
        checked += 1;
      }
    }
    expect(checked).toBe(byPath.size * METHODS.length - ROUTE_NAMES.length);
  });

  it.each([
    "/api",
    "/api/",
    "/api/nothing-here",
    "/api/session/extra",
    "/api/product",
    "/api/orders/P20990101000000000000NOPE/refunds",
    "/api/orders/P20990101000000000000NOPE/payment/again",
    "/api/admin",
    // (/api/admin/orders and /api/admin/orders/:id are the console's orders list and order detail since issue 19.)
    "/api/admin/exports",
    "/api/admin/orders/P20990101000000000000NOPE/timeline",
    "/api/admin/orders/P20990101000000000000NOPE/refunds/1",
  ])("serves nothing at %s (404 on every method)", async (path) => {
    for (const method of METHODS) {
      const answer = await h.request(method, path, { token: ADMIN_TOKEN });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: "NOT_FOUND", message: `No route for ${method} ${path}.` } });
    }
  });
});
