import type { WebhookEventType } from "@pay/core/contract";
import { sql, type Expression, type ExpressionBuilder, type Insertable, type Kysely, type RawBuilder, type SqlBool } from "kysely";
import type { DatabaseDialect } from "./database.js";
import { parseEventTypes } from "./webhook-endpoints.js";
import type { Database, WebhookDeliveriesTable, WebhookDeliveryState } from "./schema.js";

// The queries of webhook delivery (docs/webhooks.md, "Delivery"): fan-out of outbox events into one
// delivery per subscribed endpoint, claims with a lease, and the outcome of each attempt. Several
// processes run them on one database at once: every write is conditional, so they never step on each other.

/** What one fan-out did. */
export interface FanOutResult {
  /** Events marked fanned out. */
  readonly events: number;
  /** Deliveries made (a delivery another process made first is not counted). */
  readonly deliveries: number;
}

interface UnfannedEvent {
  seq: number;
  id: string;
  type: WebhookEventType;
  order_id: string;
}

/** The event types an endpoint's stored JSON array names; a malformed value subscribes to nothing. */
export function subscribedTypes(eventTypes: string): ReadonlySet<string> {
  return new Set(parseEventTypes(eventTypes));
}

/**
 * Turns up to `limit` events not yet fanned out (oldest first) into one pending delivery per enabled
 * endpoint subscribed to their type, due now and given up at `expiresAt`, and marks them fanned out,
 * in one transaction. The first statement takes the events: on PostgreSQL with FOR UPDATE SKIP LOCKED,
 * so processes fanning out at once take different events; on SQLite it is a write, so the transaction
 * holds the write lock from its start. A delivery that exists already is left as it is.
 */
export async function fanOutEvents(db: Kysely<Database>, dialect: DatabaseDialect, now: string, expiresAt: string, limit: number): Promise<FanOutResult> {
  const skipLocked = dialect === "postgres" ? sql` for update skip locked` : sql``;
  return db.transaction().execute(async (trx) => {
    const taken = await sql<UnfannedEvent>`
      update webhook_events set fanned_out = 1
      where seq in (select seq from webhook_events where fanned_out = 0 order by seq limit ${limit}${skipLocked})
      returning seq, id, type, order_id`.execute(trx);
    if (taken.rows.length === 0) return { events: 0, deliveries: 0 };
    const events = [...taken.rows].sort((a, b) => a.seq - b.seq);
    const endpoints = await trx.selectFrom("webhook_endpoints").select(["id", "event_types"]).where("enabled", "=", 1).orderBy("id").execute();
    const subscribed = endpoints.map((endpoint) => ({ id: endpoint.id, types: subscribedTypes(endpoint.event_types) }));
    const rows: Array<Insertable<WebhookDeliveriesTable>> = [];
    for (const event of events) {
      for (const endpoint of subscribed) {
        if (!endpoint.types.has(event.type)) continue;
        rows.push({
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_seq: event.seq,
          order_id: event.order_id,
          state: "pending",
          next_attempt_at: now,
          expires_at: expiresAt,
          created_at: now,
          updated_at: now,
        });
      }
    }
    let deliveries = 0;
    // Bounded statements: SQLite allows 32 766 parameters, PostgreSQL 65 535.
    for (let start = 0; start < rows.length; start += 500) {
      const inserted = await trx
        .insertInto("webhook_deliveries")
        .values(rows.slice(start, start + 500))
        .onConflict((conflict) => conflict.columns(["endpoint_id", "event_id"]).doNothing())
        .returning("id")
        .execute();
      deliveries += inserted.length;
    }
    return { events: events.length, deliveries };
  });
}

/** A delivery claimed for one attempt, with what the attempt needs: the event's body and the endpoint's address and secrets. */
export interface ClaimedDelivery {
  readonly id: number;
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventSeq: number;
  readonly eventType: WebhookEventType;
  /** When the event was made (its delivery lag is measured from here). */
  readonly eventCreatedAt: string;
  readonly orderId: string;
  /** Counting this one. */
  readonly attempts: number;
  readonly expiresAt: string;
  /** The stored event JSON: the body, exactly as signed. */
  readonly payload: string;
  readonly url: string;
  readonly secret: string;
  readonly previousSecret: string | null;
  readonly previousSecretExpiresAt: string | null;
}

export interface ClaimOptions {
  /** Who claims: the value every later result update is guarded by. */
  readonly owner: string;
  readonly now: string;
  readonly leaseUntil: string;
  readonly limit: number;
}

interface ClaimedRow {
  id: number;
  endpoint_id: string;
  event_id: string;
  event_seq: number;
  order_id: string;
  attempts: number;
  expires_at: string;
  type: WebhookEventType;
  event_created_at: string;
  payload: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
}

/**
 * Claims up to `limit` due deliveries for `owner` until `leaseUntil`, counting an attempt on each: pending,
 * due, to an enabled endpoint, not leased (or the lease expired), with no earlier pending delivery of the
 * same order to the same endpoint and no earlier event of the same order still to fan out, so the events
 * of one order reach an endpoint in the order they were created while other orders go on. One UPDATE of
 * the rows a subquery picks (PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent claims take different rows).
 */
export async function claimDueDeliveries(db: Kysely<Database>, dialect: DatabaseDialect, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  const { owner, now, leaseUntil, limit } = options;
  // Oldest due first, ties by id: the due index's own order on SQLite (rowid), so no sort of the whole backlog.
  // Order within an order is kept by the NOT EXISTS, not by this ORDER BY.
  const due = sql`
    select d.id from webhook_deliveries d
    join webhook_endpoints e on e.id = d.endpoint_id
    where d.state = 'pending' and d.next_attempt_at <= ${now} and e.enabled = 1
      and (d.lease_expires_at is null or d.lease_expires_at <= ${now})
      and not exists (
        select 1 from webhook_deliveries p
        where p.endpoint_id = d.endpoint_id and p.order_id = d.order_id and p.event_seq < d.event_seq and p.state = 'pending')
      and not exists (
        select 1 from webhook_events u
        where u.order_id = d.order_id and u.seq < d.event_seq and u.fanned_out = 0)
    order by d.next_attempt_at, d.id
    limit ${limit}${dialect === "postgres" ? sql` for update of d skip locked` : sql``}`;
  const claim = sql`
    update webhook_deliveries
    set lease_owner = ${owner}, lease_expires_at = ${leaseUntil}, attempts = attempts + 1, last_attempt_at = ${now}, updated_at = ${now}
    where id in (${due})`;
  const joined = (claimed: RawBuilder<unknown>): RawBuilder<ClaimedRow> => sql<ClaimedRow>`
    select c.id, c.endpoint_id, c.event_id, c.event_seq, c.order_id, c.attempts, c.expires_at, v.type, v.created_at as event_created_at, v.payload,
      e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
    from ${claimed} c
    join webhook_events v on v.id = c.event_id
    join webhook_endpoints e on e.id = c.endpoint_id
    order by c.event_seq, c.endpoint_id`;
  let rows: ClaimedRow[];
  if (dialect === "postgres") {
    rows = (await sql<ClaimedRow>`with claimed as (${claim} returning *) ${joined(sql`claimed`)}`.execute(db)).rows;
  } else {
    // SQLite has no UPDATE in a WITH: the claim, then the join, in one transaction (started by the write).
    rows = await db.transaction().execute(async (trx) => {
      const ids = (await sql<{ id: number }>`${claim} returning id`.execute(trx)).rows.map((row) => row.id);
      if (ids.length === 0) return [];
      return (await joined(sql`(select * from webhook_deliveries where id in (${sql.join(ids)}))`).execute(trx)).rows;
    });
  }
  return rows.map((row) => ({
    id: Number(row.id),
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventSeq: Number(row.event_seq),
    eventType: row.type,
    eventCreatedAt: row.event_created_at,
    orderId: row.order_id,
    attempts: row.attempts,
    expiresAt: row.expires_at,
    payload: row.payload,
    url: row.url,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at,
  }));
}

/** Which claim a result belongs to: the holder and the attempt it counted. */
export interface DeliveryLease {
  readonly id: number;
  readonly owner: string;
  readonly attempts: number;
}

/** Still this claim's: pending, held by the owner that claimed it, for the attempt it counted. */
function heldBy(lease: DeliveryLease): (eb: ExpressionBuilder<Database, "webhook_deliveries">) => Expression<SqlBool> {
  return (eb) => eb.and([eb("id", "=", lease.id), eb("lease_owner", "=", lease.owner), eb("attempts", "=", lease.attempts), eb("state", "=", "pending")]);
}

/**
 * Records a 2xx answer: delivered, lease released. False when the lease is no longer this claim's (it
 * expired and another process claimed the delivery): the new holder's outcome stands.
 */
export async function recordDelivered(db: Kysely<Database>, lease: DeliveryLease, result: { readonly now: string; readonly status: number }): Promise<boolean> {
  const updated = await db
    .updateTable("webhook_deliveries")
    .set({
      state: "delivered",
      delivered_at: result.now,
      last_status: result.status,
      last_error: null,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: result.now,
    })
    .where(heldBy(lease))
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

/**
 * Records a failed attempt: given up (failed) when `now` has reached the delivery's expires_at, otherwise
 * pending again from `nextAttemptAt`; lease released. Undefined when the lease is no longer this claim's.
 */
export async function recordFailedAttempt(
  db: Kysely<Database>,
  lease: DeliveryLease,
  result: { readonly now: string; readonly nextAttemptAt: string; readonly status: number | undefined; readonly error: string },
): Promise<Extract<WebhookDeliveryState, "pending" | "failed"> | undefined> {
  const expired = sql<boolean>`expires_at <= ${result.now}`;
  const updated = await db
    .updateTable("webhook_deliveries")
    .set({
      state: sql<WebhookDeliveryState>`case when ${expired} then 'failed' else 'pending' end`,
      failed_at: sql<string | null>`case when ${expired} then ${result.now} else null end`,
      next_attempt_at: sql<string>`case when ${expired} then next_attempt_at else ${result.nextAttemptAt} end`,
      last_status: result.status ?? null,
      last_error: result.error,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: result.now,
    })
    .where(heldBy(lease))
    .returning("state")
    .executeTakeFirst();
  return updated === undefined ? undefined : (updated.state as "pending" | "failed");
}
