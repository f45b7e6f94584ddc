/** One target of the issue and whether this run met it. */
export interface TargetCheck {
  readonly label: string;
  readonly pass: boolean;
}

/** What one benchmark contributes to docs/benchmarks.md: its `## ` section and its targets. */
export interface Section {
  /** The `## ` heading line. */
  readonly heading: string;
  readonly body: string;
  readonly checks: readonly TargetCheck[];
  /** Extra `## ` sections that follow this one (hand-written history kept with the figures). */
  readonly appendix?: string;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567". */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** A ratio as "0.71x". */
export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a";
}

/** Milliseconds with one decimal: "12.0 ms". */
export function formatMs(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} ms` : "n/a";
}

/** Bytes as MiB with one decimal. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A markdown table; columns after the first are right-aligned (they hold figures). */
export function markdownTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  const rule = `|${headers.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

/** One line per target, `PASS` or `MISS` first. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return checks.map((c) => `- ${c.pass ? "PASS" : "MISS"} ${c.label}`).join("\n");
}
