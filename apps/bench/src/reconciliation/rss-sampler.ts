// Peak memory of another process, read from /proc/<pid>/status as it runs: VmRSS (resident now) every
// interval and VmHWM (the kernel's own high-water mark of VmRSS, so a peak between two samples is not missed).
import { readFileSync } from "node:fs";

export interface RssSample {
  /** Milliseconds since sampling started. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
}

export interface RssSummary {
  /** The largest VmRSS seen by a sample. */
  readonly peakSampledBytes: number;
  /** The last VmHWM read: the peak resident set up to then, by the kernel's count. */
  readonly hwmBytes: number;
  readonly samples: number;
}

export interface RssSampler {
  /** Stops sampling (taking a last sample if the process is still there) and answers the summary. */
  stop(): RssSummary;
  /** Every sample taken so far. */
  readonly samples: readonly RssSample[];
}

/** `VmRSS:   123456 kB` -> bytes; undefined when the field is absent (a process that is gone or a zombie). */
export function statusField(status: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/**
 * Samples `pid` every `intervalMs` until stopped; a process that has ended is simply no longer sampled. Given several
 * pids (a primary and its workers), each sample is their sum and the high-water mark the sum of theirs.
 */
export function sampleRss(pid: number | readonly number[], intervalMs = 100): RssSampler {
  const pids = typeof pid === "number" ? [pid] : pid;
  const samples: RssSample[] = [];
  const started = performance.now();
  let peak = 0;
  let hwm = 0;
  const take = (): void => {
    let rss = 0;
    let high = 0;
    let seen = 0;
    for (const one of pids) {
      let status: string;
      try {
        status = readFileSync(`/proc/${one}/status`, "utf8");
      } catch {
        continue;
      }
      const oneRss = statusField(status, "VmRSS");
      const oneHigh = statusField(status, "VmHWM");
      if (oneRss === undefined || oneHigh === undefined) continue;
      rss += oneRss;
      high += oneHigh;
      seen++;
    }
    if (seen === 0) return;
    peak = Math.max(peak, rss);
    hwm = Math.max(hwm, high);
    samples.push({ atMs: performance.now() - started, rssBytes: rss, hwmBytes: high });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      take();
      return { peakSampledBytes: peak, hwmBytes: hwm, samples: samples.length };
    },
  };
}
