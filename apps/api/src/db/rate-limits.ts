import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

/** One GCRA step for a key: the request's time, the emission interval and the tolerance (how far ahead of `now` the tat may be and still allow), in ms. */
export interface RateLimitStep {
  readonly key: string;
  readonly now: number;
  readonly intervalMs: number;
  readonly toleranceMs: number;
}

/**
 * Takes one request for `key` in one statement (every process shares the row; no transaction beyond the
 * statement): the theoretical arrival time moves to max(tat, now) + interval when that leaves it at most
 * `tolerance` ahead of now, and the new tat is answered; otherwise the row is left as it is (PostgreSQL writes
 * no row version) and undefined is answered. A missing row is a full burst: it is inserted at now + interval.
 */
export async function takeRateLimit(db: Kysely<Database>, step: RateLimitStep): Promise<number | undefined> {
  const { key, now, intervalMs, toleranceMs } = step;
  // CASE rather than max()/greatest(): the same text on SQLite and PostgreSQL.
  const start = sql<number>`case when rate_limits.tat > ${now} then rate_limits.tat else ${now} end`;
  const row = await db
    .insertInto("rate_limits")
    .values({ key, tat: now + intervalMs })
    .onConflict((conflict) =>
      conflict
        .column("key")
        .doUpdateSet({ tat: sql<number>`${start} + ${intervalMs}` })
        .where(sql<boolean>`${start} - ${now} <= ${toleranceMs}`),
    )
    .returning("tat")
    .executeTakeFirst();
  return row?.tat;
}

/** The key's theoretical arrival time (ms), or undefined when it has no row: read only after a refusal, for Retry-After. */
export async function readRateLimit(db: Kysely<Database>, key: string): Promise<number | undefined> {
  const row = await db.selectFrom("rate_limits").select("tat").where("key", "=", key).executeTakeFirst();
  return row?.tat;
}

/** Deletes up to `limit` rows whose tat is at or before `now` (they allow a full burst, as a missing row does); answers how many. */
export async function pruneRateLimits(db: Kysely<Database>, now: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("rate_limits")
    .where("key", "in", db.selectFrom("rate_limits").select("key").where("tat", "<=", now).limit(limit))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
