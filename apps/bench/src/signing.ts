// Signing throughput: @pay/core against bare node:crypto and two peer libraries, in this process.
import { signParams, SIGN_TYPES, type SignType } from "@pay/core";
import { measureInterleaved, type HarnessOptions, type TimedContender } from "./harness.js";
import type { Section } from "./markdown.js";
import { bareCrypto, payCore, tenpay, wechatpayAxiosPlugin, type Contender } from "./signing/contenders.js";
import { unifiedOrderFixture } from "./signing/fixture.js";
import { SIGNING_HISTORY, SIGNING_HISTORY_HEADING } from "./signing/history.js";
import { checkTargets, formatTable, MIN_RATIO_TO_BARE, type AlgorithmResult } from "./signing/report.js";

const FULL: HarnessOptions = { batch: 20_000, rounds: 15, warmupRounds: 3 };
const QUICK: HarnessOptions = { batch: 5_000, rounds: 3, warmupRounds: 1 };

/** Throws unless every contender produces the reference signature. */
function assertAgreement(contenders: readonly Contender[], reference: string): void {
  for (const contender of contenders) {
    const sign = contender.sign();
    if (sign !== reference) {
      throw new Error(`${contender.name} signs ${sign}, but @pay/core signs ${reference}: the contenders do not sign the same input.`);
    }
  }
}

function timed(contender: Contender): TimedContender {
  return { name: contender.name, unit: contender.sign().length, run: (ops) => contender.run(ops) };
}

async function benchAlgorithm(signType: SignType, options: HarnessOptions): Promise<AlgorithmResult> {
  const fixture = unifiedOrderFixture(signType);
  const contenders = [bareCrypto(fixture), payCore(fixture), tenpay(fixture), wechatpayAxiosPlugin(fixture)];
  assertAgreement(contenders, signParams(fixture.params, { key: fixture.key, signType }));
  const [bare, core, ...peers] = await measureInterleaved(contenders.map(timed), options);
  if (bare === undefined || core === undefined) throw new Error("The harness lost a measurement.");
  return { signType, bare, core, peers };
}

/** The `## Signing` section: both algorithms, every contender, interleaved. */
export async function benchSigning(quick: boolean): Promise<Section> {
  const options = quick ? QUICK : FULL;
  const results: AlgorithmResult[] = [];
  for (const signType of SIGN_TYPES) results.push(await benchAlgorithm(signType, options));
  const body = [
    `Input: a 12-field JSAPI unifiedorder request (CJK \`body\`, numeric \`total_fee\`). In one process, each of ` +
      `${options.rounds} rounds (after ${options.warmupRounds} warm-up rounds) runs every contender for ` +
      `${options.batch.toLocaleString("en-US")} signatures, rotating the order; the table shows the median. ` +
      `"bare" hashes the already-joined string to sign, so it is the upper bound for any signer that must first build that string. ` +
      `All contenders are checked to produce @pay/core's signature before timing.`,
    "",
    ...results.flatMap((r) => [formatTable(r), ""]),
    `Targets: @pay/core >= ${MIN_RATIO_TO_BARE.MD5.toFixed(2)}x bare for MD5 and >= ${MIN_RATIO_TO_BARE["HMAC-SHA256"].toFixed(2)}x ` +
      `for HMAC-SHA256, and faster than both peers.`,
  ].join("\n");
  return {
    heading: "## Signing",
    body,
    checks: results.flatMap(checkTargets),
    appendix: `${SIGNING_HISTORY_HEADING}\n\n${SIGNING_HISTORY}`,
  };
}
