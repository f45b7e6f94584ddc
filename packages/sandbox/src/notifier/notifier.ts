import { isNotifyAcknowledged } from "@pay/core";
import type { Clock } from "../clock.js";
import type { NotifyBehaviour } from "../options.js";
import type { SandboxStore } from "../state/store.js";
import type { DeliveryAttempt } from "../state/types.js";

/** The official retry delays after the first attempt: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (24h4m). */
export const NOTIFY_RETRY_SCHEDULE_MS: readonly number[] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600].map((s) => s * 1000);

/** One delivery's exact body and headers. */
export interface NotifyMessage {
  readonly body: string;
  /** Headers besides user-agent: content-type, and for v3 the `Wechatpay-*` signature headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** A notify to deliver until the receiver acknowledges it or the schedule runs out. */
export interface NotifyJob {
  /** v2: XML, acknowledged only by the exact SUCCESS reply with HTTP 200. v3: signed JSON, acknowledged by any 2xx. */
  readonly protocol: "v2" | "v3";
  readonly kind: "pay" | "refund";
  /** v3: TRANSACTION.SUCCESS, REFUND.SUCCESS, ...; absent for v2. */
  readonly eventType?: string | undefined;
  readonly outTradeNo: string;
  readonly outRefundNo?: string | undefined;
  readonly url: string;
  /** Builds one attempt (same data each time, a fresh nonce, and for v3 a fresh timestamp and signature). */
  readonly message: () => NotifyMessage;
  /**
   * v3 signature probe: sent once before the first attempt, signed `WECHATPAY/SIGNTEST/...`. A receiver
   * must refuse it (non-2xx); the real delivery follows either way.
   */
  readonly probe?: (() => NotifyMessage) | undefined;
}

interface Outcome {
  readonly outcome: DeliveryAttempt["outcome"];
  readonly httpStatus: number | undefined;
  readonly reply: string;
}

/**
 * Delivers notifies like the real gateway: v2 POSTs text/xml and succeeds only on the exact SUCCESS reply,
 * v3 POSTs signed JSON and succeeds on any 2xx, both within the timeout, retries on the official schedule (scaled), optional duplicates and concurrent copies.
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

  /** Starts delivering a job: the probe if any, then the first attempt (with any concurrent copies), retries as scheduled. */
  enqueue(job: NotifyJob): void {
    if (this.closed) return;
    if (job.probe !== undefined) {
      void this.sendProbe(job, job.probe).then(() => this.start(job));
      return;
    }
    this.start(job);
  }

  private start(job: NotifyJob): void {
    if (this.closed) return;
    for (let copy = 1; copy < this.behaviour.concurrent; copy++) void this.attempt(job, 1, true);
    void this.run(job, 1);
  }

  /** Sends the probe and logs whether the receiver refused it (right) or acknowledged it (it did not verify the signature). */
  private async sendProbe(job: NotifyJob, probe: () => NotifyMessage): Promise<void> {
    const started = this.clock.now();
    const startedReal = performance.now();
    const result = await this.post(job, probe());
    const accepted = result.outcome === "acknowledged";
    this.store.recordDelivery({
      protocol: job.protocol,
      kind: job.kind,
      eventType: job.eventType,
      outTradeNo: job.outTradeNo,
      outRefundNo: job.outRefundNo,
      url: job.url,
      attempt: 0,
      copy: false,
      at: started,
      outcome: accepted ? "probe-accepted" : "probe-refused",
      httpStatus: result.httpStatus,
      reply: result.reply,
      durationMs: Math.round(performance.now() - startedReal),
    });
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
    const result = await this.post(job, job.message());
    this.store.recordDelivery({
      protocol: job.protocol,
      kind: job.kind,
      eventType: job.eventType,
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

  private async post(job: NotifyJob, message: NotifyMessage): Promise<Outcome> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    // The timeout is real time, not clock time: a receiver's slowness happens in the real world.
    const timeout = setTimeout(() => controller.abort(new Error("timeout")), this.behaviour.timeoutMs);
    try {
      const response = await fetch(job.url, {
        method: "POST",
        headers: { ...message.headers, "user-agent": "Mozilla/4.0 (pay-sandbox notify)" },
        body: message.body,
        signal: controller.signal,
        redirect: "manual",
      });
      const reply = await response.text();
      const snippet = reply.slice(0, 200);
      if (job.protocol === "v3") {
        // v3: any 2xx within the timeout is success, whatever the body (reference §7.3).
        return { outcome: response.status >= 200 && response.status < 300 ? "acknowledged" : "http-error", httpStatus: response.status, reply: snippet };
      }
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
