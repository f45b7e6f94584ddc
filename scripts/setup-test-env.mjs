#!/usr/bin/env node
// Installs and checks what the test suites need beyond npm packages. Each step is idempotent:
// it checks first and changes nothing when the machine already has what the step provides.
// Add a step by writing a function and listing it in STEPS; the first failure stops the run.
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

const CHROMIUM = "/usr/bin/chromium";
const DEBIAN_POSTGRES_ROOT = "/usr/lib/postgresql";

class SetupError extends Error {}

/** Runs a command with inherited output, after printing it; throws a SetupError when it fails. */
function run(command, args) {
  console.log(`test environment: $ ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.error !== undefined) throw new SetupError(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new SetupError(`${command} ${args.join(" ")} exited with ${result.status ?? result.signal}`);
}

/** Chromium for the cashier page tests (playwright-core drives /usr/bin/chromium). */
function chromium() {
  if (existsSync(CHROMIUM)) {
    console.log(`test environment: chromium already installed at ${CHROMIUM}`);
    return;
  }
  if (process.platform !== "linux") throw new SetupError(`${CHROMIUM} is missing; install Chromium there by hand on ${process.platform}`);
  if (process.getuid?.() !== 0) throw new SetupError(`${CHROMIUM} is missing and installing it needs root: run \`sudo apt-get install -y chromium\` or run this script as root`);
  console.log(`test environment: ${CHROMIUM} is missing, installing chromium with apt-get`);
  run("apt-get", ["update"]);
  run("apt-get", ["install", "-y", "chromium"]);
  if (!existsSync(CHROMIUM)) throw new SetupError(`apt-get installed chromium but ${CHROMIUM} still does not exist`);
  console.log(`test environment: chromium installed at ${CHROMIUM}`);
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb and pg_ctl, searched like packages/test-kit/src/postgres/server.ts does. */
function findPostgresBinDir() {
  const versions = existsSync(DEBIAN_POSTGRES_ROOT)
    ? readdirSync(DEBIAN_POSTGRES_ROOT)
        .filter((entry) => /^\d+$/.test(entry))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const candidates = [...versions.map((version) => join(DEBIAN_POSTGRES_ROOT, version, "bin")), ...(process.env.PATH ?? "").split(delimiter).filter((dir) => dir !== "")];
  return candidates.find((dir) => isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "pg_ctl")));
}

/** PostgreSQL server binaries: the API's tests start a throwaway server with initdb and pg_ctl. */
function postgresql() {
  if (process.env.PAY_TEST_POSTGRES_URL) {
    console.log("test environment: PAY_TEST_POSTGRES_URL is set, the API tests use that server instead of starting one");
    return;
  }
  const found = findPostgresBinDir();
  if (found !== undefined) {
    console.log(`test environment: postgresql already installed (initdb and pg_ctl in ${found})`);
    return;
  }
  const manual = "install the PostgreSQL server (initdb, pg_ctl) or set PAY_TEST_POSTGRES_URL to an existing server";
  if (process.platform !== "linux" || !existsSync("/etc/debian_version")) {
    throw new SetupError(`initdb/pg_ctl not found in ${DEBIAN_POSTGRES_ROOT}/*/bin or on PATH; on this system, ${manual}`);
  }
  if (process.getuid?.() !== 0) {
    throw new SetupError(
      "initdb/pg_ctl not found and installing postgresql needs root: run `sudo apt-get install -y postgresql`, run this script as root, or set PAY_TEST_POSTGRES_URL to an existing server",
    );
  }
  console.log("test environment: initdb/pg_ctl are missing, installing postgresql with apt-get");
  run("apt-get", ["update"]);
  run("apt-get", ["install", "-y", "postgresql"]);
  const installed = findPostgresBinDir();
  if (installed === undefined) throw new SetupError(`apt-get installed postgresql but initdb/pg_ctl are still not in ${DEBIAN_POSTGRES_ROOT}/*/bin`);
  console.log(`test environment: postgresql installed (initdb and pg_ctl in ${installed})`);
}

const STEPS = [chromium, postgresql];

try {
  for (const step of STEPS) step();
  console.log("test environment: ready");
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`test environment: setup failed: ${error.message}`);
  process.exit(1);
}
