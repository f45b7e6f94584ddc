import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import type { Middleware } from "koa";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { GatewayRegistry } from "../gateway/registry.js";
import { gatewayFailure } from "../routes/outcomes.js";

/** At most one summary line per this many ms for the requests shed at the edge. */
export const EDGE_SHED_LOG_INTERVAL_MS = 1000;

const CREATE_PATH = /^\/api\/orders\/?$/i;

export interface EdgeShedOptions {
  readonly gateways: Pick<GatewayRegistry, "refusal" | "protocolForNewOrders">;
  readonly logger: Logger;
  readonly clock: Clock;
}

/**
 * Issue 21: under a flood of create-order requests while the gateway guard refuses every call
 * (breaker open, every slot and queue place taken), those requests are refused here, first in the chain: a
 * fixed 503 GATEWAY_UNAVAILABLE with Retry-After, before the request log, the version check, auth, the rate
 * limit's statement and the body. Refused further in, each cost about as much as a notify (ApiError, error
 * middleware, a log line each); at several times the API's capacity they took the event loop from the
 * notifies. Nothing is written or called; the shed requests are summed in one log line a second (and in
 * pay_gateway_shed_total, by the guard) instead of one line each. A request the guard would admit goes on
 * as before, and the service checks the guard again before it writes.
 */
export function createEdgeShed(options: EdgeShedOptions): Middleware {
  const { gateways, logger, clock } = options;
  let shedCount = 0;
  let windowStart = 0;
  const note = (reason: string, retryAfterSeconds: number): void => {
    shedCount++;
    const now = clock();
    if (now - windowStart < EDGE_SHED_LOG_INTERVAL_MS) return;
    logger.warn({ shed: shedCount, sinceMs: windowStart === 0 ? undefined : now - windowStart, reason, retryAfterSeconds }, "gateway-bound requests shed at the edge");
    shedCount = 0;
    windowStart = now;
  };
  return function edgeShed(ctx, next) {
    // Renewals are not shed here: a renewal's protocol is its order's, known only after a read.
    if (ctx.method !== "POST" || !CREATE_PATH.test(ctx.path)) return next();
    const refused = gateways.refusal(gateways.protocolForNewOrders);
    if (refused?.kind !== "shed") return next();
    // The same answer the route would give (routes/outcomes.ts), without the route's work.
    const error = gatewayFailure("unifiedorder", refused);
    note(refused.message, error.retryAfterSeconds ?? 1);
    ctx.status = error.status;
    ctx.set(CONTRACT_VERSION_HEADER, CONTRACT_VERSION);
    if (error.retryAfterSeconds !== undefined) ctx.set("Retry-After", String(error.retryAfterSeconds));
    ctx.type = "application/json";
    // The body is left unread: Node discards it after the answer and keeps the connection.
    ctx.body = JSON.stringify(error.toBody());
    return Promise.resolve();
  };
}
