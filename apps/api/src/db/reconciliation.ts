import type { Currency } from "@pay/core";
import type { ReconciliationErrorCode, ReconciliationTrigger } from "@pay/core/contract";
import { sql, type Insertable, type Kysely } from "kysely";
import type { ReconciliationRunRow } from "./reconciliation-reads.js";
import type { Database, OrderProtocolColumn, OrderStatusColumn, ReconciliationBillRowsTable, ReconciliationItemsTable, RefundStatusColumn } from "./schema.js";

// The writes of a reconciliation run (docs/reconciliation.md, "How a run works"): the day's lease, the
// bill's lines staged for comparison, the comparison queries (only differences come back, so memory stays
// flat for a bill of millions of lines) and the final write of a run's result. Every write of a run is
// guarded by the run's attempt and owner, so a process that lost the day changes nothing.

export type NewBillRow = Insertable<ReconciliationBillRowsTable>;
export type NewItemRow = Insertable<ReconciliationItemsTable>;

/** Rows per multi-row insert: 500 × 12 columns stays far below SQLite's 32 766 and PostgreSQL's 65 535 parameters. */
export const INSERT_BATCH_ROWS = 500;

/** Who holds a day's run: every write of the run is guarded by all three. */
export interface RunLease {
  readonly date: string;
  readonly attempt: number;
  readonly owner: string;
}

export interface AcquireRequest {
  readonly date: string;
  readonly trigger: ReconciliationTrigger;
  readonly owner: string;
  readonly now: string;
  readonly leaseUntil: string;
  /** The scheduler's: take an existing day only while it is due (running with its lease out, or failed with its retry time come). */
  readonly onlyIfDue?: boolean | undefined;
}

/**
 * Takes a day's lease in one statement: inserts the day's row (attempt 1), or starts the next attempt on
 * the existing row when its lease is free (released, or expired). The result of the last success stays.
 * Undefined when another process holds the lease.
 */
export async function acquireRunLease(db: Kysely<Database>, request: AcquireRequest): Promise<ReconciliationRunRow | undefined> {
  const { date, trigger, owner, now, leaseUntil } = request;
  return db
    .insertInto("reconciliation_runs")
    .values({
      bill_date: date,
      state: "running",
      trigger,
      attempt: 1,
      lease_owner: owner,
      lease_expires_at: leaseUntil,
      started_at: now,
      finished_at: null,
      updated_at: now,
    })
    .onConflict((conflict) =>
      conflict
        .column("bill_date")
        .doUpdateSet({
          state: "running",
          trigger,
          attempt: sql<number>`reconciliation_runs.attempt + 1`,
          lease_owner: owner,
          lease_expires_at: leaseUntil,
          started_at: now,
          finished_at: null,
          updated_at: now,
        })
        .where((eb) => {
          const free = eb.or([eb("reconciliation_runs.lease_owner", "is", null), eb("reconciliation_runs.lease_expires_at", "<", now)]);
          if (request.onlyIfDue !== true) return free;
          // The scheduler decided the day was due from a read that another process's run may have overtaken (several
          // processes, API_WORKERS): the day is taken only while it is still due, never once it succeeded meanwhile.
          const due = eb.or([
            eb("reconciliation_runs.state", "=", "running"),
            eb.and([eb("reconciliation_runs.state", "=", "failed"), eb("reconciliation_runs.next_attempt_at", "<=", now)]),
          ]);
          return eb.and([free, due]);
        }),
    )
    .returningAll()
    .executeTakeFirst();
}

/** Extends the lease of a run still held; false when the run lost it (another attempt took the day). */
export async function extendRunLease(db: Kysely<Database>, lease: RunLease, leaseUntil: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable("reconciliation_runs")
    .set({ lease_expires_at: leaseUntil, updated_at: now })
    .where("bill_date", "=", lease.date)
    .where("attempt", "=", lease.attempt)
    .where("lease_owner", "=", lease.owner)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Stages bill lines (a batch of at most INSERT_BATCH_ROWS: one statement). */
export async function insertBillRows(db: Kysely<Database>, rows: readonly NewBillRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto("reconciliation_bill_rows").values(rows).execute();
}

/** Deletes the staged lines of one attempt. */
export async function deleteBillRows(db: Kysely<Database>, date: string, attempt: number): Promise<void> {
  await db.deleteFrom("reconciliation_bill_rows").where("bill_date", "=", date).where("attempt", "=", attempt).execute();
}

/** Deletes staged lines a crashed earlier attempt of the day left behind. */
export async function deleteEarlierBillRows(db: Kysely<Database>, date: string, attempt: number): Promise<void> {
  await db.deleteFrom("reconciliation_bill_rows").where("bill_date", "=", date).where("attempt", "<", attempt).execute();
}

/** A staged payment line that differs from our order, with the order (null columns: no such order). */
export interface PaymentDifferenceRow {
  line: number;
  order_id: string;
  transaction_id: string | null;
  amount: number;
  currency: Currency;
  our_id: string | null;
  our_status: OrderStatusColumn | null;
  our_amount: number | null;
  our_currency: Currency | null;
  our_transaction_id: string | null;
}

/**
 * The next `limit` staged payment lines after `afterLine` that differ from our orders: no order, an order
 * not paid here, or another amount, currency or transaction id. Lines that match never leave the database.
 */
export async function paymentDifferences(db: Kysely<Database>, lease: RunLease, afterLine: number, limit: number): Promise<PaymentDifferenceRow[]> {
  return db
    .selectFrom("reconciliation_bill_rows as s")
    .leftJoin("orders as o", "o.id", "s.order_id")
    .select([
      "s.line",
      "s.order_id",
      "s.transaction_id",
      "s.amount",
      "s.currency",
      "o.id as our_id",
      "o.status as our_status",
      "o.total_fee as our_amount",
      "o.fee_type as our_currency",
      "o.transaction_id as our_transaction_id",
    ])
    .where("s.bill_date", "=", lease.date)
    .where("s.attempt", "=", lease.attempt)
    .where("s.kind", "=", "payment")
    .where("s.line", ">", afterLine)
    .where((eb) =>
      eb.or([
        eb("o.id", "is", null),
        eb("o.status", "in", ["pending", "closed"]),
        eb("o.total_fee", "<>", eb.ref("s.amount")),
        eb("o.fee_type", "<>", eb.ref("s.currency")),
        eb.and([eb("s.transaction_id", "is not", null), eb.or([eb("o.transaction_id", "is", null), eb("o.transaction_id", "<>", eb.ref("s.transaction_id"))])]),
      ]),
    )
    .orderBy("s.line")
    .limit(limit)
    .execute();
}

/** A staged refund line that differs from our refund, with the refund (null columns: no such refund). */
export interface RefundDifferenceRow {
  line: number;
  order_id: string;
  refund_id: string | null;
  transaction_id: string | null;
  amount: number;
  currency: Currency;
  our_id: string | null;
  our_status: RefundStatusColumn | null;
  our_amount: number | null;
  our_currency: Currency | null;
}

/** The next `limit` staged refund lines after `afterLine` that differ from our refunds (none, not succeeded here, another amount or currency). */
export async function refundDifferences(db: Kysely<Database>, lease: RunLease, afterLine: number, limit: number): Promise<RefundDifferenceRow[]> {
  return db
    .selectFrom("reconciliation_bill_rows as s")
    .leftJoin("refunds as r", "r.id", "s.refund_id")
    .select([
      "s.line",
      "s.order_id",
      "s.refund_id",
      "s.transaction_id",
      "s.amount",
      "s.currency",
      "r.id as our_id",
      "r.status as our_status",
      "r.refund_fee as our_amount",
      "r.currency as our_currency",
    ])
    .where("s.bill_date", "=", lease.date)
    .where("s.attempt", "=", lease.attempt)
    .where("s.kind", "=", "refund")
    .where("s.line", ">", afterLine)
    .where((eb) => eb.or([eb("r.id", "is", null), eb("r.status", "<>", "succeeded"), eb("r.refund_fee", "<>", eb.ref("s.amount")), eb("r.currency", "<>", eb.ref("s.currency"))]))
    .orderBy("s.line")
    .limit(limit)
    .execute();
}

/** A staged line of a kind this API never makes. */
export interface OtherBillRow {
  line: number;
  order_id: string;
  refund_id: string | null;
  transaction_id: string | null;
  amount: number;
  currency: Currency;
  state: string;
}

/** The next `limit` staged lines of kind `other` after `afterLine`. */
export async function otherBillRows(db: Kysely<Database>, lease: RunLease, afterLine: number, limit: number): Promise<OtherBillRow[]> {
  return db
    .selectFrom("reconciliation_bill_rows")
    .select(["line", "order_id", "refund_id", "transaction_id", "amount", "currency", "state"])
    .where("bill_date", "=", lease.date)
    .where("attempt", "=", lease.attempt)
    .where("kind", "=", "other")
    .where("line", ">", afterLine)
    .orderBy("line")
    .limit(limit)
    .execute();
}

/** Our merchant: orders of another mch_id or sub-merchant are another reconciliation's business. */
export interface OurMerchant {
  readonly mchId: string;
  readonly subMchId: string | undefined;
}

/** A paid order absent from the day's bill lines, with the verified report that paid it (its raw fields). */
export interface MissingPaymentRow {
  id: string;
  total_fee: number;
  fee_type: Currency;
  transaction_id: string | null;
  paid_at: string;
  protocol: OrderProtocolColumn;
  raw: string | null;
}

/** Keyset position in a list ordered by (time, id). */
export interface TimeCursor {
  readonly at: string;
  readonly id: string;
}

/**
 * The next `limit` orders (after `cursor`, by paid_at and id) of our merchant, paid here with paid_at in
 * [from, to), for which the day's bill has no payment line.
 */
export async function paymentsMissingFromBill(
  db: Kysely<Database>,
  lease: RunLease,
  merchant: OurMerchant,
  range: { readonly from: string; readonly to: string },
  cursor: TimeCursor | undefined,
  limit: number,
): Promise<MissingPaymentRow[]> {
  let query = db
    .selectFrom("orders as o")
    .leftJoin("payment_events as pe", "pe.order_id", "o.id")
    .select(["o.id", "o.total_fee", "o.fee_type", "o.transaction_id", "o.paid_at", "o.protocol", "pe.raw"])
    .where("o.paid_at", ">=", range.from)
    .where("o.paid_at", "<", range.to)
    .where("o.status", "in", ["paid", "refunded"])
    .where("o.mch_id", "=", merchant.mchId)
    .where((eb) => (merchant.subMchId === undefined ? eb("o.sub_mch_id", "is", null) : eb("o.sub_mch_id", "=", merchant.subMchId)))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("reconciliation_bill_rows as s")
            .select("s.line")
            .where("s.bill_date", "=", lease.date)
            .where("s.attempt", "=", lease.attempt)
            .where("s.kind", "=", "payment")
            .whereRef("s.order_id", "=", "o.id"),
        ),
      ),
    );
  if (cursor !== undefined) {
    const { at, id } = cursor;
    query = query.where((eb) => eb.or([eb("o.paid_at", ">", at), eb.and([eb("o.paid_at", "=", at), eb("o.id", ">", id)])]));
  }
  return query.orderBy("o.paid_at").orderBy("o.id").limit(limit).execute() as Promise<MissingPaymentRow[]>;
}

/** A refund that succeeded here absent from the day's bill lines. */
export interface MissingRefundRow {
  id: string;
  order_id: string;
  refund_fee: number;
  currency: Currency;
  refund_id: string | null;
  succeeded_at: string;
}

/** The next `limit` refunds (after `cursor`, by succeeded_at and id) of our merchant that succeeded in [from, to) with no refund line in the day's bill. */
export async function refundsMissingFromBill(
  db: Kysely<Database>,
  lease: RunLease,
  merchant: OurMerchant,
  range: { readonly from: string; readonly to: string },
  cursor: TimeCursor | undefined,
  limit: number,
): Promise<MissingRefundRow[]> {
  let query = db
    .selectFrom("refunds as r")
    .innerJoin("orders as o", "o.id", "r.order_id")
    .select(["r.id", "r.order_id", "r.refund_fee", "r.currency", "r.refund_id", "r.succeeded_at"])
    .where("r.succeeded_at", ">=", range.from)
    .where("r.succeeded_at", "<", range.to)
    .where("r.status", "=", "succeeded")
    .where("o.mch_id", "=", merchant.mchId)
    .where((eb) => (merchant.subMchId === undefined ? eb("o.sub_mch_id", "is", null) : eb("o.sub_mch_id", "=", merchant.subMchId)))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("reconciliation_bill_rows as s")
            .select("s.line")
            .where("s.bill_date", "=", lease.date)
            .where("s.attempt", "=", lease.attempt)
            .where("s.kind", "=", "refund")
            .whereRef("s.refund_id", "=", "r.id"),
        ),
      ),
    );
  if (cursor !== undefined) {
    const { at, id } = cursor;
    query = query.where((eb) => eb.or([eb("r.succeeded_at", ">", at), eb.and([eb("r.succeeded_at", "=", at), eb("r.id", ">", id)])]));
  }
  return query.orderBy("r.succeeded_at").orderBy("r.id").limit(limit).execute() as Promise<MissingRefundRow[]>;
}

/** A count and a sum in minor units. */
export interface CountedSum {
  readonly count: number;
  readonly amount: number;
}

function countedSum(row: { count: unknown; amount: unknown } | undefined): CountedSum {
  // PostgreSQL answers count as bigint and sum(bigint) as numeric text; SQLite as numbers.
  return { count: Number(row?.count ?? 0), amount: Number(row?.amount ?? 0) };
}

/**
 * Our paid orders (in `currency`) that have a payment line in the day's bill: count and sum of our amounts,
 * each order once however many lines name it (duplicates are items of their own: duplicateBillLines).
 */
export async function ourPaymentsInBill(db: Kysely<Database>, lease: RunLease, currency: Currency): Promise<CountedSum> {
  const row = await db
    .selectFrom("orders as o")
    .select((eb) => [eb.fn.countAll().as("count"), eb.fn.sum("o.total_fee").as("amount")])
    .where("o.id", "in", (eb) =>
      eb
        .selectFrom("reconciliation_bill_rows as s")
        .select("s.order_id")
        .where("s.bill_date", "=", lease.date)
        .where("s.attempt", "=", lease.attempt)
        .where("s.kind", "=", "payment"),
    )
    .where("o.status", "in", ["paid", "refunded"])
    .where("o.fee_type", "=", currency)
    .executeTakeFirst();
  return countedSum(row);
}

/** Our succeeded refunds (in `currency`) that have a refund line in the day's bill: count and sum of our amounts, each refund once. */
export async function ourRefundsInBill(db: Kysely<Database>, lease: RunLease, currency: Currency): Promise<CountedSum> {
  const row = await db
    .selectFrom("refunds as r")
    .select((eb) => [eb.fn.countAll().as("count"), eb.fn.sum("r.refund_fee").as("amount")])
    .where("r.id", "in", (eb) =>
      eb
        .selectFrom("reconciliation_bill_rows as s")
        .select("s.refund_id")
        .where("s.bill_date", "=", lease.date)
        .where("s.attempt", "=", lease.attempt)
        .where("s.kind", "=", "refund")
        .where("s.refund_id", "is not", null)
        .$narrowType<{ refund_id: string }>(),
    )
    .where("r.status", "=", "succeeded")
    .where("r.currency", "=", currency)
    .executeTakeFirst();
  return countedSum(row);
}

/** A payment or refund that more than one line of the bill names. */
export interface DuplicateBillLine {
  kind: "payment" | "refund";
  /** The order (payment lines) or refund (refund lines) named more than once. */
  key: string;
  lines: number;
  first_line: number;
}

/**
 * Payments and refunds that several lines of the day's bill name: a payment is made once and a refund
 * succeeds once, so a second line would count money twice. At most `limit` of them.
 */
export async function duplicateBillLines(db: Kysely<Database>, lease: RunLease, limit: number): Promise<DuplicateBillLine[]> {
  const grouped = (kind: "payment" | "refund") =>
    db
      .selectFrom("reconciliation_bill_rows as s")
      .select((eb) => [
        sql.lit(kind).as("kind"),
        (kind === "payment" ? eb.ref("s.order_id") : eb.fn.coalesce("s.refund_id", sql.lit(""))).as("key"),
        eb.fn.countAll().as("lines"),
        eb.fn.min("s.line").as("first_line"),
      ])
      .where("s.bill_date", "=", lease.date)
      .where("s.attempt", "=", lease.attempt)
      .where("s.kind", "=", kind)
      .groupBy(kind === "payment" ? "s.order_id" : "s.refund_id")
      .having((eb) => eb.fn.countAll(), ">", 1)
      .orderBy("first_line")
      .limit(limit)
      .execute();
  const rows = [...(await grouped("payment")), ...(await grouped("refund"))];
  return rows.map((row) => ({ kind: row.kind, key: String(row.key), lines: Number(row.lines), first_line: Number(row.first_line) }));
}

/** What a successful run writes over the day's row. */
export interface RunSuccess {
  readonly bill: "file" | "none";
  readonly protocol: OrderProtocolColumn;
  readonly totals: string;
  readonly differences: string;
  readonly now: string;
}

/** The day was taken over by another attempt: the write was rolled back. */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
}

/**
 * Writes a run's success in one transaction guarded by its lease: the run's row (succeeded, result,
 * lease released), and the day's items replaced by `items`. Throws LeaseLostError (nothing written)
 * when the run no longer holds the day.
 */
export async function finishRun(db: Kysely<Database>, lease: RunLease, success: RunSuccess, items: readonly NewItemRow[]): Promise<ReconciliationRunRow> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("reconciliation_runs")
      .set({
        state: "succeeded",
        bill: success.bill,
        protocol: success.protocol,
        totals: success.totals,
        differences: success.differences,
        result_at: success.now,
        finished_at: success.now,
        lease_owner: null,
        lease_expires_at: null,
        error_code: null,
        error_message: null,
        next_attempt_at: null,
        updated_at: success.now,
      })
      .where("bill_date", "=", lease.date)
      .where("attempt", "=", lease.attempt)
      .where("lease_owner", "=", lease.owner)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw new LeaseLostError(`Reconciliation of ${lease.date}: attempt ${lease.attempt} no longer holds the day.`);
    await trx.deleteFrom("reconciliation_items").where("bill_date", "=", lease.date).execute();
    for (let start = 0; start < items.length; start += INSERT_BATCH_ROWS) {
      await trx
        .insertInto("reconciliation_items")
        .values(items.slice(start, start + INSERT_BATCH_ROWS))
        .execute();
    }
    return row;
  });
}

export interface RunFailureWrite {
  readonly code: ReconciliationErrorCode;
  readonly message: string;
  readonly now: string;
  readonly nextAttemptAt: string | null;
}

/** Writes a run's failure (lease released, the last success's result kept); undefined when the run no longer holds the day. */
export async function failRun(db: Kysely<Database>, lease: RunLease, failure: RunFailureWrite): Promise<ReconciliationRunRow | undefined> {
  return db
    .updateTable("reconciliation_runs")
    .set({
      state: "failed",
      error_code: failure.code,
      error_message: failure.message,
      finished_at: failure.now,
      next_attempt_at: failure.nextAttemptAt,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: failure.now,
    })
    .where("bill_date", "=", lease.date)
    .where("attempt", "=", lease.attempt)
    .where("lease_owner", "=", lease.owner)
    .returningAll()
    .executeTakeFirst();
}
