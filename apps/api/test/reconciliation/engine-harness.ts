import type { ReconciliationItem, ReconciliationRunSummary } from "@pay/core/contract";
import { createApp } from "../../src/app.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { itemOf } from "../../src/db/reconciliation-reads.js";
import type { DatabaseDialect } from "../../src/db/database.js";
import { openDatabase } from "../../src/db/database.js";
import { loadConfig } from "../../src/env.js";
import { createFakeGateway, type FakeGateway } from "../../src/gateway/fake.js";
import type { PaidReport, PaymentGateway } from "../../src/gateway/port.js";
import type { ServiceContext } from "../../src/services/context.js";
import { handlePayNotify, handleRefundNotify } from "../../src/services/notifies.js";
import { createOrder } from "../../src/services/orders.js";
import type { Outcome } from "../../src/services/outcomes.js";
import { dayBounds } from "../../src/services/reconciliation/day.js";
import { createRefund } from "../../src/services/refunds.js";
import { captureLogs } from "../support/captured-logs.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { FAKE_MERCHANT, FAKE_USER, fakeGatewayEnv } from "../support/fake-app.js";

// A real database, the fake gateway and the services of one or more "processes" on them, for the
// reconciliation engine's tests: the day under test is DAY (Beijing), orders are paid at noon of it and
// runs happen the next morning.

export const DAY = "2026-01-01";
export const NEXT_DAY = "2026-01-02";
export const DAY_START = dayBounds(DAY).start;
export const DAY_END = dayBounds(DAY).end;
/** Noon of DAY in Beijing. */
export const NOON = DAY_START + 12 * 3600_000;
/** 10:00 of the next day in Beijing: when the bill is there. */
export const NEXT_MORNING = DAY_END + 10 * 3600_000;

export function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.failure)}`);
  return outcome.value;
}

/** What reconciliation must never change when a run fails: every order, refund, payment and outbox row. */
export interface Snapshot {
  readonly orders: unknown[];
  readonly refunds: unknown[];
  readonly payments: unknown[];
  readonly events: unknown[];
}

export interface EngineWorld {
  readonly database: TestDatabase;
  readonly fake: FakeGateway;
  readonly services: ServiceContext;
  now: number;
  /** Another "process" on the same database: its own handle (SQLite: another connection to the file), services and gateway. */
  process(gateway?: PaymentGateway): Promise<ServiceContext>;
  /** Another process whose bill download waits until `release()` (a hung connection, a long pause). */
  stalledProcess(): Promise<{ readonly services: ServiceContext; readonly release: () => void }>;
  /** A pending order placed at the fake, of `quantity` mugs (39.90 each). */
  order(quantity?: number): Promise<string>;
  /** The payer pays and the notify arrives. */
  payByNotify(orderId: string, raw?: Record<string, unknown>): Promise<PaidReport>;
  /** A processing refund of `amount`, submitted to the fake. */
  refund(orderId: string, amount: number): Promise<string>;
  /** The refund succeeds at the fake at `at` and its notify arrives. */
  settleByNotify(refundId: string, at: number): Promise<void>;
  snapshot(): Promise<Snapshot>;
  /** The stored items of a day (DAY unless told). */
  items(date?: string): Promise<ReconciliationItem[]>;
  close(): Promise<void>;
}

export async function createEngineWorld(kind: DatabaseDialect): Promise<EngineWorld> {
  const database = await openTestDatabase(kind);
  await seedProducts(database.db, DEFAULT_PRODUCTS);
  await database.db
    .insertInto("users")
    .values({ id: FAKE_USER, openid: "o-fake-payer", created_at: new Date(NOON).toISOString() })
    .execute();
  const config = loadConfig(fakeGatewayEnv(database.url));
  const { logger } = captureLogs();
  const fake = createFakeGateway({ merchant: FAKE_MERCHANT });
  const login = { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-fake-payer" }) };
  const closers: Array<() => Promise<void>> = [];
  let keys = 0;
  let now = NOON;
  const clock = (): number => now;
  const services = createApp({ config, db: database.db, dialect: database.dialect, gateway: fake, login, logger, clock }).services;
  const world: EngineWorld = {
    database,
    fake,
    services,
    get now() {
      return now;
    },
    set now(at: number) {
      now = at;
    },
    async process(gateway = fake) {
      const opened = await openDatabase(database.url);
      const { services } = createApp({ config, db: opened.db, dialect: opened.dialect, gateway, login, logger, clock });
      closers.push(async () => {
        await services.paidWriter.drain();
        await opened.close();
      });
      return services;
    },
    async stalledProcess() {
      let release = (): void => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const services = await world.process({
        ...fake,
        openBill: async (date) => {
          await gate;
          return fake.openBill(date);
        },
      });
      return { services, release: () => release() };
    },
    async order(quantity = 1) {
      const created = valueOf(await createOrder(world.services, FAKE_USER, { items: [{ productId: "mug", quantity }] }, undefined));
      return created.order.id;
    },
    async payByNotify(orderId, raw = {}) {
      const report = fake.pay(orderId);
      // The fake's notify carries the report's fields; extra ones (a v2 time_end) end up in payment_events.raw.
      const answer = await handlePayNotify(world.services, fake.payNotifyBody({ ...report, ...raw }), {});
      if (answer.reason !== "paid") throw new Error(`notify not applied: ${answer.reason}`);
      return report;
    },
    async refund(orderId, amount) {
      const created = valueOf(await createRefund(world.services, orderId, { refundFee: amount }, `refund-key-${++keys}`));
      return created.refund.id;
    },
    async settleByNotify(refundId, at) {
      const report = fake.settleRefund(refundId, "succeeded", new Date(at).toISOString());
      await handleRefundNotify(world.services, fake.refundNotifyBody(report), {});
    },
    async snapshot() {
      const db = database.db;
      return {
        orders: await db.selectFrom("orders").selectAll().orderBy("id").execute(),
        refunds: await db.selectFrom("refunds").selectAll().orderBy("id").execute(),
        payments: await db.selectFrom("payment_events").selectAll().orderBy("id").execute(),
        events: await db.selectFrom("webhook_events").selectAll().orderBy("seq").execute(),
      };
    },
    async items(date = DAY) {
      const rows = await database.db.selectFrom("reconciliation_items").selectAll().where("bill_date", "=", date).orderBy("id").execute();
      return rows.map(itemOf);
    },
    async close() {
      await world.services.paidWriter.drain();
      for (const close of closers) await close();
      await database.close();
    },
  };
  (world as { services: ServiceContext }).services = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    gateway: fake,
    login,
    logger,
    clock: () => world.now,
  }).services;
  return world;
}

/** A run's items without their ids (which a re-run renews), for comparing runs. */
export function withoutIds(items: readonly ReconciliationItem[]): Array<Omit<ReconciliationItem, "id">> {
  return items.map(({ id: _id, ...rest }) => rest);
}

/** The classes with a non-zero count. */
export function countedClasses(run: ReconciliationRunSummary): Partial<Record<string, number>> {
  return Object.fromEntries(Object.entries(run.differences).filter(([, n]) => n > 0));
}
