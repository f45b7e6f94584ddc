import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";
import { DATABASES } from "../../test/support/databases.js";

describe.each(DATABASES)("malformed input on %s", (kind) => {
  let h: ApiHarness;
  let token: string;
  let orderId: string;
  beforeAll(async () => {
    h = await startApiHarness(kind);
    token = await h.signIn("validator");
    const created = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
    orderId = (created.body.order as { id: string }).id;
  });
  afterAll(async () => {
    await h.close();
  });

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "v-1" };

  it.each([
    ["POST", "/api/session", { body: {} }, 400, "code"],
    ["POST", "/api/session", { body: { code: 12 } }, 400, "code"],
    ["POST", "/api/session", { body: { code: "x", extra: 1 } }, 400, "body"],
    ["POST", "/api/session", { rawBody: "{not json", headers: { "content-type": "application/json" } }, 400, undefined],
    ["POST", "/api/session", { rawBody: "code=x", headers: { "content-type": "application/x-www-form-urlencoded" } }, 415, undefined],
    ["POST", "/api/orders", { body: { items: [] } }, 400, "items"],
    ["POST", "/api/orders", { body: { items: [{ productId: "mug", quantity: 0 }] } }, 400, "items.0.quantity"],
    ["POST", "/api/orders", { body: { items: [{ productId: "mug", quantity: 1.5 }] } }, 400, "items.0.quantity"],
    ["POST", "/api/orders", { body: { items: [{ productId: "mug", quantity: 1, price: 1 }] } }, 400, "items.0"],
    ["POST", "/api/orders", { body: { items: [{ productId: "nope", quantity: 1 }] } }, 400, "items.0.productId"],
    [
      "POST",
      "/api/orders",
      {
        body: {
          items: [
            { productId: "mug", quantity: 1 },
            { productId: "mug", quantity: 2 },
          ],
        },
      },
      400,
      "items.1.productId",
    ],
    ["POST", "/api/orders", { body: { items: [{ productId: "mug", quantity: 1 }] }, headers: { "idempotency-key": "has spaces" } }, 400, "Idempotency-Key"],
    ["POST", "/api/orders", { body: [1, 2] }, 400, "body"],
    ["POST", "/api/orders", { rawBody: `{"items":[${'{"productId":"mug","quantity":1},'.repeat(1000)}]}`, headers: { "content-type": "application/json" } }, 413, undefined],
    ["GET", "/api/orders?limit=0", {}, 400, "limit"],
    ["GET", "/api/orders?limit=abc", {}, 400, "limit"],
    ["GET", "/api/orders?cursor=%%%", {}, 400, "cursor"],
    ["GET", "/api/orders?bogus=1", {}, 400, "query"],
    ["GET", "/api/orders/short", {}, 400, "id"],
    ["GET", "/api/orders/has%20space%20in%20it", {}, 400, "id"],
    ["POST", "/api/orders/P000000000000000000000/payment", {}, 404, undefined],
    ["POST", "/api/orders/ORDERID/close", { body: { force: true } }, 400, "body"],
    ["DELETE", "/api/orders", {}, 405, undefined],
    ["GET", "/api/nothing-here", {}, 404, undefined],
  ] as const)("%s %s", async (method, path, options, status, field) => {
    const answer = await h.request(method, path.replace("ORDERID", orderId), { token, ...options });
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ error: { code: expect.any(String) as string, message: expect.any(String) as string } });
    if (field !== undefined) expect((answer.body.error as { field?: string }).field).toBe(field);
  });

  it.each([
    [{ refundFee: 0 }, "refundFee"],
    [{ refundFee: -1 }, "refundFee"],
    [{ refundFee: 1.5 }, "refundFee"],
    [{ refundFee: "1" }, "refundFee"],
    [{ refundFee: 1, reason: "x".repeat(81) }, "reason"],
  ])("admin refund body %j -> 400 naming %s", async (body, field) => {
    const answer = await h.request("POST", `/api/admin/orders/${orderId}/refunds`, { body, headers: admin });
    expect(answer.status).toBe(400);
    expect((answer.body.error as { field?: string }).field).toBe(field);
  });

  it.each([
    ["no token", undefined],
    ["a garbage token", "garbage"],
    ["a token with a forged signature", "eyJ1IjoidV94IiwiZSI6OTk5OTk5OTk5OTk5OX0.AAAA"],
  ])("user endpoints answer 401 for %s", async (_what, bad) => {
    for (const [method, path] of [
      ["GET", "/api/orders"],
      ["POST", "/api/orders"],
      ["GET", `/api/orders/${orderId}`],
    ] as const) {
      const body = method === "POST" ? { body: { items: [] } } : {};
      const answer = await h.request(method, path, bad === undefined ? body : { token: bad, ...body });
      expect(answer.status).toBe(401);
    }
  });

  it("a login code WeChat refuses is a 401 LOGIN_FAILED, not a 500", async () => {
    const answer = await h.request("POST", "/api/session", { body: { code: "never-issued" } });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: "LOGIN_FAILED" } });
  });

  it("property: arbitrary JSON bodies never cause a 500 and never create an order", async () => {
    const before = (
      await h.database.db
        .selectFrom("orders")
        .select(({ fn }) => fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record(
            { items: fc.array(fc.record({ productId: fc.string(), quantity: fc.oneof(fc.integer(), fc.double(), fc.string()) }, { requiredKeys: [] })) },
            { requiredKeys: [] },
          ),
        ),
        async (body) => {
          for (const path of ["/api/orders", "/api/session", `/api/admin/orders/${orderId}/refunds`]) {
            const answer = await h.request("POST", path, { token, body, headers: { "idempotency-key": "fuzz" } });
            expect(answer.status).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 60 },
    );
    const after = (
      await h.database.db
        .selectFrom("orders")
        .select(({ fn }) => fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow()
    ).n;
    expect(Number(after)).toBe(Number(before));
  });
});
