import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from "@pay/core/contract";
import { sql, type Kysely, type Updateable } from "kysely";
import type { Database, NewWebhookEndpointRow, WebhookDeliveriesTable, WebhookDeliveryRow, WebhookDeliveryState, WebhookEndpointRow, WebhookEndpointsTable } from "./schema.js";

/** The id of the endpoint WEBHOOK_URL configures. */
export const ENV_ENDPOINT_ID = "we_env";

/** How long the secret replaced by a new WEBHOOK_SECRET keeps signing beside it (a second v1). */
export const ENV_SECRET_OVERLAP_MS = 24 * 3600 * 1000;

/**
 * Creates or updates the endpoint of WEBHOOK_URL + WEBHOOK_SECRET (id we_env) in one statement, so
 * processes starting together agree. Created enabled for every event type; later starts take the URL
 * and secret from the environment and keep what an admin changed (enabled, event types). A changed
 * secret keeps the previous one signing for ENV_SECRET_OVERLAP_MS, so receivers can switch without a gap.
 */
export async function upsertEnvEndpoint(db: Kysely<Database>, endpoint: { readonly url: string; readonly secret: string }, now: number): Promise<WebhookEndpointRow> {
  const at = new Date(now).toISOString();
  const overlapUntil = new Date(now + ENV_SECRET_OVERLAP_MS).toISOString();
  const changed = sql<boolean>`(webhook_endpoints.secret <> excluded.secret or webhook_endpoints.url <> excluded.url)`;
  const rotated = sql<boolean>`webhook_endpoints.secret <> excluded.secret`;
  return db
    .insertInto("webhook_endpoints")
    .values({
      id: ENV_ENDPOINT_ID,
      url: endpoint.url,
      description: "WEBHOOK_URL",
      event_types: JSON.stringify(WEBHOOK_EVENT_TYPES),
      secret: endpoint.secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      source: "env",
      created_at: at,
      updated_at: at,
    })
    .onConflict((conflict) =>
      conflict.column("id").doUpdateSet({
        url: sql<string>`excluded.url`,
        previous_secret: sql<string | null>`case when ${rotated} then webhook_endpoints.secret else webhook_endpoints.previous_secret end`,
        previous_secret_expires_at: sql<string | null>`case when ${rotated} then ${overlapUntil} else webhook_endpoints.previous_secret_expires_at end`,
        secret: sql<string>`excluded.secret`,
        updated_at: sql<string>`case when ${changed} then excluded.updated_at else webhook_endpoints.updated_at end`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** How long a delivery is retried before it is given up: 3 days from when it was made or replayed. */
export const DELIVERY_WINDOW_MS = 3 * 24 * 3600 * 1000;

/** Adds an endpoint made by an admin call. */
export async function insertEndpoint(db: Kysely<Database>, row: NewWebhookEndpointRow): Promise<WebhookEndpointRow> {
  return db.insertInto("webhook_endpoints").values(row).returningAll().executeTakeFirstOrThrow();
}

/** Every endpoint, oldest first. */
export async function listEndpoints(db: Kysely<Database>): Promise<WebhookEndpointRow[]> {
  return db.selectFrom("webhook_endpoints").selectAll().orderBy("created_at").orderBy("id").execute();
}

/** One endpoint by id, or undefined. */
export async function findEndpoint(db: Kysely<Database>, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The settings an admin may change. */
export type EndpointChanges = Pick<Updateable<WebhookEndpointsTable>, "url" | "event_types" | "description" | "enabled">;

/** Changes some of an endpoint's settings; undefined when there is no such endpoint. */
export async function updateEndpoint(db: Kysely<Database>, id: string, changes: EndpointChanges, now: number): Promise<WebhookEndpointRow | undefined> {
  return db
    .updateTable("webhook_endpoints")
    .set({ ...changes, updated_at: new Date(now).toISOString() })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Replaces an endpoint's secret in one statement (the SET reads the row as it was): the old secret becomes
 * the previous one, signing beside the new until `previousExpiresAt`, or is dropped at once when that is
 * undefined. A secret still in its overlap from an earlier rotation is dropped. Undefined for no such endpoint.
 */
export async function rotateEndpointSecret(
  db: Kysely<Database>,
  id: string,
  secret: string,
  previousExpiresAt: number | undefined,
  now: number,
): Promise<WebhookEndpointRow | undefined> {
  return db
    .updateTable("webhook_endpoints")
    .set({
      secret,
      previous_secret: previousExpiresAt === undefined ? null : sql<string>`webhook_endpoints.secret`,
      previous_secret_expires_at: previousExpiresAt === undefined ? null : new Date(previousExpiresAt).toISOString(),
      updated_at: new Date(now).toISOString(),
    })
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirst();
}

/** How many of an endpoint's deliveries are in each state. */
export async function countDeliveries(db: Kysely<Database>, endpointId: string): Promise<Record<WebhookDeliveryState, number>> {
  const rows = await db
    .selectFrom("webhook_deliveries")
    .select(["state", db.fn.countAll<number | string | bigint>().as("count")])
    .where("endpoint_id", "=", endpointId)
    .groupBy("state")
    .execute();
  const counts: Record<WebhookDeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
  for (const row of rows) counts[row.state] = Number(row.count);
  return counts;
}

/** A delivery with its event's type, as listed to admins. */
export type DeliveryListRow = WebhookDeliveryRow & { readonly event_type: WebhookEventType };

/** An endpoint's deliveries, newest first, after the delivery `beforeId` (keyset pagination on id). */
export async function listDeliveries(
  db: Kysely<Database>,
  endpointId: string,
  options: { readonly state: WebhookDeliveryState | undefined; readonly beforeId: number | undefined; readonly limit: number },
): Promise<DeliveryListRow[]> {
  let query = db
    .selectFrom("webhook_deliveries")
    .innerJoin("webhook_events", "webhook_events.id", "webhook_deliveries.event_id")
    .selectAll("webhook_deliveries")
    .select("webhook_events.type as event_type")
    .where("webhook_deliveries.endpoint_id", "=", endpointId);
  if (options.state !== undefined) query = query.where("webhook_deliveries.state", "=", options.state);
  if (options.beforeId !== undefined) query = query.where("webhook_deliveries.id", "<", options.beforeId);
  return query.orderBy("webhook_deliveries.id", "desc").limit(options.limit).execute();
}

/** The columns that make a delivery due now, with a fresh window of DELIVERY_WINDOW_MS (the outcome of earlier attempts is kept for operators). */
function replayed(now: number): Updateable<WebhookDeliveriesTable> {
  const at = new Date(now).toISOString();
  return { state: "pending", attempts: 0, next_attempt_at: at, expires_at: new Date(now + DELIVERY_WINDOW_MS).toISOString(), delivered_at: null, failed_at: null, updated_at: at };
}

/**
 * Makes one event due again: every delivery of it (or only the one to `endpointId`) is pending now with a
 * fresh window, and each enabled endpoint subscribed to its type without a delivery of it gets one (ON
 * CONFLICT DO NOTHING: a fan-out at the same moment cannot duplicate it). Returns how many deliveries are
 * now pending because of it, or undefined when there is no such event.
 */
export async function replayEvent(db: Kysely<Database>, eventId: string, endpointId: string | undefined, now: number): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    const event = await trx.selectFrom("webhook_events").select(["id", "seq", "type", "order_id"]).where("id", "=", eventId).executeTakeFirst();
    if (event === undefined) return undefined;
    let reset = trx.updateTable("webhook_deliveries").set(replayed(now)).where("event_id", "=", eventId);
    if (endpointId !== undefined) reset = reset.where("endpoint_id", "=", endpointId);
    const updated = Number((await reset.executeTakeFirst()).numUpdatedRows);
    let endpoints = trx.selectFrom("webhook_endpoints").select(["id", "event_types"]).where("enabled", "=", 1);
    if (endpointId !== undefined) endpoints = endpoints.where("id", "=", endpointId);
    const subscribed = (await endpoints.execute()).filter((endpoint) => parseEventTypes(endpoint.event_types).includes(event.type));
    if (subscribed.length === 0) return updated;
    const at = new Date(now).toISOString();
    const inserted = await trx
      .insertInto("webhook_deliveries")
      .values(
        subscribed.map((endpoint) => ({
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_seq: event.seq,
          order_id: event.order_id,
          state: "pending" as const,
          next_attempt_at: at,
          expires_at: new Date(now + DELIVERY_WINDOW_MS).toISOString(),
          created_at: at,
          updated_at: at,
        })),
      )
      .onConflict((conflict) => conflict.columns(["endpoint_id", "event_id"]).doNothing())
      .executeTakeFirst();
    return updated + Number(inserted.numInsertedOrUpdatedRows ?? 0n);
  });
}

/** Makes every delivery that failed at or after `since` (of one endpoint, or of all) pending now with a fresh window; returns how many. */
export async function replayFailedSince(db: Kysely<Database>, since: number, endpointId: string | undefined, now: number): Promise<number> {
  let query = db.updateTable("webhook_deliveries").set(replayed(now)).where("state", "=", "failed").where("failed_at", ">=", new Date(since).toISOString());
  if (endpointId !== undefined) query = query.where("endpoint_id", "=", endpointId);
  return Number((await query.executeTakeFirst()).numUpdatedRows);
}

/** The event types stored on an endpoint row (a JSON array), in the contract's order; anything unknown in it is dropped, and a malformed value subscribes to nothing. */
export function parseEventTypes(stored: string): WebhookEventType[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return [];
  }
  return Array.isArray(parsed) ? WEBHOOK_EVENT_TYPES.filter((type) => parsed.includes(type)) : [];
}
