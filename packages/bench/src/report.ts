import type { SignType } from "@pay/core";
import type { Measurement } from "./harness.js";

/** The targets for @pay/core, as a share of the bare node:crypto floor. */
export const MIN_RATIO_TO_BARE: Readonly<Record<SignType, number>> = { MD5: 0.6, "HMAC-SHA256": 0.65 };

/** The measurements of one algorithm, in the order bare, @pay/core, peers. */
export interface AlgorithmResult {
  readonly signType: SignType;
  readonly bare: Measurement;
  readonly core: Measurement;
  readonly peers: readonly Measurement[];
}

/** One target and whether this run met it. */
export interface TargetCheck {
  readonly label: string;
  readonly pass: boolean;
}

const opsFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function ratio(m: Measurement, bare: Measurement): number {
  return m.medianOpsPerSec / bare.medianOpsPerSec;
}

/** A markdown table: contender, median ops/s, ratio to bare. */
export function formatTable(result: AlgorithmResult): string {
  const rows = [result.bare, result.core, ...result.peers].map(
    (m) => `| ${m.name} | ${opsFormat.format(m.medianOpsPerSec)} | ${ratio(m, result.bare).toFixed(2)}x |`,
  );
  return [`| ${result.signType} contender | ops/s (median) | ratio to bare |`, "|---|---:|---:|", ...rows].join("\n");
}

/** Checks @pay/core against the floor ratio and against every peer. */
export function checkTargets(result: AlgorithmResult): TargetCheck[] {
  const min = MIN_RATIO_TO_BARE[result.signType];
  const coreRatio = ratio(result.core, result.bare);
  return [
    {
      label: `${result.signType}: @pay/core >= ${min.toFixed(2)}x bare (measured ${coreRatio.toFixed(2)}x)`,
      pass: coreRatio >= min,
    },
    ...result.peers.map((peer) => ({
      label: `${result.signType}: @pay/core faster than ${peer.name} (${(result.core.medianOpsPerSec / peer.medianOpsPerSec).toFixed(2)}x)`,
      pass: result.core.medianOpsPerSec > peer.medianOpsPerSec,
    })),
  ];
}

/** One line per target, `PASS` or `MISS` first. */
export function formatTargets(checks: readonly TargetCheck[]): string {
  return checks.map((c) => `- ${c.pass ? "PASS" : "MISS"} ${c.label}`).join("\n");
}
