import type { Context, Next } from "koa";
import { ApiError } from "../errors.js";

/** What the in-flight cap reports (metrics/registry.ts). */
export interface InFlightObserver {
  /** The count changed (a request was admitted or released). */
  inFlight(count: number): void;
  /** A request was refused with OVERLOADED. */
  shed(): void;
}

export interface InFlightCapOptions {
  /** API_MAX_IN_FLIGHT: requests admitted at once. */
  readonly max: number;
  /** Sent with OVERLOADED as Retry-After and `retryAfterSeconds`; default 1. */
  readonly retryAfterSeconds?: number | undefined;
  readonly observer?: InFlightObserver | undefined;
}

/** The in-flight cap's middleware, with its count for tests and metrics. */
export interface InFlightCap {
  (ctx: Context, next: Next): Promise<void>;
  /** Requests admitted and not yet released. */
  readonly count: () => number;
}

/**
 * A per-process cap on requests in flight (the /api routes; app.ts decides which paths pass through it):
 * beyond `max`, a request is answered at once 503 OVERLOADED with Retry-After, before its body is read or
 * anything is written. A counter, no queue: a refused request costs a comparison.
 *
 * An admitted request holds its place until both its handler has finished AND its response is done (sent
 * or its connection closed): a client that goes away does not free the place while its handler still works
 * (a gateway call, say), and a streamed answer (a CSV export) holds it until the last byte.
 */
export function createInFlightCap(options: InFlightCapOptions): InFlightCap {
  const { max, observer } = options;
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`createInFlightCap: max must be a positive integer, got ${max}`);
  if (!Number.isInteger(retryAfterSeconds) || retryAfterSeconds < 1)
    throw new RangeError(`createInFlightCap: retryAfterSeconds must be a positive integer, got ${retryAfterSeconds}`);
  let count = 0;

  async function capInFlight(ctx: Context, next: Next): Promise<void> {
    if (count >= max) {
      observer?.shed();
      // The body is never read: the connection closes after the answer instead of draining it.
      const { headers } = ctx.req;
      if ((headers["content-length"] !== undefined && headers["content-length"] !== "0") || headers["transfer-encoding"] !== undefined) ctx.set("Connection", "close");
      throw new ApiError("OVERLOADED", "The API is serving as many requests as it can; try again shortly.", { retryAfterSeconds });
    }
    count += 1;
    observer?.inFlight(count);
    // Two conditions release the place: the handler settled, and the response is done.
    let pending = 2;
    const release = (): void => {
      pending -= 1;
      if (pending !== 0) return;
      count -= 1;
      observer?.inFlight(count);
    };
    const res = ctx.res;
    // 'close' comes once per response: after the last byte is handed over, or when the connection ends first.
    if (res.closed) release();
    else res.once("close", release);
    try {
      await next();
    } finally {
      release();
    }
  }
  return Object.assign(capInFlight, { count: () => count });
}
