import { isoAt } from "../clock.js";
import type { ServiceContext } from "./context.js";
import { closeWithGateway, refreshPendingOrder } from "./orders.js";
import { resubmitRefund, settleRefund } from "./refunds.js";

const BATCH = 50;

export interface SweepReport {
  readonly queried: number;
  readonly closed: number;
  readonly refundsChecked: number;
  readonly errors: number;
}

/**
 * One pass of the background sweep, safe to run from every API process at once:
 * pending orders nobody asked about are queried (lost notifies), expired ones are closed at the
 * gateway, and refunds still processing are checked with refundquery.
 */
export async function sweepOnce(ctx: ServiceContext): Promise<SweepReport> {
  const now = ctx.clock();
  const threshold = isoAt(now - ctx.config.orderQueryAfterSeconds * 1000);
  let queried = 0;
  let closed = 0;
  let refundsChecked = 0;
  let errors = 0;

  const expired = await ctx.db.selectFrom("orders").selectAll().where("status", "=", "pending").where("expires_at", "<=", isoAt(now)).limit(BATCH).execute();
  for (const order of expired) {
    try {
      const result = await closeWithGateway(ctx, order);
      if (result.status === "closed") closed++;
    } catch (error) {
      errors++;
      ctx.logger.warn({ orderId: order.id, err: error }, "sweep: closing an expired order failed");
    }
  }

  const stale = await ctx.db
    .selectFrom("orders")
    .selectAll()
    .where("status", "=", "pending")
    .where("created_at", "<=", threshold)
    .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
    .orderBy("created_at")
    .limit(BATCH)
    .execute();
  for (const order of stale) {
    try {
      await refreshPendingOrder(ctx, order, { force: false });
      queried++;
    } catch (error) {
      errors++;
      ctx.logger.warn({ orderId: order.id, err: error }, "sweep: querying a pending order failed");
    }
  }

  const refunds = await ctx.db
    .selectFrom("refunds")
    .selectAll()
    .where("status", "=", "processing")
    .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
    .limit(BATCH)
    .execute();
  for (const refund of refunds) {
    const claimed = await ctx.db
      .updateTable("refunds")
      .set({ last_queried_at: isoAt(now) })
      .where("id", "=", refund.id)
      .where("status", "=", "processing")
      .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
      .executeTakeFirst();
    if (claimed.numUpdatedRows !== 1n) continue;
    refundsChecked++;
    const answer = await ctx.gateway.queryRefund(refund.id);
    if (!answer.ok) {
      errors++;
      continue;
    }
    if (answer.value.state === "not-found") {
      // A refund whose submission was lost is resubmitted with the same refund id: it cannot double.
      if (refund.submitted === 0) await resubmitRefund(ctx, refund);
      else errors++;
      continue;
    }
    if (answer.value.status !== "processing") await settleRefund(ctx, refund, answer.value.status);
  }
  return { queried, closed, refundsChecked, errors };
}

/** Runs sweepOnce every interval until stopped; a slow pass never overlaps the next. */
export function startSweeper(ctx: ServiceContext): { stop(): Promise<void> } {
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    running = sweepOnce(ctx)
      .catch((error: unknown) => ctx.logger.error({ err: error }, "sweep failed"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, ctx.config.sweepIntervalSeconds * 1000);
      });
  };
  let timer = setTimeout(tick, ctx.config.sweepIntervalSeconds * 1000);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
