// A throwaway PostgreSQL server: initdb into a temp directory, pg_ctl start on a free port of
// 127.0.0.1, and fresh databases on it. initdb and postgres refuse to run as root, so as root the
// files belong to the `postgres` OS user and every tool runs through `runuser -u postgres`.
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "../ports.js";

const execFileAsync = promisify(execFile);
const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";
const START_ATTEMPTS = 3;

export interface StartPostgresOptions {
  /** Server settings passed as `-c name=value` (for example `{ fsync: "off" }` for tests). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Prefix of the temp directory holding the data, socket and log (default `pay-pg-`). */
  readonly prefix?: string;
}

/** A running server; stop it when done (an exit handler stops it if the process ends first). */
export interface ThrowawayPostgres {
  /** The maintenance database's URL (`postgres` as role `app`, which may create databases). */
  readonly url: string;
  /** Where initdb, pg_ctl and postgres were found. */
  readonly binDir: string;
  /** The data directory (postmaster.pid is in it). */
  readonly dataDir: string;
  /** A new empty database on this server. */
  createDatabase(name?: string): Promise<TestPostgresDatabase>;
  /** Stops the server (fast shutdown) and deletes its files. Safe to call twice. */
  stop(): Promise<void>;
}

export interface TestPostgresDatabase {
  /** Connection URL of the new database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database, closing any connection still open on it. Safe to call twice. */
  drop(): Promise<void>;
}

interface ServerFiles {
  readonly binDir: string;
  readonly root: string;
  readonly dataDir: string;
  readonly asRoot: boolean;
}

/** The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<version>/bin, else the first on PATH. */
export function findPostgresBinDir(): string | undefined {
  const versions = existsSync(DEBIAN_POSTGRES_ROOT)
    ? readdirSync(DEBIAN_POSTGRES_ROOT)
        .filter((entry) => /^\d+$/.test(entry))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const candidates = [...versions.map((version) => join(DEBIAN_POSTGRES_ROOT, version, "bin")), ...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "")];
  return candidates.find((dir) => isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "pg_ctl")));
}

/** `postgres (PostgreSQL) 15.x` of the server startPostgres would start, or undefined when none is installed. */
export function postgresVersion(): string | undefined {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) return undefined;
  const result = spawnSync(join(binDir, "postgres"), ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Starts a new server in a temp directory on a free port of 127.0.0.1 (max_connections=200). */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const binDir = findPostgresBinDir();
  if (binDir === undefined) {
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) not found in ${DEBIAN_POSTGRES_ROOT}/*/bin or on PATH: ` +
        "run `node scripts/setup-test-env.mjs` (installs postgresql with apt-get as root)",
    );
  }
  const asRoot = process.getuid?.() === 0;
  const root = mkdtempSync(join(tmpdir(), options.prefix ?? "pay-pg-"));
  const files: ServerFiles = { binDir, root, dataDir: join(root, "data"), asRoot };
  const socketDir = join(root, "socket");
  const logFile = join(root, "postgres.log");
  mkdirSync(socketDir);
  const settings = { listen_addresses: "127.0.0.1", max_connections: "200", ...options.settings };
  const settingFlags = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
  let url: string;
  try {
    if (asRoot) {
      const { uid, gid } = postgresOsUser();
      chownSync(root, uid, gid);
      chownSync(socketDir, uid, gid);
    }
    await runAsOwner(files, join(binDir, "initdb"), ["-D", files.dataDir, "-U", "app", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"]);
    url = await startOnFreePort(files, [`-k ${socketDir}`, ...settingFlags].join(" "), logFile);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start a throwaway PostgreSQL server: ${errorText(error)}`, { cause: error });
  }

  let running = true;
  /** Backstop when the process ends without stop() (a crash, process.exit): stop synchronously, immediately. */
  const stopOnExit = (): void => {
    if (!running) return;
    running = false;
    const pgCtl = [join(binDir, "pg_ctl"), "-D", files.dataDir, "-m", "immediate", "-w", "stop"];
    const [command, ...args] = asRoot ? ["runuser", "-u", "postgres", "--", ...pgCtl] : pgCtl;
    spawnSync(command ?? "pg_ctl", args, { stdio: "ignore", cwd: root });
    rmSync(root, { recursive: true, force: true });
  };
  process.on("exit", stopOnExit);
  return {
    url,
    binDir,
    dataDir: files.dataDir,
    createDatabase: (name) => createDatabase(url, name),
    async stop() {
      if (!running) return;
      running = false;
      process.off("exit", stopOnExit);
      try {
        await runAsOwner(files, join(binDir, "pg_ctl"), ["-D", files.dataDir, "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

async function startOnFreePort(files: ServerFiles, serverOptions: string, logFile: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    // The port is free when chosen but could be taken before postgres binds it: then choose again.
    const port = await freePort();
    try {
      await runAsOwner(files, join(files.binDir, "pg_ctl"), ["-D", files.dataDir, "-l", logFile, "-o", `-p ${port} ${serverOptions}`, "-w", "start"]);
      return `postgres://app@127.0.0.1:${port}/postgres`;
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw new Error(`${errorText(error)}\nserver log:\n${tail(logFile)}`, { cause: error });
    }
  }
}

/**
 * Creates a fresh database on the server at `serverUrl` (a URL whose role may CREATE DATABASE);
 * without a name, a unique `pay_test_<pid>_<random>` one.
 */
export async function createDatabase(serverUrl: string, name = `pay_test_${process.pid}_${randomBytes(6).toString("hex")}`): Promise<TestPostgresDatabase> {
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
async function runAsOwner(files: ServerFiles, command: string, args: readonly string[]): Promise<void> {
  const [file, argv] = files.asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]];
  try {
    // cwd: a directory the postgres user can enter, whatever the caller's cwd is.
    await execFileAsync(file, argv, { cwd: files.root, timeout: 120_000 });
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
