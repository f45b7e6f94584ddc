import { isoAt } from "../clock.js";
import type { GatewayCallError } from "../gateway/port.js";
import type { Protocol } from "../gateway/registry.js";
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
  /** Queries and closes left for a later pass because the gateway guard refused them (breaker open, every slot taken): not errors. */
  readonly deferred: number;
}

/**
 * One pass of the background sweep, safe to run from every API process at once:
 * pending orders nobody asked about are queried (lost notifies), expired ones are closed at the
 * gateway, and refunds still processing are checked with the gateway. Each order and refund goes through
 * the gateway of its order's protocol; those of a protocol this process has no gateway for are left to a
 * process that has one. While a protocol's gateway guard refuses calls (its breaker is open), the pass asks
 * nothing of that gateway: its orders and refunds are deferred to a later pass, logged once.
 */
export async function sweepOnce(ctx: ServiceContext): Promise<SweepReport> {
  const now = ctx.clock();
  const threshold = isoAt(now - ctx.config.orderQueryAfterSeconds * 1000);
  let queried = 0;
  let closed = 0;
  let refundsChecked = 0;
  let errors = 0;
  const protocols = ctx.gateways.configured;
  const deferred = new Map<Protocol, { count: number; retryAfterSeconds: number | undefined }>();
  /** True (and counted) when the guard would refuse a call of `protocol` now, or refused one. */
  const defer = (protocol: Protocol, refused: GatewayCallError | undefined): boolean => {
    if (refused === undefined) return false;
    const seen = deferred.get(protocol);
    deferred.set(protocol, { count: (seen?.count ?? 0) + 1, retryAfterSeconds: seen?.retryAfterSeconds ?? refused.retryAfterSeconds });
    return true;
  };

  for (const order of await expiredPendingOrders(ctx.db, isoAt(now), BATCH, protocols)) {
    if (defer(order.protocol, ctx.gateways.refusal(order.protocol))) continue;
    try {
      const result = await closeWithGateway(ctx, order, "sweep");
      if (!result.ok && result.failure.kind === "gateway-failed" && result.failure.error.kind === "shed") defer(order.protocol, result.failure.error);
      else if (!result.ok) {
        errors++;
        ctx.logger.warn({ orderId: order.id, failure: result.failure.kind }, "sweep: closing an expired order failed");
      } else if (result.value.status === "closed") closed++;
    } catch (error) {
      errors++;
      ctx.logger.warn({ orderId: order.id, err: error }, "sweep: closing an expired order failed");
    }
  }

  for (const order of await stalePendingOrders(ctx.db, threshold, BATCH, protocols)) {
    if (defer(order.protocol, ctx.gateways.refusal(order.protocol))) continue;
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
    if (defer(refund.protocol, ctx.gateways.refusal(refund.protocol))) continue;
    if (!(await claimRefundQuery(ctx.db, refund.id, isoAt(now), threshold))) continue;
    const answer = await gateway.value.queryRefund(refund.id);
    if (!answer.ok && answer.error.kind === "shed") {
      // Refused by the guard after the claim: nothing was asked; the claim only delays the next look.
      defer(refund.protocol, answer.error);
      continue;
    }
    refundsChecked++;
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
  for (const [protocol, { count, retryAfterSeconds }] of deferred) {
    ctx.logger.warn(
      { protocol, deferred: count, retryAfterSeconds },
      "sweep: the gateway guard refuses calls (breaker open or every slot taken); deferring this protocol's queries and closes",
    );
  }
  let deferredTotal = 0;
  for (const { count } of deferred.values()) deferredTotal += count;
  return { queried, closed, refundsChecked, errors, deferred: deferredTotal };
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
