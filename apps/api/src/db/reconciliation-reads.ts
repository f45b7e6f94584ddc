import {
  RECONCILIATION_CLASSES,
  ReconciliationTotalsSchema,
  type ReconciliationClass,
  type ReconciliationItem,
  type ReconciliationRunSummary,
  type ReconciliationTotals,
} from "@pay/core/contract";
import type { Kysely, Selectable } from "kysely";
import type { Database, ReconciliationItemsTable, ReconciliationRunsTable } from "./schema.js";

export type ReconciliationRunRow = Selectable<ReconciliationRunsTable>;
export type ReconciliationItemRow = Selectable<ReconciliationItemsTable>;

/** Every class at zero: the shape `differences` always has. */
export function noDifferences(): Record<ReconciliationClass, number> {
  return Object.fromEntries(RECONCILIATION_CLASSES.map((name) => [name, 0])) as Record<ReconciliationClass, number>;
}

/** The stored JSON of a day's totals, checked against the contract (a row written by this code always passes). */
function totalsOf(text: string | null): ReconciliationTotals | null {
  if (text === null) return null;
  return ReconciliationTotalsSchema.parse(JSON.parse(text));
}

function differencesOf(text: string | null): Record<ReconciliationClass, number> {
  const counts = noDifferences();
  if (text === null) return counts;
  const stored = JSON.parse(text) as Partial<Record<string, number>>;
  for (const name of RECONCILIATION_CLASSES) counts[name] = stored[name] ?? 0;
  return counts;
}

/** A runs row as the contract shows it. */
export function runSummaryOf(row: ReconciliationRunRow): ReconciliationRunSummary {
  return {
    date: row.bill_date,
    state: row.state,
    trigger: row.trigger,
    attempt: row.attempt,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    bill: row.bill,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? "" },
    totals: totalsOf(row.totals),
    differences: differencesOf(row.differences),
    resultAt: row.result_at,
  };
}

/** An items row as the contract shows it. */
export function itemOf(row: ReconciliationItemRow): ReconciliationItem {
  return {
    id: Number(row.id),
    class: row.class,
    resolution: row.resolution,
    orderId: row.order_id,
    refundId: row.refund_id,
    transactionId: row.transaction_id,
    billLine: row.bill_line,
    billAmount: row.bill_amount === null ? null : Number(row.bill_amount),
    billCurrency: row.bill_currency,
    ourAmount: row.our_amount === null ? null : Number(row.our_amount),
    ourCurrency: row.our_currency,
    detail: row.detail,
  };
}

export async function findRunRow(db: Kysely<Database>, date: string): Promise<ReconciliationRunRow | undefined> {
  return db.selectFrom("reconciliation_runs").selectAll().where("bill_date", "=", date).executeTakeFirst();
}

/** A day's reconciliation as the contract shows it; undefined when the day never had a run. */
export async function findRunSummary(db: Kysely<Database>, date: string): Promise<ReconciliationRunSummary | undefined> {
  const row = await findRunRow(db, date);
  return row === undefined ? undefined : runSummaryOf(row);
}

/** The runs of the days from `from` to `to` (YYYY-MM-DD, both included), newest day first. */
export async function listRuns(db: Kysely<Database>, from: string, to: string): Promise<ReconciliationRunSummary[]> {
  const rows = await db.selectFrom("reconciliation_runs").selectAll().where("bill_date", ">=", from).where("bill_date", "<=", to).orderBy("bill_date", "desc").execute();
  return rows.map(runSummaryOf);
}

/** A page of a day's items in the order they were found (by id), after `afterId`, of one class or all. */
export async function listItems(
  db: Kysely<Database>,
  date: string,
  page: { readonly afterId: number | undefined; readonly limit: number; readonly class: ReconciliationClass | undefined },
): Promise<ReconciliationItem[]> {
  let query = db.selectFrom("reconciliation_items").selectAll().where("bill_date", "=", date);
  if (page.afterId !== undefined) query = query.where("id", ">", page.afterId);
  if (page.class !== undefined) query = query.where("class", "=", page.class);
  const rows = await query.orderBy("id", "asc").limit(page.limit).execute();
  return rows.map(itemOf);
}

/** What the scheduler needs of each day from `from` to `to` that has a run. */
export async function listRunStates(
  db: Kysely<Database>,
  from: string,
  to: string,
): Promise<Array<Pick<ReconciliationRunRow, "bill_date" | "state" | "next_attempt_at" | "lease_expires_at">>> {
  return db
    .selectFrom("reconciliation_runs")
    .select(["bill_date", "state", "next_attempt_at", "lease_expires_at"])
    .where("bill_date", ">=", from)
    .where("bill_date", "<=", to)
    .execute();
}
