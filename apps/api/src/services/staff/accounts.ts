import { randomUUID } from "node:crypto";
import { StaffUsernameSchema, type StaffRole } from "@pay/core/contract";
import type { Kysely } from "kysely";
import { isoAt } from "../../clock.js";
import type { Database } from "../../db/schema.js";
import { findStaffByUsername, insertStaffAccount, listStaffAccounts, revokeStaffSessionsOf, updateStaffAccount } from "../../db/staff.js";
import { DEFAULT_SCRYPT_COST, hashPassword, passwordProblem, type ScryptCost } from "./passwords.js";

/** What the staff commands work on: the database, the time, and (tests only) a cheaper scrypt cost. */
export interface StaffStore {
  readonly db: Kysely<Database>;
  readonly now: number;
  readonly cost?: ScryptCost | undefined;
}

/** An account as it may be shown: never its hash. */
export interface StaffAccountView {
  readonly id: string;
  readonly username: string;
  readonly role: StaffRole;
  readonly disabledAt: string | null;
  readonly createdAt: string;
}

/** Why a staff command was refused: one sentence for a person. */
export type StaffRefusal = { readonly ok: false; readonly reason: "invalid" | "exists" | "not-found"; readonly message: string };
export type StaffResult<T> = { readonly ok: true; readonly value: T } | StaffRefusal;

function refused(reason: StaffRefusal["reason"], message: string): StaffRefusal {
  return { ok: false, reason, message };
}

function usernameProblem(username: string): string | undefined {
  const parsed = StaffUsernameSchema.safeParse(username);
  return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? "the username is not valid");
}

/** Creates an account (the password at least MIN_PASSWORD_LENGTH characters). */
export async function createStaffAccount(store: StaffStore, username: string, role: StaffRole, password: string): Promise<StaffResult<StaffAccountView>> {
  const badName = usernameProblem(username);
  if (badName !== undefined) return refused("invalid", `--username ${username}: ${badName}.`);
  const badPassword = passwordProblem(password);
  if (badPassword !== undefined) return refused("invalid", `${badPassword}.`);
  const at = isoAt(store.now);
  const row = {
    id: `st_${randomUUID()}`,
    username,
    password_hash: await hashPassword(password, store.cost ?? DEFAULT_SCRYPT_COST),
    role,
    disabled_at: null,
    created_at: at,
    updated_at: at,
  };
  if (!(await insertStaffAccount(store.db, row))) return refused("exists", `an account named ${username} exists already.`);
  return { ok: true, value: { id: row.id, username, role, disabledAt: null, createdAt: at } };
}

async function change(store: StaffStore, username: string, fields: Parameters<typeof updateStaffAccount>[2], revoke: boolean): Promise<StaffResult<{ revokedSessions: number }>> {
  const at = isoAt(store.now);
  const updated = await store.db.transaction().execute(async (tx) => {
    if (!(await updateStaffAccount(tx, username, fields, at))) return undefined;
    return revoke ? await revokeStaffSessionsOf(tx, username, at) : 0;
  });
  if (updated === undefined) return refused("not-found", `there is no account named ${username}.`);
  return { ok: true, value: { revokedSessions: updated } };
}

/** Disables an account and revokes its sessions at once (its next call is a 401). */
export async function disableStaffAccount(store: StaffStore, username: string): Promise<StaffResult<{ revokedSessions: number }>> {
  return change(store, username, { disabled_at: isoAt(store.now) }, true);
}

/** Enables a disabled account again (it signs in anew; old sessions stay revoked). */
export async function enableStaffAccount(store: StaffStore, username: string): Promise<StaffResult<{ revokedSessions: number }>> {
  return change(store, username, { disabled_at: null }, false);
}

/** Changes an account's role; its sessions are revoked so the new role applies from its next sign-in on. */
export async function setStaffRole(store: StaffStore, username: string, role: StaffRole): Promise<StaffResult<{ revokedSessions: number }>> {
  return change(store, username, { role }, true);
}

/** Gives an account a new password and revokes its sessions. */
export async function resetStaffPassword(store: StaffStore, username: string, password: string): Promise<StaffResult<{ revokedSessions: number }>> {
  const badPassword = passwordProblem(password);
  if (badPassword !== undefined) return refused("invalid", `${badPassword}.`);
  if ((await findStaffByUsername(store.db, username)) === undefined) return refused("not-found", `there is no account named ${username}.`);
  return change(store, username, { password_hash: await hashPassword(password, store.cost ?? DEFAULT_SCRYPT_COST) }, true);
}

/** Every account, by username, without hashes. */
export async function listStaff(store: Pick<StaffStore, "db">): Promise<StaffAccountView[]> {
  const rows = await listStaffAccounts(store.db);
  return rows.map((row) => ({ id: row.id, username: row.username, role: row.role, disabledAt: row.disabled_at, createdAt: row.created_at }));
}
