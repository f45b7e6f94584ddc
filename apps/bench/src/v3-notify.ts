// APIv3 notify receiving (verify + decrypt + typed parse): @pay/core against bare node:crypto and a peer, in this process.
import { measureInterleaved, type HarnessOptions, type Measurement, type TimedContender } from "./harness.js";
import { formatCount, formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import { bareV3, payCoreV3, v3NotifyFixture, wechatpayAxiosPluginV3, type V3NotifyContender } from "./v3-notify/contenders.js";

const FULL: HarnessOptions = { batch: 5_000, rounds: 15, warmupRounds: 3 };
// Quick: about as many calls as before, in more, shorter rounds, so one round slowed by a neighbour moves the median less.
const QUICK: HarnessOptions = { batch: 400, rounds: 7, warmupRounds: 1 };
/** The target: within 1.1x of bare crypto, i.e. at least 1/1.1 of its throughput. */
const MIN_RATIO_TO_BARE = 1 / 1.1;

function timed(contender: V3NotifyContender, total: number): TimedContender {
  const read = contender.once();
  if (read !== total) throw new Error(`${contender.name} reads amount ${read}, expected ${total}: the contenders do not receive the same notify.`);
  return { name: contender.name, unit: total, run: (ops) => contender.run(ops) };
}

function ratio(m: Measurement, bare: Measurement): number {
  return m.medianOpsPerSec / bare.medianOpsPerSec;
}

/** The `## APIv3 notify` section. */
export async function benchV3Notify(quick: boolean): Promise<Section> {
  const options = quick ? QUICK : FULL;
  const fixture = v3NotifyFixture();
  const contenders = [bareV3(fixture), payCoreV3(fixture), wechatpayAxiosPluginV3(fixture)];
  const [bare, core, ...peers] = await measureInterleaved(
    contenders.map((c) => timed(c, fixture.total)),
    options,
  );
  if (bare === undefined || core === undefined) throw new Error("The harness lost a measurement.");
  const coreRatio = ratio(core, bare);
  const checks: TargetCheck[] = [
    { label: `APIv3 notify: @pay/core within 1.1x of bare crypto (>= ${MIN_RATIO_TO_BARE.toFixed(2)}x; measured ${formatRatio(coreRatio)})`, pass: coreRatio >= MIN_RATIO_TO_BARE },
    ...peers.map((peer) => ({
      label: `APIv3 notify: @pay/core no slower than ${peer.name} (${formatRatio(core.medianOpsPerSec / peer.medianOpsPerSec)})`,
      pass: core.medianOpsPerSec >= peer.medianOpsPerSec,
    })),
  ];
  const body = [
    `Input: one TRANSACTION.SUCCESS notify (${Buffer.byteLength(fixture.body)} bytes) signed in WeChat Pay public-key mode (RSA-2048), ` +
      `its resource AES-256-GCM-encrypted with the APIv3 key. In one process, each of ${options.rounds} rounds (after ${options.warmupRounds} ` +
      `warm-up rounds) receives it ${options.batch.toLocaleString("en-US")} times per contender, rotating the order; the table shows the median. ` +
      `"bare" verifies the joined message with a cached KeyObject, JSON.parses the body, decrypts with the tag and JSON.parses the ` +
      `plaintext, checking nothing else. @pay/core's parseV3Notify also checks the headers, the 5-minute window, strict JSON ` +
      `(duplicate and prototype keys, depth) on both texts, the envelope and payload schemas, and builds typed money. ` +
      `wechatpay-axios-plugin is used as its maintainer's Koa sample does (Rsa.verify + Aes.AesGcm.decrypt). ` +
      `Every contender is checked to read the same amount before timing.`,
    "",
    markdownTable(
      ["APIv3 notify contender", "ops/s (median)", "ratio to bare"],
      [bare, core, ...peers].map((m) => [m.name, formatCount(m.medianOpsPerSec), formatRatio(ratio(m, bare))]),
    ),
    "",
    `Targets: @pay/core within 1.1x of bare crypto (>= ${MIN_RATIO_TO_BARE.toFixed(2)}x its throughput) and no slower than any peer.`,
  ].join("\n");
  return { heading: "## APIv3 notify", body, checks };
}
