// Signing throughput: @pay/core against bare node:crypto and two peer libraries, in this process.
import { signParams, SIGN_TYPES, type SignType } from "@pay/core";
import { measureInterleaved, type HarnessOptions, type TimedContender } from "./harness.js";
import type { Section } from "./markdown.js";
import { bareCrypto, payCore, tenpay, wechatpayAxiosPlugin, type Contender } from "./signing/contenders.js";
import { unifiedOrderFixture } from "./signing/fixture.js";
import { SIGNING_HISTORY, SIGNING_HISTORY_HEADING } from "./signing/history.js";
import { checkTargets, formatTable, MIN_RATIO_TO_BARE, type AlgorithmResult } from "./signing/report.js";
import { assertV3Headers, checkV3Targets, formatV3Table, MAX_V3_SLOWDOWN_TO_BARE, v3Fixture, v3Workloads, type V3Result } from "./signing/v3.js";

const FULL: HarnessOptions = { batch: 20_000, rounds: 15, warmupRounds: 3 };
const QUICK: HarnessOptions = { batch: 5_000, rounds: 3, warmupRounds: 1 };
// An RSA-2048 signature costs about a thousand times a v2 hash: smaller batches, same rounds.
const V3_FULL: HarnessOptions = { batch: 1_000, rounds: 15, warmupRounds: 3 };
const V3_QUICK: HarnessOptions = { batch: 200, rounds: 5, warmupRounds: 1 };

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

async function benchV3(options: HarnessOptions): Promise<V3Result[]> {
  const fixture = v3Fixture();
  assertV3Headers(fixture);
  const results: V3Result[] = [];
  for (const { label, contenders } of v3Workloads(fixture)) {
    const [reference, ...others] = contenders;
    if (reference === undefined) throw new Error("No v3 contenders.");
    assertAgreement(others, reference.sign());
    const [bare, core, ...peers] = await measureInterleaved(contenders.map(timed), options);
    if (bare === undefined || core === undefined) throw new Error("The harness lost a measurement.");
    results.push({ label, bare, core, peers });
  }
  return results;
}

/** The `## Signing` section: both algorithms, every contender, interleaved. */
export async function benchSigning(quick: boolean): Promise<Section> {
  const options = quick ? QUICK : FULL;
  const results: AlgorithmResult[] = [];
  for (const signType of SIGN_TYPES) results.push(await benchAlgorithm(signType, options));
  const v3Options = quick ? V3_QUICK : V3_FULL;
  const v3 = await benchV3(v3Options);
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
    "",
    `APIv3 (SHA256withRSA, a throwaway RSA-2048 merchant key): the mini-program paySign and a signed \`POST /v3/pay/transactions/jsapi\` ` +
      `(CJK body, Authorization header built). ${v3Options.rounds} rounds (after ${v3Options.warmupRounds} warm-up) of ` +
      `${v3Options.batch.toLocaleString("en-US")} signatures each. "bare" is \`crypto.sign\` with a cached KeyObject over the joined message. ` +
      `@pay/core and wechatpay-axios-plugin (\`Rsa.from\` once) sign with a KeyObject; wechatpay-node-v3 signs with the PEM it was given, as documented. ` +
      `All contenders are checked to produce the same signature, and the peers' headers to carry the same five values.`,
    "",
    ...v3.flatMap((r) => [formatV3Table(r), ""]),
    `Targets: @pay/core within ${MAX_V3_SLOWDOWN_TO_BARE.toFixed(1)}x of bare for both, and no slower than either peer.`,
  ].join("\n");
  return {
    heading: "## Signing",
    body,
    checks: [...results.flatMap(checkTargets), ...v3.flatMap(checkV3Targets)],
    appendix: `${SIGNING_HISTORY_HEADING}\n\n${SIGNING_HISTORY}`,
  };
}
