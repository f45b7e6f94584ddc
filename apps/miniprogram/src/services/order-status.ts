import type { Order, OrderStatus } from "@pay/core/contract";
import type { ApiClient } from "../api/client.js";
import { isTransient, retryAfterOf, type ClientError } from "../api/errors.js";
import type { Clock } from "../utils/clock.js";

/** How waiting for the server's word on an order ended. */
export type ConfirmOutcome =
  /** The server has settled the order: paid (or refunded since), or closed without payment. */
  | { readonly kind: "settled"; readonly order: Order; readonly status: Exclude<OrderStatus, "pending"> }
  /**
   * Still pending when time ran out; `lastError` is the latest failed check, if the last one failed. A
   * check refused with a wait that reaches past the deadline ends the wait early, with that refusal.
   */
  | { readonly kind: "timeout"; readonly order: Order | undefined; readonly lastError: ClientError | undefined }
  /** A check failed in a way that waiting will not fix (no such order, signed out, app too old). */
  | { readonly kind: "error"; readonly error: ClientError }
  | { readonly kind: "stopped" };

export interface ConfirmOptions {
  readonly api: ApiClient;
  readonly clock: Clock;
  readonly orderId: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Called after every successful check, e.g. to show the order while waiting. */
  readonly onCheck?: (order: Order) => void;
}

/** A wait in progress; `stop()` ends it at the next step (the page was closed). */
export interface Confirmation {
  readonly done: Promise<ConfirmOutcome>;
  stop(): void;
}

/**
 * Asks GET /api/orders/:id until the order is no longer pending or `timeoutMs` has passed. The client's
 * `requestPayment:ok` proves nothing; the server learns the truth from WeChat Pay's notify or, when
 * none arrives, by querying WeChat Pay itself while it answers these checks. A check the server
 * refused with a wait (Retry-After) is not repeated before that wait has passed.
 */
export function confirmOrder(options: ConfirmOptions): Confirmation {
  const { api, clock, orderId } = options;
  let stopped = false;
  // Set by stop() while run() awaits; read through a call, since the compiler assumes it is still false.
  const isStopped = (): boolean => stopped;

  async function run(): Promise<ConfirmOutcome> {
    const deadline = clock.now() + options.timeoutMs;
    let latest: Order | undefined;
    let lastError: ClientError | undefined;
    for (;;) {
      if (isStopped()) return { kind: "stopped" };
      const answer = await api.call("getOrder", { params: { id: orderId } });
      if (isStopped()) return { kind: "stopped" };
      if (answer.ok) {
        latest = answer.value.order;
        lastError = undefined;
        options.onCheck?.(latest);
        if (latest.status !== "pending") return { kind: "settled", order: latest, status: latest.status };
      } else if (isTransient(answer.error)) {
        lastError = answer.error;
      } else {
        return { kind: "error", error: answer.error };
      }
      const left = deadline - clock.now();
      if (left <= 0) return { kind: "timeout", order: latest, lastError };
      const wait = answer.ok ? 0 : (retryAfterOf(answer.error) ?? 0) * 1000;
      // The next check may not come before the server's wait: when that is after the deadline, there is none.
      if (wait > left) return { kind: "timeout", order: latest, lastError };
      await clock.sleep(Math.max(Math.min(options.intervalMs, left), wait));
    }
  }

  return {
    done: run(),
    stop() {
      stopped = true;
    },
  };
}
