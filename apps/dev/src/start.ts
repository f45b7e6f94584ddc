#!/usr/bin/env node
// `pnpm start`: the sandbox and the API on fixed local ports, the mini-program built against them, and a banner.
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ProductListResponseSchema, type Product } from "@pay/core/contract";
import { formatBanner } from "./banner.js";
import { parseStartArgs, START_HELP } from "./cli-options.js";
import { DevError } from "./errors.js";
import { createPrettyLogDestination } from "./log-format.js";
import { buildMiniProgram, type MiniProgramBuild } from "./miniprogram.js";
import { cliArgs, isEntryPoint, REPO_ROOT } from "./paths.js";
import { startDevStack, type DevStack } from "./stack.js";

async function fetchProducts(apiUrl: string): Promise<Product[]> {
  const answer = await fetch(`${apiUrl}/api/products`);
  const parsed = ProductListResponseSchema.safeParse(await answer.json());
  if (!answer.ok || !parsed.success) throw new Error(`GET /api/products answered ${answer.status} without a product list.`);
  return parsed.data.products;
}

function fail(message: string): never {
  process.stderr.write(`pnpm start: ${message}\n`);
  process.exit(1);
}

/** Runs the main job until SIGINT/SIGTERM, which stop everything and exit 0. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let options;
  try {
    options = parseStartArgs(cliArgs(argv));
  } catch (error) {
    fail(`${(error as Error).message}\nRun with --help for the options.`);
  }
  if (options === "help") {
    process.stdout.write(START_HELP);
    return;
  }

  const logs = createPrettyLogDestination(process.stdout);
  logs.hold();
  const starting = startDevStack({
    ...(options.envFile === undefined ? { mode: options.mode } : { envFile: options.envFile }),
    dataDir: options.dataDir ?? join(REPO_ROOT, "data"),
    ports: options.ports,
    logDestination: logs,
  });
  let build: ChildProcess | undefined;
  let stopping = false;
  // Set by the signal handler while main awaits; read through a call, since the compiler assumes it is still false.
  const isStopping = (): boolean => stopping;
  // `once`: a second Ctrl+C gets Node's default and ends the process even if stopping hangs.
  const stop = (signal: NodeJS.Signals): void => {
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the API and the sandbox.\n`);
    if (build !== undefined && build.exitCode === null) build.kill("SIGTERM");
    // A stack still starting is let finish, then stopped: nothing is left half-open.
    starting
      .then(
        (stack) => stack.stop(),
        () => undefined,
      )
      .then(
        () => {
          logs.release();
          process.stdout.write("Stopped. The data stays in place for the next start.\n");
          process.exit(0);
        },
        (error: unknown) => fail(`stopping failed: ${error instanceof Error ? error.message : String(error)}`),
      );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);

  let stack: DevStack;
  try {
    stack = await starting;
  } catch (error) {
    logs.release();
    if (error instanceof DevError) fail(error.message);
    throw error;
  }
  if (isStopping()) return;
  try {
    let miniProgram: MiniProgramBuild = { status: "skipped", folder: undefined, detail: "Not built (--skip-miniprogram)." };
    if (options.buildMiniProgram) {
      miniProgram = await buildMiniProgram({
        repoRoot: REPO_ROOT,
        apiUrl: stack.apiUrl,
        env: process.env,
        output: process.stdout,
        onSpawn: (child) => {
          build = child;
        },
      });
    }
    if (isStopping()) return;
    const products = await fetchProducts(stack.apiUrl);
    process.stdout.write(formatBanner({ stack, miniProgram, products, cwd: process.cwd() }));
    logs.release();
  } catch (error) {
    logs.release();
    await stack.stop();
    fail(error instanceof Error ? error.message : String(error));
  }
}

if (isEntryPoint(import.meta.url)) await main();
