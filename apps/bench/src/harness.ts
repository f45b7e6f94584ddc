/** How long and how often each in-process contender is timed. */
export interface HarnessOptions {
  /** Operations per contender per round. */
  readonly batch: number;
  /** Timed rounds; the median is reported. */
  readonly rounds: number;
  /** Untimed rounds first, so every contender is optimised before it is measured. */
  readonly warmupRounds: number;
}

/** Something timed in process: `run(n)` does n operations and returns n times `unit`, so the work cannot be optimised away. */
export interface TimedContender {
  readonly name: string;
  /** What one operation adds to the checksum `run` returns (a signature's length, a field count). */
  readonly unit: number;
  run(ops: number): number | Promise<number>;
}

/** A contender's throughput over the timed rounds. */
export interface Measurement {
  readonly name: string;
  readonly medianOpsPerSec: number;
  readonly roundsOpsPerSec: readonly number[];
}

/** The median of a non-empty list (NaN for an empty one). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

/** `items` rotated left by `by`: round r of an interleaved run starts with a different contender. */
export function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

async function timeBatch(contender: TimedContender, batch: number): Promise<number> {
  const start = process.hrtime.bigint();
  const total = await contender.run(batch);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const expected = contender.unit * batch;
  if (total !== expected) throw new Error(`${contender.name} returned a checksum of ${total}, expected ${expected}.`);
  return (batch * 1e9) / elapsedNs;
}

/**
 * Runs every contender once per round for `batch` operations, rotating the order each round so
 * that drift in the machine (thermal, GC, neighbours) spreads over all of them; reports medians.
 */
export async function measureInterleaved(contenders: readonly TimedContender[], options: HarnessOptions): Promise<Measurement[]> {
  const entries = contenders.map((contender) => ({ contender, samples: [] as number[] }));
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    for (const entry of rotated(entries, round)) {
      const opsPerSec = await timeBatch(entry.contender, options.batch);
      if (round >= options.warmupRounds) entry.samples.push(opsPerSec);
    }
  }
  return entries.map(({ contender, samples }) => ({
    name: contender.name,
    medianOpsPerSec: median(samples),
    roundsOpsPerSec: samples,
  }));
}
