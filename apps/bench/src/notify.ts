// HTTP notify handling (verify + state transition + reply) against three reference servers.
import { readFileSync } from "node:fs";
import { orderIdAt } from "./data/orders.js";
import { PendingPool } from "./data/pending-pool.js";
import { signedV3PayNotify, V3_API_KEY } from "./data/v3-merchant.js";
import { formatRatio, markdownTable, type Section } from "./markdown.js";
import { BareV3Meter, bareV3Operations, FULL_BARE, QUICK_BARE, type BareV3Options } from "./notify-bare-crypto.js";
import { dialectName, NOTIFY_BOUNDS, notifyTargetChecks, notifyTargetNotes, type NotifyKind, type NotifyRow } from "./notify-targets.js";
import {
  cpuRatioCell,
  describeExtent,
  describeFailures,
  FULL_HTTP,
  HTTP_HEADERS,
  httpCells,
  measureHttpInterleaved,
  QUICK_HTTP,
  throughputRatio,
  type HttpMeasurement,
  type LoadTarget,
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
import { keepsContender, type RunOptions } from "./run-options.js";
import { startStack, type ApiInstance, type ApiProtocol, type Dialect } from "./servers/api-stack.js";
import { processCpuSeconds } from "./servers/cpu.js";

/** Orders already in the table besides the pending pool (the 10k point of the scale benchmark). */
const BACKGROUND_ORDERS = 10_000;
const FIRST_PENDING = BACKGROUND_ORDERS;
/** Distinct notifies the reference servers cycle through (they store nothing). */
const REFERENCE_NOTIFIES = 5_000;

/** Label infix of the APIv3 rows (the v2 rows keep their names). */
const V3_LABEL = "APIv3";
const KIND_NAMES: Readonly<Record<NotifyKind, string>> = { distinct: "distinct notifies, each pays an order", duplicates: "duplicates of one paid order" };

/** One API the benchmark may start, and which of its two rows (distinct, duplicates) this run keeps. */
export interface NotifyApiPlan {
  readonly label: string;
  readonly instance: string;
  readonly dialect: Dialect;
  readonly protocol: ApiProtocol;
  /** The `--baseline` build of @pay/api: measured beside this workspace's, never checked against the targets. */
  readonly baselineModule?: string;
  readonly kinds: readonly NotifyKind[];
}

/** A row's name in the table (and what `--contenders` matches). */
export function notifyRowName(label: string, kind: NotifyKind): string {
  return `${label}: ${KIND_NAMES[kind]}`;
}

function apiLabel(dialect: Dialect, protocol: ApiProtocol): string {
  return `@pay/api on ${dialectName(dialect)}${protocol === "v3" ? `, ${V3_LABEL}` : ""}`;
}

/**
 * The APIs of a run, in the order they are started and measured, each with the rows `--contenders` keeps
 * (every row without it); an API none of whose rows is kept is left out, so it is neither started nor seeded.
 */
export function planNotifyApis(baselineApi: string | undefined, contenders: readonly string[] | undefined): NotifyApiPlan[] {
  const all: Omit<NotifyApiPlan, "kinds">[] = (["sqlite", "postgres"] as const).flatMap((dialect) => [
    { label: apiLabel(dialect, "v2"), instance: `notify-${dialect}`, dialect, protocol: "v2" as const },
    ...(baselineApi === undefined
      ? []
      : [{ label: `@pay/api baseline on ${dialectName(dialect)}`, instance: `notify-baseline-${dialect}`, dialect, protocol: "v2" as const, baselineModule: baselineApi }]),
    { label: apiLabel(dialect, "v3"), instance: `notify-v3-${dialect}`, dialect, protocol: "v3" as const },
  ]);
  return all
    .map((plan) => ({ ...plan, kinds: (["distinct", "duplicates"] as const).filter((kind) => keepsContender(contenders, notifyRowName(plan.label, kind))) }))
    .filter((plan) => plan.kinds.length > 0);
}

interface Prepared {
  readonly plan: NotifyApiPlan;
  readonly api: ApiInstance;
  readonly pool: PendingPool;
  /** The order paid by a notify before the runs; its notify is the duplicate. */
  readonly paidIndex: number;
  /** How its notifies are built: v2's or APIv3's. */
  readonly notifies: NotifyBuilder;
}

/** Notify builders of an API: v2's, or APIv3's signed by the stack's gateway key. */
export function notifiesOf(api: ApiInstance): NotifyBuilder {
  if (api.protocol === "v2") return V2_NOTIFIES;
  if (api.v3 === undefined) throw new Error(`${api.name} runs APIv3 without a v3 merchant.`);
  return v3Notifies(api.v3);
}

async function prepare(plan: NotifyApiPlan, api: ApiInstance, poolSize: number): Promise<Prepared> {
  const notifies = notifiesOf(api);
  // The older orders are v2 ones on every API (a v3 API settles them too); the pending ones were placed with the API's protocol.
  await api.db.insertOrders({ from: 0, count: BACKGROUND_ORDERS, kind: "mixed", users: api.users });
  await api.db.insertOrders({ from: FIRST_PENDING, count: poolSize, kind: "pending", users: api.users, protocol: api.protocol });
  await api.db.settle();
  // The duplicate's order is paid through the API itself, by the same notify the runs repeat.
  await assertAcknowledges(api.name, api.url, notifies.request(FIRST_PENDING));
  return { plan, api, pool: new PendingPool(FIRST_PENDING + 1, poolSize - 1), paidIndex: FIRST_PENDING, notifies };
}

/** The bare-crypto meter of the APIv3 rows, on the notify they send (the first distinct one), with the API's keys. */
function bareMeter(api: ApiInstance, options: BareV3Options): { meter: BareV3Meter; bytes: number } {
  if (api.v3 === undefined) throw new Error(`${api.name} runs APIv3 without a v3 merchant.`);
  const index = FIRST_PENDING + 1;
  const notify = signedV3PayNotify(index, api.v3, new Date());
  const ops = bareV3Operations(notify, readFileSync(api.v3.publicKeyPath, "utf8"), V3_API_KEY);
  const meter = new BareV3Meter(ops, options, (text) => (JSON.parse(text) as { out_trade_no?: unknown }).out_trade_no === orderIdAt(index));
  return { meter, bytes: Buffer.byteLength(notify.body) };
}

/** "+28 µs" or "-3 µs". */
function signedMicros(value: number): string {
  const rounded = Math.round(value);
  return `${rounded >= 0 ? "+" : ""}${rounded} µs`;
}

/** One line per database: APIv3's distinct and duplicate rows against v2's, as throughput and CPU per request ratios. */
function v3Comparison(measured: readonly HttpMeasurement[]): string {
  const lines = (["sqlite", "postgres"] as const).flatMap((dialect) =>
    (["distinct", "duplicates"] as const).map((kind) => {
      const pick = (protocol: ApiProtocol): HttpMeasurement | undefined => measured.find((m) => m.name === notifyRowName(apiLabel(dialect, protocol), kind));
      const v2 = pick("v2");
      const v3 = pick("v3");
      if (v2 === undefined || v3 === undefined) return undefined;
      return (
        `- ${dialectName(dialect)}, ${kind === "distinct" ? "distinct notifies" : "duplicates"}: APIv3 at ${formatRatio(throughputRatio(v3, v2))} of v2's req/s, ` +
        `${formatRatio(v3.cpuMicrosPerRequest / v2.cpuMicrosPerRequest)} its server CPU per request (${signedMicros(v3.cpuMicrosPerRequest - v2.cpuMicrosPerRequest)}).`
      );
    }),
  );
  const present = lines.filter((line): line is string => line !== undefined);
  return present.length === 0 ? "" : ["APIv3 against v2, same run:", "", ...present].join("\n");
}

/** The sentence under the table that states the targets (what `notifyTargetChecks` checks). */
export function notifyTargetsText(): string {
  const { sqlite, postgres } = NOTIFY_BOUNDS;
  return (
    `Targets (issue 20), each a ratio of server CPU per request within this run (on PostgreSQL the PostgreSQL server's CPU included): ` +
    `a v2 distinct, persisted notify at most ${formatRatio(sqlite.distinctVsTenpay)} tenpay's middleware (c) on SQLite and ${formatRatio(postgres.distinctVsTenpay)} on PostgreSQL, ` +
    `and at most ${formatRatio(sqlite.distinctVsBodyRead ?? Number.NaN)} the body-read ceiling (b) on SQLite (the issue sets no PostgreSQL bound against (b): ` +
    `that ratio is reported above for information); a v2 duplicate at most ${formatRatio(sqlite.duplicatesVsTenpay)} (c) on SQLite and ${formatRatio(postgres.duplicatesVsTenpay)} on PostgreSQL; ` +
    `an APIv3 notify, distinct or duplicate, at most the CPU per request of the v2 row of the same kind on the same database plus one bare ` +
    `RSA-2048 verification and one bare AES-256-GCM decryption, both measured in this run as described above. A row with failed requests or failed checks misses its targets.`
  );
}

/** The `## HTTP notify handling` section. */
export async function benchNotify(run: RunOptions): Promise<Section> {
  const { log } = run;
  const options = run.quick ? QUICK_HTTP : FULL_HTTP;
  const bareOptions = run.quick ? QUICK_BARE : FULL_BARE;
  const poolSize = run.quick ? 40_000 : 400_000;
  const plans = planNotifyApis(run.baselineApi, run.contenders);
  if (plans.length === 0) {
    const every = planNotifyApis(run.baselineApi, undefined).flatMap((p) => p.kinds.map((kind) => notifyRowName(p.label, kind)));
    throw new Error(`--contenders ${(run.contenders ?? []).join(",")} matches none of the notify benchmark's API contenders: ${every.join("; ")}.`);
  }
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
    for (const plan of plans) {
      log(`notify: starting ${plan.label} and seeding ${BACKGROUND_ORDERS + poolSize} orders`);
      const api = await stack.startApi(plan.instance, plan.dialect, 8, plan.baselineModule, plan.protocol);
      prepared.push(await prepare(plan, api, poolSize));
    }
    const names = {
      hello: "(a) bare Koa hello-world",
      ceiling: "(b) Koa POST route: raw body read + reply",
      tenpay: "(c) tenpay 2.1.18 Koa middleware('pay'), no persistence",
    };
    const references = [
      fixedTarget(names.hello, hello.url, () => processCpuSeconds(hello.pid), [{ method: "GET", path: "/", headers: {} }]),
      fixedTarget(names.ceiling, bodyRead.url, () => processCpuSeconds(bodyRead.pid), referenceNotifies, SUCCESS_MARK),
      fixedTarget(names.tenpay, tenpay.url, () => processCpuSeconds(tenpay.pid), referenceNotifies, SUCCESS_MARK),
    ];
    // Each API row with what the targets need to know of it (undefined for a baseline row: never checked).
    const rows: { target: LoadTarget; row: Omit<NotifyRow, "cost"> | undefined }[] = prepared.flatMap(({ plan, api, pool, paidIndex, notifies }) =>
      plan.kinds.map((kind) => {
        const name = notifyRowName(plan.label, kind);
        const target = kind === "distinct" ? distinctNotifyTarget(name, api, pool, notifies) : duplicateNotifyTarget(name, api, paidIndex, notifies);
        return { target, row: plan.baselineModule === undefined ? { dialect: plan.dialect, protocol: plan.protocol, kind } : undefined };
      }),
    );
    const targets = [...references, ...rows.map((r) => r.target)];
    const v3Api = prepared.find((p) => p.plan.protocol === "v3")?.api;
    const bare = v3Api === undefined ? undefined : bareMeter(v3Api, bareOptions);
    if (bare !== undefined) log(`notify: bare APIv3 crypto, ${bareOptions.batchesPerSide} batches before the HTTP rounds`);
    bare?.meter.sample();
    log(`notify: ${targets.length} contenders, ${options.rounds} interleaved rounds of ${describeExtent(options.measure)} (after ${describeExtent(options.warmup)} warm-up each)`);
    const measured = await measureHttpInterleaved(targets, options, log);
    if (bare !== undefined) log(`notify: bare APIv3 crypto, ${bareOptions.batchesPerSide} batches after the HTTP rounds`);
    bare?.meter.sample();
    const [a, b, c, ...apis] = measured;
    if (a === undefined || b === undefined || c === undefined) throw new Error("The notify benchmark lost a reference measurement.");
    const table = measured.map((m) => [...httpCells(m), cpuRatioCell(m, a), cpuRatioCell(m, b), cpuRatioCell(m, c)]);
    const bareCosts = bare?.meter.result();
    const inputs = {
      bodyRead: b,
      tenpay: c,
      rows: apis.flatMap((m, i) => {
        const row = rows[i]?.row;
        return row === undefined ? [] : [{ ...row, cost: m }];
      }),
      ...(bareCosts === undefined ? {} : { bare: bareCosts }),
    };
    const checks = notifyTargetChecks(inputs);
    const notes = notifyTargetNotes(inputs);
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
      `- The last three columns are each row's server CPU per request divided by that of (a), (b) and (c) in this run: ` +
        `the measure of the targets below (below 1.00x, the row costs the host less per request than the reference).`,
      ...(run.contenders === undefined
        ? []
        : [
            `- This run kept only the API contenders whose name contains ${run.contenders.map((s) => `"${s}"`).join(" or ")} (\`--contenders\`); ` +
              `the references always run. Targets whose rows did not run are not checked.`,
          ]),
      "",
      markdownTable([...HTTP_HEADERS, "CPU vs (a)", "CPU vs (b)", "CPU vs (c)"], table),
      "",
      v3Comparison(measured),
      ...(bare === undefined || bareCosts === undefined
        ? []
        : [
            "",
            `Bare APIv3 crypto, the same run, in the bench process while no request is in flight (\`process.cpuUsage()\`, user + system, ` +
              `${bareCosts.batches} batches of ${bareOptions.verifyCalls.toLocaleString("en-US")} verifications and of ${bareOptions.decryptCalls.toLocaleString("en-US")} ` +
              `decryptions, half before the HTTP rounds and half after; medians): one of the APIv3 rows' notifies (${bare.bytes.toLocaleString("en-US")} bytes) ` +
              `verified with \`crypto.verify("sha256")\` over timestamp, nonce and body against the RSA-2048 WeChat Pay public key held as a KeyObject: ` +
              `${bareCosts.verifyMicros.toFixed(1)} µs; its resource decrypted with \`createDecipheriv("aes-256-gcm")\`, auth tag and associated data: ` +
              `${bareCosts.decryptMicros.toFixed(1)} µs. Nothing else: no header checks, no JSON parse, no schema.`,
          ]),
      ...(notes.length === 0 ? [] : ["", ...notes]),
      "",
      describeFailures(measured),
      "",
      notifyTargetsText(),
    ].join("\n");
    return { heading: "## HTTP notify handling", body, checks };
  } finally {
    await stack.stop();
  }
}
