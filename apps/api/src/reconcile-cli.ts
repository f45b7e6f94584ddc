// `pnpm --filter @pay/api reconcile --date 2026-12-01`: reconciles one Beijing day in this process, with
// the API's own configuration (the process environment, as `pnpm start` reads it), and exits with what
// the run came to: 0 succeeded, 1 failed, 2 the command or configuration is wrong, 3 another process is
// running the day.
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ReconciliationDateSchema, type ReconciliationItem, type ReconciliationRunSummary, type ReconciliationSideTotals } from "@pay/core/contract";
import { formatAmount, type Currency } from "@pay/core/money";
import { createApp } from "./app.js";
import { systemClock, type Clock } from "./clock.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { listItems } from "./db/reconciliation-reads.js";
import { loadConfig, type AppConfig } from "./env.js";
import { createLoginClient } from "./gateway/login-client.js";
import { createLogger } from "./logging.js";
import { openGateways } from "./server.js";
import { beijingDayOf, isDayOver } from "./services/reconciliation/day.js";
import { runOptionsOf } from "./services/reconciliation/admin.js";
import { startReconciliation } from "./services/reconciliation/engine.js";
import { loadV3Credentials } from "./v3-credentials.js";

/** The exit codes. */
export const EXIT = { succeeded: 0, failed: 1, usage: 2, busy: 3 } as const;

export const USAGE = `Usage: pnpm --filter @pay/api reconcile --date YYYY-MM-DD [--json]

Reconciles one Beijing day (over there already) against WeChat Pay's bill, with the API's configuration
(the same environment variables as the server), and replaces the day's stored result.
  --date YYYY-MM-DD  the day
  --json             print the run and its items as JSON instead of a summary
Exit codes: 0 succeeded, 1 failed, 2 usage or configuration error, 3 another process is running the day.
`;

/** Where the CLI writes, and its clock (tests pass their own). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock?: Clock;
}

/** What the command line asks for. */
export interface CliArguments {
  readonly date: string;
  readonly json: boolean;
}

/** Parses the arguments: the request, `help`, or what is wrong with them (one sentence naming the problem). */
export function parseArguments(argv: readonly string[]): { readonly ok: true; readonly value: CliArguments | "help" } | { readonly ok: false; readonly problem: string } {
  let date: string | undefined;
  let json = false;
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--help" || arg === "-h") return { ok: true, value: "help" };
    if (arg === "--json") {
      json = true;
      continue;
    }
    if (arg === "--date" || arg.startsWith("--date=")) {
      if (date !== undefined) return { ok: false, problem: "--date is given twice." };
      const value = arg === "--date" ? args[++i] : arg.slice("--date=".length);
      if (value === undefined || value === "" || value.startsWith("--")) return { ok: false, problem: "--date needs a day, e.g. --date 2026-12-01." };
      const parsed = ReconciliationDateSchema.safeParse(value);
      if (!parsed.success) return { ok: false, problem: `--date ${value}: ${parsed.error.issues[0]?.message ?? "is not a day"}.` };
      date = parsed.data;
      continue;
    }
    return { ok: false, problem: arg.startsWith("-") ? `unknown option ${arg}.` : `unexpected argument ${arg}.` };
  }
  if (date === undefined) return { ok: false, problem: "--date is required, e.g. --date 2026-12-01." };
  return { ok: true, value: { date, json } };
}

/** Fees are at scale 5 (10^-5 of the major unit), as the bill writes them. */
function fee(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(6, "0");
  return `${sign}${digits.slice(0, -5)}.${digits.slice(-5)}`;
}

function side(totals: ReconciliationSideTotals, currency: Currency): string {
  return `${totals.paymentCount} payments ${formatAmount(totals.paymentAmount, currency)} ${currency}, ${totals.refundCount} refunds ${formatAmount(totals.refundAmount, currency)} ${currency}`;
}

function itemLine(item: ReconciliationItem): string {
  const about = [
    item.orderId === null ? undefined : `order ${item.orderId}`,
    item.refundId === null ? undefined : `refund ${item.refundId}`,
    item.transactionId === null ? undefined : `transaction ${item.transactionId}`,
    item.billLine === null ? undefined : `bill line ${item.billLine}`,
  ].filter((part) => part !== undefined);
  return `  ${item.class}${about.length === 0 ? "" : ` (${about.join(", ")})`}: ${item.detail}`;
}

/** The summary a person reads: state, totals, counts by class, each flagged item. */
export function formatSummary(run: ReconciliationRunSummary, items: readonly ReconciliationItem[]): string {
  const lines = [`Reconciliation of ${run.date}: ${run.state} (attempt ${run.attempt}, ${run.trigger}${run.bill === null ? "" : `, bill ${run.bill}`})`];
  if (run.error !== null) lines.push(`Error: ${run.error.code}: ${run.error.message}`);
  if (run.totals !== null) {
    const { currency } = run.totals;
    if (run.state === "failed") lines.push(`Last successful run (${run.resultAt ?? "?"}):`);
    lines.push(`Bill:  ${side(run.totals.bill, currency)}; fees ${fee(run.totals.feeLines)}`);
    lines.push(`Ours:  ${side(run.totals.ours, currency)}`);
    const summary = run.totals.summary;
    if (summary !== null) {
      lines.push(
        `Bill summary row: ${summary.lineCount} lines, payments ${formatAmount(summary.paymentAmount, currency)} ${currency}, refunds ${formatAmount(summary.refundAmount, currency)} ${currency}, fees ${fee(summary.fee)}`,
      );
    }
    const counted = Object.entries(run.differences).filter(([, count]) => count > 0);
    lines.push(`Differences: ${counted.length === 0 ? "none" : counted.map(([name, count]) => `${name} ${count}`).join(", ")}`);
    const recovered = items.filter((item) => item.resolution === "recovered").length;
    if (recovered > 0) lines.push(`Recovered (applied from a verified query): ${recovered}`);
    const flagged = items.filter((item) => item.resolution === "flagged");
    if (flagged.length > 0) lines.push(`Flagged for a person (${flagged.length}):`, ...flagged.map(itemLine));
  }
  return `${lines.join("\n")}\n`;
}

/** Every stored item of a day, a page at a time. */
async function allItems(db: Parameters<typeof listItems>[0], date: string): Promise<ReconciliationItem[]> {
  const items: ReconciliationItem[] = [];
  for (;;) {
    const page = await listItems(db, date, { afterId: items.at(-1)?.id, limit: 500, class: undefined });
    items.push(...page);
    if (page.length < 500) return items;
  }
}

/**
 * Runs the command: `argv` without node and the script, `env` the environment (the process's when
 * undefined, read by loadConfig). Answers the exit code; never throws.
 */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> | undefined, io: CliIo): Promise<number> {
  const parsed = parseArguments(argv);
  if (!parsed.ok) {
    io.stderr(`reconcile: ${parsed.problem}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (parsed.value === "help") {
    io.stdout(USAGE);
    return EXIT.succeeded;
  }
  const { date, json } = parsed.value;
  const clock = io.clock ?? systemClock;
  if (!isDayOver(date, clock())) {
    io.stderr(`reconcile: --date ${date} is not over yet in Beijing (today there is ${beijingDayOf(clock())}); a day is reconciled once it is over.\n`);
    return EXIT.usage;
  }
  let config: AppConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    io.stderr(`reconcile: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
  // Log lines go to stderr, so stdout holds only the summary (or the JSON).
  const logger = createLogger({ level: config.logLevel, name: "pay-reconcile", destination: { write: (line: string) => io.stderr(line) } });
  try {
    return await reconcile(config, logger, clock, date, json, io);
  } catch (error) {
    logger.error({ err: error, date }, "reconcile: the run could not be started");
    io.stderr(`reconcile: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}

async function reconcile(config: AppConfig, logger: ReturnType<typeof createLogger>, clock: Clock, date: string, json: boolean, io: CliIo): Promise<number> {
  // Bad APIv3 key files stop the command before anything is opened, as they stop the server.
  const v3 = config.v3 === undefined ? undefined : loadV3Credentials(config.v3);
  const database = await openDatabase(config.databaseUrl);
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
    const ca = config.gateway.caPath === undefined ? undefined : readFileSync(config.gateway.caPath, "utf8");
    const gateways = await openGateways(config, v3, logger, ca);
    const login = createLoginClient({ baseUrl: config.wx.apiBaseUrl, appId: config.merchant.subAppId ?? config.merchant.appId, appSecret: config.wx.appSecret, ca, logger });
    try {
      const { services } = createApp({
        config,
        db: database.db,
        dialect: database.dialect,
        gateway: gateways.gateway,
        v3Gateway: gateways.v3Gateway,
        apiVersion: config.apiVersion,
        login,
        logger,
        clock,
      });
      const start = await startReconciliation(services, date, "cli", runOptionsOf(config.reconciliation));
      if (!start.started) {
        const run = start.run;
        io.stderr(`reconcile: another process is running ${date} (attempt ${run.attempt}, started ${run.startedAt}); try again once it is done.\n`);
        if (json) io.stdout(`${JSON.stringify({ run, items: [] }, null, 2)}\n`);
        return EXIT.busy;
      }
      const run = await start.done;
      // The recovered payments' and refunds' changes are committed before the process ends.
      await services.paidWriter.drain();
      // The repair queries' timeline rows too.
      await services.activity.close();
      const items = await allItems(database.db, date);
      io.stdout(json ? `${JSON.stringify({ run, items }, null, 2)}\n` : formatSummary(run, items));
      return run.state === "succeeded" ? EXIT.succeeded : EXIT.failed;
    } finally {
      await gateways.close();
      await login.close();
    }
  } finally {
    await database.close();
  }
}

/** True when this module is the process's entry point (node dist/reconcile-cli.js), not imported. */
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
  const code = await main(process.argv.slice(2), undefined, { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) });
  // Exits even if a library left a handle open; stdout and stderr are written synchronously to files and pipes.
  process.exit(code);
}
