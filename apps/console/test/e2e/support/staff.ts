// Staff accounts for the console suites, made the way an operator makes them.
//
// PHASE 1 PLACEHOLDER (issue 19): the staff service and its CLI are being written on another branch. Until they
// are merged this writes the staff_accounts row itself, in the format migration 0005 documents
// (`scrypt$N$r$p$salt$hash`, base64url salt and hash). Once merged, this one function calls the service instead;
// nothing else in the suites knows how an account is made.
import { randomBytes, randomUUID, scryptSync } from "node:crypto";
import type { StaffRole } from "@pay/core/contract";
import type { ConsoleStack } from "./stack.js";

export interface StaffAccount {
  readonly username: string;
  readonly password: string;
  readonly role: StaffRole;
}

/** The two accounts the suites sign in with. */
export const OPERATOR: StaffAccount = { username: "olivia.operator", password: "correct horse battery staple 1", role: "operator" };
export const VIEWER: StaffAccount = { username: "victor.viewer", password: "correct horse battery staple 2", role: "viewer" };

const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 64 } as const;

/** Creates `account` in the stack's database. */
export async function createStaffAccount(stack: ConsoleStack, account: StaffAccount): Promise<void> {
  const salt = randomBytes(16);
  const hash = scryptSync(account.password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  const now = new Date().toISOString();
  await stack.db
    .insertInto("staff_accounts")
    .values({
      id: randomUUID(),
      username: account.username,
      password_hash: `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString("base64url")}$${hash.toString("base64url")}`,
      role: account.role,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}
