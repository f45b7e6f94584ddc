// The sweep while the gateway breaker is open (both databases, the fake gateway): it asks nothing of the gateway,
// counts its closes, queries and refund queries as deferred (not errors), logs once, marks nothing; once the
// opening is over its first call is the probe, and the pass does its work.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { captureLogs } from "../../test/support/captured-logs.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { FAKE_MERCHANT, fakeGatewayEnv } from "../../test/support/fake-app.js";
import { createApp } from "../app.js";
import { seedProducts } from "../db/migrate.js";
import { DEFAULT_PRODUCTS } from "../db/products.js";
import { loadConfig } from "../env.js";
import { createFakeGateway, type FakeGateway } from "../gateway/fake.js";
import type { ServiceContext } from "./context.js";
import { handlePayNotify } from "./notifies.js";
import { createOrder } from "./orders.js";
import { createRefund } from "./refunds.js";
import { sweepOnce } from "./sweeper.js";

const USER = "user-sweep-guard";
const START = Date.UTC(2026, 0, 1, 4, 0, 0);
const OPEN_SECONDS = 20;

describe.each(DATABASES)("the sweep behind an open gateway breaker on %s", (kind) => {
  let database: TestDatabase;
  let fake: FakeGateway;
  let services: ServiceContext;
  let logs: string[];
  let now: number;

  beforeEach(async () => {
    database = await openTestDatabase(kind);
    await seedProducts(database.db, DEFAULT_PRODUCTS);
    await database.db
      .insertInto("users")
      .values({ id: USER, openid: "o-sweep-guard", created_at: new Date(START).toISOString() })
      .execute();
    now = START;
    const captured = captureLogs();
    logs = captured.logs;
    fake = createFakeGateway({ merchant: FAKE_MERCHANT });
    const login = { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-sweep-guard" }) };
    const config = loadConfig({ ...fakeGatewayEnv(database.url), GATEWAY_BREAKER_FAILURES: "2", GATEWAY_BREAKER_OPEN_SECONDS: String(OPEN_SECONDS) });
    services = createApp({ config, db: database.db, dialect: database.dialect, gateway: fake, login, logger: captured.logger, clock: () => now }).services;
  });
  afterEach(async () => {
    await services.paidWriter.drain();
    await services.activity.close();
    await database.close();
  });

  const place = async () => createOrder(services, USER, { items: [{ productId: "mug", quantity: 1 }] }, undefined);
  const placed = async (): Promise<string> => {
    const result = await place();
    if (!result.ok) throw new Error(JSON.stringify(result.failure));
    return result.value.order.id;
  };

  it("defers closes, queries and refund queries without a call or a mark, logs once, and works again after the probe", async () => {
    const expired = await placed();
    const paid = await placed();
    expect((await handlePayNotify(services, fake.payNotifyBody(fake.pay(paid)), {})).reason).toBe("paid");
    const refunded = await createRefund(services, paid, { refundFee: 100 }, "sweep-guard-refund");
    expect(refunded.ok).toBe(true);
    now += (services.config.orderTtlMinutes - 1) * 60_000;
    const stale = await placed();
    now += 2 * 60_000;

    // Two unifiedorders time out: the breaker opens (their orders stay pending, as after any such failure).
    for (let i = 0; i < 2; i++) {
      fake.failNext("placeOrder", { kind: "timeout", retryable: true });
      expect((await place()).ok).toBe(false);
    }
    const refused = await place();
    expect(refused).toMatchObject({ ok: false, failure: { kind: "gateway-failed", operation: "place-order", error: { kind: "shed", retryAfterSeconds: OPEN_SECONDS } } });
    const calls = fake.calls.length;
    const logged = logs.length;

    expect(await sweepOnce(services)).toEqual({ queried: 0, closed: 0, refundsChecked: 0, errors: 0, deferred: 4 });
    expect(fake.calls.length).toBe(calls);
    const orders = await database.db.selectFrom("orders").select(["id", "status", "last_queried_at"]).where("id", "in", [expired, stale]).orderBy("id").execute();
    expect(orders.map(({ status, last_queried_at }) => ({ status, last_queried_at }))).toEqual([
      { status: "pending", last_queried_at: null },
      { status: "pending", last_queried_at: null },
    ]);
    expect(await database.db.selectFrom("refunds").select(["status", "last_queried_at", "last_error"]).executeTakeFirstOrThrow()).toEqual({
      status: "processing",
      last_queried_at: null,
      last_error: null,
    });
    const lines = logs.slice(logged).map((line) => JSON.parse(line) as { msg: string; protocol?: string; deferred?: number; retryAfterSeconds?: number });
    expect(lines.filter((line) => line.msg.includes("sweep"))).toEqual([
      expect.objectContaining({ protocol: "v2", deferred: 4, retryAfterSeconds: OPEN_SECONDS, msg: expect.stringContaining("deferring") as string }),
    ]);
    expect(await services.metrics.text()).toContain('pay_gateway_shed_total{protocol="v2",reason="breaker_open"} 5');

    // Past the opening: the first close is the probe; it succeeds, and the rest of the pass goes through.
    now += OPEN_SECONDS * 1000;
    expect(await sweepOnce(services)).toEqual({ queried: 3, closed: 1, refundsChecked: 1, errors: 0, deferred: 0 });
    expect(fake.calls.slice(calls).map((call) => call.method)).toEqual(["closeOrder", "queryOrder", "queryOrder", "queryOrder", "queryRefund"]);
    expect(await database.db.selectFrom("orders").select("status").where("id", "=", expired).executeTakeFirstOrThrow()).toEqual({ status: "closed" });
    expect(services.gateways.refusal("v2")).toBeUndefined();
  });
});
