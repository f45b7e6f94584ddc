#!/usr/bin/env node
// `pnpm demo`: one purchase through the real HTTP API in every mode; exits 1 when a step fails (CI's smoke test).
import { formatMoney } from "@pay/core";
import { DEMO_HELP, parseDemoArgs } from "./cli-options.js";
import { runDemo, type DemoResult } from "./demo.js";
import { cliArgs, isEntryPoint } from "./paths.js";

function summaryLine(result: DemoResult): string {
  if (!result.ok) return `  ✗ ${result.mode.padEnd(13)} ${result.failure ?? "failed"}`;
  const paid = result.paid === undefined ? "-" : formatMoney(result.paid);
  const refunded = result.refunded === undefined ? "-" : formatMoney(result.refunded);
  return `  ✓ ${result.mode.padEnd(13)} paid ${paid}, refunded ${refunded} (${(result.elapsedMs / 1000).toFixed(1)} s)`;
}

/** Runs the demo for the modes the flags name and returns the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let options;
  try {
    options = parseDemoArgs(cliArgs(argv));
  } catch (error) {
    process.stderr.write(`pnpm demo: ${(error as Error).message}\nRun with --help for the options.\n`);
    return 1;
  }
  if (options === "help") {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const results: DemoResult[] = [];
  for (const mode of options.modes) results.push(await runDemo({ mode, output: process.stdout }));
  if (results.length > 1) process.stdout.write(`\nSummary:\n${results.map(summaryLine).join("\n")}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

if (isEntryPoint(import.meta.url)) process.exitCode = await main();
