// A notify target whose API delivers webhooks: before each measured run the deliveries of earlier runs are
// drained, and after it the bench waits until the receiver has every event the run wrote, so the API's CPU
// for delivering them counts for the run; each run's deliveries (lags, receipt times) are kept.
import type { LoadOutcome } from "../load/job.js";
import type { LoadTarget } from "../load/rounds.js";
import type { SeedDatabase } from "../data/seed.js";
import type { ReceiverWindowMessage } from "../servers/protocol.js";
import { EMPTY_WINDOW, mergeWindows, type DeliveryWindow } from "./ledger.js";

/** What one measured run delivered. */
export interface RunDeliveries {
  /** When the load generator stopped (epoch ms). */
  readonly loadEndedAtMs: number;
  /** Outbox rows the run wrote. */
  readonly events: number;
  readonly window: DeliveryWindow;
  /** False when the receiver did not have every event within the drain timeout. */
  readonly drained: boolean;
}

/** The receiver as the target sees it. */
export interface ReceiverWindows {
  takeWindow(): Promise<ReceiverWindowMessage>;
}

export interface DeliveringOptions {
  readonly drainTimeoutMs: number;
  readonly pollMs: number;
}

export const DELIVERING: DeliveringOptions = { drainTimeoutMs: 180_000, pollMs: 50 };
/** Notifies still in flight when the load generator stops commit a little later. */
const IN_FLIGHT_MS = 300;

function wait(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wraps `base` (a distinct notify target of an API configured with the receiver's endpoint); each measured run's deliveries are pushed to `runs`. */
export function deliveringTarget(
  base: LoadTarget,
  db: Pick<SeedDatabase, "countWebhookEvents">,
  receiver: ReceiverWindows,
  runs: RunDeliveries[],
  options: DeliveringOptions = DELIVERING,
): LoadTarget {
  let window = EMPTY_WINDOW;
  let eventsBefore = 0;
  let last: RunDeliveries | undefined;

  /** Polls the receiver (collecting its windows) until it holds as many distinct events as the outbox; false on timeout. */
  const drain = async (): Promise<boolean> => {
    const started = Date.now();
    for (;;) {
      const { window: next, totals } = await receiver.takeWindow();
      window = mergeWindows(window, next);
      if (totals.distinct >= (await db.countWebhookEvents())) return true;
      if (Date.now() - started > options.drainTimeoutMs) return false;
      await wait(options.pollMs);
    }
  };

  return {
    name: base.name,
    cpuSeconds: () => base.cpuSeconds(),
    async job(phase, extent, connections) {
      if (phase === "measure") {
        await wait(IN_FLIGHT_MS);
        if (!(await drain())) throw new Error(`${base.name}: earlier deliveries were not drained within ${options.drainTimeoutMs / 1000} s.`);
        window = EMPTY_WINDOW;
        eventsBefore = await db.countWebhookEvents();
      }
      return base.job(phase, extent, connections);
    },
    async settle() {
      const loadEndedAtMs = Date.now();
      await wait(IN_FLIGHT_MS);
      const drained = await drain();
      last = { loadEndedAtMs, events: (await db.countWebhookEvents()) - eventsBefore, window, drained };
      runs.push(last);
    },
    async check(outcome: LoadOutcome) {
      const problem = await base.check?.(outcome);
      if (problem !== undefined) return problem;
      if (last === undefined) return "no deliveries recorded";
      if (!last.drained) return `${last.window.delivered} of ${last.events} events delivered within ${options.drainTimeoutMs / 1000} s`;
      if (last.window.refused > 0) return `${last.window.refused} deliveries refused by the receiver`;
      if (last.window.delivered < last.events) return `${last.window.delivered} events delivered for ${last.events} written`;
      return undefined;
    },
  };
}
