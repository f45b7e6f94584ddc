import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { ReconciliationErrorCode, ReconciliationRunSummary, ReconciliationTotals, ReconciliationTrigger } from "@pay/core/contract";
import { isoAt } from "../../clock.js";
import {
  acquireRunLease,
  deleteBillRows,
  deleteEarlierBillRows,
  extendRunLease,
  failRun,
  finishRun,
  LeaseLostError,
  type NewItemRow,
  type OurMerchant,
  type RunLease,
} from "../../db/reconciliation.js";
import { findRunRow, runSummaryOf } from "../../db/reconciliation-reads.js";
import type { ServiceContext } from "../context.js";
import { compareDay, ItemCollector, summaryItems, type FoundItem } from "./compare.js";
import { dayBounds } from "./day.js";
import { RunFailure, stageBill, type BillSums } from "./stage.js";

/**
 * What asking for a day's run gives: this process took the day's lease and runs it (`done` settles
 * with the finished run, succeeded or failed; it never rejects), or another process holds the lease
 * and `run` is the day as it stands (state running).
 */
export type RunStart = { readonly started: true; readonly done: Promise<ReconciliationRunSummary> } | { readonly started: false; readonly run: ReconciliationRunSummary };

/** How a run behaves; every field has a default. */
export interface ReconciliationOptions {
  /** How long the day's lease lasts without a heartbeat (RECONCILE_LEASE_SECONDS); default 300 s. Renewed every third of it. */
  readonly leaseMs?: number | undefined;
  /** When a failed day may be tried again after BILL_NOT_READY, BILL_UNAVAILABLE, LEASE_LOST or INTERNAL (RECONCILE_RETRY_MINUTES); default 30 min. */
  readonly retryMs?: number | undefined;
  /** When a day whose bill content failed (malformed, hash, merchant, day) may be tried again; default 6 h. */
  readonly contentRetryMs?: number | undefined;
  /** Items stored per run (`differences` still counts all); default 10 000. */
  readonly maxItems?: number | undefined;
  /** Queries confirming differences at once; default 4. */
  readonly repairConcurrency?: number | undefined;
  /** Who holds the lease; default this process's id (host, pid and a random part). */
  readonly ownerId?: string | undefined;
  /** The scheduler's runs: start only while the day is still due, as the scheduler read it (another process may have run it since). */
  readonly onlyIfDue?: boolean | undefined;
}

export const RECONCILIATION_DEFAULTS = {
  leaseMs: 300_000,
  retryMs: 30 * 60_000,
  contentRetryMs: 6 * 3600_000,
  maxItems: 10_000,
  repairConcurrency: 4,
} as const;

/** This process, as a lease holder (the webhook dispatcher's style). */
const PROCESS_OWNER = `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;

/** Failures of the bill's content: the same file comes back on a retry, so retrying soon helps nothing. */
const CONTENT_FAILURES: ReadonlySet<ReconciliationErrorCode> = new Set(["BILL_MALFORMED", "BILL_HASH_MISMATCH", "BILL_WRONG_MERCHANT", "BILL_WRONG_DAY"]);

interface Settings {
  readonly leaseMs: number;
  readonly retryMs: number;
  readonly contentRetryMs: number;
  readonly maxItems: number;
  readonly repairConcurrency: number;
  readonly ownerId: string;
}

function settingsOf(options: ReconciliationOptions): Settings {
  return {
    leaseMs: options.leaseMs ?? RECONCILIATION_DEFAULTS.leaseMs,
    retryMs: options.retryMs ?? RECONCILIATION_DEFAULTS.retryMs,
    contentRetryMs: options.contentRetryMs ?? RECONCILIATION_DEFAULTS.contentRetryMs,
    maxItems: options.maxItems ?? RECONCILIATION_DEFAULTS.maxItems,
    repairConcurrency: options.repairConcurrency ?? RECONCILIATION_DEFAULTS.repairConcurrency,
    ownerId: options.ownerId ?? PROCESS_OWNER,
  };
}

/**
 * Starts the reconciliation of one Beijing day (YYYY-MM-DD, already validated) under the day's
 * database lease (docs/reconciliation.md).
 */
export async function startReconciliation(ctx: ServiceContext, date: string, trigger: ReconciliationTrigger, options: ReconciliationOptions = {}): Promise<RunStart> {
  const settings = settingsOf(options);
  const now = ctx.clock();
  const row = await acquireRunLease(ctx.db, { date, trigger, owner: settings.ownerId, now: isoAt(now), leaseUntil: isoAt(now + settings.leaseMs), onlyIfDue: options.onlyIfDue });
  if (row === undefined) {
    const current = await findRunRow(ctx.db, date);
    if (current === undefined) throw new Error(`Reconciliation of ${date}: the day's row is missing although its lease is held.`);
    return { started: false, run: runSummaryOf(current) };
  }
  const lease: RunLease = { date, attempt: row.attempt, owner: settings.ownerId };
  const done = runDay(ctx, lease, trigger, settings);
  let runs = inFlight.get(ctx);
  if (runs === undefined) {
    runs = new Set();
    inFlight.set(ctx, runs);
  }
  const own = runs;
  own.add(done);
  void done.finally(() => own.delete(done));
  return { started: true, done };
}

/** The runs this process is doing, by service context: an admin's run goes on after its answer. */
const inFlight = new WeakMap<ServiceContext, Set<Promise<ReconciliationRunSummary>>>();

/**
 * Resolves once every run this context started has ended (written its result or failure and released its
 * day), including runs started after the call; a process stopping waits for this before closing its
 * database, so no run is cut off half-way and its day is free at once instead of after its lease.
 */
export async function reconciliationsEnded(ctx: ServiceContext): Promise<void> {
  for (let runs = inFlight.get(ctx); runs !== undefined && runs.size > 0; runs = inFlight.get(ctx)) await Promise.all([...runs]);
}

/** Runs a day to its end in this process, or answers the running day when another process holds it. */
export async function reconcileDay(ctx: ServiceContext, date: string, trigger: ReconciliationTrigger, options?: ReconciliationOptions): Promise<ReconciliationRunSummary> {
  const start = await startReconciliation(ctx, date, trigger, options);
  return start.started ? start.done : start.run;
}

interface RunResult {
  readonly bill: "file" | "none";
  readonly totals: ReconciliationTotals;
  readonly collector: ItemCollector;
}

/** A run under its lease, to its end: never rejects. */
async function runDay(ctx: ServiceContext, lease: RunLease, trigger: ReconciliationTrigger, settings: Settings): Promise<ReconciliationRunSummary> {
  const log = ctx.logger;
  log.info({ date: lease.date, attempt: lease.attempt, trigger }, "reconciliation started");
  let lost = false;
  const renew = async (): Promise<boolean> => {
    const now = ctx.clock();
    const held = await extendRunLease(ctx.db, lease, isoAt(now + settings.leaseMs), isoAt(now));
    if (!held) lost = true;
    return held;
  };
  const heartbeat = setInterval(
    () => {
      if (!lost) renew().catch((error: unknown) => log.warn({ date: lease.date, err: error }, "reconciliation lease heartbeat failed"));
    },
    Math.max(1_000, settings.leaseMs / 3),
  );
  heartbeat.unref();
  const checkLease = async (): Promise<void> => {
    if (lost || !(await renew())) throw new LeaseLostError(`Reconciliation of ${lease.date}: another process took the day over (attempt ${lease.attempt} lost its lease).`);
  };
  try {
    await deleteEarlierBillRows(ctx.db, lease.date, lease.attempt);
    const result = await reconcile(ctx, lease, settings, checkLease);
    await checkLease();
    const now = isoAt(ctx.clock());
    const items = result.collector.items.map((found) => itemRow(lease.date, found, now));
    const row = await finishRun(
      ctx.db,
      lease,
      {
        bill: result.bill,
        protocol: ctx.gateways.protocolForNewOrders,
        totals: JSON.stringify(result.totals),
        differences: JSON.stringify(result.collector.counts),
        now,
      },
      items,
    );
    await deleteBillRows(ctx.db, lease.date, lease.attempt);
    const summary = runSummaryOf(row);
    log.info({ date: lease.date, attempt: lease.attempt, state: summary.state, bill: summary.bill, differences: result.collector.counts }, "reconciliation finished");
    return summary;
  } catch (error) {
    return await failed(ctx, lease, trigger, settings, error);
  } finally {
    clearInterval(heartbeat);
  }
}

/** Writes a failed run (guarded by the lease) and answers the day as it then stands. */
async function failed(ctx: ServiceContext, lease: RunLease, trigger: ReconciliationTrigger, settings: Settings, error: unknown): Promise<ReconciliationRunSummary> {
  const code: ReconciliationErrorCode = error instanceof RunFailure ? error.code : error instanceof LeaseLostError ? "LEASE_LOST" : "INTERNAL";
  const message = error instanceof RunFailure || error instanceof LeaseLostError ? error.message : "The run failed unexpectedly; the server log has the cause.";
  const log = ctx.logger;
  if (code === "INTERNAL") log.error({ date: lease.date, attempt: lease.attempt, err: error }, "reconciliation failed unexpectedly");
  try {
    await deleteBillRows(ctx.db, lease.date, lease.attempt);
    const nowMs = ctx.clock();
    const now = isoAt(nowMs);
    const nextAttemptAt = isoAt(nowMs + (CONTENT_FAILURES.has(code) ? settings.contentRetryMs : settings.retryMs));
    const row = await failRun(ctx.db, lease, { code, message, now, nextAttemptAt });
    log.warn({ date: lease.date, attempt: lease.attempt, state: "failed", errorCode: code }, "reconciliation finished");
    if (row !== undefined) return runSummaryOf(row);
    // Another attempt holds the day: its row is not ours to write; this run's own answer is that it lost.
    const current = await findRunRow(ctx.db, lease.date);
    if (current === undefined) throw new Error(`Reconciliation of ${lease.date}: the day's row is missing.`);
    return {
      ...runSummaryOf(current),
      state: "failed",
      error: { code: "LEASE_LOST", message: `Attempt ${lease.attempt} lost the day to attempt ${current.attempt}; nothing was written.` },
    };
  } catch (writeError) {
    log.error({ date: lease.date, attempt: lease.attempt, err: writeError }, "reconciliation failure could not be recorded");
    const nowIso = isoAt(ctx.clock());
    return {
      date: lease.date,
      state: "failed",
      trigger,
      attempt: lease.attempt,
      startedAt: nowIso,
      finishedAt: nowIso,
      bill: null,
      error: { code: "INTERNAL", message: "The run failed and its failure could not be recorded; the server log has the cause." },
      totals: null,
      differences: new ItemCollector(0).counts,
      resultAt: null,
    };
  }
}

/** Download, stage, compare and confirm: the run's result, or RunFailure / LeaseLostError. */
async function reconcile(ctx: ServiceContext, lease: RunLease, settings: Settings, checkLease: () => Promise<void>): Promise<RunResult> {
  const { merchant: config } = ctx.config;
  const merchant: OurMerchant = { mchId: config.mchId, subMchId: config.subMchId };
  const day = dayBounds(lease.date);
  let opened;
  try {
    opened = await ctx.gateways.forNewOrders.openBill(lease.date);
  } catch (error) {
    throw new RunFailure("BILL_UNAVAILABLE", `The bill could not be downloaded: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!opened.ok) throw new RunFailure("BILL_UNAVAILABLE", `The bill could not be downloaded (${opened.error.kind}): ${opened.error.message}`);
  const download = opened.value;
  if (download.kind === "not-ready") throw new RunFailure("BILL_NOT_READY", `WeChat Pay has not made the bill of ${lease.date} yet.`);

  const collector = new ItemCollector(settings.maxItems);
  let sums: BillSums | undefined;
  if (download.kind === "file") {
    sums = await stageBill(download, { db: ctx.db, lease, merchant, day, currency: config.feeType });
    for (const found of summaryItems(sums)) collector.add(found);
  }
  const currency = sums?.currency ?? config.feeType;
  const ours = await compareDay(ctx, { lease, merchant, day, currency, repairConcurrency: settings.repairConcurrency, checkLease }, collector);
  const totals: ReconciliationTotals = {
    currency,
    bill: {
      paymentCount: sums?.paymentCount ?? 0,
      paymentAmount: sums?.paymentAmount ?? 0,
      refundCount: sums?.refundCount ?? 0,
      refundAmount: sums?.refundAmount ?? 0,
    },
    summary:
      sums === undefined
        ? null
        : {
            lineCount: sums.summary.tradeCount,
            paymentAmount: sums.summary.settlementTotalFee?.amount ?? 0,
            refundAmount: sums.summary.refundFee?.amount ?? 0,
            fee: sums.summary.serviceFee?.amount ?? 0,
          },
    ours,
    feeLines: sums?.fee ?? 0,
    feeSummary: sums === undefined ? null : (sums.summary.serviceFee?.amount ?? null),
  };
  return { bill: download.kind, totals, collector };
}

function itemRow(date: string, found: FoundItem, now: string): NewItemRow {
  return {
    bill_date: date,
    class: found.class,
    resolution: found.resolution,
    order_id: found.orderId,
    refund_id: found.refundId,
    transaction_id: found.transactionId,
    bill_line: found.billLine,
    bill_amount: found.billAmount,
    bill_currency: found.billCurrency,
    our_amount: found.ourAmount,
    our_currency: found.ourCurrency,
    detail: found.detail,
    created_at: now,
  };
}
