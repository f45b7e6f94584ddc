// Who may do what in the back office, through the real app on both databases: staff sessions (cookie + CSRF),
// roles (a viewer's write is a 403 that changes nothing), cross-site refusals, ADMIN_TOKEN for automation,
// and the audit log of every operator action.
import { createHash } from "node:crypto";
import { API_ROUTES, type ApiRouteName, type ApiRouteSpec, type AuditEntry, type Order, type RequestPaymentParams } from "@pay/core/contract";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, eventually, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { disableStaffAccount, enableStaffAccount } from "../../src/services/staff/accounts.js";
import { consoleRequest, createAccount, PASSWORD, settledSnapshot, signIn, snapshot, type Console } from "./staff-support.js";

const OPERATOR_ROUTES = (Object.keys(API_ROUTES) as ApiRouteName[]).filter((name) => API_ROUTES[name].auth === "operator");
const ADMIN_ROUTES = (Object.keys(API_ROUTES) as ApiRouteName[]).filter((name) => API_ROUTES[name].auth === "admin");
/** A day long over in Beijing, for runReconciliation. */
const DAY = "2026-01-01";

describe.each(DATABASES)("staff roles, sessions and CSRF on %s", (kind) => {
  let h: ApiHarness;
  let viewer: Console;
  let operator: Console;
  let paidOrderId: string;
  let eventId: string;
  let endpointId: string;

  beforeAll(async () => {
    h = await startApiHarness(kind);
    await createAccount(h, "vera", "viewer");
    await createAccount(h, "otto", "operator");
    viewer = await signIn(h, "vera");
    operator = await signIn(h, "otto");
    const token = await h.signIn("staff-auth");
    const created = (await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } })).body as unknown as {
      order: Order;
      payment: RequestPaymentParams;
    };
    await h.pay(created.payment);
    paidOrderId = created.order.id;
    await eventually(async () => ((await h.request("GET", `/api/orders/${paidOrderId}`, { token })).body.order as Order).status === "paid");
    eventId = (await h.database.db.selectFrom("webhook_events").select("id").where("order_id", "=", paidOrderId).executeTakeFirstOrThrow()).id;
    const endpoint = await h.request("POST", "/api/admin/webhook-endpoints", { token: ADMIN_TOKEN, body: { url: "https://shop.example.com/hooks", eventTypes: ["order.paid"] } });
    endpointId = (endpoint.body.endpoint as { id: string }).id;
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  /** One well-formed call of each operator route; a new operator route without one fails the test below. */
  function operatorCall(name: ApiRouteName, attempt: string): { path: string; body?: unknown; headers: Record<string, string> } {
    switch (name) {
      case "createRefund":
        return { path: `/api/admin/orders/${paidOrderId}/refunds`, body: { refundFee: 1, reason: "damaged" }, headers: { "idempotency-key": `refund-${attempt}` } };
      case "createWebhookEndpoint":
        return { path: "/api/admin/webhook-endpoints", body: { url: `https://shop.example.com/hooks/${attempt}`, eventTypes: ["order.paid"] }, headers: {} };
      case "updateWebhookEndpoint":
        return { path: `/api/admin/webhook-endpoints/${endpointId}`, body: { description: `changed by ${attempt}` }, headers: {} };
      case "rotateWebhookSecret":
        return { path: `/api/admin/webhook-endpoints/${endpointId}/rotate-secret`, body: {}, headers: {} };
      case "replayWebhookEvent":
        return { path: `/api/admin/webhook-events/${eventId}/replay`, body: { endpointId }, headers: {} };
      case "replayFailedWebhookDeliveries":
        return { path: "/api/admin/webhook-deliveries/replay", body: { since: "2026-01-01T00:00:00Z", endpointId }, headers: {} };
      case "runReconciliation":
        return { path: `/api/admin/reconciliations/${DAY}/run`, headers: {} };
      default:
        throw new Error(`no operator call for ${name}: add one`);
    }
  }

  it("refuses a viewer every operator route with 403 FORBIDDEN, changing nothing; an operator's same call works", async () => {
    expect(OPERATOR_ROUTES.length).toBeGreaterThanOrEqual(7);
    for (const name of OPERATOR_ROUTES) {
      const route: ApiRouteSpec = API_ROUTES[name];
      const call = operatorCall(name, "viewer");
      const before = await settledSnapshot(h);
      const refused = await consoleRequest(h, viewer, route.method, call.path, { body: call.body, headers: call.headers });
      expect(refused.status, name).toBe(403);
      expect((refused.body.error as { code: string }).code, name).toBe("FORBIDDEN");
      expect(await snapshot(h), name).toEqual(before);

      const done = await consoleRequest(h, operator, route.method, call.path, { ...operatorCall(name, "operator") });
      expect([route.status, route.accepted], `${name}: ${JSON.stringify(done.body)}`).toContain(done.status);
    }
    const log = (await h.request("GET", "/api/admin/audit-log?limit=100", { token: ADMIN_TOKEN })).body.entries as AuditEntry[];
    for (const name of OPERATOR_ROUTES) {
      expect(log.find((entry) => entry.action === name && entry.actor.username === "vera")?.outcome, name).toBe("FORBIDDEN");
      expect(log.find((entry) => entry.action === name && entry.actor.username === "otto")?.outcome, name).toBe("ok");
    }
    // What each acted on, and the request fields that matter; never a webhook secret.
    const byOtto = (name: ApiRouteName): AuditEntry | undefined => log.find((entry) => entry.action === name && entry.actor.username === "otto");
    expect(byOtto("createRefund")).toMatchObject({ target: `order:${paidOrderId}`, idempotencyKey: "refund-operator", detail: { refundFee: 1, reason: "damaged" } });
    expect(byOtto("createWebhookEndpoint")).toMatchObject({
      target: expect.stringMatching(/^webhook-endpoint:we_/) as string,
      detail: { url: "https://shop.example.com/hooks/operator", eventTypes: "order.paid" },
    });
    expect(byOtto("updateWebhookEndpoint")).toMatchObject({ target: `webhook-endpoint:${endpointId}`, detail: { description: "changed by operator" } });
    expect(byOtto("rotateWebhookSecret")).toMatchObject({ target: `webhook-endpoint:${endpointId}`, detail: {} });
    expect(byOtto("replayWebhookEvent")).toMatchObject({ target: `webhook-event:${eventId}`, detail: { endpointId } });
    expect(byOtto("replayFailedWebhookDeliveries")).toMatchObject({ target: `webhook-endpoint:${endpointId}`, detail: { since: "2026-01-01T00:00:00Z", endpointId } });
    expect(byOtto("runReconciliation")).toMatchObject({ target: `reconciliation:${DAY}`, idempotencyKey: null });
    expect(JSON.stringify(log)).not.toContain("whsec_");
  }, 60_000);

  it("lets a viewer read every admin route", async () => {
    for (const name of ["getStaffSession", "listWebhookEndpoints", "listReconciliations", "listAuditLog"] as const) {
      const answer = await consoleRequest(h, viewer, "GET", API_ROUTES[name].path, { csrf: null });
      expect(answer.status, name).toBe(200);
    }
    expect(ADMIN_ROUTES).toContain("listAuditLog");
    // getStaffSession rotated the viewer's CSRF token: take the new one for later tests.
    viewer.csrf = (await consoleRequest(h, viewer, "GET", "/api/admin/session")).body.csrfToken as string;
  });

  it("writes a refund's audit entry: who, the target order, its idempotency key, the amount and reason, the address", async () => {
    const answer = await consoleRequest(h, operator, "POST", `/api/admin/orders/${paidOrderId}/refunds`, {
      body: { refundFee: 2, reason: "wrong size" },
      headers: { "idempotency-key": "audit-refund-1" },
    });
    expect(answer.status).toBe(201);
    const log = (await consoleRequest(h, viewer, "GET", "/api/admin/audit-log?limit=1")).body as { entries: AuditEntry[]; nextCursor: string | null };
    expect(log.entries).toEqual([
      {
        id: expect.any(String) as string,
        at: expect.any(String) as string,
        actor: { kind: "staff", id: expect.stringMatching(/^st_/) as string, username: "otto" },
        action: "createRefund",
        target: `order:${paidOrderId}`,
        idempotencyKey: "audit-refund-1",
        outcome: "ok",
        detail: { refundFee: 2, reason: "wrong size" },
        ip: expect.stringContaining("127.0.0.1") as string,
      },
    ]);
    // Newest first, a page at a time.
    expect(log.nextCursor).not.toBeNull();
    const next = (await consoleRequest(h, viewer, "GET", `/api/admin/audit-log?limit=2&cursor=${log.nextCursor ?? ""}`)).body as { entries: AuditEntry[] };
    expect(next.entries).toHaveLength(2);
    expect(Number(next.entries[0]?.id)).toBeLessThan(Number(log.entries[0]?.id));
    const bad = await consoleRequest(h, viewer, "GET", "/api/admin/audit-log?cursor=not-a-cursor");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "VALIDATION_FAILED", field: "cursor" });
  });

  it("needs the session's current x-csrf-token on every cookie call that changes something (not on reads)", async () => {
    const call = operatorCall("updateWebhookEndpoint", "csrf");
    const missing = await consoleRequest(h, operator, "PATCH", call.path, { body: call.body, csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.body.error).toMatchObject({ code: "CSRF_FAILED" });
    const wrong = await consoleRequest(h, operator, "PATCH", call.path, { body: call.body, csrf: "x".repeat(43) });
    expect(wrong.body.error).toMatchObject({ code: "CSRF_FAILED" });
    // A reload (GET /api/admin/session) issues a new token: the old one is stale from then on.
    const stale = operator.csrf;
    const reloaded = await consoleRequest(h, operator, "GET", "/api/admin/session", { csrf: null });
    expect(reloaded.status).toBe(200);
    expect(reloaded.body).toMatchObject({ actor: { kind: "staff", username: "otto", role: "operator" }, expiresAt: expect.any(String) as string });
    const fresh = reloaded.body.csrfToken as string;
    expect(fresh).not.toBe(stale);
    const refused = await consoleRequest(h, operator, "PATCH", call.path, { body: call.body, csrf: stale });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "CSRF_FAILED" });
    operator.csrf = fresh;
    expect((await consoleRequest(h, operator, "PATCH", call.path, { body: call.body })).status).toBe(200);
    // Reads need none.
    expect((await consoleRequest(h, operator, "GET", "/api/admin/webhook-endpoints", { csrf: null })).status).toBe(200);
  });

  it("refuses cross-site state changes (Sec-Fetch-Site, or an Origin of another host) even with the CSRF token", async () => {
    const call = operatorCall("updateWebhookEndpoint", "cross-site");
    const host = new URL(h.url).host;
    for (const headers of [{ "sec-fetch-site": "cross-site" }, { origin: "https://evil.example" }, { origin: "null" }, { origin: `http://${host}.evil.example` }]) {
      const answer = await consoleRequest(h, operator, "PATCH", call.path, { body: call.body, headers });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(answer.body.error, JSON.stringify(headers)).toMatchObject({ code: "CSRF_FAILED" });
    }
    for (const headers of [{ "sec-fetch-site": "same-origin", origin: `http://${host}` }, { origin: h.url }]) {
      expect((await consoleRequest(h, operator, "PATCH", call.path, { body: call.body, headers })).status, JSON.stringify(headers)).toBe(200);
    }
  });

  it("answers 401 to a missing, forged or revoked cookie, and to a disabled account's session", async () => {
    const path = "/api/admin/webhook-endpoints";
    expect((await h.request("GET", path)).status).toBe(401);
    for (const cookie of [
      "pay_console_session=",
      "pay_console_session=forged",
      `pay_console_session=${"A".repeat(43)}`,
      `pay_console_session=${operator.cookie.split("=")[1] ?? ""}x`,
    ]) {
      const answer = await h.request("GET", path, { headers: { cookie } });
      expect(answer.status, cookie).toBe(401);
      expect(answer.body.error, cookie).toMatchObject({ code: "UNAUTHORIZED" });
    }
    // The stored id is the token's hash: the table alone signs nobody in.
    const stored = await h.database.db.selectFrom("staff_sessions").select("id").limit(1).executeTakeFirstOrThrow();
    expect((await h.request("GET", path, { headers: { cookie: `pay_console_session=${stored.id}` } })).status).toBe(401);

    await createAccount(h, "dora", "operator");
    const dora = await signIn(h, "dora");
    expect((await consoleRequest(h, dora, "GET", path)).status).toBe(200);
    const disabled = await disableStaffAccount({ db: h.database.db, now: Date.now() }, "dora");
    expect(disabled).toEqual({ ok: true, value: { revokedSessions: 1 } });
    expect((await consoleRequest(h, dora, "GET", path)).status).toBe(401);
    const refusedSignIn = await h.request("POST", "/api/admin/session", { body: { username: "dora", password: PASSWORD } });
    expect(refusedSignIn.status).toBe(401);
    expect(refusedSignIn.body.error).toMatchObject({ code: "SIGN_IN_FAILED" });
    // Enabled again, the old session stays ended; a new sign-in works.
    await enableStaffAccount({ db: h.database.db, now: Date.now() }, "dora");
    expect((await consoleRequest(h, dora, "GET", path)).status).toBe(401);
    expect((await consoleRequest(h, await signIn(h, "dora"), "GET", path)).status).toBe(200);
  });

  it("signs out: the session ends, the cookie is cleared, and it is a 401 from then on", async () => {
    await createAccount(h, "sam", "viewer");
    const sam = await signIn(h, "sam");
    const out = await consoleRequest(h, sam, "DELETE", "/api/admin/session");
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ signedOut: true });
    expect(out.headers.get("set-cookie")).toBe("pay_console_session=; Path=/api/admin; Max-Age=0; HttpOnly; SameSite=Strict");
    expect((await consoleRequest(h, sam, "GET", "/api/admin/session")).status).toBe(401);
    const log = (await h.request("GET", "/api/admin/audit-log?limit=5", { token: ADMIN_TOKEN })).body.entries as AuditEntry[];
    expect(log.find((entry) => entry.action === "staffSignOut")).toMatchObject({ actor: { kind: "staff", username: "sam" }, target: "staff:sam", outcome: "ok" });
  });

  it("keeps ADMIN_TOKEN working everywhere without CSRF; a Bearer header wins over a cookie", async () => {
    const session = await h.request("GET", "/api/admin/session", { token: ADMIN_TOKEN });
    expect(session.body).toEqual({ actor: { kind: "token", role: "operator" }, csrfToken: null, expiresAt: null });
    const call = operatorCall("createRefund", "token");
    const refund = await h.request("POST", call.path, { token: ADMIN_TOKEN, body: call.body, headers: call.headers });
    expect(refund.status).toBe(201);
    // A viewer's cookie beside the admin token: the token decides (automation running in a signed-in browser).
    const both = await h.request("POST", call.path, {
      body: { refundFee: 1 },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, cookie: viewer.cookie, "idempotency-key": "both-1" },
    });
    expect(both.status).toBe(201);
    // A wrong token beside an operator's valid cookie and CSRF: still refused.
    const wrong = await h.request("POST", call.path, {
      body: { refundFee: 1 },
      headers: { authorization: `Bearer ${"w".repeat(30)}`, cookie: operator.cookie, "x-csrf-token": operator.csrf, "idempotency-key": "both-2" },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error).toMatchObject({ code: "FORBIDDEN" });
    const log = (await h.request("GET", "/api/admin/audit-log?limit=10", { token: ADMIN_TOKEN })).body.entries as AuditEntry[];
    expect(log.find((entry) => entry.idempotencyKey === "refund-token")).toMatchObject({ actor: { kind: "token", id: null, username: null }, outcome: "ok" });
  });

  it("sets the session cookie HttpOnly, SameSite=Strict, on /api/admin, with a Max-Age and without Secure outside production", () => {
    expect(operator.setCookie).toMatch(/^pay_console_session=[A-Za-z0-9_-]{43}; Path=\/api\/admin; Max-Age=28800; HttpOnly; SameSite=Strict$/);
  });

  it("audits sign-ins, never with the password", async () => {
    const refused = await h.request("POST", "/api/admin/session", { body: { username: "otto", password: "not the password at all" } });
    expect(refused.status).toBe(401);
    const rows = await h.database.db.selectFrom("audit_log").selectAll().where("action", "=", "staffSignIn").execute();
    expect(rows.map((row) => [row.actor_name, row.outcome])).toEqual(
      expect.arrayContaining([
        ["otto", "ok"],
        ["otto", "SIGN_IN_FAILED"],
      ]),
    );
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    expect(JSON.stringify(rows)).not.toContain("not the password at all");
    expect(rows.every((row) => row.target?.startsWith("staff:") === true && row.detail === "{}")).toBe(true);
    // The sessions table keeps no token either.
    const sessions = JSON.stringify(await h.database.db.selectFrom("staff_sessions").selectAll().execute());
    expect(sessions).not.toContain(operator.cookie.split("=")[1]);
    expect(sessions).toContain(
      createHash("sha256")
        .update(operator.cookie.split("=")[1] ?? "")
        .digest("hex"),
    );
  });

  it("answers a committed refund even when its audit entry cannot be written (and logs why)", async () => {
    await sql`drop table audit_log`.execute(h.database.db);
    const call = operatorCall("createRefund", "no-audit");
    const answer = await consoleRequest(h, operator, "POST", call.path, { body: call.body, headers: call.headers });
    expect(answer.status).toBe(201);
    expect(h.logs.some((line) => line.includes("audit log: the entry could not be written") && line.includes("refund-no-audit"))).toBe(true);
  });
});
