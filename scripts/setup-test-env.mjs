#!/usr/bin/env node
// Installs and checks what the test suites need beyond npm packages. Each step is idempotent:
// it checks first and changes nothing when the machine already has what the step provides.
// Add a step by writing a function and listing it in STEPS; the first failure stops the run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CHROMIUM = "/usr/bin/chromium";

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

const STEPS = [chromium];

try {
  for (const step of STEPS) step();
  console.log("test environment: ready");
} catch (error) {
  if (!(error instanceof SetupError)) throw error;
  console.error(`test environment: setup failed: ${error.message}`);
  process.exit(1);
}
