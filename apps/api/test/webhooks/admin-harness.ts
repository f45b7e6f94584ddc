// The admin webhook suites' app: the real API (createApp) on a real database and an ephemeral port, a fake
// gateway (these routes never call WeChat Pay), a moved clock and captured log lines.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../../src/app.js";
import type { NewWebhookEndpointRow, WebhookDeliveryState } from "../../src/db/schema.js";
import { loadConfig } from "../../src/env.js";
import { createFakeGateway } from "../../src/gateway/fake.js";
import type { ServiceContext } from "../../src/services/context.js";
import type { TestDatabase } from "../support/databases.js";
import { pendingOrderRow } from "../support/rows.js";
import { captureLogs } from "../support/captured-logs.js";

export const ADMIN = "admin-token-for-webhook-tests-0123456789";

/** When the tests' clock starts. */
export const START = Date.UTC(2026, 2, 1, 8, 0, 0);

/** The environment of these apps, beside the variables a test gives. */
export function adminTestEnv(database: TestDatabase, env: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    WXPAY_BASE_URL: "http://127.0.0.1:9",
    WXPAY_APPID: "wxadminwebhooks01",
    WXPAY_MCHID: "1900000109",
    WXPAY_KEY: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
    WXPAY_NOTIFY_URL: "https://shop.example.com/wxpay/notify",
    WX_API_BASE_URL: "http://127.0.0.1:9",
    WX_APPSECRET: "miniprogram-app-secret-0001",
    SESSION_SECRET: "session-secret-for-tests-0123456789abcdef",
    ADMIN_TOKEN: ADMIN,
    ...env,
  };
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The answer as received, to look for what must not be in it. */
  readonly text: string;
}

export interface AdminApp {
  readonly url: string;
  readonly services: ServiceContext;
  /** Every log line the app wrote. */
  readonly logs: string[];
  /** A JSON request with the admin token unless `token` says otherwise (null: no Authorization header). */
  request(method: string, path: string, options?: { readonly body?: unknown; readonly token?: string | null }): Promise<Answer>;
  close(): Promise<void>;
}

/** The clock the apps of one suite share; tests move `now`. */
export interface TestClock {
  now: number;
}

/** Starts the API on `database` with the given extra environment (NODE_ENV, WEBHOOK_URL, ...). */
export async function startAdminApp(database: TestDatabase, clock: TestClock, env: Readonly<Record<string, string>> = {}): Promise<AdminApp> {
  const config = loadConfig(adminTestEnv(database, env));
  const { logger, logs } = captureLogs();
  const { app, services } = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    gateway: createFakeGateway({ merchant: { appId: config.merchant.appId, mchId: config.merchant.mchId, subAppId: undefined, subMchId: undefined }, protocol: "v2" }),
    login: { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-admin-tests" }) },
    logger,
    clock: () => clock.now,
  });
  const callback = app.callback();
  const server: Server = createServer((req, res) => void callback(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    services,
    logs,
    async request(method, path, options = {}) {
      const token = options.token === undefined ? ADMIN : options.token;
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (options.body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
      const text = await response.text();
      return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>), text };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.paidWriter.drain();
    },
  };
}

let sequence = 0;

/** A fresh id of `prefix` + 24 letters and digits, unique within the run. */
export function testId(prefix: "evt_" | "we_"): string {
  sequence += 1;
  return `${prefix}${String(sequence).padStart(24, "0")}`;
}

/** Inserts a paid order and one event of it (as the outbox would hold it); returns the event id and seq. */
export async function insertEvent(database: TestDatabase, orderId: string, type: "order.paid" | "order.closed" = "order.paid"): Promise<{ id: string; seq: number }> {
  const { db } = database;
  await db
    .insertInto("users")
    .values({ id: "u-admin-tests", openid: "o-admin-tests", created_at: new Date(START).toISOString() })
    .onConflict((c) => c.column("id").doNothing())
    .execute();
  await db
    .insertInto("orders")
    .values(pendingOrderRow(orderId, "u-admin-tests"))
    .onConflict((c) => c.column("id").doNothing())
    .execute();
  const id = testId("evt_");
  const createdAt = new Date(START).toISOString();
  const row = await db
    .insertInto("webhook_events")
    .values({ id, type, order_id: orderId, refund_id: null, payload: JSON.stringify({ id, type, createdAt, data: {} }), created_at: createdAt, fanned_out: 1 })
    .returning(["id", "seq"])
    .executeTakeFirstOrThrow();
  return { id: row.id, seq: Number(row.seq) };
}

/** Inserts an endpoint row directly (the secret is a fixed test value). */
export async function insertEndpointRow(database: TestDatabase, overrides: Partial<NewWebhookEndpointRow> = {}): Promise<string> {
  const at = new Date(START).toISOString();
  const id = overrides.id ?? testId("we_");
  await database.db
    .insertInto("webhook_endpoints")
    .values({
      id,
      url: "https://receiver.example.com/hooks",
      description: null,
      event_types: JSON.stringify(["order.paid", "order.closed"]),
      secret: "whsec_row-secret-for-tests-0123456789",
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      source: "api",
      created_at: at,
      updated_at: at,
      ...overrides,
    })
    .execute();
  return id;
}

/** Inserts a delivery row directly, in the state a test needs (the dispatcher is another part's). */
export async function insertDelivery(
  database: TestDatabase,
  endpointId: string,
  event: { readonly id: string; readonly seq: number },
  orderId: string,
  state: WebhookDeliveryState,
  at: { readonly failedAt?: number; readonly deliveredAt?: number; readonly attempts?: number } = {},
): Promise<void> {
  const created = new Date(START).toISOString();
  await database.db
    .insertInto("webhook_deliveries")
    .values({
      endpoint_id: endpointId,
      event_id: event.id,
      event_seq: event.seq,
      order_id: orderId,
      state,
      attempts: at.attempts ?? (state === "pending" ? 0 : 3),
      next_attempt_at: created,
      expires_at: new Date(START + 3 * 24 * 3600 * 1000).toISOString(),
      last_attempt_at: state === "pending" ? null : created,
      last_status: state === "failed" ? 500 : state === "delivered" ? 200 : null,
      last_error: state === "failed" ? "HTTP 500" : null,
      delivered_at: at.deliveredAt === undefined ? null : new Date(at.deliveredAt).toISOString(),
      failed_at: at.failedAt === undefined ? null : new Date(at.failedAt).toISOString(),
      created_at: created,
      updated_at: created,
    })
    .execute();
}
