// Staff accounts for the console suites, made the way an operator makes them: the staff CLI
// (`pnpm --filter @pay/api staff create --username U --role R`, the password from STAFF_PASSWORD), run as its
// own process on the API's database, as docs/console.md tells an operator to.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { StaffRole } from "@pay/core/contract";
import type { ConsoleStack } from "./stack.js";

const run = promisify(execFile);

/** The API's built staff CLI (turbo builds @pay/api before the console's tests). */
const STAFF_CLI = fileURLToPath(new URL("../../../../api/dist/staff-cli.js", import.meta.url));

export interface StaffAccount {
  readonly username: string;
  readonly password: string;
  readonly role: StaffRole;
}

/** The two accounts the suites sign in with. */
export const OPERATOR: StaffAccount = { username: "olivia.operator", password: "correct horse battery staple 1", role: "operator" };
export const VIEWER: StaffAccount = { username: "victor.viewer", password: "correct horse battery staple 2", role: "viewer" };

/** Creates `account` in the stack's database with the staff CLI; fails with the CLI's own message when it refuses. */
export async function createStaffAccount(stack: ConsoleStack, account: StaffAccount): Promise<void> {
  if (!existsSync(STAFF_CLI)) throw new Error(`${STAFF_CLI} is missing: build the API first (npx -y pnpm@10.34.9 --filter @pay/api build).`);
  const { stdout } = await run(process.execPath, [STAFF_CLI, "create", "--username", account.username, "--role", account.role], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: stack.databaseUrl, STAFF_PASSWORD: account.password },
    timeout: 30_000,
  });
  if (!stdout.includes(`Created ${account.username} (${account.role})`)) throw new Error(`staff create ${account.username}: ${stdout}`);
}
