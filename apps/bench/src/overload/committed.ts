// After the run: every notify the API acknowledged must be committed (the order paid, with its payment
// event): an acknowledged notify is never sent again, so one that was not committed is money lost.
import type { SeedDatabase } from "../data/seed.js";

/** The acknowledged notifies checked, and those not committed. */
export interface CommittedCheck {
  readonly checked: number;
  readonly missing: readonly string[];
}

/** Ids are checked in batches, so one query never carries an unbounded list. */
const BATCH = 1_000;

/** Checks that every order in `orderIds` (each acknowledged by the API) is committed in `db`. */
export async function checkCommitted(db: Pick<SeedDatabase, "committedByNotify">, orderIds: readonly string[]): Promise<CommittedCheck> {
  const missing: string[] = [];
  for (let from = 0; from < orderIds.length; from += BATCH) {
    const batch = orderIds.slice(from, from + BATCH);
    const committed = new Set(await db.committedByNotify(batch));
    missing.push(...batch.filter((id) => !committed.has(id)));
  }
  return { checked: orderIds.length, missing };
}
