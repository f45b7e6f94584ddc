import type { StaffRole } from "@pay/core/contract";
import { sql, type Kysely } from "kysely";
import type { Database, StaffAccountsTable, StaffSessionsTable, StaffSignInFailuresTable } from "./schema.js";
import type { Selectable } from "kysely";

export type StaffAccountRow = Selectable<StaffAccountsTable>;
export type StaffSessionRow = Selectable<StaffSessionsTable>;
export type SignInFailureRow = Selectable<StaffSignInFailuresTable>;

// ---- accounts

/** Adds an account; false when the username is taken (in one statement, so two CLIs racing cannot both create it). */
export async function insertStaffAccount(db: Kysely<Database>, row: StaffAccountRow): Promise<boolean> {
  const inserted = await db
    .insertInto("staff_accounts")
    .values(row)
    .onConflict((conflict) => conflict.column("username").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findStaffByUsername(db: Kysely<Database>, username: string): Promise<StaffAccountRow | undefined> {
  return db.selectFrom("staff_accounts").selectAll().where("username", "=", username).executeTakeFirst();
}

/** Every account, by username (with its hash: the caller decides what to show). */
export async function listStaffAccounts(db: Kysely<Database>): Promise<StaffAccountRow[]> {
  return db.selectFrom("staff_accounts").selectAll().orderBy("username").execute();
}

/** Changes an account's role, password hash or disabled time; false when there is no such username. */
export async function updateStaffAccount(
  db: Kysely<Database>,
  username: string,
  change: { readonly role?: StaffRole; readonly password_hash?: string; readonly disabled_at?: string | null },
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable("staff_accounts")
    .set({ ...change, updated_at: at })
    .where("username", "=", username)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

// ---- sessions

export async function insertStaffSession(db: Kysely<Database>, row: StaffSessionRow): Promise<void> {
  await db.insertInto("staff_sessions").values(row).execute();
}

/** A session by the hash of its cookie token, with its account. */
export async function findStaffSession(db: Kysely<Database>, id: string): Promise<{ session: StaffSessionRow; account: StaffAccountRow } | undefined> {
  const row = await db
    .selectFrom("staff_sessions as s")
    .innerJoin("staff_accounts as a", "a.id", "s.staff_id")
    .select([
      "s.id",
      "s.staff_id",
      "s.csrf_hash",
      "s.created_at",
      "s.expires_at",
      "s.last_seen_at",
      "s.revoked_at",
      "s.ip",
      "s.user_agent",
      "a.username",
      "a.password_hash",
      "a.role",
      "a.disabled_at",
      "a.created_at as account_created_at",
      "a.updated_at as account_updated_at",
    ])
    .where("s.id", "=", id)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    session: {
      id: row.id,
      staff_id: row.staff_id,
      csrf_hash: row.csrf_hash,
      created_at: row.created_at,
      expires_at: row.expires_at,
      last_seen_at: row.last_seen_at,
      revoked_at: row.revoked_at,
      ip: row.ip,
      user_agent: row.user_agent,
    },
    account: {
      id: row.staff_id,
      username: row.username,
      password_hash: row.password_hash,
      role: row.role,
      disabled_at: row.disabled_at,
      created_at: row.account_created_at,
      updated_at: row.account_updated_at,
    },
  };
}

/** Marks a session used now (its idle timeout counts from here). */
export async function touchStaffSession(db: Kysely<Database>, id: string, at: string): Promise<void> {
  await db.updateTable("staff_sessions").set({ last_seen_at: at }).where("id", "=", id).where("revoked_at", "is", null).execute();
}

/** Replaces a live session's CSRF hash; false when the session is gone or revoked. */
export async function replaceStaffCsrf(db: Kysely<Database>, id: string, csrfHash: string, at: string): Promise<boolean> {
  const result = await db.updateTable("staff_sessions").set({ csrf_hash: csrfHash, last_seen_at: at }).where("id", "=", id).where("revoked_at", "is", null).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function revokeStaffSession(db: Kysely<Database>, id: string, at: string): Promise<void> {
  await db.updateTable("staff_sessions").set({ revoked_at: at }).where("id", "=", id).where("revoked_at", "is", null).execute();
}

/** Revokes every live session of an account (disable, reset-password, a role change); answers how many. */
export async function revokeStaffSessionsOf(db: Kysely<Database>, username: string, at: string): Promise<number> {
  const result = await db
    .updateTable("staff_sessions")
    .set({ revoked_at: at })
    .where("revoked_at", "is", null)
    .where("staff_id", "in", db.selectFrom("staff_accounts").select("id").where("username", "=", username))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

// ---- sign-in failures

export async function findSignInFailures(db: Kysely<Database>, keys: readonly string[]): Promise<SignInFailureRow[]> {
  if (keys.length === 0) return [];
  return db.selectFrom("staff_sign_in_failures").selectAll().where("key", "in", keys).execute();
}

/**
 * Counts one failure for `key` in one statement (processes share the count): the count starts again at 1
 * when `restartBefore` says the earlier ones no longer count (fewer than `threshold` and the first older than
 * `windowStart`, or the last older than `windowStart`). Answers the row as it is now.
 */
export async function recordSignInFailure(db: Kysely<Database>, key: string, at: string, windowStart: string, threshold: number): Promise<SignInFailureRow> {
  const restart = sql<boolean>`((staff_sign_in_failures.failures < ${threshold} and staff_sign_in_failures.first_failed_at < ${windowStart}) or staff_sign_in_failures.last_failed_at < ${windowStart})`;
  return db
    .insertInto("staff_sign_in_failures")
    .values({ key, failures: 1, first_failed_at: at, last_failed_at: at, blocked_until: null })
    .onConflict((conflict) =>
      conflict.column("key").doUpdateSet({
        failures: sql<number>`case when ${restart} then 1 else staff_sign_in_failures.failures + 1 end`,
        first_failed_at: sql<string>`case when ${restart} then excluded.first_failed_at else staff_sign_in_failures.first_failed_at end`,
        blocked_until: sql<string | null>`case when ${restart} then null else staff_sign_in_failures.blocked_until end`,
        last_failed_at: sql<string>`excluded.last_failed_at`,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Stores until when `key` is refused (after the failure that set `last_failed_at`; a later failure's own update wins). */
export async function setSignInBlockedUntil(db: Kysely<Database>, key: string, lastFailedAt: string, blockedUntil: string): Promise<void> {
  await db.updateTable("staff_sign_in_failures").set({ blocked_until: blockedUntil }).where("key", "=", key).where("last_failed_at", "=", lastFailedAt).execute();
}

export async function clearSignInFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom("staff_sign_in_failures").where("key", "=", key).execute();
}
