import { writeFile } from "node:fs/promises";
import { formatTargets, type Section } from "./markdown.js";
import { PERFORMANCE_HISTORY, PERFORMANCE_HISTORY_HEADING } from "./performance-history.js";

export const COMMAND = "npx -y pnpm@10.34.9 bench";

/** What the whole file says about the run itself. */
export interface RunContext {
  readonly date: string;
  readonly machine: string;
  readonly loadAtStart: number;
  readonly loadAtEnd: number;
  /** How long the run waited for a quiet machine, and whether it got one. */
  readonly quiet: { readonly waitedSeconds: number; readonly quiet: boolean } | undefined;
  readonly durationMinutes: number;
}

/** Shared by the HTTP sections: how every req/s, latency and CPU figure is taken. */
export const HTTP_METHOD = [
  "## How the HTTP figures are taken",
  "",
  "- Every server runs in its own process, started and stopped by the bench; the load generator (autocannon 9) runs in a worker " +
    "thread of the bench process, so it never shares an event loop with a server. All traffic stays on 127.0.0.1; every run is " +
    "bounded by a duration or a request count.",
  "- Contenders of one table are measured in the same run, in rounds; each round runs every contender once, in an order rotated " +
    "from round to round, each run after its own discarded warm-up. Tables show medians over the rounds; ratios are between " +
    "medians of the same run.",
  "- Latency (p50, p99) comes from every response's time as autocannon measures it (exact, not its whole-millisecond histogram). " +
    "req/s is responses over the time from the first request to the last response.",
  '- "server CPU/req" is the user + system CPU time of the server over the measured run (from /proc: the server\'s process, ' +
    "plus, for the API on PostgreSQL, the whole PostgreSQL server, backends that ended included) divided by the responses. It is " +
    "far steadier than req/s on a shared machine, and it is what a request costs the host.",
  "- @pay/api runs as deployed: `main` from @pay/api (the bench's wrapper only adds an IPC channel for readiness and memory " +
    "samples), configured by environment, pino at `info` writing to a file, with the sandbox as its WeChat gateway in the bench " +
    "process. The background sweep is pushed out to 24 h so that it does not run during the measurements. SQLite runs with the " +
    "API's settings (WAL, synchronous=NORMAL, a 64 MiB page cache); PostgreSQL is a local server the bench starts (initdb + pg_ctl, as the API's tests " +
    "do) with synchronous_commit=off, the same durability trade (no flush per commit), and the API's pool of 10.",
].join("\n");

function section(s: Section): string {
  return [`${s.heading}\n\n${s.body.trimEnd()}`, ...(s.checks.length > 0 ? [formatTargets(s.checks)] : []), ...(s.appendix === undefined ? [] : [s.appendix.trimEnd()])].join(
    "\n\n",
  );
}

/** The `## Running it` section: how to run the bench (also re-rendered by a partial `--update-docs` run). */
export function runningIt(): string {
  return [
    "## Running it",
    "",
    `- \`${COMMAND}\` builds what the bench needs, runs every benchmark and rewrites this file.`,
    "- While iterating, run one or a few benchmarks without touching this file: " +
      `\`${COMMAND} -- --only xml\` (signing, xml, notify, orders, scale, memory, v3notify, webhooks, reconciliation, console-orders, workers, overload; comma-separated), or after a build ` +
      "(`npx -y pnpm@10.34.9 --filter @pay/bench... build`) `node apps/bench/dist/main.js --only notify`. " +
      "`--only notify --update-docs` re-measures only the named benchmarks and replaces their sections (and their lines under Targets) here " +
      "(a section this file does not have yet is added before the performance history), " +
      "keeping every other section's figures and noting the partial run under the title. " +
      "`--quick` makes every run short (figures too rough to publish), `--scale-max 100k` caps the scale benchmark (the file " +
      "then says so), `--wait-quiet` first waits (up to 20 min) for the 1-minute load average to fall below 1.5.",
    "- `--profile-api DIR` runs every API process (and the reconciliation CLI) under `node --cpu-prof --cpu-prof-dir=DIR`; `--baseline PATH` adds, beside " +
      "this workspace's API, another build of it (PATH to its `dist/index.js`, e.g. a copy of the tree before a change) to the " +
      "notify benchmark: before and after in one run.",
    "- `--contenders SUBSTRING,...` keeps, in the notify benchmark, only the API contenders whose name contains one of the substrings " +
      '(case-insensitive, e.g. `--contenders "SQLite: distinct,APIv3: dup"`); the references (a), (b) and (c) always run, an API none of whose ' +
      "rows is kept is not started, and targets whose rows did not run are not checked. Such a partial run never writes this file " +
      "(nor does it with `--update-docs`): it is for measuring one row cheaply while iterating.",
  ].join("\n");
}

/** The whole docs/benchmarks.md. */
export function renderBenchmarks(sections: readonly Section[], context: RunContext): string {
  const checks = sections.flatMap((s) => s.checks);
  const passed = checks.filter((c) => c.pass).length;
  const quietLine =
    context.quiet === undefined
      ? ""
      : context.quiet.quiet
        ? context.quiet.waitedSeconds < 60
          ? " The 1-minute load average was already below 1.5 when the run was due to start."
          : ` The run first waited ${Math.round(context.quiet.waitedSeconds / 60)} min for the 1-minute load average to fall below 1.5.`
        : ` **The machine never got quiet (1-minute load average below 1.5) within ${Math.round(context.quiet.waitedSeconds / 60)} min of waiting: this run shared it with other work.**`;
  const micro = sections.filter((s) => s.heading === "## Signing" || s.heading === "## XML");
  const http = sections.filter((s) => !micro.includes(s));
  const parts = [
    "# Benchmarks",
    `Generated by \`${COMMAND}\` from the repo root (the whole file: change apps/bench, not this text). ` +
      `Run on ${context.date}, ${context.durationMinutes.toFixed(0)} min. Machine: ${context.machine}. ` +
      `1-minute load average ${context.loadAtStart.toFixed(2)} at the start, ${context.loadAtEnd.toFixed(2)} at the end.${quietLine}`,
    "Each comparison is a ratio measured side by side in the same run: absolute rates on a shared machine drift (a bare Koa " +
      "hello-world moved from 31k to 40k req/s between two runs minutes apart here), ratios much less.",
    `## Targets\n\n${passed} of ${checks.length} met.\n\n${formatTargets(checks)}`,
    ...micro.map(section),
    ...(http.length > 0 ? [HTTP_METHOD] : []),
    ...http.map(section),
    `${PERFORMANCE_HISTORY_HEADING}\n\n${PERFORMANCE_HISTORY.trimEnd()}`,
    runningIt(),
  ];
  return `${parts.join("\n\n")}\n`;
}

/** Writes the file. */
export async function writeBenchmarks(path: string, sections: readonly Section[], context: RunContext): Promise<void> {
  await writeFile(path, renderBenchmarks(sections, context), "utf8");
}
