import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { AdminActor, StaffRole } from "@pay/core/contract";
import type { Kysely } from "kysely";
import { isoAt, type Clock } from "../../clock.js";
import type { Database } from "../../db/schema.js";
import { findStaffByUsername, findStaffSession, insertStaffSession, replaceStaffCsrf, revokeStaffSession, touchStaffSession } from "../../db/staff.js";
import type { StaffConfig } from "../../env.js";
import { verifyAgainstDummy, verifyPassword } from "./passwords.js";
import { clearUserFailures, recordSignInFailures, signInBlockedUntil, throttleKeys } from "./throttle.js";

/** What the staff session services need. */
export interface StaffSessionDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly config: StaffConfig;
}

/** A staff member's live session, as the router and the session handlers see it. */
export interface StaffSessionInfo {
  /** SHA-256 (hex) of the cookie token: the row's id. */
  readonly id: string;
  readonly actor: Extract<AdminActor, { kind: "staff" }>;
  readonly csrfHash: string;
  readonly expiresAt: string;
}

/** A new session: the cookie token and CSRF token exist only here (their hashes are stored). */
export interface IssuedStaffSession {
  readonly token: string;
  readonly csrfToken: string;
  readonly actor: Extract<AdminActor, { kind: "staff" }>;
  readonly expiresAt: string;
  readonly maxAgeSeconds: number;
}

export type StaffSignInResult =
  | { readonly ok: true; readonly session: IssuedStaffSession }
  | { readonly ok: false; readonly reason: "failed" }
  | { readonly ok: false; readonly reason: "throttled"; readonly retryAfterSeconds: number };

/** A cookie or CSRF token: 32 random bytes, base64url (43 characters). */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** last_seen_at is written at most this often per session (the idle timeout's resolution). */
const TOUCH_EVERY_MS = 60 * 1000;

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function newToken(): string {
  return randomBytes(32).toString("base64url");
}

function actorOf(account: { id: string; username: string; role: StaffRole }): Extract<AdminActor, { kind: "staff" }> {
  return { kind: "staff", id: account.id, username: account.username, role: account.role };
}

/**
 * Checks a staff member's password and opens a session. Refused (without checking the password) while the
 * username or the address is throttled; an unknown username or a disabled account costs the same scrypt time
 * as a wrong password and gets the same answer.
 */
export async function signInStaff(deps: StaffSessionDeps, attempt: { username: string; password: string; ip: string; userAgent: string | undefined }): Promise<StaffSignInResult> {
  const now = deps.clock();
  const keys = throttleKeys(attempt.username, attempt.ip);
  const blocked = await signInBlockedUntil(deps.db, [keys.user, keys.ip], now);
  if (blocked !== undefined) return { ok: false, reason: "throttled", retryAfterSeconds: Math.max(1, Math.ceil((blocked - now) / 1000)) };
  const account = await findStaffByUsername(deps.db, attempt.username);
  const usable = account !== undefined && account.disabled_at === null;
  const matches = usable ? await verifyPassword(attempt.password, account.password_hash) : await verifyAgainstDummy(attempt.password);
  if (!usable || !matches) {
    await recordSignInFailures(deps.db, [keys.user, keys.ip], now);
    return { ok: false, reason: "failed" };
  }
  await clearUserFailures(deps.db, keys.user);
  const token = newToken();
  const csrfToken = newToken();
  const expiresMs = now + deps.config.sessionTtlSeconds * 1000;
  await insertStaffSession(deps.db, {
    id: sha256Hex(token),
    staff_id: account.id,
    csrf_hash: sha256Hex(csrfToken),
    created_at: isoAt(now),
    expires_at: isoAt(expiresMs),
    last_seen_at: isoAt(now),
    revoked_at: null,
    ip: attempt.ip,
    user_agent: attempt.userAgent?.slice(0, 256) ?? null,
  });
  return { ok: true, session: { token, csrfToken, actor: actorOf(account), expiresAt: isoAt(expiresMs), maxAgeSeconds: deps.config.sessionTtlSeconds } };
}

/**
 * The live session a cookie token names, or undefined: unknown (forged), revoked, past its expiry or idle
 * timeout, or its account disabled. Marks it used.
 */
export async function authenticateStaff(deps: StaffSessionDeps, token: string): Promise<StaffSessionInfo | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const found = await findStaffSession(deps.db, sha256Hex(token));
  if (found === undefined) return undefined;
  const { session, account } = found;
  const now = deps.clock();
  if (session.revoked_at !== null || account.disabled_at !== null) return undefined;
  if (Date.parse(session.expires_at) <= now) return undefined;
  const lastSeen = Date.parse(session.last_seen_at);
  if (lastSeen + deps.config.sessionIdleSeconds * 1000 <= now) return undefined;
  if (now - lastSeen >= TOUCH_EVERY_MS) await touchStaffSession(deps.db, session.id, isoAt(now));
  return { id: session.id, actor: actorOf(account), csrfHash: session.csrf_hash, expiresAt: session.expires_at };
}

/** True when `given` is the session's current CSRF token (compared as SHA-256 digests, in constant time). */
export function csrfMatches(session: StaffSessionInfo, given: string | undefined): boolean {
  if (given === undefined || !TOKEN_PATTERN.test(given)) return false;
  const expected = Buffer.from(session.csrfHash, "hex");
  const actual = createHash("sha256").update(given).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * Issues the session a new CSRF token (only its hash is stored, so the old one cannot be shown again): the
 * previous token stops working. Undefined when the session has just been revoked.
 */
export async function rotateStaffCsrf(deps: StaffSessionDeps, sessionId: string): Promise<string | undefined> {
  const csrfToken = newToken();
  return (await replaceStaffCsrf(deps.db, sessionId, sha256Hex(csrfToken), isoAt(deps.clock()))) ? csrfToken : undefined;
}

/** Ends a session (its cookie is a 401 from now on). */
export async function signOutStaff(deps: StaffSessionDeps, sessionId: string): Promise<void> {
  await revokeStaffSession(deps.db, sessionId, isoAt(deps.clock()));
}
