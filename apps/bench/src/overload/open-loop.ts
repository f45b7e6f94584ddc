// An open-loop load generator: requests arrive on a fixed schedule whether or not earlier ones were
// answered (a flash sale's buyers do not wait for each other), unlike autocannon's closed loop where
// a slow server slows the arrivals down. Each answer's latency is taken from its scheduled arrival, so
// time spent waiting for a free connection in the generator counts too (no coordinated omission).
import { Worker } from "node:worker_threads";
import type { LoadRequest } from "../load/job.js";

/** One open-loop run in a worker thread. */
export interface OpenLoopJob {
  /** Origin on 127.0.0.1 only. */
  readonly url: string;
  /** Arrivals per second, evenly spaced. */
  readonly rate: number;
  readonly seconds: number;
  /** Request i of the schedule is requests[i % length] (distinct notifies: one per arrival). */
  readonly requests: readonly LoadRequest[];
  /** Connections the generator may open at once; arrivals beyond them wait for one (their wait counts in their latency). */
  readonly maxSockets: number;
  /** Arrivals waiting or in flight beyond which a new arrival is not sent (counted, never silently dropped): bounds the generator's memory. */
  readonly maxPending: number;
  /** An answer later than this after its scheduled arrival is abandoned and counted as a timeout. */
  readonly timeoutMs: number;
  /** Which answers' bodies come back: every one, or only those of non-2xx answers (the first 500 characters). */
  readonly keepBodies: "all" | "non2xx";
  /**
   * The generator thread's nice value (Linux: 0 to 19, higher yields the CPU sooner); unset: the bench's. The create
   * flood runs at 19: on a host that also runs the API it plays clients that are elsewhere, taking only the CPU the
   * server leaves (its lag and what it could not send are counted).
   */
  readonly niceness?: number;
}

/** What happened to arrival i: its HTTP status (NO_ANSWER, TIMED_OUT or NOT_SENT when there was none) and latency. */
export interface OpenLoopAnswer {
  readonly index: number;
  readonly status: number;
  /** From the scheduled arrival to the end of the answer; NaN without an answer. */
  readonly latencyMs: number;
  readonly body?: string;
}

/** Status stand-ins for arrivals without an HTTP answer. */
export const NO_ANSWER = -1;
export const TIMED_OUT = -2;
export const NOT_SENT = -3;

/** A run's answers, in arrival order, and how well the generator kept to its schedule. */
export interface OpenLoopResult {
  readonly answers: readonly OpenLoopAnswer[];
  /** The largest delay between an arrival's scheduled time and its send (the generator's own lag). */
  readonly maxSendLagMs: number;
  /** From the first scheduled arrival to the last answer. */
  readonly elapsedMs: number;
}

/** The arrival offsets (ms from the start) of `rate` per second over `seconds`: evenly spaced, the first at 0. */
export function arrivalSchedule(rate: number, seconds: number): number[] {
  if (!(rate > 0) || !(seconds > 0)) throw new Error(`An open-loop schedule needs a positive rate and duration, not ${rate}/s for ${seconds} s.`);
  const count = Math.round(rate * seconds);
  const gapMs = 1000 / rate;
  return Array.from({ length: count }, (_, i) => i * gapMs);
}

/** How many arrivals of `schedule` are due `elapsedMs` after the start (the schedule is ascending). */
export function dueBy(schedule: readonly number[], elapsedMs: number, from = 0): number {
  let next = from;
  while (next < schedule.length && (schedule[next] ?? Number.POSITIVE_INFINITY) <= elapsedMs) next++;
  return next;
}

/** The q-quantile of ascending values (nearest rank); NaN for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

const WORKER = new URL("./open-loop-worker.js", import.meta.url);
/** How long past its schedule and last timeout a run may go before it is stopped as failed. */
const GRACE_MS = 30_000;

/** Runs one open-loop job in a fresh worker thread (never on the bench's event loop, where the sandbox runs). */
export async function runOpenLoop(job: OpenLoopJob): Promise<OpenLoopResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(job.url)) throw new Error(`Load goes to 127.0.0.1 only, not ${job.url}.`);
  if (job.requests.length === 0) throw new Error("An open-loop job needs at least one request.");
  const worker = new Worker(WORKER, { workerData: job });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<OpenLoopResult>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`An open-loop run against ${job.url} did not finish in time.`)), job.seconds * 1000 + job.timeoutMs + GRACE_MS);
      worker.once("message", (result: OpenLoopResult) => resolve(result));
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`The open-loop worker exited (${code}) without a result.`)));
    });
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
