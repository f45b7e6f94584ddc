// The API as a real OS process (`node <build>/main.js` with an environment), for the tests that need
// more than one process on one database, or a process to kill -9.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv } from "@pay/test-kit/merchants";
import { RATE_LIMITS_OFF } from "../support/rate-limits.js";

const execFileAsync = promisify(execFile);
const API_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A build of apps/api/src that API child processes run. */
export interface ApiBuild {
  /** The entry point to run with node. */
  readonly main: string;
}

const CACHE_DIR = join(API_ROOT, "node_modules", ".cache", "pay-api-reliability");
const STALE_BUILD_MS = 24 * 3600 * 1000;

/** A digest of everything a build is made from: the non-test sources and the compiler settings. */
function sourceDigest(): string {
  const hash = createHash("sha256");
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(API_ROOT, "src"));
  for (const file of ["tsconfig.build.json", join("..", "..", "tsconfig.base.json")]) hash.update(readFileSync(join(API_ROOT, file)));
  return hash.digest("hex").slice(0, 16);
}

/**
 * Compiles apps/api/src with `tsc -p tsconfig.build.json`, so the test task needs no separate build of
 * @pay/api. The output is cached by a digest of the sources under apps/api/node_modules/.cache (where it
 * resolves @pay/core and the other dependencies exactly as apps/api does): test files that need it
 * share one build, and a later run reuses it until a source changes. A build is written to a private
 * directory and renamed into place, so concurrent compiles never see each other's half-written output.
 * Type checking is left to the typecheck task (`--noCheck`).
 */
export async function compileApi(): Promise<ApiBuild> {
  const outDir = join(CACHE_DIR, sourceDigest());
  const main = join(outDir, "main.js");
  if (existsSync(main)) return { main };
  mkdirSync(CACHE_DIR, { recursive: true });
  for (const entry of readdirSync(CACHE_DIR)) {
    const path = join(CACHE_DIR, entry);
    if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
  }
  const tempDir = `${outDir}.${process.pid}-${randomBytes(4).toString("hex")}`;
  const tsc = join(API_ROOT, "node_modules", "typescript", "bin", "tsc");
  const args = [tsc, "-p", "tsconfig.build.json", "--outDir", tempDir, "--noCheck", "--declaration", "false", "--declarationMap", "false", "--sourceMap", "false"];
  try {
    await execFileAsync(process.execPath, args, { cwd: API_ROOT, timeout: 120_000 });
    renameSync(tempDir, outDir);
  } catch (error) {
    rmSync(tempDir, { recursive: true, force: true });
    // Another compile of the same sources got there first: use it.
    if (existsSync(main)) return { main };
    const stdout = (error as { stdout?: unknown }).stdout;
    throw new Error(`compiling apps/api failed: ${typeof stdout === "string" ? stdout : String(error)}`, { cause: error });
  }
  return { main };
}

/** A running API child process. */
export interface ApiProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Every stdout/stderr line so far (pino JSON lines, or a startup error). */
  readonly output: string[];
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<string>;
  /** kill -9: no shutdown code runs. */
  crash(): Promise<string>;
  /** SIGTERM, the clean stop; SIGKILL if it has not exited within 5 s. */
  stop(): Promise<string>;
}

/**
 * Starts `node <main>` with `env` and waits for its "API listening" line (PORT=0 picks a free port; the
 * line tells which). Fails, and kills the child, if it is not listening within `startTimeoutMs`.
 */
export async function startApiProcess(main: string, env: Readonly<Record<string, string>>, startTimeoutMs = 20_000): Promise<ApiProcess> {
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? String(code))));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the API process did not start within ${startTimeoutMs} ms:\n${output.slice(-20).join("\n")}`));
    }, startTimeoutMs);
    let pending = "";
    const onData = (chunk: Buffer): void => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        if (line.includes('"API listening"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`the API process exited (${how}) before listening:\n${output.slice(-20).join("\n")}`));
    });
  });
  const stopWith = async (signal: NodeJS.Signals): Promise<string> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    if (signal !== "SIGKILL") {
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      const how = await exited;
      clearTimeout(timer);
      return how;
    }
    return exited;
  };
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid ?? -1,
    output,
    exited,
    crash: () => stopWith("SIGKILL"),
    stop: () => stopWith("SIGTERM"),
  };
}

/** The environment for an API process on `databaseUrl` against the sandbox, with the harness's merchant and secrets. */
export function sandboxApiEnv(options: {
  readonly databaseUrl: string;
  readonly sandboxUrl: string;
  /** Where the sandbox delivers notifies for this API (a process, or a proxy in front of several). */
  readonly notifyBaseUrl: string;
  readonly port?: number;
  readonly extra?: Readonly<Record<string, string>>;
}): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    PORT: String(options.port ?? 0),
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    WXPAY_BASE_URL: options.sandboxUrl,
    ...merchantEnv(MERCHANT),
    WXPAY_NOTIFY_URL: `${options.notifyBaseUrl}/wxpay/notify`,
    WXPAY_REFUND_NOTIFY_URL: `${options.notifyBaseUrl}/wxpay/refund-notify`,
    WX_API_BASE_URL: options.sandboxUrl,
    SESSION_SECRET,
    ADMIN_TOKEN,
    // Issue 21: /readyz says 503 this long after SIGTERM before the listener closes (5 s in production); tests that stop processes keep it short.
    SHUTDOWN_READINESS_DELAY_MS: "50",
    ...RATE_LIMITS_OFF,
    ...options.extra,
  };
}
