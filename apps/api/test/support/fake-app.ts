import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type Koa from "koa";
import { createApp } from "../../src/app.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { loadConfig, type AppConfig } from "../../src/env.js";
import { createFakeGateway, type FakeGateway } from "../../src/gateway/fake.js";
import type { Protocol } from "../../src/gateway/registry.js";
import type { ServiceContext } from "../../src/services/context.js";
import { openTestDatabase, type TestDatabase } from "./databases.js";
import type { DatabaseDialect } from "../../src/db/database.js";
import { captureLogs } from "./captured-logs.js";
import { RATE_LIMITS_OFF } from "./rate-limits.js";

/** The merchant the fake gateways report, and the API is configured with. */
export const FAKE_MERCHANT = { appId: "wxfakegateway0001", mchId: "1900000109", subAppId: undefined, subMchId: undefined };

/** The environment of an API whose gateways are fakes: every WeChat host unreachable (port 9), FAKE_MERCHANT's ids. */
export function fakeGatewayEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    WXPAY_BASE_URL: "http://127.0.0.1:9",
    WXPAY_APPID: FAKE_MERCHANT.appId,
    WXPAY_MCHID: FAKE_MERCHANT.mchId,
    WXPAY_KEY: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
    WXPAY_NOTIFY_URL: "https://shop.example.com/wxpay/notify",
    WXPAY_REFUND_NOTIFY_URL: "https://shop.example.com/wxpay/refund-notify",
    WX_API_BASE_URL: "http://127.0.0.1:9",
    WX_APPSECRET: "miniprogram-app-secret-0001",
    SESSION_SECRET: "session-secret-for-tests-0123456789abcdef",
    ADMIN_TOKEN: "admin-token-for-tests-0123456789",
    ...RATE_LIMITS_OFF,
  };
}

/** The one user of these tests (its openid is what the fake login answers). */
export const FAKE_USER = "user-fake-1";

/** When the tests' clock starts. */
export const FAKE_START = Date.UTC(2026, 0, 1, 4, 0, 0);

/** Which gateways an app (one "process") is given, and the protocol of its new orders. */
export interface FakeProcessOptions {
  readonly v2: boolean;
  readonly v3: boolean;
  readonly apiVersion?: Protocol;
}

/** An API app on fake gateways and a real database, served on an ephemeral port. */
export interface FakeProcess {
  readonly app: Koa;
  readonly services: ServiceContext;
  readonly url: string;
  /** Stops serving and waits for pending paid writes. */
  stop(): Promise<void>;
}

/**
 * One database and a v2 and a v3 fake gateway that outlive the app "processes" started on them, so a
 * test can place orders in one process and carry on in another started with other gateways (a restart).
 */
export interface FakeWorld {
  readonly database: TestDatabase;
  readonly config: AppConfig;
  readonly v2: FakeGateway;
  readonly v3: FakeGateway;
  readonly logs: string[];
  /** The clock every process reads. */
  now: number;
  start(options: FakeProcessOptions): Promise<FakeProcess>;
  close(): Promise<void>;
}

/** A fresh database (seeded, one user) and two fakes playing v2 and v3. */
export async function createFakeWorld(kind: DatabaseDialect): Promise<FakeWorld> {
  const database = await openTestDatabase(kind);
  await seedProducts(database.db, DEFAULT_PRODUCTS);
  await database.db
    .insertInto("users")
    .values({ id: FAKE_USER, openid: "o-fake-payer", created_at: new Date(FAKE_START).toISOString() })
    .execute();
  const config = loadConfig({
    ...fakeGatewayEnv(database.url),
  });
  const { logger, logs } = captureLogs();
  const login = { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-fake-payer" }) };
  const processes = new Set<FakeProcess>();
  const world: FakeWorld = {
    database,
    config,
    v2: createFakeGateway({ merchant: FAKE_MERCHANT, protocol: "v2" }),
    v3: createFakeGateway({ merchant: FAKE_MERCHANT, protocol: "v3" }),
    logs,
    now: FAKE_START,
    async start(options) {
      const { app, services } = createApp({
        config,
        db: database.db,
        dialect: database.dialect,
        ...(options.v2 ? { gateway: world.v2 } : {}),
        ...(options.v3 ? { v3Gateway: world.v3 } : {}),
        ...(options.apiVersion === undefined ? {} : { apiVersion: options.apiVersion }),
        login,
        logger,
        clock: () => world.now,
      });
      const callback = app.callback();
      const server: Server = createServer((req, res) => void callback(req, res));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const running: FakeProcess = {
        app,
        services,
        url,
        async stop() {
          processes.delete(running);
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await services.paidWriter.drain();
          await services.activity.close();
        },
      };
      processes.add(running);
      return running;
    },
    async close() {
      for (const running of [...processes]) await running.stop();
      await database.close();
    },
  };
  return world;
}
