import type { SignType } from "@pay/core";
import type { Measurement } from "../harness.js";
import { formatCount, formatRatio, markdownTable, type TargetCheck } from "../markdown.js";

/** The targets for @pay/core, as a share of the bare node:crypto floor. */
export const MIN_RATIO_TO_BARE: Readonly<Record<SignType, number>> = { MD5: 0.6, "HMAC-SHA256": 0.65 };

/** The measurements of one algorithm, in the order bare, @pay/core, peers. */
export interface AlgorithmResult {
  readonly signType: SignType;
  readonly bare: Measurement;
  readonly core: Measurement;
  readonly peers: readonly Measurement[];
}

function ratio(m: Measurement, bare: Measurement): number {
  return m.medianOpsPerSec / bare.medianOpsPerSec;
}

/** A markdown table: contender, median ops/s, ratio to bare. */
export function formatTable(result: AlgorithmResult): string {
  return markdownTable(
    [`${result.signType} contender`, "ops/s (median)", "ratio to bare"],
    [result.bare, result.core, ...result.peers].map((m) => [m.name, formatCount(m.medianOpsPerSec), formatRatio(ratio(m, result.bare))]),
  );
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
