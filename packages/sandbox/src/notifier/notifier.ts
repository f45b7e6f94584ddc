import { isNotifyAcknowledged } from "@pay/core";
import type { Clock } from "../clock.js";
import type { NotifyBehaviour } from "../options.js";
import type { SandboxStore } from "../state/store.js";
import type { DeliveryAttempt } from "../state/types.js";

/** The official retry delays after the first attempt: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (24h4m). */
export const NOTIFY_RETRY_SCHEDULE_MS: readonly number[] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600].map((s) => s * 1000);

/** A notify to deliver until the receiver acknowledges it or the schedule runs out. */
export interface NotifyJob {
  readonly kind: "pay" | "refund";
  readonly outTradeNo: string;
  readonly outRefundNo?: string | undefined;
  readonly url: string;
  /** Builds the body for one attempt (same data each time, a fresh nonce). */
  readonly body: () => string;
}

interface Outcome {
  readonly outcome: DeliveryAttempt["outcome"];
  readonly httpStatus: number | undefined;
  readonly reply: string;
}

/**
 * Delivers notifies like the real gateway: POST text/xml, success only on the exact SUCCESS reply
 * within the timeout, retries on the official schedule (scaled), optional duplicates and concurrent copies.
 */
export class Notifier {
  private readonly timers = new Set<unknown>();
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly store: SandboxStore,
    private readonly behaviour: NotifyBehaviour,
  ) {}

  /** Starts delivering a job: the first attempt now (with any concurrent copies), retries as scheduled. */
  enqueue(job: NotifyJob): void {
    if (this.closed) return;
    for (let copy = 1; copy < this.behaviour.concurrent; copy++) void this.attempt(job, 1, true);
    void this.run(job, 1);
  }

  /** Stops all retries and aborts deliveries in flight. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) this.clock.clearTimer(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
  }

  private async run(job: NotifyJob, attempt: number): Promise<void> {
    const result = await this.attempt(job, attempt, false);
    if (this.closed) return;
    if (result.outcome === "acknowledged") {
      for (let i = 0; i < this.behaviour.duplicates; i++) void this.attempt(job, attempt, true);
      return;
    }
    const delay = NOTIFY_RETRY_SCHEDULE_MS[attempt - 1];
    if (delay === undefined) return;
    const timer = this.clock.setTimer(() => {
      this.timers.delete(timer);
      void this.run(job, attempt + 1);
    }, delay * this.behaviour.retryScale);
    this.timers.add(timer);
  }

  private async attempt(job: NotifyJob, attempt: number, copy: boolean): Promise<Outcome> {
    const started = this.clock.now();
    const startedReal = performance.now();
    const result = await this.post(job.url, job.body());
    this.store.recordDelivery({
      kind: job.kind,
      outTradeNo: job.outTradeNo,
      outRefundNo: job.outRefundNo,
      url: job.url,
      attempt,
      copy,
      at: started,
      outcome: result.outcome,
      httpStatus: result.httpStatus,
      reply: result.reply,
      durationMs: Math.round(performance.now() - startedReal),
    });
    return result;
  }

  private async post(url: string, body: string): Promise<Outcome> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    // The timeout is real time, not clock time: a receiver's slowness happens in the real world.
    const timeout = setTimeout(() => controller.abort(new Error("timeout")), this.behaviour.timeoutMs);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "text/xml; charset=utf-8", "user-agent": "Mozilla/4.0 (pay-sandbox notify)" },
        body,
        signal: controller.signal,
        redirect: "manual",
      });
      const reply = await response.text();
      const snippet = reply.slice(0, 200);
      if (response.status !== 200) return { outcome: "http-error", httpStatus: response.status, reply: snippet };
      return { outcome: isNotifyAcknowledged(reply) ? "acknowledged" : "rejected", httpStatus: 200, reply: snippet };
    } catch (cause) {
      const timedOut = controller.signal.aborted && !this.closed;
      return { outcome: timedOut ? "timeout" : "network-error", httpStatus: undefined, reply: cause instanceof Error ? cause.message.slice(0, 200) : "" };
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }
}
