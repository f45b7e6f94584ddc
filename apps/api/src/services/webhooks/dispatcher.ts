import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER, webhookSignatureHeader } from "@pay/core/webhooks";
import { isoAt } from "../../clock.js";
import { childLogger } from "../../logging.js";
import { claimDueDeliveries, fanOutEvents, recordDelivered, recordFailedAttempt, type ClaimedDelivery } from "../../db/webhook-deliveries.js";
import { DELIVERY_WINDOW_MS } from "../../db/webhook-endpoints.js";
import type { ServiceContext } from "../context.js";
import { retryDelayMs } from "./backoff.js";
import { createWebhookSender, WEBHOOK_TIMEOUT_MS, type WebhookAttempt, type WebhookSender } from "./sender.js";

export interface WebhookDispatcherOptions {
  /** Sends the POSTs; by default one with the 10 s timeout (shorter when the lease is under 20 s), closed by stop(). */
  readonly sender?: WebhookSender | undefined;
  /** The jitter source, a value in [0, 1); Math.random by default. */
  readonly random?: (() => number) | undefined;
  /** Who holds this process's claims; hostname:pid:random by default. */
  readonly ownerId?: string | undefined;
  /** How long a claim holds a delivery; config.webhooks.leaseMs (60 s) by default. */
  readonly leaseMs?: number | undefined;
  /** How often to look for due deliveries when not woken by a commit; config.webhooks.pollIntervalMs by default. */
  readonly pollIntervalMs?: number | undefined;
  /** Most deliveries claimed by one runOnce(); 100 by default. */
  readonly batchSize?: number | undefined;
  /** Most POSTs in flight at once; 16 by default. */
  readonly maxConcurrent?: number | undefined;
  /** Most events fanned out per statement; 500 by default. */
  readonly fanOutBatch?: number | undefined;
  /**
   * How long after a local commit the dispatcher looks for its events, so that the commits of a busy
   * moment share one pass (one fan-out and one claim) instead of one pass each; 25 ms by default.
   */
  readonly publishCoalesceMs?: number | undefined;
}

/** What a runOnce() did. */
export interface DispatchCounts {
  /** Events fanned out. */
  readonly fannedOut: number;
  readonly claimed: number;
  readonly delivered: number;
  /** Failed attempts rescheduled. */
  readonly retrying: number;
  /** Failed attempts past the 3-day window: given up. */
  readonly failed: number;
  /** Results not recorded: the lease had passed to another process, or the database refused the update. */
  readonly unrecorded: number;
}

type AttemptOutcome = "delivered" | "retrying" | "failed" | "unrecorded";

export interface WebhookDispatcher {
  readonly ownerId: string;
  /** One pass for tests: fans out, claims up to batchSize, sends them (maxConcurrent at a time), records, and counts. */
  runOnce(): Promise<DispatchCounts>;
  /** Polls every pollIntervalMs and whenever events are published; never throws from the loop. */
  start(): void;
  /** Stops polling and waits for the attempts in flight to be recorded; closes a sender it made. Final: it cannot be started again. */
  stop(): Promise<void>;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Delivers webhook events (docs/webhooks.md): fans new events out to the endpoints subscribed to them,
 * claims due deliveries with a lease, POSTs them signed, and records each outcome (delivered, retried
 * after backoff, or given up after 3 days). Any number of dispatchers may share one database.
 */
export function createWebhookDispatcher(ctx: ServiceContext, options: WebhookDispatcherOptions = {}): WebhookDispatcher {
  const leaseMs = positiveInteger("leaseMs", options.leaseMs ?? ctx.config.webhooks.leaseMs);
  const pollIntervalMs = positiveInteger("pollIntervalMs", options.pollIntervalMs ?? ctx.config.webhooks.pollIntervalMs);
  const batchSize = positiveInteger("batchSize", options.batchSize ?? 100);
  const maxConcurrent = positiveInteger("maxConcurrent", options.maxConcurrent ?? 16);
  const fanOutBatch = positiveInteger("fanOutBatch", options.fanOutBatch ?? 500);
  const publishCoalesceMs = positiveInteger("publishCoalesceMs", options.publishCoalesceMs ?? 25);
  const random = options.random ?? Math.random;
  const ownerId = options.ownerId ?? `${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
  // An attempt must end well within its lease, or a second process could send it while it is still in flight.
  const ownSender = options.sender === undefined;
  const sender = options.sender ?? createWebhookSender({ timeoutMs: Math.min(WEBHOOK_TIMEOUT_MS, Math.floor(leaseMs / 2)) });
  const logger = childLogger(ctx.logger, { component: "webhooks" });
  // stop() is final: a sender it closed cannot send again.
  let closed = false;

  /** Fans out every event waiting (in statements of fanOutBatch), returning how many. */
  async function fanOut(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = ctx.clock();
      const result = await fanOutEvents(ctx.db, ctx.dialect, isoAt(now), isoAt(now + DELIVERY_WINDOW_MS), fanOutBatch);
      total += result.events;
      if (result.events < fanOutBatch) return total;
    }
  }

  async function claim(limit: number): Promise<ClaimedDelivery[]> {
    const now = ctx.clock();
    return claimDueDeliveries(ctx.db, ctx.dialect, { owner: ownerId, now: isoAt(now), leaseUntil: isoAt(now + leaseMs), limit });
  }

  /** One POST and its record; never throws. */
  async function attempt(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    const sentAt = ctx.clock();
    const secrets = [delivery.secret];
    if (delivery.previousSecret !== null && delivery.previousSecretExpiresAt !== null && delivery.previousSecretExpiresAt > isoAt(sentAt)) secrets.push(delivery.previousSecret);
    let result: WebhookAttempt;
    try {
      result = await sender.send({
        url: delivery.url,
        body: delivery.payload,
        headers: {
          [WEBHOOK_EVENT_ID_HEADER]: delivery.eventId,
          [WEBHOOK_EVENT_TYPE_HEADER]: delivery.eventType,
          [WEBHOOK_SIGNATURE_HEADER]: webhookSignatureHeader(delivery.payload, secrets, Math.floor(sentAt / 1000)),
        },
      });
    } catch (error) {
      // A sender never throws; should one (or signing) fail anyway, it is a failed attempt like any other.
      result = { ok: false, status: undefined, error: `not sent: ${error instanceof Error ? error.message : String(error)}`.slice(0, 512), durationMs: 0 };
    }
    const now = ctx.clock();
    const lease = { id: delivery.id, owner: ownerId, attempts: delivery.attempts };
    const line = { deliveryId: delivery.id, eventId: delivery.eventId, eventType: delivery.eventType, endpointId: delivery.endpointId, attempts: delivery.attempts };
    let outcome: AttemptOutcome;
    let nextAttemptAt: string | undefined;
    try {
      if (result.ok) {
        outcome = (await recordDelivered(ctx.db, lease, { now: isoAt(now), status: result.status })) ? "delivered" : "unrecorded";
      } else {
        nextAttemptAt = isoAt(now + retryDelayMs(delivery.attempts, random));
        const state = await recordFailedAttempt(ctx.db, lease, { now: isoAt(now), nextAttemptAt, status: result.status, error: result.error });
        outcome = state === undefined ? "unrecorded" : state === "failed" ? "failed" : "retrying";
      }
    } catch (error) {
      // The lease runs out and the delivery is tried again: at least once.
      logger.error({ ...line, err: error }, "webhook attempt not recorded: the database refused it");
      ctx.metrics.webhookAttempt("unrecorded", undefined);
      return "unrecorded";
    }
    const fields = {
      ...line,
      outcome,
      status: result.status ?? null,
      durationMs: result.durationMs,
      ...(result.ok ? {} : { error: result.error }),
      ...(outcome === "retrying" ? { nextAttemptAt } : {}),
    };
    ctx.metrics.webhookAttempt(outcome, outcome === "delivered" ? (now - Date.parse(delivery.eventCreatedAt)) / 1000 : undefined);
    if (outcome === "unrecorded") logger.warn(fields, "webhook attempt not recorded: the lease passed to another process");
    else logger.info(fields, outcome === "delivered" ? "webhook delivered" : outcome === "failed" ? "webhook delivery given up" : "webhook attempt failed");
    return outcome;
  }

  async function runOnce(): Promise<DispatchCounts> {
    if (closed) throw new Error("the webhook dispatcher was stopped");
    const fannedOut = await fanOut();
    const claimed = await claim(batchSize);
    const counts = { delivered: 0, retrying: 0, failed: 0, unrecorded: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < claimed.length) {
        const delivery = claimed[next++] as ClaimedDelivery;
        counts[await attempt(delivery)]++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(maxConcurrent, claimed.length) }, worker));
    return { fannedOut, claimed: claimed.length, ...counts };
  }

  // The loop: one pass at a time. A pass fans out, then claims only as many deliveries as there are free
  // slots and starts them without waiting, so a slow endpoint never holds up the others; each finished
  // attempt, each publish and each tick wakes another pass (right after the current one if it is running).
  const inFlight = new Set<Promise<unknown>>();
  let running = false;
  let again = false;
  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let unsubscribe: (() => void) | undefined;

  async function pass(): Promise<void> {
    await fanOut();
    const free = maxConcurrent - inFlight.size;
    if (free <= 0 || stopped) return;
    for (const delivery of await claim(Math.min(free, batchSize))) {
      const sending = attempt(delivery).finally(() => {
        inFlight.delete(sending);
        wake();
      });
      inFlight.add(sending);
    }
  }

  // A function, not an inline test: the flags change while a pass awaits.
  const wokenMeanwhile = (): boolean => again && !stopped;

  async function passes(): Promise<void> {
    do {
      again = false;
      try {
        await pass();
      } catch (error) {
        // Retried on the next tick, not at once: a database that is down is not hammered.
        again = false;
        logger.error({ err: error }, "webhook dispatch pass failed; retrying on the next tick");
      }
    } while (wokenMeanwhile());
    running = false;
    if (!stopped) timer = setTimeout(wake, pollIntervalMs);
  }

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    timer = undefined;
    running = true;
    loop = passes();
  }

  // A commit's wake-up: one pass for every commit of the next publishCoalesceMs. Under a notify load every
  // paid batch publishes; a pass each cost the payment path a fan-out and a claim per batch (measured).
  function wakeSoon(): void {
    if (stopped || soon !== undefined) return;
    soon = setTimeout(() => {
      soon = undefined;
      wake();
    }, publishCoalesceMs);
  }

  return {
    ownerId,
    runOnce,
    start() {
      if (closed) throw new Error("the webhook dispatcher was stopped: create another");
      if (!stopped) return;
      stopped = false;
      unsubscribe = ctx.events.onPublished(() => wakeSoon());
      wake();
    },
    async stop() {
      stopped = true;
      closed = true;
      unsubscribe?.();
      unsubscribe = undefined;
      clearTimeout(timer);
      timer = undefined;
      clearTimeout(soon);
      soon = undefined;
      await loop;
      while (inFlight.size > 0) await Promise.all(inFlight);
      if (ownSender) await sender.close();
    },
  };
}
