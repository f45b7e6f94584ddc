// A throwaway PostgreSQL server for the test run, started by vitest's globalSetup (setup/teardown
// below) unless PAY_TEST_POSTGRES_URL already names one, and fresh databases on it for each suite.
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { inject } from "vitest";
import type { TestProject } from "vitest/node";
import { freePort } from "./ports.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the test PostgreSQL server's maintenance database (`postgres`); tests create their own databases. */
    payTestPostgresUrl: string;
  }
}

/** Set this to use an existing server (its URL, with a role allowed to CREATE DATABASE) instead of starting one. */
export const TEST_POSTGRES_URL_ENV = "PAY_TEST_POSTGRES_URL";

const execFileAsync = promisify(execFile);
const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";
const START_ATTEMPTS = 3;

interface RunningServer {
  readonly url: string;
  readonly binDir: string;
  readonly root: string;
  readonly dataDir: string;
  readonly asRoot: boolean;
}

let server: RunningServer | undefined;

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<version>/bin, else the first on PATH. */
export function findPostgresBinDir(): string | undefined {
  const versions = existsSync(DEBIAN_POSTGRES_ROOT)
    ? readdirSync(DEBIAN_POSTGRES_ROOT)
        .filter((entry) => /^\d+$/.test(entry))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const candidates = [
    ...versions.map((version) => join(DEBIAN_POSTGRES_ROOT, version, "bin")),
    ...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== ""),
  ];
  return candidates.find((dir) => isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "pg_ctl")));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** vitest globalSetup: starts the server (or adopts PAY_TEST_POSTGRES_URL) and provides its URL to tests. */
export async function setup(project: TestProject): Promise<void> {
  const existing = process.env[TEST_POSTGRES_URL_ENV];
  if (existing !== undefined && existing !== "") {
    project.provide("payTestPostgresUrl", existing);
    return;
  }
  const startedAt = performance.now();
  server = await startServer();
  process.on("exit", stopOnExit);
  // Child processes (a spawned API server, a CLI under test) find the server the same way.
  process.env[TEST_POSTGRES_URL_ENV] = server.url;
  project.provide("payTestPostgresUrl", server.url);
  console.log(`test postgres: ${server.url} (${server.binDir}) ready in ${Math.round(performance.now() - startedAt)} ms`);
}

/** vitest globalSetup: stops the server this run started and deletes its files. */
export async function teardown(): Promise<void> {
  const running = server;
  if (running === undefined) return;
  server = undefined;
  process.off("exit", stopOnExit);
  delete process.env[TEST_POSTGRES_URL_ENV];
  try {
    await runAsOwner(running, join(running.binDir, "pg_ctl"), ["-D", running.dataDir, "-m", "fast", "-w", "stop"]);
  } finally {
    rmSync(running.root, { recursive: true, force: true });
  }
}

/** Backstop when the run ends without teardown (a crash, process.exit): stop synchronously, immediately. */
function stopOnExit(): void {
  const running = server;
  if (running === undefined) return;
  server = undefined;
  const pgCtl = [join(running.binDir, "pg_ctl"), "-D", running.dataDir, "-m", "immediate", "-w", "stop"];
  const [command, ...args] = running.asRoot ? ["runuser", "-u", "postgres", "--", ...pgCtl] : pgCtl;
  spawnSync(command ?? "pg_ctl", args, { stdio: "ignore", cwd: running.root });
  rmSync(running.root, { recursive: true, force: true });
}

async function startServer(): Promise<RunningServer> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) {
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) not found in ${DEBIAN_POSTGRES_ROOT}/*/bin or on PATH: ` +
        `run \`node scripts/setup-test-env.mjs\` (installs postgresql with apt-get as root), or set ${TEST_POSTGRES_URL_ENV} to an existing server`,
    );
  }
  // initdb and postgres refuse to run as root: as root, the files belong to the postgres OS user.
  const asRoot = process.getuid?.() === 0;
  const root = mkdtempSync(join(tmpdir(), "pay-test-pg-"));
  const dataDir = join(root, "data");
  const socketDir = join(root, "socket");
  const logFile = join(root, "postgres.log");
  mkdirSync(socketDir);
  const partial: RunningServer = { url: "", binDir, root, dataDir, asRoot };
  try {
    if (asRoot) {
      const { uid, gid } = postgresOsUser();
      chownSync(root, uid, gid);
      chownSync(socketDir, uid, gid);
    }
    await runAsOwner(partial, join(binDir, "initdb"), [
      "-D", dataDir, "-U", "app", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions",
    ]);
    for (let attempt = 1; ; attempt += 1) {
      // The port is free when chosen but could be taken before postgres binds it: then choose again.
      const port = await freePort();
      const serverOptions = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
      try {
        await runAsOwner(partial, join(binDir, "pg_ctl"), ["-D", dataDir, "-l", logFile, "-o", serverOptions, "-w", "start"]);
        return { ...partial, url: `postgres://app@127.0.0.1:${port}/postgres` };
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw new Error(`${errorText(error)}\nserver log:\n${tail(logFile)}`, { cause: error });
      }
    }
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start the test PostgreSQL server: ${errorText(error)}`, { cause: error });
  }
}

function postgresOsUser(): { uid: number; gid: number } {
  const id = (flag: string): number => {
    const result = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
    const value = Number(result.stdout.trim());
    if (result.status !== 0 || !Number.isInteger(value)) {
      throw new Error("running as root needs a `postgres` OS user to own the server files (Debian's postgresql package creates it)");
    }
    return value;
  };
  return { uid: id("-u"), gid: id("-g") };
}

/** Runs a PostgreSQL tool as the owner of the server files (through runuser when we are root). */
async function runAsOwner(running: RunningServer, command: string, args: readonly string[]): Promise<void> {
  const [file, argv] = running.asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]];
  try {
    // cwd: a directory the postgres user can enter, whatever the caller's cwd is.
    await execFileAsync(file, argv, { cwd: running.root, timeout: 120_000 });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail = typeof stderr === "string" && stderr.trim() !== "" ? `: ${stderr.trim()}` : "";
    throw new Error(`${[file, ...argv].join(" ")} failed${detail}`, { cause: error });
  }
}


function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "(no log)";
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface TestPostgresDatabase {
  /** Connection URL of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, closing any connection still open on it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named database on the test server (call from a test file, after globalSetup). */
export async function createTestDatabase(): Promise<TestPostgresDatabase> {
  const serverUrl = inject("payTestPostgresUrl");
  const name = `pay_test_${process.pid}_${randomBytes(6).toString("hex")}`;
  await onServer(serverUrl, `create database ${pg.escapeIdentifier(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => onServer(serverUrl, `drop database if exists ${pg.escapeIdentifier(name)} with (force)`),
  };
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
