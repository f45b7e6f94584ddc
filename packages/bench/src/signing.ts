// Signing throughput: @pay/core against bare node:crypto and two peer libraries.
// Run from the repo root with `npx -y pnpm@10.34.9 bench`; rewrites "## Signing" in docs/benchmarks.md.
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { signParams, SIGN_TYPES, type SignType } from "@pay/core";
import { bareCrypto, payCore, tenpay, wechatpayAxiosPlugin } from "./contenders.js";
import { writeSection } from "./docs-section.js";
import { unifiedOrderFixture } from "./fixture.js";
import { assertAgreement, measureInterleaved, type HarnessOptions } from "./harness.js";
import { checkTargets, formatTable, formatTargets, MIN_RATIO_TO_BARE, type AlgorithmResult } from "./report.js";

const OPTIONS: HarnessOptions = { batch: 20_000, rounds: 15, warmupRounds: 3 };
const COMMAND = "npx -y pnpm@10.34.9 bench";
const DOCS_PATH = fileURLToPath(new URL("../../../docs/benchmarks.md", import.meta.url));

function benchAlgorithm(signType: SignType): AlgorithmResult {
  const fixture = unifiedOrderFixture(signType);
  const contenders = [bareCrypto(fixture), payCore(fixture), tenpay(fixture), wechatpayAxiosPlugin(fixture)] as const;
  assertAgreement(contenders, signParams(fixture.params, { key: fixture.key, signType }));
  const [bare, core, ...peers] = measureInterleaved(contenders, OPTIONS);
  if (bare === undefined || core === undefined) throw new Error("The harness lost a measurement.");
  return { signType, bare, core, peers };
}

function machineLine(): string {
  const all = cpus();
  const model = all[0]?.model.trim() ?? "unknown CPU";
  return `Node ${process.version} on ${model}, ${all.length} cores (${process.platform}/${process.arch})`;
}

const results = SIGN_TYPES.map(benchAlgorithm);
const checks = results.flatMap(checkTargets);

const body = [
  `Command: \`${COMMAND}\` from the repo root. Machine: ${machineLine()}.`,
  "",
  `Input: a 12-field JSAPI unifiedorder request (CJK \`body\`, numeric \`total_fee\`). In one process, each of ` +
    `${OPTIONS.rounds} rounds (after ${OPTIONS.warmupRounds} warm-up rounds) runs every contender for ` +
    `${OPTIONS.batch.toLocaleString("en-US")} signatures, rotating the order; the table shows the median. ` +
    `"bare" hashes the already-joined string to sign, so it is the upper bound for any signer that must first build that string. ` +
    `All contenders are checked to produce @pay/core's signature before timing.`,
  "",
  ...results.flatMap((r) => [formatTable(r), ""]),
  `Targets: @pay/core >= ${MIN_RATIO_TO_BARE.MD5.toFixed(2)}x bare for MD5 and >= ${MIN_RATIO_TO_BARE["HMAC-SHA256"].toFixed(2)}x ` +
    `for HMAC-SHA256, and faster than both peers.`,
  "",
  formatTargets(checks),
].join("\n");

console.log(`\n${body}\n`);
await writeSection(DOCS_PATH, "# Benchmarks", "## Signing", body);
console.log(`Wrote the "## Signing" section of ${DOCS_PATH}.`);
