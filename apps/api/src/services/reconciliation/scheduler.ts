import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { listRunStates, type ReconciliationRunRow } from "../../db/reconciliation-reads.js";
import type { Database } from "../../db/schema.js";
import type { ReconciliationConfig } from "../../env.js";
import { addDays, beijingDayOf, dayBounds } from "./day.js";

/** Where a day stands for the scheduler: its run row's state, retry time and lease (ISO text), or undefined when it never ran. */
export type DayState = Pick<ReconciliationRunRow, "state" | "next_attempt_at" | "lease_expires_at">;

/** What decides which days are due. */
export type ScheduleSettings = Pick<ReconciliationConfig, "atMinutes" | "catchUpDays">;

/**
 * The days among the last `catchUpDays` (Beijing) whose bill time (the next day at RECONCILE_AT, Beijing)
 * has passed at `now` and that need a run: never run; failed with its retry time come; running under a
 * lease that has run out (the process died). Oldest first.
 */
export function dueDays(now: number, settings: ScheduleSettings, stateOf: (date: string) => DayState | undefined): string[] {
  const today = beijingDayOf(now);
  const due: string[] = [];
  for (let back = settings.catchUpDays; back >= 1; back--) {
    const date = addDays(today, -back);
    if (now < dayBounds(date).end + settings.atMinutes * 60_000) continue;
    const state = stateOf(date);
    if (state === undefined) due.push(date);
    else if (state.state === "failed" && state.next_attempt_at !== null && Date.parse(state.next_attempt_at) <= now) due.push(date);
    else if (state.state === "running" && (state.lease_expires_at === null || Date.parse(state.lease_expires_at) < now)) due.push(date);
  }
  return due;
}

/** What the scheduler needs: the database to see the days, a clock, and the runner of one day (reconcileDay with trigger schedule in the API). */
export interface SchedulerOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: ScheduleSettings & Pick<ReconciliationConfig, "pollSeconds">;
  /** Runs one day to its end; a rejection is logged and the next day goes ahead. */
  readonly run: (date: string) => Promise<unknown>;
}

/** Runs every due day, one at a time, oldest first; answers the days it ran. */
export async function reconcileDueDays(options: SchedulerOptions): Promise<string[]> {
  const now = options.clock();
  const today = beijingDayOf(now);
  const rows = await listRunStates(options.db, addDays(today, -options.settings.catchUpDays), addDays(today, -1));
  const states = new Map(rows.map((row) => [row.bill_date, row]));
  const days = dueDays(now, options.settings, (date) => states.get(date));
  for (const date of days) {
    try {
      await options.run(date);
    } catch (error) {
      options.logger.error({ err: error, date }, "reconciliation: a scheduled run failed");
    }
  }
  return days;
}

/** A started scheduler; stop() waits for the pass in flight (its day's run included). */
export interface ReconciliationScheduler {
  stop(): Promise<void>;
}

/**
 * Looks for due days every RECONCILE_POLL_SECONDS (the first look one interval after the start) and runs
 * them; a slow pass never overlaps the next. Every process may run one: the engine's lease keeps a day
 * to one process at a time.
 */
export function startReconciliationScheduler(options: SchedulerOptions): ReconciliationScheduler {
  const intervalMs = options.settings.pollSeconds * 1000;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    running = reconcileDueDays(options)
      .catch((error: unknown) => options.logger.error({ err: error }, "reconciliation: the scheduler could not read the days"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  let timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
