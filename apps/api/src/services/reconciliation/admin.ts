import {
  DEFAULT_RECONCILIATION_ITEMS,
  MAX_RECONCILIATION_LIST_DAYS,
  type ReconciliationDetailQuery,
  type ReconciliationDetailResponse,
  type ReconciliationListQuery,
  type ReconciliationListResponse,
  type ReconciliationRunSummary,
} from "@pay/core/contract";
import { findRunSummary, listItems, listRuns } from "../../db/reconciliation-reads.js";
import type { ServiceContext } from "../context.js";
import { failed, succeeded, type Outcome } from "../outcomes.js";
import { addDays, beijingDayOf, isDayOver } from "./day.js";
import type { ReconciliationConfig } from "../../env.js";
import { startReconciliation, type ReconciliationOptions } from "./engine.js";

/** Days a list covers when `from` is not given: 31, ending at `to`. */
const DEFAULT_LIST_DAYS = 31;

/** How long `POST .../run` waits for the run before answering 202 (createApp's reconciliationWaitMs). */
export const DEFAULT_RECONCILIATION_WAIT_MS = 10_000;

/** The engine's lease and retry times from RECONCILE_LEASE_SECONDS and RECONCILE_RETRY_MINUTES: every run (route, scheduler, CLI) takes them. */
export function runOptionsOf(config: Pick<ReconciliationConfig, "leaseSeconds" | "retryMinutes">): ReconciliationOptions {
  return { leaseMs: config.leaseSeconds * 1000, retryMs: config.retryMinutes * 60_000 };
}

function notOverYet(field: string, date: string, now: number): Outcome<never> {
  return failed({
    kind: "invalid",
    field,
    message: `${field}: ${date} is not over yet in Beijing (today there is ${beijingDayOf(now)}); a day is reconciled once it is over.`,
  });
}

/** The days' runs between `from` and `to` (defaults: the 31 days ending yesterday, Beijing), newest first. */
export async function listReconciliations(ctx: ServiceContext, query: ReconciliationListQuery): Promise<Outcome<ReconciliationListResponse>> {
  const now = ctx.clock();
  if (query.from !== undefined && !isDayOver(query.from, now)) return notOverYet("from", query.from, now);
  if (query.to !== undefined && !isDayOver(query.to, now)) return notOverYet("to", query.to, now);
  const yesterday = addDays(beijingDayOf(now), -1);
  // From alone: as many days as a list may span, up to yesterday; to alone: the 31 days ending there.
  const to = query.to ?? (query.from === undefined ? yesterday : minDay(addDays(query.from, MAX_RECONCILIATION_LIST_DAYS - 1), yesterday));
  const from = query.from ?? addDays(to, -(DEFAULT_LIST_DAYS - 1));
  return succeeded({ runs: await listRuns(ctx.db, from, to) });
}

function minDay(a: string, b: string): string {
  return a < b ? a : b;
}

function encodeItemCursor(id: number): string {
  return Buffer.from(`r|${id}`).toString("base64url");
}

function decodeItemCursor(cursor: string): number | undefined {
  const match = /^r\|(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  return match === null ? undefined : Number(match[1]);
}

/** A run with a page of its day's items, oldest first. */
async function detailOf(ctx: ServiceContext, run: ReconciliationRunSummary, query: ReconciliationDetailQuery, afterId: number | undefined): Promise<ReconciliationDetailResponse> {
  const rows = await listItems(ctx.db, run.date, { afterId, limit: query.limit + 1, class: query.class });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { run, items, nextCursor: rows.length > query.limit && last !== undefined ? encodeItemCursor(last.id) : null };
}

/** One day: its run and a page of the items of its last successful run; not-found when the day never had a run. */
export async function getReconciliation(ctx: ServiceContext, date: string, query: ReconciliationDetailQuery): Promise<Outcome<ReconciliationDetailResponse>> {
  const now = ctx.clock();
  if (!isDayOver(date, now)) return notOverYet("date", date, now);
  let afterId: number | undefined;
  if (query.cursor !== undefined) {
    afterId = decodeItemCursor(query.cursor);
    if (afterId === undefined) return failed({ kind: "invalid", field: "cursor", message: "cursor: not a cursor this API returned." });
  }
  const run = await findRunSummary(ctx.db, date);
  if (run === undefined) return failed({ kind: "not-found", message: `No reconciliation of ${date} yet: POST /api/admin/reconciliations/${date}/run starts one.` });
  return succeeded(await detailOf(ctx, run, query, afterId));
}

/** What `POST .../run` answers: the finished run with its first items, or (`accepted`) the run still going, without items. */
export interface RunAnswer {
  readonly accepted: boolean;
  readonly detail: ReconciliationDetailResponse;
}

/**
 * Starts a day's run (trigger admin) and waits up to `waitMs` for it: finished, the run and the first
 * page of its items; still going (or held by another process), the day as it stands, accepted. The run
 * goes on after the answer either way.
 */
export async function runReconciliationNow(ctx: ServiceContext, date: string, waitMs: number): Promise<Outcome<RunAnswer>> {
  const now = ctx.clock();
  if (!isDayOver(date, now)) return notOverYet("date", date, now);
  const start = await startReconciliation(ctx, date, "admin", runOptionsOf(ctx.config.reconciliation));
  if (!start.started) return succeeded({ accepted: true, detail: { run: start.run, items: [], nextCursor: null } });
  let timer: NodeJS.Timeout | undefined;
  const waited = await Promise.race([
    start.done,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), waitMs);
    }),
  ]);
  clearTimeout(timer);
  if (waited !== undefined) return succeeded({ accepted: false, detail: await detailOf(ctx, waited, { limit: DEFAULT_RECONCILIATION_ITEMS }, undefined) });
  const running = await findRunSummary(ctx.db, date);
  if (running === undefined) throw new Error(`runReconciliationNow: the run of ${date} started but its row is gone`);
  return succeeded({ accepted: true, detail: { run: running, items: [], nextCursor: null } });
}
