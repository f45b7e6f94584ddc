import type { Kysely } from "kysely";
import { isoAt } from "../../clock.js";
import type { Database } from "../../db/schema.js";
import { clearSignInFailures, findSignInFailures, recordSignInFailure, setSignInBlockedUntil, type SignInFailureRow } from "../../db/staff.js";

/** Failures within the window before sign-in is refused for a while. */
export const SIGN_IN_FAILURE_THRESHOLD = 5;
/** The window failures are counted in, and the longest wait. */
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
/** The first wait (after the 5th failure); each further failure doubles it, up to SIGN_IN_WINDOW_MS. */
export const SIGN_IN_FIRST_DELAY_MS = 30 * 1000;

/** The keys one sign-in attempt is counted under: the username and the caller's address. */
export function throttleKeys(username: string, ip: string): { readonly user: string; readonly ip: string } {
  return { user: `user:${username.toLowerCase()}`, ip: `ip:${ip}` };
}

/** How long the `failures`-th failure makes the caller wait (0 below the threshold). */
export function delayAfter(failures: number): number {
  if (failures < SIGN_IN_FAILURE_THRESHOLD) return 0;
  return Math.min(SIGN_IN_WINDOW_MS, SIGN_IN_FIRST_DELAY_MS * 2 ** Math.min(failures - SIGN_IN_FAILURE_THRESHOLD, 16));
}

function blockedUntil(row: SignInFailureRow, now: number): number {
  const last = Date.parse(row.last_failed_at);
  // A count whose last failure is older than the window no longer counts.
  if (last < now - SIGN_IN_WINDOW_MS) return 0;
  return last + delayAfter(row.failures);
}

/** Until when (ms) any of the keys is refused, or undefined when none is. */
export async function signInBlockedUntil(db: Kysely<Database>, keys: readonly string[], now: number): Promise<number | undefined> {
  const rows = await findSignInFailures(db, keys);
  const until = Math.max(0, ...rows.map((row) => blockedUntil(row, now)));
  return until > now ? until : undefined;
}

/** Counts a failed sign-in under each key (in the database: every process sees it). */
export async function recordSignInFailures(db: Kysely<Database>, keys: readonly string[], now: number): Promise<void> {
  const at = isoAt(now);
  const windowStart = isoAt(now - SIGN_IN_WINDOW_MS);
  for (const key of keys) {
    const row = await recordSignInFailure(db, key, at, windowStart, SIGN_IN_FAILURE_THRESHOLD);
    const delay = delayAfter(row.failures);
    if (delay > 0) await setSignInBlockedUntil(db, key, row.last_failed_at, isoAt(Date.parse(row.last_failed_at) + delay));
  }
}

/** A successful sign-in forgets the username's failures (the address's stay counted). */
export async function clearUserFailures(db: Kysely<Database>, userKey: string): Promise<void> {
  await clearSignInFailures(db, userKey);
}
