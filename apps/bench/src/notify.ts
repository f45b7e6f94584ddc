// HTTP notify handling (verify + state transition + reply) against three reference servers.
import { PendingPool } from "./data/pending-pool.js";
import { formatRatio, markdownTable, type Section, type TargetCheck } from "./markdown.js";
import {
  describeExtent,
  describeFailures,
  FULL_HTTP,
  HTTP_HEADERS,
  httpCells,
  measureHttpInterleaved,
  QUICK_HTTP,
  ratioCell,
  throughputRatio,
  type HttpMeasurement,
} from "./load/rounds.js";
import {
  assertAcknowledges,
  distinctNotifyTarget,
  duplicateNotifyTarget,
  fixedTarget,
  notifyRequests,
  SUCCESS_MARK,
  V2_NOTIFIES,
  v3Notifies,
  type NotifyBuilder,
} from "./load/targets.js";
import type { RunOptions } from "./run-options.js";
import { startStack, type ApiInstance, type ApiProtocol, type Dialect } from "./servers/api-stack.js";
import { processCpuSeconds } from "./servers/cpu.js";

/** Orders already in the table besides the pending pool (the 10k point of the scale benchmark). */
const BACKGROUND_ORDERS = 10_000;
const FIRST_PENDING = BACKGROUND_ORDERS;
/** Distinct notifies the reference servers cycle through (they store nothing). */
const REFERENCE_NOTIFIES = 5_000;
const MIN_VS_TENPAY = 2;
const MIN_VS_CEILING = 0.6;

interface Prepared {
  readonly label: string;
  readonly api: ApiInstance;
  readonly pool: PendingPool;
  /** The order paid by a notify before the runs; its notify is the duplicate. */
  readonly paidIndex: number;
  /** How its notifies are built: v2's or APIv3's. */
  readonly notifies: NotifyBuilder;
}

/** Label infix of the APIv3 rows (the v2 rows keep their names; the targets are v2's). */
const V3_LABEL = "APIv3";

/** Notify builders of an API: v2's, or APIv3's signed by the stack's gateway key. */
export function notifiesOf(api: ApiInstance): NotifyBuilder {
  if (api.protocol === "v2") return V2_NOTIFIES;
  if (api.v3 === undefined) throw new Error(`${api.name} runs APIv3 without a v3 merchant.`);
  return v3Notifies(api.v3);
}

async function prepare(label: string, api: ApiInstance, poolSize: number): Promise<Prepared> {
  const notifies = notifiesOf(api);
  // The older orders are v2 ones on every API (a v3 API settles them too); the pending ones were placed with the API's protocol.
  await api.db.insertOrders({ from: 0, count: BACKGROUND_ORDERS, kind: "mixed", users: api.users });
  await api.db.insertOrders({ from: FIRST_PENDING, count: poolSize, kind: "pending", users: api.users, protocol: api.protocol });
  await api.db.settle();
  // The duplicate's order is paid through the API itself, by the same notify the runs repeat.
  await assertAcknowledges(api.name, api.url, notifies.request(FIRST_PENDING));
  return { label, api, pool: new PendingPool(FIRST_PENDING + 1, poolSize - 1), paidIndex: FIRST_PENDING, notifies };
}

function apiLabel(dialect: Dialect, protocol: ApiProtocol): string {
  return `@pay/api on ${dialectLabel(dialect)}${protocol === "v3" ? `, ${V3_LABEL}` : ""}`;
}

function dialectLabel(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

/** One line per database: APIv3's distinct and duplicate rows against v2's, as throughput and CPU per request ratios. */
function v3Comparison(measured: readonly HttpMeasurement[]): string {
  const lines = (["sqlite", "postgres"] as const).flatMap((dialect) =>
    (["distinct", "duplicates"] as const).map((kind) => {
      const pick = (protocol: ApiProtocol): HttpMeasurement | undefined => measured.find((m) => m.name.startsWith(`${apiLabel(dialect, protocol)}: ${kind}`));
      const v2 = pick("v2");
      const v3 = pick("v3");
      if (v2 === undefined || v3 === undefined) return undefined;
      return (
        `- ${dialectLabel(dialect)}, ${kind === "distinct" ? "distinct notifies" : "duplicates"}: APIv3 at ${formatRatio(throughputRatio(v3, v2))} of v2's req/s, ` +
        `${formatRatio(v3.cpuMicrosPerRequest / v2.cpuMicrosPerRequest)} its server CPU per request.`
      );
    }),
  );
  const present = lines.filter((line): line is string => line !== undefined);
  return present.length === 0 ? "" : ["APIv3 against v2, same run:", "", ...present].join("\n");
}

/** The `## HTTP notify handling` section. */
export async function benchNotify(run: RunOptions): Promise<Section> {
  const { log } = run;
  const options = run.quick ? QUICK_HTTP : FULL_HTTP;
  const poolSize = run.quick ? 40_000 : 300_000;
  const stack = await startStack(run.apiNodeArgs === undefined ? {} : { apiNodeArgs: run.apiNodeArgs });
  try {
    const hello = await stack.startReference("koa-hello");
    const bodyRead = await stack.startReference("koa-body");
    const tenpay = await stack.startReference("tenpay");
    const referenceNotifies = notifyRequests(0, REFERENCE_NOTIFIES);
    const first = referenceNotifies[0];
    if (first === undefined) throw new Error("No reference notify.");
    await assertAcknowledges("the body-read route", bodyRead.url, first);
    await assertAcknowledges("tenpay's middleware", tenpay.url, first);
    const prepared: Prepared[] = [];
    for (const dialect of ["sqlite", "postgres"] as const) {
      log(`notify: starting the API on ${dialect} and seeding ${BACKGROUND_ORDERS + poolSize} orders`);
      prepared.push(await prepare(apiLabel(dialect, "v2"), await stack.startApi(`notify-${dialect}`, dialect, 8), poolSize));
      if (run.baselineApi !== undefined) {
        const baseline = await stack.startApi(`notify-baseline-${dialect}`, dialect, 8, run.baselineApi);
        prepared.push(await prepare(`@pay/api baseline on ${dialectLabel(dialect)}`, baseline, poolSize));
      }
      log(`notify: starting the API on ${dialect} as an APIv3 merchant and seeding ${BACKGROUND_ORDERS + poolSize} orders`);
      prepared.push(await prepare(apiLabel(dialect, "v3"), await stack.startApi(`notify-v3-${dialect}`, dialect, 8, undefined, "v3"), poolSize));
    }
    const names = {
      hello: "(a) bare Koa hello-world",
      ceiling: "(b) Koa POST route: raw body read + reply",
      tenpay: "(c) tenpay 2.1.18 Koa middleware('pay'), no persistence",
    };
    const targets = [
      fixedTarget(names.hello, hello.url, () => processCpuSeconds(hello.pid), [{ method: "GET", path: "/", headers: {} }]),
      fixedTarget(names.ceiling, bodyRead.url, () => processCpuSeconds(bodyRead.pid), referenceNotifies, SUCCESS_MARK),
      fixedTarget(names.tenpay, tenpay.url, () => processCpuSeconds(tenpay.pid), referenceNotifies, SUCCESS_MARK),
      ...prepared.flatMap(({ label, api, pool, paidIndex, notifies }) => [
        distinctNotifyTarget(`${label}: distinct notifies, each pays an order`, api, pool, notifies),
        duplicateNotifyTarget(`${label}: duplicates of one paid order`, api, paidIndex, notifies),
      ]),
    ];
    log(`notify: ${targets.length} contenders, ${options.rounds} interleaved rounds of ${describeExtent(options.measure)} (after ${describeExtent(options.warmup)} warm-up each)`);
    const measured = await measureHttpInterleaved(targets, options, log);
    const [a, b, c, ...apis] = measured;
    if (a === undefined || b === undefined || c === undefined) throw new Error("The notify benchmark lost a reference measurement.");
    const rows = measured.map((m) => [...httpCells(m), ratioCell(m, a), ratioCell(m, b), ratioCell(m, c)]);
    const checks: TargetCheck[] = [];
    apis
      .filter((m) => m.name.includes("distinct") && !m.name.includes("baseline") && !m.name.includes(V3_LABEL))
      .forEach((m: HttpMeasurement) => {
        const db = m.name.includes("SQLite") ? "SQLite" : "PostgreSQL";
        const vsTenpay = throughputRatio(m, c);
        const vsCeiling = throughputRatio(m, b);
        checks.push(
          { label: `Notify on ${db}, persisting: >= ${MIN_VS_TENPAY}x tenpay's middleware (measured ${formatRatio(vsTenpay)})`, pass: vsTenpay >= MIN_VS_TENPAY },
          { label: `Notify on ${db}, persisting: >= ${MIN_VS_CEILING}x the body-read ceiling (b) (measured ${formatRatio(vsCeiling)})`, pass: vsCeiling >= MIN_VS_CEILING },
        );
      });
    const body = [
      `${options.rounds} rounds of ${describeExtent(options.measure)} per contender (after ${describeExtent(options.warmup)} of warm-up), ` +
        `${options.connections} connections. The notify is the XML section's: signed HMAC-SHA256 with \`sign_type\`, two coupons, about 1.3 kB.`,
      "",
      `- (a) answers GET / with "Hello World". (b) reads the raw body (raw-body, as the API does) and answers WeChat's SUCCESS XML: ` +
        `nothing any notify handler can skip. (c) is tenpay's documented Koa setup: the raw body as a string, \`middleware('pay')\` ` +
        `(xml2js, appid/mch_id, signature), \`ctx.reply()\`; it stores nothing. (b) and (c) cycle through ${REFERENCE_NOTIFIES.toLocaleString("en-US")} distinct notifies.`,
      `- @pay/api's table holds ${BACKGROUND_ORDERS.toLocaleString("en-US")} older orders (nine paid to one closed) plus the pending ` +
        `orders the notifies pay. "Distinct": every request is for a different pending order, so each one verifies, matches the stored ` +
        `order and commits pending -> paid with its payment event; after each run the bench checks that every acknowledged notify wrote ` +
        `its row and that no order was sent twice. "Duplicates": the notify of one order already paid, again and again (WeChat Pay ` +
        `repeats notifies); the bench checks that nothing was written.`,
      `- The ${V3_LABEL} rows run the same API as an APIv3 merchant (\`WXPAY_API_VERSION=v3\`, public-key mode, keys generated ` +
        `by the bench: an RSA-2048 merchant key and an RSA-2048 WeChat Pay public key whose private half signs the notifies) on a ` +
        `table of the same size, the pending orders placed with v3. Its notify is a TRANSACTION.SUCCESS to /wxpay/v3/notify ` +
        `for the same payment (two coupons as promotion_detail, CJK attach), about 1.6 kB of JSON: the API verifies SHA256withRSA over ` +
        `the raw body with the public key (v2: HMAC-SHA256 with the merchant key), checks the 5-minute timestamp window, decrypts the ` +
        `AES-256-GCM resource with the APIv3 key and parses it strictly (v2: parses XML), then the same match and group commit. ` +
        `Each v3 run's notifies are signed and encrypted just before it (the load generator only replays bytes), so their ` +
        `timestamps are current; a v3 duplicate is the same payment re-signed for each run.`,
      "",
      markdownTable([...HTTP_HEADERS, "vs (a)", "vs (b)", "vs (c)"], rows),
      "",
      v3Comparison(measured),
      "",
      describeFailures(measured),
      "",
      `Targets: notify handling with persistence >= ${MIN_VS_TENPAY}x tenpay's middleware and >= ${MIN_VS_CEILING}x the body-read ceiling (b).`,
    ].join("\n");
    return { heading: "## HTTP notify handling", body, checks };
  } finally {
    await stack.stop();
  }
}
