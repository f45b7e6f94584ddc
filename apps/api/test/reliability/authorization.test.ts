// Authorization beyond flows.test.ts: another user's order answers exactly like a missing one on every
// owner route, paid or pending; user tokens never reach admin endpoints; tampered, foreign and expired
// tokens are refused (the clock is moved past SESSION_TTL_SECONDS); nothing changes on a refusal.
import type { Order } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessionTokens } from "../../src/services/session-tokens.js";
import { ADMIN_TOKEN, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { recordFigure } from "./figures.js";
import { createPendingOrder, sandboxOrder, waitFor } from "./fixtures.js";
import { snapshotState } from "./snapshot.js";

const TTL_SECONDS = 3600;
const MISSING_ID = "P20990101000000000000NOPE";

describe.each(DATABASES)("authorization on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  let refusals = 0;
  let owner: { token: string; pending: Order; paid: Order };
  let mallory: string;

  beforeAll(async () => {
    h = await startApiHarness(kind, { clock: () => Date.now() + offset, env: { SESSION_TTL_SECONDS: String(TTL_SECONDS) } });
    const pending = await createPendingOrder(h, `owner-${kind}`);
    const paid = await createPendingOrder(h, `owner-${kind}`, "mug");
    await h.pay(paid.payment);
    await waitFor(
      "the owner's order is paid",
      async () => ((await h.request("GET", `/api/orders/${paid.order.id}`, { token: paid.token })).body.order as Order).status === "paid",
      5000,
    );
    owner = { token: pending.token, pending: pending.order, paid: paid.order };
    mallory = await h.signIn(`mallory-${kind}`);
  });
  afterAll(async () => {
    recordFigure(`authorization.${kind}`, { refusalsChecked: refusals });
    await h.close();
  });

  /** Sends a request that must be refused with `status`, and checks that nothing changed. */
  async function expectRefused(method: string, path: string, options: Parameters<ApiHarness["request"]>[2], status: number, code: string): Promise<Record<string, unknown>> {
    const before = await snapshotState(h.database.db);
    const answer = await h.request(method, path, options);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status);
    expect(answer.body).toMatchObject({ error: { code } });
    expect(await snapshotState(h.database.db)).toBe(before);
    refusals += 1;
    return answer.body;
  }

  const ownerRoutes = (id: string): Array<readonly [string, string]> => [
    ["GET", `/api/orders/${id}`],
    ["POST", `/api/orders/${id}/payment`],
    ["POST", `/api/orders/${id}/close`],
  ];

  it.each(["pending", "paid"] as const)("another user's %s order answers 404 on every owner route, word for word like a missing order", async (which) => {
    const victim = owner[which];
    for (const [method, path] of ownerRoutes(victim.id)) {
      const refused = await expectRefused(method, path, { token: mallory }, 404, "NOT_FOUND");
      const missing = await h.request(method, path.replace(victim.id, MISSING_ID), { token: mallory });
      expect(JSON.stringify(refused).replace(victim.id, "ID")).toBe(JSON.stringify(missing.body).replace(MISSING_ID, "ID"));
    }
    expect((await sandboxOrder(h.sandbox.url, victim.id)).trade_state).toBe(which === "paid" ? "SUCCESS" : "NOTPAY");
    const list = await h.request("GET", "/api/orders?limit=100", { token: mallory });
    expect((list.body.orders as Order[]).map((o) => o.id)).not.toContain(victim.id);
  });

  it("a cursor made from another user's order still lists only the caller's orders", async () => {
    const row = await h.database.db.selectFrom("orders").select(["created_at", "id"]).where("id", "=", owner.pending.id).executeTakeFirstOrThrow();
    const forged = Buffer.from(`9999-12-31T00:00:00.000Z|${row.id}`).toString("base64url");
    const own = (await h.request("POST", "/api/orders", { token: mallory, body: { items: [{ productId: "tote", quantity: 1 }] } })).body as { order: Order };
    const answer = await h.request("GET", `/api/orders?cursor=${forged}`, { token: mallory });
    expect(answer.status).toBe(200);
    expect((answer.body.orders as Order[]).map((o) => o.id)).toEqual([own.order.id]);
  });

  const adminAttempts: ReadonlyArray<readonly [string, () => string | undefined, number, string]> = [
    ["the owner's own session token", () => owner.token, 403, "FORBIDDEN"],
    ["another user's session token", () => mallory, 403, "FORBIDDEN"],
    ["no token", () => undefined, 401, "UNAUTHORIZED"],
    ["the admin token with a character added", () => `${ADMIN_TOKEN}x`, 403, "FORBIDDEN"],
    ["the admin token less its last character", () => ADMIN_TOKEN.slice(0, -1), 403, "FORBIDDEN"],
    ["the admin token in upper case", () => ADMIN_TOKEN.toUpperCase(), 403, "FORBIDDEN"],
  ];
  it.each(adminAttempts)("the admin refund endpoint refuses %s and refunds nothing", async (_what, tokenOf, status, code) => {
    const token = tokenOf();
    await expectRefused(
      "POST",
      `/api/admin/orders/${owner.paid.id}/refunds`,
      { ...(token === undefined ? {} : { token }), body: { refundFee: 1 }, headers: { "idempotency-key": `auth-${Math.random()}` } },
      status,
      code,
    );
    expect((await sandboxOrder(h.sandbox.url, owner.paid.id)).refunds).toHaveLength(0);
  });

  it.each([
    ["Basic credentials", `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}`],
    ["a lower-case scheme", `bearer ${ADMIN_TOKEN}`],
    ["the token without a scheme", ADMIN_TOKEN],
    ["an empty bearer", "Bearer "],
    ["two tokens", `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`],
  ])("the admin refund endpoint refuses an Authorization header with %s (401)", async (_what, header) => {
    await expectRefused(
      "POST",
      `/api/admin/orders/${owner.paid.id}/refunds`,
      { body: { refundFee: 1 }, headers: { authorization: header, "idempotency-key": `auth-${Math.random()}` } },
      401,
      "UNAUTHORIZED",
    );
  });

  it("the admin token is not a session token: user routes refuse it", async () => {
    await expectRefused("GET", "/api/orders", { token: ADMIN_TOKEN }, 401, "UNAUTHORIZED");
    await expectRefused("POST", "/api/orders", { token: ADMIN_TOKEN, body: { items: [{ productId: "mug", quantity: 1 }] } }, 401, "UNAUTHORIZED");
  });

  it("a token in the query string is not a credential", async () => {
    await expectRefused("GET", `/api/orders?token=${encodeURIComponent(owner.token)}`, {}, 401, "UNAUTHORIZED");
  });

  it("tampered and foreign tokens are refused: another user id under the owner's MAC, a longer expiry, another deployment's secret", async () => {
    const ownerUserId = (await h.database.db.selectFrom("orders").select("user_id").where("id", "=", owner.pending.id).executeTakeFirstOrThrow()).user_id;
    const [payload = "", mac = ""] = mallory.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { u: string; e: number };
    const asOwner = `${Buffer.from(JSON.stringify({ ...claims, u: ownerUserId })).toString("base64url")}.${mac}`;
    const longer = `${Buffer.from(JSON.stringify({ ...claims, e: claims.e + 365 * 86400_000 })).toString("base64url")}.${mac}`;
    const foreign = createSessionTokens("another-deployment-secret-0123456789abcdef", TTL_SECONDS).issue(ownerUserId, Date.now() + offset).token;
    for (const token of [asOwner, longer, foreign]) {
      await expectRefused("GET", `/api/orders/${owner.pending.id}`, { token }, 401, "UNAUTHORIZED");
      await expectRefused("POST", `/api/orders/${owner.pending.id}/close`, { token }, 401, "UNAUTHORIZED");
    }
  });

  it("tokens expire after SESSION_TTL_SECONDS on every user route; signing in again works", async () => {
    const token = await h.signIn(`expiring-${kind}`);
    const { order } = (await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "tote", quantity: 1 }] } })).body as { order: Order };
    offset += (TTL_SECONDS - 5) * 1000;
    expect((await h.request("GET", "/api/orders", { token })).status).toBe(200);
    offset += 10 * 1000;
    const routes: Array<readonly [string, string, unknown]> = [
      ["GET", "/api/orders", undefined],
      ["POST", "/api/orders", { items: [{ productId: "tote", quantity: 1 }] }],
      ["GET", `/api/orders/${order.id}`, undefined],
      ["POST", `/api/orders/${order.id}/payment`, undefined],
      ["POST", `/api/orders/${order.id}/close`, undefined],
    ];
    for (const [method, path, body] of routes) {
      const refused = await expectRefused(method, path, { token, ...(body === undefined ? {} : { body }) }, 401, "UNAUTHORIZED");
      expect(JSON.stringify(refused)).toMatch(/expired/);
    }
    // The expired owner's order is untouched at the gateway too.
    expect((await sandboxOrder(h.sandbox.url, order.id)).trade_state).toBe("NOTPAY");
    const fresh = await h.signIn(`expiring-${kind}`);
    expect((await h.request("GET", `/api/orders/${order.id}`, { token: fresh })).status).toBe(200);
  });
});
