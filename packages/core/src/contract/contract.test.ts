import { describe, expect, it } from "vitest";
import { API_ERROR_CODES, API_ERROR_STATUS, ApiErrorBodySchema } from "./errors.js";
import { CreateOrderRequestSchema, OrderSchema } from "./order.js";
import { RequestPaymentParamsSchema } from "./payment.js";
import { ReconciliationDetailQuerySchema, ReconciliationListQuerySchema } from "./reconciliation.js";
import { API_ROUTES } from "./routes.js";
import { loadVectorsV3 } from "../../test/support/reference.js";

describe("contract schemas", () => {
  it("gives every API error code an HTTP status of 4xx or 5xx", () => {
    for (const code of API_ERROR_CODES) expect(API_ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
    expect(ApiErrorBodySchema.safeParse({ error: { code: "NOT_FOUND", message: "no such order" } }).success).toBe(true);
    expect(ApiErrorBodySchema.safeParse({ error: { code: "TEAPOT", message: "" } }).success).toBe(false);
  });

  it("rejects extra fields in payment params and create-order bodies", () => {
    const payment = { timeStamp: "1490840662", nonceStr: "n", package: "prepay_id=wx1", signType: "MD5", paySign: "22D9B4E54AB1950F51E0649E8810ACD6" };
    expect(RequestPaymentParamsSchema.safeParse(payment).success).toBe(true);
    expect(RequestPaymentParamsSchema.safeParse({ ...payment, appId: "wx1" }).success).toBe(false);
    expect(RequestPaymentParamsSchema.safeParse({ ...payment, timeStamp: 1490840662 }).success).toBe(false);
    expect(CreateOrderRequestSchema.safeParse({ items: [{ productId: "p1", quantity: 1 }], totalFee: 1 }).success).toBe(false);
  });

  it("pairs paySign with signType: uppercase hex (32 or 64, as before) for MD5 / HMAC-SHA256, base64 RSA signature for RSA", () => {
    const base = { timeStamp: "1554208460", nonceStr: "593BEC0C930BF1AFEB40B4A08C8FB242", package: "prepay_id=wx201410272009395522657a690389285100" };
    const rsa = loadVectorsV3().paySign.paySign;
    expect(rsa).toHaveLength(344);
    const accepted = [
      { signType: "MD5", paySign: "A".repeat(32) },
      { signType: "HMAC-SHA256", paySign: "0".repeat(64) },
      { signType: "RSA", paySign: rsa },
      { signType: "RSA", paySign: `${"A".repeat(683)}=` },
    ];
    for (const pair of accepted) expect(RequestPaymentParamsSchema.safeParse({ ...base, ...pair }).success, JSON.stringify(pair)).toBe(true);
    const refused = [
      { signType: "RSA", paySign: "A".repeat(64) },
      { signType: "RSA", paySign: rsa.slice(0, -1) },
      { signType: "RSA", paySign: `WECHATPAY/SIGNTEST/${rsa}` },
      { signType: "RSA", paySign: rsa.replace(/\+/g, "-") },
      { signType: "RSA", paySign: `${"A".repeat(684)}====` },
      { signType: "MD5", paySign: rsa },
      { signType: "HMAC-SHA256", paySign: "a".repeat(64) },
      { signType: "SHA256withRSA", paySign: rsa },
    ];
    for (const pair of refused) {
      const parsed = RequestPaymentParamsSchema.safeParse({ ...base, ...pair });
      expect(parsed.success, JSON.stringify(pair)).toBe(false);
      expect(parsed.error?.issues[0]?.path.join("."), JSON.stringify(pair)).toMatch(/^(paySign|signType)$/);
    }
  });

  it.each([
    [{ items: [] }, "items"],
    [{ items: [{ productId: "p1", quantity: 0 }] }, "items.0.quantity"],
    [{ items: [{ productId: "p1", quantity: 1.5 }] }, "items.0.quantity"],
    [{ items: [{ productId: "", quantity: 1 }] }, "items.0.productId"],
    [{ items: [{ productId: "p1", quantity: 1, price: 1 }] }, "items.0"],
  ])("create-order body %j fails at %s", (body, path) => {
    const parsed = CreateOrderRequestSchema.safeParse(body);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path.join(".")).toBe(path);
  });

  it("requires integer minor units and a known currency on orders", () => {
    const order = {
      id: "P20260101000001",
      status: "paid",
      totalFee: 100,
      refundedFee: 0,
      feeType: "CNY",
      items: [],
      createdAt: "2026-01-01T00:00:00.000Z",
      paidAt: null,
      transactionId: null,
    };
    expect(OrderSchema.safeParse(order).success).toBe(true);
    expect(OrderSchema.safeParse({ ...order, totalFee: 1.5 }).success).toBe(false);
    expect(OrderSchema.safeParse({ ...order, feeType: "XXX" }).success).toBe(false);
  });

  it("lists every route with a unique method and path", () => {
    const keys = Object.values(API_ROUTES).map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("reconciliation queries", () => {
  const issueOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) => {
    const issue = result.error?.issues[0];
    return issue === undefined ? undefined : `${issue.path.map(String).join(".")}: ${issue.message}`;
  };

  it.each([
    [{}, undefined],
    [{ from: "2026-01-01", to: "2026-01-01" }, undefined],
    [{ from: "2025-01-01", to: "2025-12-31" }, undefined],
    [{ from: "2024-01-01", to: "2024-12-31" }, undefined],
    [{ from: "2025-01-01", to: "2026-01-01" }, undefined],
    [{ from: "2025-01-01", to: "2026-01-02" }, "to: must be at most 366 days from from, both included"],
    [{ from: "2026-01-02", to: "2026-01-01" }, "from: must not be after to"],
    [{ from: "2026-02-30" }, "from: is not a real date"],
    [{ to: "2026-1-1" }, "to: expected a day as YYYY-MM-DD"],
    [{ day: "2026-01-01" }, ': Unrecognized key: "day"'],
  ] as const)("the list query %j: %s", (query, problem) => {
    const parsed = ReconciliationListQuerySchema.safeParse(query);
    expect(issueOf(parsed)).toBe(problem);
  });

  it("pages a day's items: limit 1 to 500, default 100, one class at a time", () => {
    expect(ReconciliationDetailQuerySchema.parse({})).toEqual({ limit: 100 });
    expect(ReconciliationDetailQuerySchema.parse({ limit: "500", class: "unknown_payment", cursor: "x" })).toEqual({ limit: 500, class: "unknown_payment", cursor: "x" });
    expect(ReconciliationDetailQuerySchema.safeParse({ limit: "501" }).success).toBe(false);
    expect(ReconciliationDetailQuerySchema.safeParse({ limit: "0" }).success).toBe(false);
    expect(ReconciliationDetailQuerySchema.safeParse({ class: "lost" }).success).toBe(false);
  });

  it("lets only runReconciliation answer 202 besides its success status", () => {
    const accepting = Object.entries(API_ROUTES).filter(([, route]) => "accepted" in route);
    expect(accepting.map(([name, route]) => [name, route.status, "accepted" in route ? route.accepted : undefined])).toEqual([["runReconciliation", 200, 202]]);
  });
});
