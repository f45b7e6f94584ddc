// Issue 20's targets for the notify section, as pure functions: the measured rows of one run in, the checks out.
// Every target is a ratio of server CPU per request within the same run (absolute µs move with the machine).
import { formatCount, formatRatio, type TargetCheck } from "./markdown.js";
import type { ApiProtocol, Dialect } from "./servers/api-stack.js";

export type NotifyKind = "distinct" | "duplicates";

/** What a target needs of one measured row (an HttpMeasurement fits). */
export interface RowCost {
  readonly cpuMicrosPerRequest: number;
  /** Non-2xx answers, errors, timeouts and wrong bodies over all rounds. */
  readonly failures: number;
  /** Problems the row's own checks found (a notify that wrote nothing, a duplicate that wrote something). */
  readonly problems: readonly string[];
}

/** One of @pay/api's notify rows (baseline rows are never checked). */
export interface NotifyRow {
  readonly dialect: Dialect;
  readonly protocol: ApiProtocol;
  readonly kind: NotifyKind;
  readonly cost: RowCost;
}

/** CPU microseconds of one bare RSA-2048 SHA256withRSA verification and one bare AES-256-GCM decryption of the APIv3 notify, measured in the same run. */
export interface BareV3Crypto {
  readonly verifyMicros: number;
  readonly decryptMicros: number;
}

/** One run's measurements: the references (b) and (c), @pay/api's rows present in it, and the bare APIv3 crypto when an APIv3 row ran. */
export interface NotifyTargetInputs {
  readonly bodyRead: RowCost;
  readonly tenpay: RowCost;
  readonly rows: readonly NotifyRow[];
  readonly bare?: BareV3Crypto;
}

export interface DialectBounds {
  /** v2 distinct persisted notify: at most this many times tenpay's middleware (c). */
  readonly distinctVsTenpay: number;
  /** v2 distinct persisted notify: at most this many times the body-read ceiling (b); undefined: reported, not checked. */
  readonly distinctVsBodyRead: number | undefined;
  /** v2 duplicate notify: at most this many times tenpay's middleware (c). */
  readonly duplicatesVsTenpay: number;
}

/**
 * Issue 20's bounds (SQLite, PostgreSQL in its brackets). The issue gives the body-read bound (3.5x (b)) without a
 * PostgreSQL bracket, and its PostgreSQL figure (about 200 µs) is the 0.8x of (c), about 4.7x (b) on the published
 * machine: on PostgreSQL the ratio to (b) is reported as information, not checked.
 */
export const NOTIFY_BOUNDS: Readonly<Record<Dialect, DialectBounds>> = {
  sqlite: { distinctVsTenpay: 0.6, distinctVsBodyRead: 3.5, duplicatesVsTenpay: 0.33 },
  postgres: { distinctVsTenpay: 0.8, distinctVsBodyRead: undefined, duplicatesVsTenpay: 0.4 },
};

const DIALECTS: readonly Dialect[] = ["sqlite", "postgres"];
const KINDS: readonly NotifyKind[] = ["distinct", "duplicates"];
const TENPAY = "tenpay's middleware (c)";
const BODY_READ = "the body-read ceiling (b)";

export function dialectName(dialect: Dialect): string {
  return dialect === "sqlite" ? "SQLite" : "PostgreSQL";
}

function rowName(dialect: Dialect, protocol: ApiProtocol, kind: NotifyKind): string {
  return `Notify on ${dialectName(dialect)}, ${protocol === "v2" ? "v2" : "APIv3"} ${kind === "distinct" ? "distinct (persisting)" : "duplicates"}`;
}

function micros(value: number): string {
  return `${formatCount(value)} µs`;
}

/** Whether a row's figure can count: every request answered as expected, every check passed, a CPU figure. */
function clean(cost: RowCost): boolean {
  return cost.failures === 0 && cost.problems.length === 0 && Number.isFinite(cost.cpuMicrosPerRequest) && cost.cpuMicrosPerRequest > 0;
}

/** "" or "; not a clean run: ..." naming why a measured figure cannot pass. */
function unclean(costs: readonly RowCost[]): string {
  const failures = costs.reduce((sum, c) => sum + c.failures, 0);
  const problems = costs.reduce((sum, c) => sum + c.problems.length, 0);
  const missing = costs.some((c) => !(Number.isFinite(c.cpuMicrosPerRequest) && c.cpuMicrosPerRequest > 0));
  const why = [...(failures > 0 ? [`${failures} failed requests`] : []), ...(problems > 0 ? [`${problems} failed checks`] : []), ...(missing ? ["no CPU figure"] : [])];
  return why.length === 0 ? "" : `; not a clean run: ${why.join(", ")}`;
}

function ratioCheck(name: string, row: RowCost, reference: RowCost, referenceName: string, bound: number): TargetCheck {
  const ratio = row.cpuMicrosPerRequest / reference.cpuMicrosPerRequest;
  return {
    label:
      `${name}: server CPU/req <= ${formatRatio(bound)} ${referenceName} ` +
      `(measured ${formatRatio(ratio)}: ${micros(row.cpuMicrosPerRequest)} / ${micros(reference.cpuMicrosPerRequest)}${unclean([row, reference])})`,
    pass: clean(row) && clean(reference) && ratio <= bound,
  };
}

/** The APIv3 row's budget: its v2 row's CPU per request plus one bare verification and one bare decryption. */
export function v3Budget(v2: RowCost, bare: BareV3Crypto): number {
  return v2.cpuMicrosPerRequest + bare.verifyMicros + bare.decryptMicros;
}

function v3Check(name: string, v3: RowCost, v2: RowCost, bare: BareV3Crypto): TargetCheck {
  const budget = v3Budget(v2, bare);
  const bareOk = Number.isFinite(bare.verifyMicros) && Number.isFinite(bare.decryptMicros) && bare.verifyMicros > 0 && bare.decryptMicros > 0;
  return {
    label:
      `${name}: server CPU/req <= v2's + one bare RSA-2048 verify + one bare AES-256-GCM decrypt ` +
      `(measured ${micros(v3.cpuMicrosPerRequest)} against ${formatCount(v2.cpuMicrosPerRequest)} + ${bare.verifyMicros.toFixed(1)} + ` +
      `${bare.decryptMicros.toFixed(1)} = ${micros(budget)}: ${formatRatio(v3.cpuMicrosPerRequest / budget)}${unclean([v3, v2])})`,
    pass: clean(v3) && clean(v2) && bareOk && v3.cpuMicrosPerRequest <= budget,
  };
}

function find(rows: readonly NotifyRow[], dialect: Dialect, protocol: ApiProtocol, kind: NotifyKind): NotifyRow | undefined {
  return rows.find((r) => r.dialect === dialect && r.protocol === protocol && r.kind === kind);
}

/**
 * The checks of one run, SQLite first: v2 distinct against (c) (and (b) where bounded), v2 duplicates against (c), then
 * APIv3 distinct and duplicates against v2's row plus the bare crypto. A target whose rows the run did not measure
 * (`--contenders`) is left out, not failed.
 */
export function notifyTargetChecks(inputs: NotifyTargetInputs): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const dialect of DIALECTS) {
    const bounds = NOTIFY_BOUNDS[dialect];
    const distinct = find(inputs.rows, dialect, "v2", "distinct");
    const duplicates = find(inputs.rows, dialect, "v2", "duplicates");
    if (distinct !== undefined) {
      const name = rowName(dialect, "v2", "distinct");
      checks.push(ratioCheck(name, distinct.cost, inputs.tenpay, TENPAY, bounds.distinctVsTenpay));
      if (bounds.distinctVsBodyRead !== undefined) checks.push(ratioCheck(name, distinct.cost, inputs.bodyRead, BODY_READ, bounds.distinctVsBodyRead));
    }
    if (duplicates !== undefined) checks.push(ratioCheck(rowName(dialect, "v2", "duplicates"), duplicates.cost, inputs.tenpay, TENPAY, bounds.duplicatesVsTenpay));
    for (const kind of KINDS) {
      const v3 = find(inputs.rows, dialect, "v3", kind);
      const v2 = find(inputs.rows, dialect, "v2", kind);
      if (v3 !== undefined && v2 !== undefined && inputs.bare !== undefined) checks.push(v3Check(rowName(dialect, "v3", kind), v3.cost, v2.cost, inputs.bare));
    }
  }
  return checks;
}

/** Lines for the section text: figures the targets do not check (PostgreSQL against (b)), and targets this run could not check. */
export function notifyTargetNotes(inputs: NotifyTargetInputs): string[] {
  const notes: string[] = [];
  for (const dialect of DIALECTS) {
    const bounds = NOTIFY_BOUNDS[dialect];
    const distinct = find(inputs.rows, dialect, "v2", "distinct");
    if (distinct !== undefined && bounds.distinctVsBodyRead === undefined) {
      notes.push(
        `- ${dialectName(dialect)}, v2 distinct: ${formatRatio(distinct.cost.cpuMicrosPerRequest / inputs.bodyRead.cpuMicrosPerRequest)} the CPU per request of ${BODY_READ} ` +
          `(${micros(distinct.cost.cpuMicrosPerRequest)} / ${micros(inputs.bodyRead.cpuMicrosPerRequest)}), for information: the issue bounds (b) on SQLite only.`,
      );
    }
    for (const kind of KINDS) {
      if (find(inputs.rows, dialect, "v3", kind) !== undefined && find(inputs.rows, dialect, "v2", kind) === undefined) {
        notes.push(`- ${dialectName(dialect)}, APIv3 ${kind}: not checked, its v2 row did not run in this run.`);
      }
    }
  }
  return notes;
}
