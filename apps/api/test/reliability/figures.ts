import { appendFileSync } from "node:fs";

/** Set to a file path to collect every figure the reliability tests measure, one JSON line each. */
export const FIGURES_FILE_ENV = "PAY_RELIABILITY_FIGURES";

/** Prints a measured figure (and appends it to $PAY_RELIABILITY_FIGURES when set), for docs/reliability.md. */
export function recordFigure(name: string, values: Readonly<Record<string, unknown>>): void {
  const line = JSON.stringify({ figure: name, ...values });
  console.log(`[figure] ${line}`);
  const file = process.env[FIGURES_FILE_ENV];
  if (file !== undefined && file !== "") appendFileSync(file, `${line}\n`);
}

/** The q-quantile (0..1) of some durations, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}
