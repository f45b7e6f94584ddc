import type { Currency } from "@pay/core";
import { CompiledQuery, type Kysely } from "kysely";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
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
 * of three statements (a conditional UPDATE, then an INSERT into payment_events and one into the
 * webhook_events outbox for the orders it moved), on PostgreSQL one statement for the whole batch. Either way the UPDATE only moves a pending order, and
 * payment_events' unique order_id keeps a second event out even across processes.
 */
export function createPaidWriter(db: Kysely<Database>, dialect: "sqlite" | "postgres"): PaidWriter {
  const run = dialect === "sqlite" ? (batch: readonly PaidTransition[]) => writeSqlite(db, batch) : (batch: readonly PaidTransition[]) => writePostgres(db, batch);
  const group = createGroupCommit<PaidTransition, boolean>({ run, maxBatch: MAX_PAID_BATCH, keyOf: (transition) => transition.orderId });
  return { write: (transition) => group.submit(transition), drain: () => group.drain() };
}

// Three statements per batch whatever its size (the batch travels as one JSON parameter), with fixed
// SQL, so the driver's statement cache prepares each once: a statement per transition cost more than
// the writing itself.
// `+orders.status` keeps the planner off the status index: it must walk the batch and look each
// order up by primary key, not scan every pending order (paid-writer.test.ts checks the plan).
export const SQLITE_MARK_PAID = `
update orders set status = 'paid', transaction_id = i.transaction_id, paid_at = i.at, updated_at = i.at
from (select value ->> 'orderId' as order_id, value ->> 'transactionId' as transaction_id, value ->> 'at' as at from json_each(?)) as i
where orders.id = i.order_id and +orders.status = 'pending'
returning orders.id`;
export const SQLITE_INSERT_EVENTS = `
insert into payment_events (order_id, source, transaction_id, total_fee, fee_type, cash_fee, cash_fee_type, raw, created_at)
select value ->> 'orderId', value ->> 'source', value ->> 'transactionId', value ->> 'totalFee', value ->> 'feeType',
  value ->> 'cashFee', value ->> 'cashFeeType', value ->> 'raw', value ->> 'at'
from json_each(?)`;
export const SQLITE_INSERT_OUTBOX = `
insert into webhook_events (id, type, order_id, refund_id, payload, created_at)
select value ->> 'eventId', 'order.paid', value ->> 'orderId', null, value ->> 'eventPayload', value ->> 'at'
from json_each(?)`;

async function writeSqlite(db: Kysely<Database>, batch: readonly PaidTransition[]): Promise<boolean[]> {
  return db.transaction().execute(async (trx) => {
    const updated = await trx.executeQuery<{ id: string }>(CompiledQuery.raw(SQLITE_MARK_PAID, [JSON.stringify(batch)]));
    const moved = new Set(updated.rows.map((row) => row.id));
    if (moved.size > 0) {
      const written = moved.size === batch.length ? JSON.stringify(batch) : JSON.stringify(batch.filter((t) => moved.has(t.orderId)));
      await trx.executeQuery(CompiledQuery.raw(SQLITE_INSERT_EVENTS, [written]));
      await trx.executeQuery(CompiledQuery.raw(SQLITE_INSERT_OUTBOX, [written]));
    }
    return batch.map((t) => moved.has(t.orderId));
  });
}

// One statement per batch: the input as parallel arrays, the conditional UPDATE, and a payment event
// and an order.paid outbox row for exactly the orders it moved. A single statement is atomic without
// BEGIN/COMMIT round trips.
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
  insert into webhook_events (id, type, order_id, refund_id, payload, created_at)
  select i.event_id, 'order.paid', i.order_id, null, i.event_payload, i.at
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
