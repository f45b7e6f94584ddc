import type { ReconciliationRunSummary, ReconciliationTrigger } from "@pay/core/contract";
import type { ServiceContext } from "../context.js";

/**
 * What asking for a day's run gives: this process took the day's lease and runs it (`done` settles
 * with the finished run, succeeded or failed; it never rejects), or another process holds the lease
 * and `run` is the day as it stands (state running).
 */
export type RunStart = { readonly started: true; readonly done: Promise<ReconciliationRunSummary> } | { readonly started: false; readonly run: ReconciliationRunSummary };

/**
 * Starts the reconciliation of one Beijing day (YYYY-MM-DD, already validated) under the day's
 * database lease (docs/reconciliation.md).
 */
export function startReconciliation(ctx: ServiceContext, date: string, trigger: ReconciliationTrigger): Promise<RunStart> {
  void ctx;
  void date;
  void trigger;
  return Promise.reject(new Error("startReconciliation: the engine lands with issue 18's engine branch."));
}

/** Runs a day to its end in this process, or answers the running day when another process holds it. */
export async function reconcileDay(ctx: ServiceContext, date: string, trigger: ReconciliationTrigger): Promise<ReconciliationRunSummary> {
  const start = await startReconciliation(ctx, date, trigger);
  return start.started ? start.done : start.run;
}
