import { RECONCILIATION_CLASSES, type ReconciliationClass } from "@pay/core/contract";
import type { Kysely } from "kysely";
import { noDifferences } from "./reconciliation-reads.js";
import type { Database } from "./schema.js";

// The reads behind the gauges computed at scrape time (metrics/registry.ts): small aggregate queries.

/** Pending webhook deliveries, and when the oldest of them was made (null: none). */
export async function webhookBacklog(db: Kysely<Database>): Promise<{ readonly pending: number; readonly oldestCreatedAt: string | null }> {
  const row = await db
    .selectFrom("webhook_deliveries")
    .select((eb) => [eb.fn.countAll<number | string>().as("pending"), eb.fn.min<string | null>("created_at").as("oldest")])
    .where("state", "=", "pending")
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), oldestCreatedAt: row.oldest ?? null };
}

/**
 * The differences of the last successful run of each day from `fromDate` (YYYY-MM-DD) on, added up by class.
 * A day run again replaces its counts, so this is what is open now, whichever process ran it.
 */
export async function recentDifferences(db: Kysely<Database>, fromDate: string): Promise<Record<ReconciliationClass, number>> {
  const rows = await db.selectFrom("reconciliation_runs").select("differences").where("bill_date", ">=", fromDate).where("differences", "is not", null).execute();
  const counts = noDifferences();
  for (const row of rows) {
    if (row.differences === null) continue;
    const stored = JSON.parse(row.differences) as Partial<Record<string, unknown>>;
    for (const name of RECONCILIATION_CLASSES) {
      const value = stored[name];
      if (typeof value === "number" && Number.isFinite(value)) counts[name] += value;
    }
  }
  return counts;
}
