// The order and refund services driven through the fake gateway (gateway/fake.ts) on a real SQLite
// database, with no HTTP anywhere: the business rules on their own. The sandbox tests cover the wire.
import type { CreateRefundRequest, OrderPaymentResponse } from "@pay/core/contract";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { seedProducts } from "../db/migrate.js";
import { DEFAULT_PRODUCTS } from "../db/products.js";
import type { OrderRow } from "../db/schema.js";
import { loadConfig } from "../env.js";
import type { ApiError } from "../errors.js";
import { createFakeGateway, type FakeGateway } from "../gateway/fake.js";
import { failureError } from "../routes/outcomes.js";
import { captureLogs } from "../../test/support/captured-logs.js";
import { openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { fakeGatewayEnv } from "../../test/support/fake-app.js";
import type { ServiceContext } from "./context.js";
import { handlePayNotify, handleRefundNotify } from "./notifies.js";
import { closeOwnOrder, createOrder, ensurePayment, findOwnOrder, getOrder } from "./orders.js";
import type { Outcome } from "./outcomes.js";
import { createRefund } from "./refunds.js";
import { sweepOnce } from "./sweeper.js";

const MERCHANT = { appId: "wxfakegateway0001", mchId: "1900000109", subAppId: undefined, subMchId: undefined };
const USER = "user-fake-1";
const START = Date.UTC(2026, 0, 1, 4, 0, 0);

let database: TestDatabase;
let fake: FakeGateway;
let services: ServiceContext;
let now: number;

beforeEach(async () => {
  database = await openTestDatabase("sqlite");
  await seedProducts(database.db, DEFAULT_PRODUCTS);
  await database.db
    .insertInto("users")
    .values({ id: USER, openid: "o-fake-payer", created_at: new Date(START).toISOString() })
    .execute();
  const config = loadConfig({
    ...fakeGatewayEnv(database.url),
  });
  now = START;
  // Logged lines are kept out of the test output.
  const { logger } = captureLogs();
  fake = createFakeGateway({ merchant: MERCHANT });
  const login = { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-fake-payer" }) };
  services = createApp({ config, db: database.db, dialect: database.dialect, gateway: fake, login, logger, clock: () => now }).services;
});

afterEach(async () => {
  await services.paidWriter.drain();
  await database.close();
});

/** The value of a service outcome that must have succeeded. */
function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failure)}`);
  return outcome.value;
}

/** The API error a failed outcome is answered with (routes/outcomes.ts). */
function refusalOf(outcome: Outcome<unknown>): ApiError {
  if (outcome.ok) throw new Error("expected a failure");
  return failureError(outcome.failure);
}

async function order(quantity = 1): Promise<OrderPaymentResponse> {
  return valueOf(await createOrder(services, USER, { items: [{ productId: "mug", quantity }] }, undefined));
}

async function stored(orderId: string): Promise<OrderRow> {
  return valueOf(await findOwnOrder(services, USER, orderId));
}

async function paidOrder(quantity = 1): Promise<string> {
  const { order: created } = await order(quantity);
  const answer = await handlePayNotify(services, fake.payNotifyBody(fake.pay(created.id)), {});
  expect(answer).toEqual({ answer: { acknowledged: true }, reason: "paid" });
  return created.id;
}

async function paymentEvents(orderId: string): Promise<Array<{ source: string; transaction_id: string }>> {
  return database.db.selectFrom("payment_events").select(["source", "transaction_id"]).where("order_id", "=", orderId).execute();
}

const refundOf = (refundFee: number): CreateRefundRequest => ({ refundFee });

describe("the order service against the fake gateway", () => {
  it("creates a pending order priced from the catalogue and hands out payment params for the gateway's prepay id", async () => {
    const created = await order(2);
    expect(created.order).toMatchObject({ status: "pending", totalFee: 7980, feeType: "CNY" });
    const placed = fake.orders.get(created.order.id);
    expect(placed?.input).toMatchObject({ orderId: created.order.id, amount: 7980, currency: "CNY", payer: { openid: "o-fake-payer", scope: "merchant" }, startsAt: START });
    expect(created.payment.package).toBe(`prepay_id=${placed?.prepayId ?? ""}`);

    // A still-valid prepay id is handed out again without asking the gateway.
    const again = valueOf(await ensurePayment(services, await stored(created.order.id)));
    expect(again.payment.package).toBe(created.payment.package);
    expect(fake.calls.filter((c) => c.method === "placeOrder")).toHaveLength(1);
  });

  it("marks an order paid exactly once from a verified report; a repeat changes nothing", async () => {
    const { order: created } = await order();
    const report = fake.pay(created.id);
    expect(await handlePayNotify(services, fake.payNotifyBody(report), {})).toEqual({ answer: { acknowledged: true }, reason: "paid" });
    expect(await handlePayNotify(services, fake.payNotifyBody(report), {})).toEqual({ answer: { acknowledged: true }, reason: "duplicate of an applied notify" });
    expect(await stored(created.id)).toMatchObject({ status: "paid", transaction_id: report.transactionId, paid_at: new Date(now).toISOString() });
    expect(await paymentEvents(created.id)).toEqual([{ source: "notify", transaction_id: report.transactionId }]);
  });

  it.each([
    ["a smaller amount", { amount: 1 }, "AMOUNT_MISMATCH"],
    ["another currency", { currency: "USD" as const }, "CURRENCY_MISMATCH"],
    ["another merchant", { merchant: { ...MERCHANT, mchId: "1900000999" } }, "MCH_ID_MISMATCH"],
  ])("refuses a report with %s and leaves the order pending", async (_what, patch, code) => {
    const { order: created } = await order();
    const answer = await handlePayNotify(services, fake.payNotifyBody(fake.pay(created.id, patch)), {});
    expect(answer).toEqual({ answer: { acknowledged: false, message: "订单信息不一致" }, reason: code });
    expect(await stored(created.id)).toMatchObject({ status: "pending", transaction_id: null });
    expect(await paymentEvents(created.id)).toEqual([]);
  });

  it("acknowledges a failed payment attempt without changing the order, and refuses a report for an unknown order", async () => {
    const { order: created } = await order();
    expect(await handlePayNotify(services, fake.failedPayNotifyBody("NOTENOUGH"), {})).toEqual({
      answer: { acknowledged: true },
      reason: "result_code FAIL (NOTENOUGH): nothing to change",
    });
    expect(await stored(created.id)).toMatchObject({ status: "pending" });
    const stray = fake.pay(created.id, { orderId: "no-such-order" });
    expect(await handlePayNotify(services, fake.payNotifyBody(stray), {})).toEqual({ answer: { acknowledged: false, message: "订单不存在" }, reason: "UNKNOWN_ORDER" });
  });

  it("recovers a payment whose notify was lost by querying the gateway, once the order is old enough", async () => {
    const { order: created } = await order();
    const report = fake.pay(created.id);
    // Too fresh: no query yet.
    expect(valueOf(await getOrder(services, USER, created.id))).toMatchObject({ status: "pending" });
    expect(fake.calls.filter((c) => c.method === "queryOrder")).toHaveLength(0);
    now += (services.config.orderQueryAfterSeconds + 1) * 1000;
    expect(valueOf(await getOrder(services, USER, created.id))).toMatchObject({ status: "paid", transactionId: report.transactionId });
    expect(await paymentEvents(created.id)).toEqual([{ source: "query", transaction_id: report.transactionId }]);
  });

  it("closes a pending order at the gateway first, then locally; closing again is idempotent", async () => {
    const { order: created } = await order();
    expect(valueOf(await closeOwnOrder(services, USER, created.id))).toMatchObject({ status: "closed" });
    expect(fake.orders.get(created.id)?.state).toBe("closed");
    expect(valueOf(await closeOwnOrder(services, USER, created.id))).toMatchObject({ status: "closed" });
    expect(fake.calls.filter((c) => c.method === "closeOrder")).toHaveLength(1);
    const refused = refusalOf(await ensurePayment(services, await stored(created.id)));
    expect(refused.code).toBe("ORDER_NOT_PAYABLE");
  });

  it("does not close an order that was paid at the gateway meanwhile: the payment wins", async () => {
    const { order: created } = await order();
    fake.pay(created.id);
    const refused = refusalOf(await closeOwnOrder(services, USER, created.id));
    expect(refused.code).toBe("ORDER_NOT_CLOSABLE");
    expect(await stored(created.id)).toMatchObject({ status: "paid" });
  });

  it("keeps the order payable when the gateway times out, and a retry places it with the same id", async () => {
    fake.failNext("placeOrder", { kind: "timeout", retryable: true });
    const refused = refusalOf(await createOrder(services, USER, { items: [{ productId: "mug", quantity: 1 }] }, undefined));
    expect(refused.code).toBe("GATEWAY_TIMEOUT");
    const row = await database.db.selectFrom("orders").selectAll().where("user_id", "=", USER).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "pending", prepay_id: null });
    const retried = valueOf(await ensurePayment(services, row));
    expect(retried.payment.package).toBe(`prepay_id=${fake.orders.get(row.id)?.prepayId ?? ""}`);
    expect(fake.calls.filter((c) => c.method === "placeOrder").map((c) => c.id)).toEqual([row.id, row.id]);
  });
});

describe("the refund service against the fake gateway", () => {
  it("reserves, submits and settles a refund; the notify is applied once", async () => {
    const orderId = await paidOrder();
    const created = valueOf(await createRefund(services, orderId, refundOf(990), "refund-key-1"));
    expect(created.refund).toMatchObject({ orderId, refundFee: 990, currency: "CNY", status: "processing" });
    const submitted = fake.refunds.get(created.refund.id);
    expect(submitted?.input).toMatchObject({ orderId, refundId: created.refund.id, orderAmount: 3990, amount: 990, currency: "CNY" });
    const row = await database.db.selectFrom("refunds").selectAll().where("id", "=", created.refund.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ submitted: 1, refund_id: submitted?.gatewayRefundId, status: "processing" });
    expect(await stored(orderId)).toMatchObject({ reserved_refund_fee: 990, refunded_fee: 0 });

    const settled = fake.settleRefund(created.refund.id, "succeeded", "2026-01-01T04:05:00.000Z");
    expect(await handleRefundNotify(services, fake.refundNotifyBody(settled), {})).toEqual({ answer: { acknowledged: true }, reason: "refund succeeded" });
    expect(await handleRefundNotify(services, fake.refundNotifyBody(settled), {})).toEqual({ answer: { acknowledged: true }, reason: "duplicate of an applied refund notify" });
    expect(await database.db.selectFrom("refunds").selectAll().where("id", "=", created.refund.id).executeTakeFirstOrThrow()).toMatchObject({
      status: "succeeded",
      succeeded_at: "2026-01-01T04:05:00.000Z",
    });
    expect(await stored(orderId)).toMatchObject({ status: "paid", refunded_fee: 990, reserved_refund_fee: 990 });
  });

  it("a retried request with the same key finds its refund and never refunds twice", async () => {
    const orderId = await paidOrder();
    const first = valueOf(await createRefund(services, orderId, refundOf(3990), "refund-key-2"));
    const again = valueOf(await createRefund(services, orderId, refundOf(3990), "refund-key-2"));
    expect(again.refund.id).toBe(first.refund.id);
    expect(fake.calls.filter((c) => c.method === "refund")).toHaveLength(1);
    const settled = fake.settleRefund(first.refund.id, "succeeded");
    await handleRefundNotify(services, fake.refundNotifyBody(settled), {});
    expect(await stored(orderId)).toMatchObject({ status: "refunded", refunded_fee: 3990 });
  });

  it("refuses a refund that would exceed what was paid, before asking the gateway", async () => {
    const orderId = await paidOrder();
    valueOf(await createRefund(services, orderId, refundOf(3000), "refund-key-3"));
    const refused = refusalOf(await createRefund(services, orderId, refundOf(991), "refund-key-4"));
    expect(refused).toMatchObject({ code: "REFUND_EXCEEDS_PAID", field: "refundFee" });
    expect(fake.calls.filter((c) => c.method === "refund")).toHaveLength(1);
    expect(await database.db.selectFrom("refunds").select("id").where("request_key", "=", "refund-key-4").execute()).toEqual([]);
    expect(await stored(orderId)).toMatchObject({ reserved_refund_fee: 3000 });
  });

  it("refuses a refund of an order that is not paid", async () => {
    const { order: created } = await order();
    const refused = refusalOf(await createRefund(services, created.id, refundOf(100), "refund-key-5"));
    expect(refused.code).toBe("ORDER_NOT_REFUNDABLE");
    expect(fake.calls.filter((c) => c.method === "refund")).toHaveLength(0);
  });

  it("releases the reservation when the gateway refuses the refund for good", async () => {
    const orderId = await paidOrder();
    fake.failNext("refund", { kind: "business", retryable: false, code: "NOT_ENOUGH", description: "balance too low" });
    const refused = refusalOf(await createRefund(services, orderId, refundOf(500), "refund-key-6"));
    expect(refused).toMatchObject({ code: "GATEWAY_ERROR", message: "WeChat Pay refused the refund: NOT_ENOUGH balance too low" });
    expect(await database.db.selectFrom("refunds").selectAll().where("request_key", "=", "refund-key-6").executeTakeFirstOrThrow()).toMatchObject({
      status: "closed",
      last_error: "NOT_ENOUGH: balance too low",
    });
    expect(await stored(orderId)).toMatchObject({ reserved_refund_fee: 0 });
  });

  it("refuses a refund notify that names no refund of ours, or another amount", async () => {
    const orderId = await paidOrder();
    const created = valueOf(await createRefund(services, orderId, refundOf(500), "refund-key-7"));
    const settled = fake.settleRefund(created.refund.id, "succeeded");
    expect(await handleRefundNotify(services, fake.refundNotifyBody({ ...settled, refundId: "R-unknown" }), {})).toEqual({
      answer: { acknowledged: false, message: "退款单不存在" },
      reason: "UNKNOWN_REFUND",
    });
    expect(await handleRefundNotify(services, fake.refundNotifyBody({ ...settled, amount: 501 }), {})).toEqual({
      answer: { acknowledged: false, message: "退款信息不一致" },
      reason: "REFUND_MISMATCH",
    });
    expect(await database.db.selectFrom("refunds").select("status").where("id", "=", created.refund.id).executeTakeFirstOrThrow()).toEqual({ status: "processing" });
  });

  it("the sweep resubmits a refund whose submission was lost, then settles it from the gateway's answer", async () => {
    const orderId = await paidOrder();
    fake.failNext("refund", { kind: "timeout", retryable: true });
    const lost = refusalOf(await createRefund(services, orderId, refundOf(700), "refund-key-8"));
    expect(lost.code).toBe("GATEWAY_TIMEOUT");
    const row = await database.db.selectFrom("refunds").selectAll().where("request_key", "=", "refund-key-8").executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: "processing", submitted: 0, last_error: "timeout: fake refund failure" });

    expect(await sweepOnce(services)).toMatchObject({ refundsChecked: 1, errors: 0 });
    expect(fake.refunds.get(row.id)?.input).toMatchObject({ refundId: row.id, amount: 700 });
    expect(await database.db.selectFrom("refunds").select(["submitted", "status"]).where("id", "=", row.id).executeTakeFirstOrThrow()).toEqual({
      submitted: 1,
      status: "processing",
    });

    fake.settleRefund(row.id, "succeeded", "2026-01-01T05:00:00.000Z");
    now += (services.config.orderQueryAfterSeconds + 1) * 1000;
    expect(await sweepOnce(services)).toMatchObject({ refundsChecked: 1, errors: 0 });
    expect(await database.db.selectFrom("refunds").select("status").where("id", "=", row.id).executeTakeFirstOrThrow()).toEqual({ status: "succeeded" });
    expect(await stored(orderId)).toMatchObject({ refunded_fee: 700 });
  });

  it("the sweep closes an expired order at the gateway and counts a gateway failure as an error", async () => {
    const { order: first } = await order();
    const { order: second } = await order();
    now += (services.config.orderTtlMinutes * 60 + 1) * 1000;
    fake.failNext("closeOrder", { kind: "network", retryable: true });
    expect(await sweepOnce(services)).toMatchObject({ closed: 1, errors: 1 });
    const states = [await stored(first.id), await stored(second.id)].map((o) => o.status).sort();
    expect(states).toEqual(["closed", "pending"]);
    expect(await sweepOnce(services)).toMatchObject({ closed: 1, errors: 0 });
    expect((await stored(second.id)).status).toBe("closed");
  });
});
