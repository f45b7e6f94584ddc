import { cpus, loadavg, totalmem } from "node:os";
import { postgresVersion } from "./servers/postgres.js";

/** "Node v20.x on <CPU>, 2 cores, 23.4 GiB memory (linux/x64); postgres (PostgreSQL) 15.x". */
export function describeMachine(): string {
  const all = cpus();
  const model = all[0]?.model.trim() ?? "unknown CPU";
  const memory = `${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory`;
  const postgres = postgresVersion();
  return `Node ${process.version} on ${model}, ${all.length} cores, ${memory} (${process.platform}/${process.arch})${postgres === undefined ? "" : `; ${postgres}`}`;
}

/** The 1-minute load average. */
export function loadAverage(): number {
  return loadavg()[0] ?? Number.NaN;
}

/** How waiting for a quiet machine went. */
export interface QuietWait {
  readonly waitedSeconds: number;
  readonly quiet: boolean;
  readonly load: number;
}

/**
 * Waits (polling every 15 s, at most `maxSeconds`) until the 1-minute load average is below
 * `threshold`: other work on a shared machine skews every figure.
 */
export async function waitForQuiet(threshold: number, maxSeconds: number, log: (line: string) => void): Promise<QuietWait> {
  const started = Date.now();
  for (;;) {
    const load = loadAverage();
    const waitedSeconds = Math.round((Date.now() - started) / 1000);
    if (load < threshold) return { waitedSeconds, quiet: true, load };
    if (waitedSeconds >= maxSeconds) return { waitedSeconds, quiet: false, load };
    log(`waiting for a quiet machine: load ${load.toFixed(2)} (want < ${threshold}), waited ${waitedSeconds} s of ${maxSeconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
  }
}
