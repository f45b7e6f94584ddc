import type { Contender } from "./contenders.js";

/** How long and how often each contender is timed. */
export interface HarnessOptions {
  /** Operations per contender per round. */
  readonly batch: number;
  /** Timed rounds; the median is reported. */
  readonly rounds: number;
  /** Untimed rounds first, so every contender is optimised before it is measured. */
  readonly warmupRounds: number;
}

/** A contender's throughput over the timed rounds. */
export interface Measurement {
  readonly name: string;
  readonly medianOpsPerSec: number;
  readonly roundsOpsPerSec: readonly number[];
}

/** Throws unless every contender produces the reference signature. */
export function assertAgreement(contenders: readonly Contender[], reference: string): void {
  for (const contender of contenders) {
    const sign = contender.sign();
    if (sign !== reference) {
      throw new Error(`${contender.name} signs ${sign}, but @pay/core signs ${reference}: the contenders do not sign the same input.`);
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

function timeBatch(contender: Contender, batch: number, expectedTotal: number): number {
  const start = process.hrtime.bigint();
  const total = contender.run(batch);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  if (total !== expectedTotal) throw new Error(`${contender.name} returned ${total} signature characters, expected ${expectedTotal}.`);
  return (batch * 1e9) / elapsedNs;
}

function rotated<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Runs every contender once per round for `batch` operations, rotating the order each round so
 * that drift in the machine (thermal, GC, neighbours) spreads over all of them; reports medians.
 */
export function measureInterleaved(contenders: readonly Contender[], options: HarnessOptions): Measurement[] {
  const entries = contenders.map((contender) => ({
    contender,
    expectedTotal: contender.sign().length * options.batch,
    samples: [] as number[],
  }));
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    for (const entry of rotated(entries, round)) {
      const opsPerSec = timeBatch(entry.contender, options.batch, entry.expectedTotal);
      if (round >= options.warmupRounds) entry.samples.push(opsPerSec);
    }
  }
  return entries.map(({ contender, samples }) => ({
    name: contender.name,
    medianOpsPerSec: median(samples),
    roundsOpsPerSec: samples,
  }));
}
