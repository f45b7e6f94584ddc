// The activity rows and metrics of the background paths on the fake gateway (both databases): the sweep's
// refund queries (not found, then succeeded) and closes (failed, then closed), and a failed prepay.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { loadConfig } from "../../src/env.js";
import { createFakeGateway, type FakeGateway } from "../../src/gateway/fake.js";
import type { ServiceContext } from "../../src/services/context.js";
import { handlePayNotify } from "../../src/services/notifies.js";
import { createOrder } from "../../src/services/orders.js";
import { createRefund } from "../../src/services/refunds.js";
import { sweepOnce } from "../../src/services/sweeper.js";
import { captureLogs } from "../support/captured-logs.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { fakeGatewayEnv, FAKE_MERCHANT } from "../support/fake-app.js";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

const USER = "user-sweep-activity";
const START = Date.UTC(2026, 0, 1, 4, 0, 0);

describe.each(DATABASES)("the sweep's activity and metrics on %s", (kind) => {
  let database: TestDatabase;
  let fake: FakeGateway;
  let services: ServiceContext;
  let now: number;

  beforeEach(async () => {
    database = await openTestDatabase(kind);
    await seedProducts(database.db, DEFAULT_PRODUCTS);
    await database.db
      .insertInto("users")
      .values({ id: USER, openid: "o-sweep-payer", created_at: new Date(START).toISOString() })
      .execute();
    now = START;
    const { logger } = captureLogs();
    fake = createFakeGateway({ merchant: FAKE_MERCHANT });
    const login = { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-sweep-payer" }) };
    services = createApp({ config: loadConfig(fakeGatewayEnv(database.url)), db: database.db, dialect: database.dialect, gateway: fake, login, logger, clock: () => now }).services;
  });
  afterEach(async () => {
    await services.paidWriter.drain();
    await services.activity.close();
    await database.close();
  });

  const place = async (): Promise<string> => {
    const placed = await createOrder(services, USER, { items: [{ productId: "mug", quantity: 1 }] }, undefined);
    if (!placed.ok) throw new Error(JSON.stringify(placed.failure));
    return placed.value.order.id;
  };
  const activity = async (orderId: string, kinds: readonly string[]) => {
    await services.activity.flush();
    const rows = await database.db.selectFrom("order_activity").selectAll().where("order_id", "=", orderId).orderBy("id").execute();
    return rows.filter((row) => kinds.includes(row.kind));
  };
  const later = () => {
    now += (services.config.orderQueryAfterSeconds + 1) * 1000;
  };

  it("records the sweep's refund queries with the refund id: not found (resubmitted), then succeeded", async () => {
    const orderId = await place();
    expect((await handlePayNotify(services, fake.payNotifyBody(fake.pay(orderId)), {})).reason).toBe("paid");
    fake.failNext("refund", { kind: "timeout", retryable: true });
    const lost = await createRefund(services, orderId, { refundFee: 700 }, "sweep-activity-refund");
    expect(lost.ok).toBe(false);
    const refund = await database.db.selectFrom("refunds").select("id").where("order_id", "=", orderId).executeTakeFirstOrThrow();
    later();
    await sweepOnce(services);
    fake.settleRefund(refund.id, "succeeded", "2026-01-01T05:00:00.000Z");
    later();
    await sweepOnce(services);
    expect(await activity(orderId, ["refund_query"])).toMatchObject([
      { kind: "refund_query", refund_id: refund.id, outcome: "not_found", detail: "sweep", protocol: "v2" },
      { kind: "refund_query", refund_id: refund.id, outcome: "succeeded", detail: "sweep" },
    ]);
    const samples = parsePrometheusText(await services.metrics.text());
    expect(sampleValue(samples, "pay_refunds_total", { status: "requested" })).toBe(1);
    expect(sampleValue(samples, "pay_refunds_total", { status: "succeeded" })).toBe(1);
    expect(sampleValue(samples, "pay_gateway_call_duration_seconds_count", { call: "refund", outcome: "timeout" })).toBe(1);
    expect(sampleValue(samples, "pay_gateway_call_duration_seconds_count", { call: "refund", outcome: "ok" })).toBe(1);
    expect(sampleValue(samples, "pay_gateway_call_duration_seconds_count", { call: "queryRefund", outcome: "ok" })).toBe(2);
  });

  it("records the sweep's close of an expired order (failed with the reason, then closed) and a failed prepay with its code", async () => {
    const orderId = await place();
    now += (services.config.orderTtlMinutes * 60 + 1) * 1000;
    fake.failNext("closeOrder", { kind: "network", retryable: true });
    await sweepOnce(services);
    await sweepOnce(services);
    expect(await activity(orderId, ["close"])).toMatchObject([
      { kind: "close", outcome: "failed", reason: "network", detail: "sweep" },
      { kind: "close", outcome: "closed", reason: null, detail: "sweep" },
    ]);

    fake.failNext("placeOrder", { kind: "business", code: "SYSTEMERROR", retryable: true });
    const failed = await createOrder(services, USER, { items: [{ productId: "mug", quantity: 1 }] }, "prepay-fails");
    expect(failed.ok).toBe(false);
    const unpaid = await database.db.selectFrom("orders").select("id").where("idempotency_key", "=", "prepay-fails").executeTakeFirstOrThrow();
    expect(await activity(unpaid.id, ["prepay"])).toMatchObject([{ kind: "prepay", outcome: "failed", reason: "SYSTEMERROR", detail: "create" }]);
    const samples = parsePrometheusText(await services.metrics.text());
    expect(sampleValue(samples, "pay_order_transitions_total", { from: "pending", to: "closed" })).toBe(1);
    expect(sampleValue(samples, "pay_gateway_call_duration_seconds_count", { call: "placeOrder", outcome: "SYSTEMERROR" })).toBe(1);
  });
});
