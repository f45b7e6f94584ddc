// Issue 21, notifies first on PostgreSQL: the notify path's order read and group commit use a pool of their own
// (server.ts opens it beside the main pool), so a notify commits while every connection of the main pool is held.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { openDatabase, type OpenedDatabase } from "../src/db/database.js";
import { loadConfig } from "../src/env.js";
import { createFakeGateway } from "../src/gateway/fake.js";
import type { ServiceContext } from "../src/services/context.js";
import { captureLogs } from "./support/captured-logs.js";
import { openTestDatabase, type TestDatabase } from "./support/databases.js";
import { FAKE_MERCHANT, fakeGatewayEnv } from "./support/fake-app.js";
import { FIXTURE_NOW, pendingOrderRow } from "./support/rows.js";

describe("the notify path's own PostgreSQL pool", () => {
  let database: TestDatabase;
  let main: OpenedDatabase;
  let notify: OpenedDatabase;
  let services: ServiceContext;

  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    // The main pool has one connection, so one open transaction takes all of it.
    main = await openDatabase(database.url, { maxConnections: 1, connectTimeoutMs: 30_000 });
    notify = await openDatabase(database.url, { maxConnections: 2 });
    await database.db.insertInto("users").values({ id: "u-pool", openid: "o-pool", created_at: FIXTURE_NOW }).execute();
    await database.db
      .insertInto("orders")
      .values([pendingOrderRow("POOL00000000000000000000001", "u-pool"), pendingOrderRow("POOL00000000000000000000002", "u-pool")])
      .execute();
    const { logger } = captureLogs();
    ({ services } = createApp({
      config: loadConfig(fakeGatewayEnv(database.url)),
      db: main.db,
      notifyDb: notify.db,
      dialect: "postgres",
      gateway: createFakeGateway({ merchant: FAKE_MERCHANT, protocol: "v2" }),
      login: { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-pool" }) },
      logger,
    }));
  });

  afterAll(async () => {
    await services.paidWriter.drain();
    await services.activity.close();
    await notify.close();
    await main.close();
    await database.close();
  });

  it("reads and commits a paid order while the main pool's every connection is held; the main pool's reads wait", async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding: () => void = () => undefined;
    const taken = new Promise<void>((resolve) => (holding = resolve));
    const transaction = main.db.transaction().execute(async (trx) => {
      await trx.selectFrom("orders").select("id").limit(1).execute();
      holding();
      await held;
    });
    await taken;
    try {
      let mainRead = false;
      const publicRead = services.loadOrder("POOL00000000000000000000002").then(() => (mainRead = true));
      const order = await services.notifyLoadOrder?.("POOL00000000000000000000001");
      expect(order?.status).toBe("pending");
      const applied = await services.paidWriter.write({
        orderId: "POOL00000000000000000000001",
        source: "notify",
        transactionId: "4200000000000000000000000001",
        totalFee: order?.total_fee ?? 0,
        feeType: "CNY",
        cashFee: null,
        cashFeeType: null,
        raw: "{}",
        at: "2025-01-02T03:10:00.000Z",
        eventId: "evt_pool00000000000000000001",
        eventPayload: "{}",
      });
      expect(applied).toBe(true);
      const row = await database.db.selectFrom("orders").select("status").where("id", "=", "POOL00000000000000000000001").executeTakeFirstOrThrow();
      expect(row.status).toBe("paid");
      // The public read is still waiting for the main pool's one connection.
      expect(mainRead).toBe(false);
      release();
      await publicRead;
      expect(mainRead).toBe(true);
    } finally {
      release();
      await transaction;
    }
  });
});
