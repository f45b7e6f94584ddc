#!/usr/bin/env node
// Checks the formatting, type-checks and lints every package, runs every workspace test suite through turbo, then prints one closing line computed from the
// vitest JSON reports: "N passed, N failed, N skipped". A suite that produced no report counts as failed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", FORCE_COLOR: process.env.FORCE_COLOR ?? "0" };

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  return result.status ?? 1;
}

/** Workspace packages that have a test script. */
function testedPackages() {
  const dirs = [];
  for (const group of ["packages", "apps", "tooling"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) {
      const manifest = join(base, name, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      if (pkg.scripts?.test) dirs.push({ dir: join(base, name), name: pkg.name });
    }
  }
  return dirs;
}

const packages = testedPackages();
for (const { dir } of packages) rmSync(join(dir, ".reports"), { recursive: true, force: true });

const setup = run(process.execPath, [join(root, "scripts/setup-test-env.mjs")]);
if (setup !== 0) {
  console.error("Test environment setup failed.");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

// Prettier names each file that is not formatted; `npx -y pnpm@10.34.9 format` rewrites them.
const format = spawnSync("pnpm", ["exec", "prettier", "--check", ".", "--log-level", "warn"], { cwd: root, env, encoding: "utf8" });
process.stdout.write(format.stdout ?? "");
process.stderr.write(format.stderr ?? "");
const unformatted = `${format.stdout ?? ""}${format.stderr ?? ""}`
  .split("\n")
  .filter((line) => line.startsWith("[warn] ") && !line.includes("Code style issues"))
  .map((line) => line.slice("[warn] ".length));
// Test files are type-checked and linted like the code they test; a failure there fails the run.
const staticStatus = run("pnpm", ["exec", "turbo", "run", "typecheck", "lint", "--continue"]);
const turboStatus = run("pnpm", ["exec", "turbo", "run", "test", "--continue", "--concurrency=1"]);

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const { dir, name } of packages) {
  const reportDir = join(dir, ".reports");
  const reports = existsSync(reportDir) ? readdirSync(reportDir).filter((f) => f.endsWith(".json")) : [];
  if (reports.length === 0) {
    failed += 1;
    problems.push(`${name}: no test report was written (the suite crashed before reporting)`);
    continue;
  }
  for (const file of reports) {
    const report = JSON.parse(readFileSync(join(reportDir, file), "utf8"));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    if (report.success === false && (report.numFailedTests ?? 0) === 0) {
      failed += 1;
      problems.push(`${name}: the run failed outside any test (unhandled error or failed suite)`);
    }
    if ((report.numTotalTests ?? 0) === 0) {
      failed += 1;
      problems.push(`${name}: ran no tests`);
    }
  }
}
if (format.status !== 0) {
  failed += 1;
  const files = unformatted.length > 0 ? `${unformatted.length} files are not formatted, e.g. ${unformatted.slice(0, 3).join(", ")}` : "Prettier failed (see its output above)";
  problems.push(`formatting check failed: ${files} (run \`npx -y pnpm@10.34.9 format\`)`);
}
if (staticStatus !== 0) {
  failed += 1;
  problems.push("type checking or lint failed (see the turbo output above)");
}
if (turboStatus !== 0 && failed === 0) {
  failed += 1;
  problems.push(`turbo exited with status ${turboStatus}`);
}
for (const problem of problems) console.error(`test summary: ${problem}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
