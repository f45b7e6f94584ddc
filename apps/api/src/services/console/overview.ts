import type { OverviewQuery, OverviewResponse } from "@pay/core/contract";
import { countFailedDays, countFlaggedDifferences, countOpenRefunds, countRefusedNotifies, paymentTotals, refundTotals, webhookBacklog } from "../../db/console-reads.js";
import type { ServiceContext } from "../context.js";
import { addDays, beijingDayOf, dayBounds } from "../reconciliation/day.js";

/** How many days back (the day itself included) open differences and failed reconciliations are counted. */
export const RECONCILIATION_WINDOW_DAYS = 31;

/**
 * One Beijing day at a glance (today in Beijing by the injected clock unless `date` is given): payments
 * by paid_at and refunds by succeeded_at within the day, per currency; notifies refused that day; and
 * what needs attention now — refunds still open, flagged differences and failed days among the 31 days
 * ending with `date`, the webhook backlog.
 */
export async function getOverview(services: ServiceContext, query: OverviewQuery): Promise<OverviewResponse> {
  const { db } = services;
  const date = query.date ?? beijingDayOf(services.clock());
  const bounds = dayBounds(date);
  const start = new Date(bounds.start).toISOString();
  const end = new Date(bounds.end).toISOString();
  const firstDay = addDays(date, 1 - RECONCILIATION_WINDOW_DAYS);
  const [payments, refunds, refundsOpen, refusedNotifies, openDifferences, failedReconciliations, webhooks] = await Promise.all([
    paymentTotals(db, start, end),
    refundTotals(db, start, end),
    countOpenRefunds(db),
    countRefusedNotifies(db, start, end),
    countFlaggedDifferences(db, firstDay, date),
    countFailedDays(db, firstDay, date),
    webhookBacklog(db),
  ]);
  return { date, payments: [...payments], refunds: [...refunds], refundsOpen, refusedNotifies, openDifferences, failedReconciliations, webhooks };
}
