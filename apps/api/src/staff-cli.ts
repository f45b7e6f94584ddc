// `pnpm --filter @pay/api staff <command>`: the console's staff accounts, in the API's database (DATABASE_URL,
// as the server reads it). Passwords come from stdin, or from STAFF_PASSWORD when it is set; they are never
// printed, and neither are their hashes. Exit codes: 0 done, 1 refused (exists, not found, a bad password),
// 2 usage or configuration error.
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { StaffRoleSchema, type StaffRole } from "@pay/core/contract";
import { systemClock, type Clock } from "./clock.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { loadStaffCliConfig, type StaffCliConfig } from "./env.js";
import { createStaffAccount, disableStaffAccount, enableStaffAccount, listStaff, resetStaffPassword, setStaffRole, type StaffStore } from "./services/staff/accounts.js";
import { MIN_PASSWORD_LENGTH, type ScryptCost } from "./services/staff/passwords.js";

/** The exit codes. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

export const USAGE = `Usage: pnpm --filter @pay/api staff <command> [options]

Manages the merchant console's staff accounts in the API's database (DATABASE_URL).
  create --username U --role viewer|operator   a new account; the password from stdin or STAFF_PASSWORD
  disable --username U                         the account can no longer sign in; its sessions end now
  enable --username U                          the account may sign in again
  set-role --username U --role viewer|operator its sessions end (the new role applies from the next sign-in)
  reset-password --username U                  a new password (stdin or STAFF_PASSWORD); its sessions end
  list [--json]                                every account: username, role, state (never a password hash)
A password has at least ${MIN_PASSWORD_LENGTH} characters. Exit codes: 0 done, 1 refused, 2 usage or configuration error.
`;

const COMMANDS = ["create", "disable", "enable", "set-role", "reset-password", "list"] as const;
type Command = (typeof COMMANDS)[number];

/** What the command line asks for. */
export interface StaffCliArguments {
  readonly command: Command;
  readonly username: string | undefined;
  readonly role: StaffRole | undefined;
  readonly json: boolean;
}

type Parsed = { readonly ok: true; readonly value: StaffCliArguments | "help" } | { readonly ok: false; readonly problem: string };

/** Which options each command needs (beyond none). */
const NEEDS: Readonly<Record<Command, { readonly username: boolean; readonly role: boolean }>> = {
  create: { username: true, role: true },
  disable: { username: true, role: false },
  enable: { username: true, role: false },
  "set-role": { username: true, role: true },
  "reset-password": { username: true, role: false },
  list: { username: false, role: false },
};

/** Parses the arguments: the request, `help`, or one sentence naming what is wrong. */
export function parseStaffArguments(argv: readonly string[]): Parsed {
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  if (args.length === 0) return { ok: false, problem: "a command is required." };
  if (args.includes("--help") || args.includes("-h") || args[0] === "help") return { ok: true, value: "help" };
  const command = args[0] as string;
  if (!(COMMANDS as readonly string[]).includes(command)) return { ok: false, problem: `unknown command ${command}.` };
  let username: string | undefined;
  let role: StaffRole | undefined;
  let json = false;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--json" && command === "list") {
      json = true;
      continue;
    }
    const option = ["--username", "--role"].find((name) => arg === name || arg.startsWith(`${name}=`));
    if (option === undefined) return { ok: false, problem: arg.startsWith("-") ? `unknown option ${arg} for ${command}.` : `unexpected argument ${arg}.` };
    const value = arg === option ? args[++i] : arg.slice(option.length + 1);
    if (value === undefined || value === "" || value.startsWith("--")) return { ok: false, problem: `${option} needs a value.` };
    if (option === "--username") {
      if (username !== undefined) return { ok: false, problem: "--username is given twice." };
      username = value;
    } else {
      if (role !== undefined) return { ok: false, problem: "--role is given twice." };
      const parsed = StaffRoleSchema.safeParse(value);
      if (!parsed.success) return { ok: false, problem: `--role ${value}: must be viewer or operator.` };
      role = parsed.data;
    }
  }
  const needs = NEEDS[command as Command];
  if (needs.username && username === undefined) return { ok: false, problem: `${command} needs --username.` };
  if (needs.role && role === undefined) return { ok: false, problem: `${command} needs --role viewer or --role operator.` };
  if (!needs.username && username !== undefined) return { ok: false, problem: `${command} takes no --username.` };
  if (!needs.role && role !== undefined) return { ok: false, problem: `${command} takes no --role.` };
  return { ok: true, value: { command: command as Command, username, role, json } };
}

/** Where the CLI reads and writes; tests pass their own (and a cheaper scrypt cost). */
export interface StaffCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The password from stdin (the first line), read only when a command needs one and STAFF_PASSWORD is unset. */
  readonly readPassword: () => Promise<string>;
  readonly clock?: Clock;
  readonly cost?: ScryptCost;
}

/** Runs the command; answers the exit code and never throws. `env` undefined: the process's environment. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> | undefined, io: StaffCliIo): Promise<number> {
  const parsed = parseStaffArguments(argv);
  if (!parsed.ok) {
    io.stderr(`staff: ${parsed.problem}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (parsed.value === "help") {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  let config: StaffCliConfig;
  try {
    config = loadStaffCliConfig(env);
  } catch (error) {
    io.stderr(`staff: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
  const request = parsed.value;
  let password: string | undefined;
  if (request.command === "create" || request.command === "reset-password") {
    password = config.password ?? (await io.readPassword());
    if (password === "") {
      io.stderr("staff: no password: pipe it on stdin, or set STAFF_PASSWORD.\n");
      return EXIT.usage;
    }
  }
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(config.databaseUrl);
  } catch (error) {
    io.stderr(`staff: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
  try {
    await migrateToLatest(database.db);
    const store: StaffStore = { db: database.db, now: (io.clock ?? systemClock)(), cost: io.cost };
    return await run(store, request, password ?? "", io);
  } catch (error) {
    io.stderr(`staff: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.refused;
  } finally {
    await database.close();
  }
}

async function run(store: StaffStore, request: StaffCliArguments, password: string, io: StaffCliIo): Promise<number> {
  const username = request.username ?? "";
  const role = request.role ?? "viewer";
  const sessions = (count: number): string => (count === 0 ? "" : `; ${count} session${count === 1 ? "" : "s"} ended`);
  switch (request.command) {
    case "list": {
      const accounts = await listStaff(store);
      if (request.json) io.stdout(`${JSON.stringify(accounts, null, 2)}\n`);
      else if (accounts.length === 0) io.stdout("No staff accounts.\n");
      else for (const a of accounts) io.stdout(`${a.username}\t${a.role}\t${a.disabledAt === null ? "enabled" : `disabled since ${a.disabledAt}`}\tcreated ${a.createdAt}\n`);
      return EXIT.ok;
    }
    case "create": {
      const result = await createStaffAccount(store, username, role, password);
      if (!result.ok) return refuse(io, result.message);
      io.stdout(`Created ${result.value.username} (${result.value.role}).\n`);
      return EXIT.ok;
    }
    case "disable": {
      const result = await disableStaffAccount(store, username);
      if (!result.ok) return refuse(io, result.message);
      io.stdout(`Disabled ${username}${sessions(result.value.revokedSessions)}.\n`);
      return EXIT.ok;
    }
    case "enable": {
      const result = await enableStaffAccount(store, username);
      if (!result.ok) return refuse(io, result.message);
      io.stdout(`Enabled ${username}.\n`);
      return EXIT.ok;
    }
    case "set-role": {
      const result = await setStaffRole(store, username, role);
      if (!result.ok) return refuse(io, result.message);
      io.stdout(`${username} is now ${role}${sessions(result.value.revokedSessions)}.\n`);
      return EXIT.ok;
    }
    case "reset-password": {
      const result = await resetStaffPassword(store, username, password);
      if (!result.ok) return refuse(io, result.message);
      io.stdout(`New password set for ${username}${sessions(result.value.revokedSessions)}.\n`);
      return EXIT.ok;
    }
  }
}

function refuse(io: StaffCliIo, message: string): number {
  io.stderr(`staff: ${message}\n`);
  return EXIT.refused;
}

/** The first line of stdin (without its line break), or "" when stdin is empty or a terminal left empty. */
async function readFirstLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("Password: ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

/** True when this module is the process's entry point (node dist/staff-cli.js), not imported. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await main(process.argv.slice(2), undefined, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readPassword: readFirstLine,
  });
  process.exit(code);
}
