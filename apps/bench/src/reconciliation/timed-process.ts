// Runs a command to its end as its own process, the way an operator would from a shell: wall time from
// spawn to exit, its RSS sampled from /proc while it runs, its CPU time, its stdout kept and its
// stderr written to a log file.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { reapedChildrenCpuSeconds } from "../servers/cpu.js";
import { sampleRss, type RssSample, type RssSummary } from "./rss-sampler.js";

export interface TimedProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** stderr goes here. */
  readonly logFile: string;
  /** RSS sampling interval. */
  readonly sampleMs?: number;
  /** Killed (SIGKILL) after this long. */
  readonly timeoutMs: number;
}

export interface TimedProcessResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** performance.now() at the spawn. */
  readonly startedAtMs: number;
  readonly wallSeconds: number;
  /** User + system CPU seconds of it (and anything it started and waited for), counted by the kernel once it was reaped. */
  readonly cpuSeconds: number;
  readonly rss: RssSummary;
  /** Every RSS sample, in order. */
  readonly rssSamples: readonly RssSample[];
  readonly stdout: string;
  readonly timedOut: boolean;
}

export async function runTimedProcess(options: TimedProcessOptions): Promise<TimedProcessResult> {
  const log = openSync(options.logFile, "a");
  const reapedBefore = reapedChildrenCpuSeconds();
  const started = performance.now();
  const child = spawn(options.command, [...options.args], { env: { ...options.env }, stdio: ["ignore", "pipe", log] });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start ${options.command}.`);
  const sampler = sampleRss(pid, options.sampleMs ?? 100);
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  const out: Buffer[] = [];
  child.stdout?.on("data", (part: Buffer) => out.push(part));
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, sig) => resolve([code, sig]));
  });
  const wallSeconds = (performance.now() - started) / 1000;
  clearTimeout(killer);
  const rss = sampler.stop();
  const cpuSeconds = reapedChildrenCpuSeconds() - reapedBefore;
  return { exitCode, signal, startedAtMs: started, wallSeconds, cpuSeconds, rss, rssSamples: sampler.samples, stdout: Buffer.concat(out).toString("utf8"), timedOut };
}
