// What the delivery tests share: a database with a user, service contexts on it (each one a "process"
// with its own connection or pool), outbox events written straight into the table, and endpoints.
import { buildTestWebhookEvent } from "@pay/core/testing";
import type { WebhookEventType } from "@pay/core/contract";
import { createApp } from "../../src/app.js";
import { createFakeGateway } from "../../src/gateway/fake.js";
import { fakeGatewayEnv } from "../support/fake-app.js";
import { openDatabase, type OpenedDatabase } from "../../src/db/database.js";
import { loadConfig, type AppConfig } from "../../src/env.js";
import type { ServiceContext } from "../../src/services/context.js";
import { newEventId } from "../../src/services/events.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { pendingOrderRow } from "../support/rows.js";
import type { DatabaseDialect } from "../../src/db/database.js";
import { captureLogs } from "../support/captured-logs.js";

export const USER_ID = "user-webhooks-1";
/** When the tests' clock starts. */
export const START = Date.UTC(2026, 0, 1, 4, 0, 0);
export const SECRET = "whsec_test_secret_0123456789abcdef";

/** A database, the app configuration, captured log lines, and a clock the test moves. */
export interface DeliveryWorld {
  readonly database: TestDatabase;
  readonly config: AppConfig;
  readonly logs: string[];
  now: number;
  /** A service context ("a process") on the world's database handle, or on another handle given. */
  context(handle?: OpenedDatabase): ServiceContext;
  /** Another handle on the same database: a second connection (SQLite) or pool (PostgreSQL). */
  openHandle(): Promise<OpenedDatabase>;
  close(): Promise<void>;
}

export async function createDeliveryWorld(kind: DatabaseDialect, env: Readonly<Record<string, string>> = {}): Promise<DeliveryWorld> {
  const database = await openTestDatabase(kind);
  await database.db
    .insertInto("users")
    .values({ id: USER_ID, openid: "o-webhooks", created_at: new Date(START).toISOString() })
    .execute();
  const config = loadConfig({
    ...fakeGatewayEnv(database.url),
    ...env,
  });
  const { logger, logs } = captureLogs();
  const login = { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-webhooks" }) };
  const handles: OpenedDatabase[] = [];
  // Never called: these tests write events straight into the outbox.
  const gateway = createFakeGateway({ merchant: { appId: "wxfakegateway0001", mchId: "1900000109", subAppId: undefined, subMchId: undefined }, protocol: "v2" });
  const world: DeliveryWorld = {
    database,
    config,
    logs,
    now: START,
    context(handle = database) {
      return createApp({ config, db: handle.db, dialect: handle.dialect, gateway, login, logger, clock: () => world.now }).services;
    },
    async openHandle() {
      const handle = await openDatabase(database.url);
      handles.push(handle);
      return handle;
    },
    async close() {
      for (const handle of handles) await handle.close();
      await database.close();
    },
  };
  return world;
}

/** Writes events of one order into the outbox (creating the order the first time), oldest first; returns their ids. */
export async function addEvents(database: Pick<TestDatabase, "db">, orderId: string, types: readonly WebhookEventType[], at = new Date(START).toISOString()): Promise<string[]> {
  const existing = await database.db.selectFrom("orders").select("id").where("id", "=", orderId).executeTakeFirst();
  if (existing === undefined) await database.db.insertInto("orders").values(pendingOrderRow(orderId, USER_ID)).execute();
  const ids = types.map(() => newEventId());
  if (ids.length === 0) return ids;
  await database.db
    .insertInto("webhook_events")
    .values(
      types.map((type, n) => ({
        id: ids[n] as string,
        type,
        order_id: orderId,
        refund_id: null,
        // A contract-valid event about this order, as the receiver's verifyWebhook parses it.
        payload: JSON.stringify(buildTestWebhookEvent(type, { id: ids[n] as string, createdAt: at, order: { id: orderId }, refund: { orderId } })),
        created_at: at,
      })),
    )
    .execute();
  return ids;
}

export interface EndpointFixture {
  readonly id: string;
  readonly url: string;
  readonly secret?: string;
  readonly eventTypes?: readonly WebhookEventType[];
  readonly enabled?: boolean;
  readonly previousSecret?: string;
  readonly previousSecretExpiresAt?: string;
}

/** Inserts an endpoint row (the admin routes are another part's). */
export async function addEndpoint(database: Pick<TestDatabase, "db">, endpoint: EndpointFixture): Promise<void> {
  const at = new Date(START).toISOString();
  await database.db
    .insertInto("webhook_endpoints")
    .values({
      id: endpoint.id,
      url: endpoint.url,
      description: null,
      event_types: JSON.stringify(endpoint.eventTypes ?? ["order.paid", "order.closed", "order.refunded", "refund.succeeded", "refund.failed"]),
      secret: endpoint.secret ?? SECRET,
      previous_secret: endpoint.previousSecret ?? null,
      previous_secret_expires_at: endpoint.previousSecretExpiresAt ?? null,
      enabled: endpoint.enabled === false ? 0 : 1,
      source: "api",
      created_at: at,
      updated_at: at,
    })
    .execute();
}

/** The deliveries, oldest event first. */
export async function deliveryRows(database: Pick<TestDatabase, "db">) {
  return database.db.selectFrom("webhook_deliveries").selectAll().orderBy("event_seq").orderBy("endpoint_id").execute();
}
