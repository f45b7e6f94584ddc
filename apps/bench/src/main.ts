// `pnpm bench`: runs every benchmark (or those named by --only), prints the tables and, for a full
// run, rewrites docs/benchmarks.md (with `--only ... --update-docs`, only the sections run). Never part of the tests.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchConsoleOrders } from "./console-orders.js";
import { COMMAND, writeBenchmarks, type RunContext } from "./docs.js";
import { updateBenchmarksFile } from "./docs-update.js";
import { describeMachine, loadAverage, waitForQuiet, type QuietWait } from "./machine.js";
import { formatTargets, type Section } from "./markdown.js";
import { benchMemory } from "./memory.js";
import { benchNotify } from "./notify.js";
import { benchOrders } from "./orders.js";
import { benchOverload } from "./overload.js";
import { benchReconciliation } from "./reconciliation.js";
import { parseContenders, type RunOptions } from "./run-options.js";
import { benchScale, SCALE_SIZES } from "./scale.js";
import { benchSigning } from "./signing.js";
import { benchV3Notify } from "./v3-notify.js";
import { benchWebhooks } from "./webhooks.js";
import { benchWorkers } from "./workers.js";
import { benchXml } from "./xml.js";

const DOCS_PATH = fileURLToPath(new URL("../../../docs/benchmarks.md", import.meta.url));
const QUIET_LOAD = 1.5;
const MAX_QUIET_WAIT_SECONDS = 20 * 60;

const BENCHMARKS = {
  signing: (run: RunOptions) => benchSigning(run.quick),
  xml: (run: RunOptions) => benchXml(run.quick),
  notify: benchNotify,
  orders: benchOrders,
  scale: benchScale,
  memory: benchMemory,
  v3notify: (run: RunOptions) => benchV3Notify(run.quick),
  webhooks: benchWebhooks,
  reconciliation: benchReconciliation,
  "console-orders": benchConsoleOrders,
  workers: benchWorkers,
  overload: benchOverload,
} satisfies Record<string, (run: RunOptions) => Promise<Section>>;
type BenchmarkName = keyof typeof BENCHMARKS;
const NAMES = Object.keys(BENCHMARKS) as BenchmarkName[];

function parseSize(text: string): number {
  const match = /^(\d+)([km]?)$/i.exec(text.trim());
  const size = match === null ? Number.NaN : Number(match[1]) * ({ k: 1e3, m: 1e6 }[(match[2] ?? "").toLowerCase()] ?? 1);
  if (!SCALE_SIZES.some((s) => s === size)) throw new Error(`--scale-max takes one of ${SCALE_SIZES.join(", ")} (or 10k, 100k, 1m), not ${text}.`);
  return size;
}

function parseOnly(text: string | undefined): BenchmarkName[] {
  if (text === undefined) return NAMES;
  const names = text.split(",").map((n) => n.trim());
  const unknown = names.filter((n) => !(NAMES as string[]).includes(n));
  if (unknown.length > 0) throw new Error(`--only takes ${NAMES.join(", ")}; unknown: ${unknown.join(", ")}.`);
  return names as BenchmarkName[];
}

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    quick: { type: "boolean", default: false },
    "scale-max": { type: "string" },
    baseline: { type: "string" },
    "profile-api": { type: "string" },
    contenders: { type: "string" },
    "wait-quiet": { type: "boolean", default: false },
    "update-docs": { type: "boolean", default: false },
  },
});

const log = (line: string): void => console.log(line);
const selected = parseOnly(values.only);
const profileDir = values["profile-api"] === undefined ? undefined : resolve(values["profile-api"]);
const run: RunOptions = {
  quick: values.quick,
  log,
  scaleMax: values["scale-max"] === undefined ? Math.max(...SCALE_SIZES) : parseSize(values["scale-max"]),
  ...(values.baseline === undefined ? {} : { baselineApi: resolve(values.baseline) }),
  ...(profileDir === undefined ? {} : { apiNodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] }),
  ...(values.contenders === undefined ? {} : { contenders: parseContenders(values.contenders) }),
};
// Benchmarks whose API contenders --contenders filters; every other one measures all of its contenders.
const FILTERS_CONTENDERS: readonly BenchmarkName[] = ["notify"];
// Only a full, plain run may rewrite the published figures; a plain `--only ... --update-docs` run replaces just its sections.
// A --contenders run measures only some rows, so its targets are partial: it never touches the docs.
const plain = !values.quick && values.baseline === undefined && profileDir === undefined && values.contenders === undefined;
const writesDocs = values.only === undefined && plain;
const updatesDocs = values.only !== undefined && values["update-docs"] && plain;
if (values["update-docs"] && !updatesDocs) throw new Error("--update-docs goes with --only, and not with --quick, --baseline, --profile-api or --contenders.");
const unfiltered = selected.filter((name) => !FILTERS_CONTENDERS.includes(name));
if (run.contenders !== undefined && unfiltered.length > 0)
  log(`--contenders filters the API contenders of ${FILTERS_CONTENDERS.join(", ")}; ${unfiltered.join(", ")} measure all of theirs.`);

const started = Date.now();
const quiet: QuietWait | undefined = values["wait-quiet"] ? await waitForQuiet(QUIET_LOAD, MAX_QUIET_WAIT_SECONDS, log) : undefined;
const loadAtStart = loadAverage();
log(`Machine: ${describeMachine()}; load ${loadAtStart.toFixed(2)}`);
const sections: Section[] = [];
for (const name of selected) {
  log(`== ${name}`);
  const section = await BENCHMARKS[name](run);
  sections.push(section);
  console.log(
    `\n${section.heading}\n\n${section.body}\n${section.checks.length > 0 ? `\n${formatTargets(section.checks)}\n` : ""}${section.appendix === undefined ? "" : `\n${section.appendix}\n`}`,
  );
}
const checks = sections.flatMap((s) => s.checks);
console.log(`Targets: ${checks.filter((c) => c.pass).length} of ${checks.length} met.\n${formatTargets(checks)}`);
if (writesDocs) {
  const context: RunContext = {
    date: new Date(started).toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: describeMachine(),
    loadAtStart,
    loadAtEnd: loadAverage(),
    quiet,
    durationMinutes: (Date.now() - started) / 60_000,
  };
  await writeBenchmarks(DOCS_PATH, sections, context);
  log(`Wrote ${DOCS_PATH}.`);
} else if (updatesDocs) {
  await updateBenchmarksFile(
    DOCS_PATH,
    sections,
    {
      date: new Date(started).toISOString().slice(0, 16).replace("T", " ") + " UTC",
      command: `${COMMAND} -- --only ${selected.join(",")} --update-docs`,
      loadAtStart,
      loadAtEnd: loadAverage(),
      durationMinutes: (Date.now() - started) / 60_000,
    },
    { addMissing: true },
  );
  log(`Replaced ${sections.map((s) => s.heading).join(", ")} in ${DOCS_PATH}; every other section kept.`);
} else {
  log(`Not writing ${DOCS_PATH}: only a full run without --only, --quick, --baseline, --profile-api or --contenders does (or --only ... --update-docs, for its sections).`);
}
