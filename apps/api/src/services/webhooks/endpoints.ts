import { randomBytes, randomInt } from "node:crypto";
import {
  WEBHOOK_EVENT_TYPES,
  type CreateWebhookEndpointRequest,
  type ReplayFailedWebhookDeliveriesRequest,
  type ReplayFailedWebhookDeliveriesResponse,
  type ReplayWebhookEventResponse,
  type UpdateWebhookEndpointRequest,
  type WebhookDelivery,
  type WebhookDeliveryListQuery,
  type WebhookDeliveryListResponse,
  type WebhookEndpoint,
  type WebhookEndpointDetailResponse,
  type WebhookEndpointSecretResponse,
  type WebhookEventType,
} from "@pay/core/contract";
import type { WebhookEndpointRow } from "../../db/schema.js";
import {
  countDeliveries,
  ENV_ENDPOINT_ID,
  findEndpoint,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  parseEventTypes,
  replayEvent,
  replayFailedSince,
  rotateEndpointSecret,
  updateEndpoint,
  type DeliveryListRow,
  type EndpointChanges,
} from "../../db/webhook-endpoints.js";
import type { ServiceContext } from "../context.js";
import { failed, succeeded, type Outcome } from "../outcomes.js";
import { webhookUrlProblem } from "./url.js";

// Endpoints are managed by admins (routes in the contract); the endpoint of WEBHOOK_URL (we_env) is kept
// in step with the environment at each start: an admin may disable it or change its event types and
// description, but its URL and secret are the environment's (a change here would be undone at the next start).

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new endpoint id: we_ + 24 random letters and digits. */
export function newEndpointId(): string {
  let out = "we_";
  for (let i = 0; i < 24; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** A new signing secret: whsec_ + 32 random bytes in base64url. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** An endpoint row as admins see it: never its secrets; the previous secret's expiry only while it still signs. */
export function endpointView(row: WebhookEndpointRow, now: number): WebhookEndpoint {
  const previousActive = row.previous_secret !== null && row.previous_secret_expires_at !== null && Date.parse(row.previous_secret_expires_at) > now;
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: parseEventTypes(row.event_types),
    enabled: row.enabled === 1,
    source: row.source,
    previousSecretExpiresAt: previousActive ? row.previous_secret_expires_at : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The event types in the contract's order, as stored (a JSON array). */
function storedEventTypes(types: readonly WebhookEventType[]): string {
  return JSON.stringify(WEBHOOK_EVENT_TYPES.filter((type) => types.includes(type)));
}

function urlProblem(ctx: ServiceContext, url: string): Outcome<never> | undefined {
  const problem = webhookUrlProblem(url, { production: ctx.config.nodeEnv === "production" });
  return problem === undefined ? undefined : failed({ kind: "invalid", field: "url", message: `url: ${problem}` });
}

function endpointNotFound(id: string): Outcome<never> {
  return failed({ kind: "not-found", message: `No webhook endpoint ${id}.` });
}

/** Adds an endpoint; the answer is the only time its secret is shown. */
export async function createEndpoint(ctx: ServiceContext, request: CreateWebhookEndpointRequest): Promise<Outcome<WebhookEndpointSecretResponse>> {
  const refused = urlProblem(ctx, request.url);
  if (refused !== undefined) return refused;
  const now = ctx.clock();
  const at = new Date(now).toISOString();
  const secret = newWebhookSecret();
  const row = await insertEndpoint(ctx.db, {
    id: newEndpointId(),
    url: request.url,
    description: request.description ?? null,
    event_types: storedEventTypes(request.eventTypes),
    secret,
    previous_secret: null,
    previous_secret_expires_at: null,
    enabled: 1,
    source: "api",
    created_at: at,
    updated_at: at,
  });
  ctx.logger.info({ endpointId: row.id, url: row.url, eventTypes: request.eventTypes }, "webhook endpoint created");
  return succeeded({ endpoint: endpointView(row, now), secret });
}

/** Every endpoint, oldest first, without secrets. */
export async function listWebhookEndpoints(ctx: ServiceContext): Promise<WebhookEndpoint[]> {
  const now = ctx.clock();
  return (await listEndpoints(ctx.db)).map((row) => endpointView(row, now));
}

/** One endpoint and the number of its deliveries in each state. */
export async function getEndpoint(ctx: ServiceContext, id: string): Promise<Outcome<WebhookEndpointDetailResponse>> {
  const row = await findEndpoint(ctx.db, id);
  if (row === undefined) return endpointNotFound(id);
  return succeeded({ endpoint: endpointView(row, ctx.clock()), deliveries: await countDeliveries(ctx.db, id) });
}

/**
 * Changes an endpoint's settings. `enabled: false` stops new deliveries to it (its pending ones wait until it
 * is enabled again). The URL of we_env is WEBHOOK_URL's: changing it here is refused (400 naming `url`).
 */
export async function updateWebhookEndpoint(ctx: ServiceContext, id: string, request: UpdateWebhookEndpointRequest): Promise<Outcome<WebhookEndpoint>> {
  const existing = await findEndpoint(ctx.db, id);
  if (existing === undefined) return endpointNotFound(id);
  const changes: EndpointChanges = {};
  if (request.url !== undefined && request.url !== existing.url) {
    if (existing.source === "env") {
      return failed({ kind: "invalid", field: "url", message: `url: the URL of ${id} is WEBHOOK_URL; change the variable and restart (or disable ${id} and add an endpoint).` });
    }
    const refused = urlProblem(ctx, request.url);
    if (refused !== undefined) return refused;
    changes.url = request.url;
  }
  if (request.eventTypes !== undefined) changes.event_types = storedEventTypes(request.eventTypes);
  if (request.description !== undefined) changes.description = request.description;
  if (request.enabled !== undefined) changes.enabled = request.enabled ? 1 : 0;
  const now = ctx.clock();
  const row = await updateEndpoint(ctx.db, id, changes, now);
  if (row === undefined) return endpointNotFound(id);
  ctx.logger.info({ endpointId: id, changed: Object.keys(changes) }, "webhook endpoint updated");
  return succeeded(endpointView(row, now));
}

/**
 * Gives an endpoint a new secret, answered once; the old one keeps signing beside it (a second v1) for
 * `previousSecretExpiresInSeconds` (0: at once). we_env's secret is WEBHOOK_SECRET: refused (400).
 */
export async function rotateWebhookSecret(ctx: ServiceContext, id: string, previousSecretExpiresInSeconds: number): Promise<Outcome<WebhookEndpointSecretResponse>> {
  if (id === ENV_ENDPOINT_ID) {
    return failed({
      kind: "invalid",
      field: "id",
      message: `id: the secret of ${id} is WEBHOOK_SECRET; set a new one and restart (the previous one keeps signing for 24 hours).`,
    });
  }
  const now = ctx.clock();
  const secret = newWebhookSecret();
  const row = await rotateEndpointSecret(ctx.db, id, secret, previousSecretExpiresInSeconds === 0 ? undefined : now + previousSecretExpiresInSeconds * 1000, now);
  if (row === undefined) return endpointNotFound(id);
  ctx.logger.info({ endpointId: id, previousSecretExpiresAt: row.previous_secret_expires_at }, "webhook secret rotated");
  return succeeded({ endpoint: endpointView(row, now), secret });
}

function deliveryView(row: DeliveryListRow): WebhookDelivery {
  return {
    eventId: row.event_id,
    eventType: row.event_type,
    orderId: row.order_id,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    failedAt: row.failed_at,
    createdAt: row.created_at,
  };
}

function encodeDeliveryCursor(row: DeliveryListRow): string {
  return Buffer.from(`d|${row.id}`).toString("base64url");
}

function decodeDeliveryCursor(cursor: string): number | undefined {
  const match = /^d\|(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match === null ? undefined : Number(match[1]);
}

/** An endpoint's deliveries, newest first, a page at a time. */
export async function listWebhookDeliveries(ctx: ServiceContext, endpointId: string, query: WebhookDeliveryListQuery): Promise<Outcome<WebhookDeliveryListResponse>> {
  let beforeId: number | undefined;
  if (query.cursor !== undefined) {
    beforeId = decodeDeliveryCursor(query.cursor);
    if (beforeId === undefined) return failed({ kind: "invalid", field: "cursor", message: "cursor: not a cursor this API returned." });
  }
  if ((await findEndpoint(ctx.db, endpointId)) === undefined) return endpointNotFound(endpointId);
  const rows = await listDeliveries(ctx.db, endpointId, { state: query.state, beforeId, limit: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return succeeded({ deliveries: page.map(deliveryView), nextCursor: rows.length > query.limit && last !== undefined ? encodeDeliveryCursor(last) : null });
}

/**
 * Delivers one event again: each of its deliveries (or only the one to `endpointId`) is due now with a
 * fresh 3-day window, and each enabled endpoint subscribed to its type that has none gets one. The
 * dispatchers find them at their next poll (WEBHOOK_POLL_INTERVAL_MS).
 */
export async function replayWebhookEvent(ctx: ServiceContext, eventId: string, endpointId: string | undefined): Promise<Outcome<ReplayWebhookEventResponse>> {
  if (endpointId !== undefined && (await findEndpoint(ctx.db, endpointId)) === undefined) return endpointNotFound(endpointId);
  const deliveries = await replayEvent(ctx.db, eventId, endpointId, ctx.clock());
  if (deliveries === undefined) return failed({ kind: "not-found", message: `No webhook event ${eventId}.` });
  ctx.logger.info({ eventId, endpointId, deliveries }, "webhook event replayed");
  return succeeded({ deliveries });
}

/** Delivers again every delivery that failed at or after `since` (of one endpoint, or of all). */
export async function replayFailedDeliveries(ctx: ServiceContext, request: ReplayFailedWebhookDeliveriesRequest): Promise<Outcome<ReplayFailedWebhookDeliveriesResponse>> {
  if (request.endpointId !== undefined && (await findEndpoint(ctx.db, request.endpointId)) === undefined) return endpointNotFound(request.endpointId);
  const replayed = await replayFailedSince(ctx.db, Date.parse(request.since), request.endpointId, ctx.clock());
  ctx.logger.info({ since: request.since, endpointId: request.endpointId, replayed }, "failed webhook deliveries replayed");
  return succeeded({ replayed });
}
