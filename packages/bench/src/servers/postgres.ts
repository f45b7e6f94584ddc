// A throwaway PostgreSQL server for the bench, started and stopped the way the API's tests do it
// (apps/api/src/test-support/postgres.ts): initdb + pg_ctl, as the postgres OS user when we are root.
import { execFile, spawnSync } from "node:child_process";
import { accessSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { childPids, processCpuSeconds } from "./cpu.js";
import { freePort } from "./ports.js";

const execFileAsync = promisify(execFile);
const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";

/** A running server; `createDatabase` makes a fresh database on it. */
export interface BenchPostgres {
  /** The maintenance database's URL. */
  readonly url: string;
  /**
   * CPU seconds the whole server has used: the postmaster, its live children (backends, WAL writer, ...) and
   * those that ended (the pool closes idle connections, and their backends exit).
   */
  cpuSeconds(): number;
  /** A new empty database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

interface ServerFiles {
  readonly binDir: string;
  readonly root: string;
  readonly dataDir: string;
  readonly asRoot: boolean;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `postgres (PostgreSQL) 15.x` of the server the bench would start, or undefined when none is installed. */
export function postgresVersion(): string | undefined {
  try {
    return spawnSync(join(findBinDir(), "postgres"), ["--version"], { encoding: "utf8" }).stdout.trim();
  } catch {
    return undefined;
  }
}

function findBinDir(): string {
  const versions = existsSync(DEBIAN_POSTGRES_ROOT)
    ? readdirSync(DEBIAN_POSTGRES_ROOT)
        .filter((entry) => /^\d+$/.test(entry))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const candidates = [...versions.map((v) => join(DEBIAN_POSTGRES_ROOT, v, "bin")), ...(process.env.PATH ?? "").split(delimiter).filter((d) => d !== "")];
  const found = candidates.find((dir) => isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "pg_ctl")));
  if (found === undefined) throw new Error(`PostgreSQL server binaries (initdb, pg_ctl) not found in ${DEBIAN_POSTGRES_ROOT}/*/bin or on PATH.`);
  return found;
}

function postgresOsUser(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  const gid = id("-g");
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error("Running as root needs a `postgres` OS user to own the server files.");
  return { uid, gid };
}

async function runAsOwner(files: ServerFiles, command: string, args: readonly string[]): Promise<void> {
  const [file, argv] = files.asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]];
  try {
    await execFileAsync(file, argv, { cwd: files.root, timeout: 120_000 });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(`${[file, ...argv].join(" ")} failed${typeof stderr === "string" ? `: ${stderr.trim()}` : ""}`, { cause: error });
  }
}


async function onServer(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Starts PostgreSQL on a free port of 127.0.0.1. `synchronous_commit=off` is the counterpart of the
 * API's SQLite setting (WAL with synchronous=NORMAL): neither waits for a disk flush per commit.
 */
export async function startPostgres(): Promise<BenchPostgres> {
  const binDir = findBinDir();
  const asRoot = process.getuid?.() === 0;
  const root = mkdtempSync(join(tmpdir(), "pay-bench-pg-"));
  const files: ServerFiles = { binDir, root, dataDir: join(root, "data"), asRoot };
  const socketDir = join(root, "socket");
  const logFile = join(root, "postgres.log");
  mkdirSync(socketDir);
  const stopNow = (): void => {
    const pgCtl = [join(binDir, "pg_ctl"), "-D", files.dataDir, "-m", "immediate", "-w", "stop"];
    const [command, ...args] = asRoot ? ["runuser", "-u", "postgres", "--", ...pgCtl] : pgCtl;
    spawnSync(command ?? "pg_ctl", args, { stdio: "ignore", cwd: root });
    rmSync(root, { recursive: true, force: true });
  };
  try {
    if (asRoot) {
      const { uid, gid } = postgresOsUser();
      chownSync(root, uid, gid);
      chownSync(socketDir, uid, gid);
    }
    await runAsOwner(files, join(binDir, "initdb"), ["-D", files.dataDir, "-U", "app", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"]);
    let url: string | undefined;
    for (let attempt = 1; url === undefined; attempt++) {
      // The port is free when chosen but could be taken before postgres binds it: then choose again.
      const port = await freePort();
      const serverOptions = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=off`;
      try {
        await runAsOwner(files, join(binDir, "pg_ctl"), ["-D", files.dataDir, "-l", logFile, "-o", serverOptions, "-w", "start"]);
        url = `postgres://app@127.0.0.1:${port}/postgres`;
      } catch (error) {
        if (attempt >= 3) throw new Error(`${(error as Error).message}\n${readFileSync(logFile, "utf8").slice(-2000)}`, { cause: error });
      }
    }
    process.on("exit", stopNow);
    const serverUrl = url;
    return {
      url: serverUrl,
      cpuSeconds() {
        const postmaster = Number(readFileSync(join(files.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
        return childPids(postmaster).reduce((sum, pid) => sum + processCpuSeconds(pid), processCpuSeconds(postmaster, true));
      },
      async createDatabase(name) {
        await onServer(serverUrl, `create database ${pg.escapeIdentifier(name)}`);
        const databaseUrl = new URL(serverUrl);
        databaseUrl.pathname = `/${name}`;
        return databaseUrl.toString();
      },
      async stop() {
        process.off("exit", stopNow);
        try {
          await runAsOwner(files, join(binDir, "pg_ctl"), ["-D", files.dataDir, "-m", "fast", "-w", "stop"]);
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL for the bench: ${(error as Error).message}`, { cause: error });
  }
}
