import { median, rotated } from "../harness.js";
import { formatCount, formatMs, formatRatio } from "../markdown.js";
import type { LoadJob, LoadOutcome } from "./job.js";
import { runLoad } from "./load.js";

/** How long a run lasts: a duration or a number of requests. */
export type Extent = LoadJob["measure"];

/** How HTTP contenders are measured against each other. */
export interface HttpOptions {
  readonly rounds: number;
  /** Each run's warm-up, discarded. */
  readonly warmup: Extent;
  readonly measure: Extent;
  readonly connections: number;
}

export const FULL_HTTP: HttpOptions = { rounds: 3, warmup: { seconds: 2 }, measure: { seconds: 6 }, connections: 50 };
export const QUICK_HTTP: HttpOptions = { rounds: 1, warmup: { seconds: 1 }, measure: { seconds: 2 }, connections: 50 };

/** "6 s" or "2,000 requests". */
export function describeExtent(extent: Extent): string {
  return "seconds" in extent ? `${extent.seconds} s` : `${extent.amount.toLocaleString("en-US")} requests`;
}

export type Phase = "warmup" | "measure";

/** Something to put under load: it builds each run's job and may check what the measured run did. */
export interface LoadTarget {
  readonly name: string;
  job(phase: Phase, extent: Extent, connections: number): LoadJob | Promise<LoadJob>;
  /** CPU seconds used so far by the server (the API and its database server, when it has one), for CPU per request. */
  cpuSeconds(): number;
  /**
   * Called right after each measured run, before the server's CPU is read: waits for the work the run left
   * behind (webhook deliveries of its events), so that its CPU counts for the run.
   */
  settle?(): Promise<void>;
  /** Called after each measured run, e.g. to check that every request wrote a row; returns a problem, if any. */
  check?(outcome: LoadOutcome): Promise<string | undefined>;
}

/** A measured run with the server's CPU time over it. */
export interface TimedOutcome extends LoadOutcome {
  /** Server CPU (user + system, all its processes) per completed request, in microseconds. */
  readonly cpuMicrosPerRequest: number;
}

/** A target's medians over the rounds. */
export interface HttpMeasurement {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  readonly rounds: readonly TimedOutcome[];
  /** Non-2xx answers, errors, timeouts and wrong bodies over all rounds. */
  readonly failures: number;
  /** Problems the target's own check found. */
  readonly problems: readonly string[];
}

const SETTLE_MS = 500;

/**
 * Runs every target once per round, rotating the order each round (drift on a shared machine then
 * spreads over all of them), each run after its own warm-up; reports medians.
 */
export async function measureHttpInterleaved(targets: readonly LoadTarget[], options: HttpOptions, log: (line: string) => void): Promise<HttpMeasurement[]> {
  const outcomes = new Map<LoadTarget, TimedOutcome[]>(targets.map((t) => [t, []]));
  const problems = new Map<LoadTarget, string[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const target of rotated(targets, round)) {
      await runLoad(await target.job("warmup", options.warmup, options.connections));
      const job = await target.job("measure", options.measure, options.connections);
      const cpuBefore = target.cpuSeconds();
      const measured = await runLoad(job);
      await target.settle?.();
      const outcome: TimedOutcome = { ...measured, cpuMicrosPerRequest: ((target.cpuSeconds() - cpuBefore) * 1e6) / measured.completed };
      outcomes.get(target)?.push(outcome);
      const problem = await target.check?.(outcome);
      if (problem !== undefined) problems.get(target)?.push(problem);
      log(
        `  round ${round + 1}/${options.rounds} ${target.name}: ${formatCount(outcome.requestsPerSecond)} req/s, ` +
          `p50 ${formatMs(outcome.p50Ms)}, p99 ${formatMs(outcome.p99Ms)}, ${formatCount(outcome.cpuMicrosPerRequest)} µs CPU/req${failuresOf(outcome) > 0 ? `, ${failuresOf(outcome)} failed` : ""}${problem === undefined ? "" : ` (${problem})`}`,
      );
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    }
  }
  return targets.map((target) => {
    const runs = outcomes.get(target) ?? [];
    return {
      name: target.name,
      requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
      p50Ms: median(runs.map((r) => r.p50Ms)),
      p99Ms: median(runs.map((r) => r.p99Ms)),
      cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicrosPerRequest)),
      rounds: runs,
      failures: runs.reduce((sum, r) => sum + failuresOf(r), 0),
      problems: problems.get(target) ?? [],
    };
  });
}

function failuresOf(outcome: LoadOutcome): number {
  return outcome.non2xx + outcome.errors + outcome.timeouts + outcome.mismatches;
}

/** The row cells every HTTP table starts with: name, req/s, p50, p99, server CPU per request. */
export function httpCells(m: HttpMeasurement): string[] {
  return [m.name, formatCount(m.requestsPerSecond), formatMs(m.p50Ms), formatMs(m.p99Ms), `${formatCount(m.cpuMicrosPerRequest)} µs`];
}

/** Headers matching httpCells. */
export const HTTP_HEADERS = ["contender", "req/s", "p50", "p99", "server CPU/req"] as const;

/** Throughput of `m` as a share of `reference`'s, measured in the same run. */
export function throughputRatio(m: HttpMeasurement, reference: HttpMeasurement): number {
  return m.requestsPerSecond / reference.requestsPerSecond;
}

/** "0.31x" of a reference. */
export function ratioCell(m: HttpMeasurement, reference: HttpMeasurement): string {
  return formatRatio(throughputRatio(m, reference));
}

/** Server CPU per request of `m` as a multiple of `reference`'s, measured in the same run: "1.72x". */
export function cpuRatioCell(m: HttpMeasurement, reference: HttpMeasurement): string {
  return formatRatio(m.cpuMicrosPerRequest / reference.cpuMicrosPerRequest);
}

/** A sentence naming failures and check problems, or an empty string when there were none. */
export function describeFailures(measurements: readonly HttpMeasurement[]): string {
  const bad = measurements.filter((m) => m.failures > 0 || m.problems.length > 0);
  if (bad.length === 0) return "Every request of every run was answered 2xx with the expected body; every check passed.";
  return bad.map((m) => `${m.name}: ${m.failures} failed requests${m.problems.length > 0 ? `; ${[...new Set(m.problems)].join("; ")}` : ""}.`).join(" ");
}
