import type { Currency } from "@pay/core";
import type BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, type Kysely } from "kysely";
import { isoAt } from "../clock.js";
import { sqliteHandleOf } from "./database.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import { subscribedTypes } from "./webhook-deliveries.js";
import { DELIVERY_WINDOW_MS } from "./webhook-endpoints.js";
import type { Database, PaymentEventsTable } from "./schema.js";

/** The paid transition of one order: pending -> paid, its payment event and its order.paid event (the outbox). */
export interface PaidTransition {
  readonly orderId: string;
  readonly source: PaymentEventsTable["source"];
  readonly transactionId: string;
  readonly totalFee: number;
  readonly feeType: Currency;
  readonly cashFee: number | null;
  readonly cashFeeType: Currency | null;
  /** The verified fields as received, as JSON. */
  readonly raw: string;
  /** ISO time of the transition (paid_at, updated_at, created_at of the payment event and the order event). */
  readonly at: string;
  /** The order.paid event written with the transition (the outbox row's id and payload). */
  readonly eventId: string;
  readonly eventPayload: string;
}

/**
 * Commits paid transitions. `write` resolves true when this transition moved the order from pending
 * to paid and stored its payment event, false when the order was no longer pending (nothing
 * written), and rejects when nothing could be committed.
 */
export type PaidWriter = Pick<GroupCommit<PaidTransition, boolean>, "drain"> & {
  write(transition: PaidTransition): Promise<boolean>;
};

/**
 * Most transitions one commit carries. A notify burst rarely has more in flight; a bigger batch only
 * makes the first of them wait longer.
 */
export const MAX_PAID_BATCH = 128;

/**
 * Transitions arriving together share one commit (see group-commit.ts): on SQLite one transaction
 * (per transition a conditional UPDATE, then an INSERT into payment_events and one into the
 * webhook_events outbox, already fanned out to the subscribed endpoints, for each order it moved),
 * on PostgreSQL one statement for the whole batch. Either way the UPDATE only moves a pending order, and
 * payment_events' unique order_id keeps a second event out even across processes.
 */
export function createPaidWriter(db: Kysely<Database>, dialect: "sqlite" | "postgres"): PaidWriter {
  let run: (batch: readonly PaidTransition[]) => Promise<boolean[]>;
  if (dialect === "sqlite") {
    const handle = sqliteHandleOf(db);
    if (handle === undefined) throw new Error("paid writer: a SQLite database must be opened with openDatabase (its handle runs the batch)");
    run = sqliteWriter(db, handle);
  } else run = (batch) => writePostgres(db, batch);
  const group = createGroupCommit<PaidTransition, boolean>({ run, maxBatch: MAX_PAID_BATCH, keyOf: (transition) => transition.orderId });
  return { write: (transition) => group.submit(transition), drain: () => group.drain() };
}

// SQLite: the batch runs synchronously on the better-sqlite3 handle, in one BEGIN IMMEDIATE transaction
// (the write lock from the start: another process's writer waits on busy_timeout instead of failing to
// upgrade), with prepared per-row statements and no JSON. The batch as one JSON parameter parsed by
// json_each in three statements cost twice as much (SQLite re-parsed each 2.5 kB transition for every
// `->>`), and each statement through Kysely's async driver added its promise chain (docs/performance/round3-writes.md).
// `+status` keeps the planner on the primary key (paid-writer.test.ts checks the plan).
export const SQLITE_MARK_ONE_PAID = "update orders set status = 'paid', transaction_id = ?, paid_at = ?, updated_at = ? where id = ? and +status = 'pending'";
export const SQLITE_INSERT_ONE_EVENT =
  "insert into payment_events (order_id, source, transaction_id, total_fee, fee_type, cash_fee, cash_fee_type, raw, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)";
/** The order.paid outbox row, fanned out in the same transaction (the deliveries below), so the dispatcher has nothing left to fan out. */
export const SQLITE_INSERT_ONE_OUTBOX = "insert into webhook_events (id, type, order_id, refund_id, payload, created_at, fanned_out) values (?, 'order.paid', ?, null, ?, ?, 1)";
export const SQLITE_SUBSCRIBED_ENDPOINTS = "select id, event_types from webhook_endpoints where enabled = 1 order by id";
export const SQLITE_INSERT_ONE_DELIVERY =
  "insert into webhook_deliveries (endpoint_id, event_id, event_seq, order_id, state, next_attempt_at, expires_at, created_at, updated_at) values (?, ?, ?, ?, 'pending', ?, ?, ?, ?) on conflict (endpoint_id, event_id) do nothing";

interface SqliteStatements {
  readonly markPaid: BetterSqlite3.Statement;
  readonly insertEvent: BetterSqlite3.Statement;
  readonly insertOutbox: BetterSqlite3.Statement;
  readonly endpoints: BetterSqlite3.Statement<[], { id: string; event_types: string }>;
  readonly insertDelivery: BetterSqlite3.Statement;
}

function sqliteWriter(db: Kysely<Database>, handle: BetterSqlite3.Database): (batch: readonly PaidTransition[]) => Promise<boolean[]> {
  let statements: SqliteStatements | undefined;
  const prepared = (): SqliteStatements =>
    (statements ??= {
      markPaid: handle.prepare(SQLITE_MARK_ONE_PAID),
      insertEvent: handle.prepare(SQLITE_INSERT_ONE_EVENT),
      insertOutbox: handle.prepare(SQLITE_INSERT_ONE_OUTBOX),
      endpoints: handle.prepare<[], { id: string; event_types: string }>(SQLITE_SUBSCRIBED_ENDPOINTS),
      insertDelivery: handle.prepare(SQLITE_INSERT_ONE_DELIVERY),
    });
  const transaction = handle.transaction((batch: readonly PaidTransition[]): boolean[] => {
    const { markPaid, insertEvent, insertOutbox, endpoints, insertDelivery } = prepared();
    // Read under the write lock: an endpoint enabled by another process either committed before (and gets
    // these events) or waits for this commit (and gets the events after it), as with the dispatcher's fan-out.
    const subscribed = endpoints.all().filter((endpoint) => subscribesToPaid(endpoint.event_types));
    return batch.map((t) => {
      if (markPaid.run(t.transactionId, t.at, t.at, t.orderId).changes !== 1) return false;
      insertEvent.run(t.orderId, t.source, t.transactionId, t.totalFee, t.feeType, t.cashFee, t.cashFeeType, t.raw, t.at);
      const seq = insertOutbox.run(t.eventId, t.orderId, t.eventPayload, t.at).lastInsertRowid;
      if (subscribed.length > 0) {
        const expiresAt = isoAt(Date.parse(t.at) + DELIVERY_WINDOW_MS);
        for (const endpoint of subscribed) insertDelivery.run(endpoint.id, t.eventId, seq, t.orderId, t.at, expiresAt, t.at, t.at);
      }
      return true;
    });
  });
  // The batch runs synchronously, so nothing interleaves with it on the connection. When no Kysely transaction is
  // open on the handle it runs at once, not after the statements queued on Kysely's one connection (under a
  // create-order flood a notify's commit waited behind them); else it waits for the connection, so none is open.
  return (batch) => {
    if (!handle.inTransaction) {
      try {
        return Promise.resolve(transaction.immediate(batch));
      } catch (error) {
        // A statement still iterating on the connection (none does today) makes it busy: then wait for it like the rest.
        if (!(error instanceof TypeError && /busy/i.test(error.message))) return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return db.connection().execute(() => {
      if (handle.inTransaction) return Promise.reject(new Error("paid writer: the SQLite handle is inside a transaction"));
      try {
        return Promise.resolve(transaction.immediate(batch));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  };
}

/** Whether an endpoint's stored event types include order.paid, as the dispatcher's fan-out reads them; parsed once per distinct value. */
const subscriptions = new Map<string, boolean>();
function subscribesToPaid(eventTypes: string): boolean {
  let subscribes = subscriptions.get(eventTypes);
  if (subscribes === undefined) {
    subscribes = subscribedTypes(eventTypes).has("order.paid");
    if (subscriptions.size >= 64) subscriptions.clear();
    subscriptions.set(eventTypes, subscribes);
  }
  return subscribes;
}

// One statement per batch: the input as parallel arrays, the conditional UPDATE, and a payment event
// and an order.paid outbox row for exactly the orders it moved. A single statement is atomic without
// BEGIN/COMMIT round trips. With no endpoint enabled the outbox row is written fanned out, as the
// dispatcher's fan-out would mark it (to nobody), so the dispatcher's pass has nothing to take; with one,
// the dispatcher fans it out (the subscription check parses each endpoint's event types, in JS).
export const POSTGRES_MARK_PAID = `
with input as (
  select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
    as t(order_id, source, transaction_id, total_fee, fee_type, cash_fee, cash_fee_type, raw, at, event_id, event_payload)
), moved as (
  update orders o set status = 'paid', transaction_id = i.transaction_id, paid_at = i.at, updated_at = i.at
  from input i
  where o.id = i.order_id and o.status = 'pending'
  returning o.id
), outbox as (
  insert into webhook_events (id, type, order_id, refund_id, payload, created_at, fanned_out)
  select i.event_id, 'order.paid', i.order_id, null, i.event_payload, i.at,
    case when exists (select 1 from webhook_endpoints where enabled = 1) then 0 else 1 end
  from input i join moved m on m.id = i.order_id
)
insert into payment_events (order_id, source, transaction_id, total_fee, fee_type, cash_fee, cash_fee_type, raw, created_at)
select i.order_id, i.source, i.transaction_id, i.total_fee, i.fee_type, i.cash_fee, i.cash_fee_type, i.raw, i.at
from input i join moved m on m.id = i.order_id
returning order_id`;

async function writePostgres(db: Kysely<Database>, batch: readonly PaidTransition[]): Promise<boolean[]> {
  const column = <K extends keyof PaidTransition>(key: K): Array<PaidTransition[K]> => batch.map((t) => t[key]);
  const result = await db.executeQuery<{ order_id: string }>(
    CompiledQuery.raw(POSTGRES_MARK_PAID, [
      column("orderId"),
      column("source"),
      column("transactionId"),
      column("totalFee"),
      column("feeType"),
      column("cashFee"),
      column("cashFeeType"),
      column("raw"),
      column("at"),
      column("eventId"),
      column("eventPayload"),
    ]),
  );
  const moved = new Set(result.rows.map((row) => row.order_id));
  return batch.map((t) => moved.has(t.orderId));
}
