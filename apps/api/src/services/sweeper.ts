import { isoAt } from "../clock.js";
import { expiredPendingOrders, stalePendingOrders } from "../db/orders.js";
import { claimRefundQuery, processingRefunds } from "../db/refunds.js";
import type { ServiceContext } from "./context.js";
import { gatewayOf } from "./gateways.js";
import { closeWithGateway, refreshPendingOrder } from "./orders.js";
import { recordRefundQuery, resubmitRefund, settleRefund } from "./refunds.js";

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
 * gateway, and refunds still processing are checked with the gateway. Each order and refund goes through
 * the gateway of its order's protocol; those of a protocol this process has no gateway for are left to a
 * process that has one.
 */
export async function sweepOnce(ctx: ServiceContext): Promise<SweepReport> {
  const now = ctx.clock();
  const threshold = isoAt(now - ctx.config.orderQueryAfterSeconds * 1000);
  let queried = 0;
  let closed = 0;
  let refundsChecked = 0;
  let errors = 0;
  const protocols = ctx.gateways.configured;

  for (const order of await expiredPendingOrders(ctx.db, isoAt(now), BATCH, protocols)) {
    try {
      const result = await closeWithGateway(ctx, order, "sweep");
      if (!result.ok) {
        errors++;
        ctx.logger.warn({ orderId: order.id, failure: result.failure.kind }, "sweep: closing an expired order failed");
      } else if (result.value.status === "closed") closed++;
    } catch (error) {
      errors++;
      ctx.logger.warn({ orderId: order.id, err: error }, "sweep: closing an expired order failed");
    }
  }

  for (const order of await stalePendingOrders(ctx.db, threshold, BATCH, protocols)) {
    try {
      await refreshPendingOrder(ctx, order, { force: false, trigger: "sweep" });
      queried++;
    } catch (error) {
      errors++;
      ctx.logger.warn({ orderId: order.id, err: error }, "sweep: querying a pending order failed");
    }
  }

  for (const refund of await processingRefunds(ctx.db, threshold, BATCH, protocols)) {
    const gateway = gatewayOf(ctx, { id: refund.order_id, protocol: refund.protocol });
    if (!gateway.ok) continue;
    if (!(await claimRefundQuery(ctx.db, refund.id, isoAt(now), threshold))) continue;
    refundsChecked++;
    const answer = await gateway.value.queryRefund(refund.id);
    recordRefundQuery(ctx, refund, answer, "sweep");
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
    // The gateway's success time, when it says, is the refund's succeeded_at (as a notify's is): the bill's day of the refund.
    const { succeededAt } = answer.value;
    if (answer.value.status !== "processing") await settleRefund(ctx, refund, answer.value.status, undefined, succeededAt === undefined ? undefined : isoAt(succeededAt));
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
