// What the bench's webhook receiver saw: every event id once (receivers dedupe by id, as docs/webhooks.md
// asks), the repeats counted, and for each new event how long after its createdAt it arrived.

/** One measured window of deliveries (since the previous `takeWindow`). */
export interface DeliveryWindow {
  /** Events received for the first time in the window. */
  readonly delivered: number;
  /** Deliveries of an event already received (at-least-once delivery repeats some). */
  readonly duplicates: number;
  /** Requests refused: a bad or missing signature, a body that is not an event. */
  readonly refused: number;
  /** Receipt time minus the event's createdAt, for each new event, ascending (ms). */
  readonly lagsMs: readonly number[];
  /** Receipt times (epoch ms) of the first and the last new event of the window; NaN when none. */
  readonly firstAtMs: number;
  readonly lastAtMs: number;
}

/** Totals since the receiver started. */
export interface LedgerTotals {
  readonly distinct: number;
  readonly duplicates: number;
  readonly refused: number;
}

export class DeliveryLedger {
  private readonly seen = new Set<string>();
  private duplicates = 0;
  private refused = 0;
  private window = { delivered: 0, duplicates: 0, refused: 0, lags: [] as number[], first: Number.NaN, last: Number.NaN };

  /** Records a verified event; "duplicate" when its id was received before (it is then not counted again). */
  record(eventId: string, createdAt: string, receivedAtMs: number): "new" | "duplicate" {
    if (this.seen.has(eventId)) {
      this.duplicates++;
      this.window.duplicates++;
      return "duplicate";
    }
    this.seen.add(eventId);
    const w = this.window;
    w.delivered++;
    w.lags.push(receivedAtMs - Date.parse(createdAt));
    if (Number.isNaN(w.first)) w.first = receivedAtMs;
    w.last = receivedAtMs;
    return "new";
  }

  /** Records a refused request. */
  refuse(): void {
    this.refused++;
    this.window.refused++;
  }

  totals(): LedgerTotals {
    return { distinct: this.seen.size, duplicates: this.duplicates, refused: this.refused };
  }

  /** The window since the previous call, and a new one started. */
  takeWindow(): DeliveryWindow {
    const w = this.window;
    this.window = { delivered: 0, duplicates: 0, refused: 0, lags: [], first: Number.NaN, last: Number.NaN };
    return { delivered: w.delivered, duplicates: w.duplicates, refused: w.refused, lagsMs: w.lags.sort((a, b) => a - b), firstAtMs: w.first, lastAtMs: w.last };
  }
}

/** The q-quantile of ascending values (nearest rank); NaN for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/** No deliveries yet. */
export const EMPTY_WINDOW: DeliveryWindow = { delivered: 0, duplicates: 0, refused: 0, lagsMs: [], firstAtMs: Number.NaN, lastAtMs: Number.NaN };

/** Two consecutive windows as one. */
export function mergeWindows(a: DeliveryWindow, b: DeliveryWindow): DeliveryWindow {
  const earliest = [a.firstAtMs, b.firstAtMs].filter((t) => !Number.isNaN(t));
  const latest = [a.lastAtMs, b.lastAtMs].filter((t) => !Number.isNaN(t));
  return {
    delivered: a.delivered + b.delivered,
    duplicates: a.duplicates + b.duplicates,
    refused: a.refused + b.refused,
    lagsMs: [...a.lagsMs, ...b.lagsMs].sort((x, y) => x - y),
    firstAtMs: earliest.length === 0 ? Number.NaN : Math.min(...earliest),
    lastAtMs: latest.length === 0 ? Number.NaN : Math.max(...latest),
  };
}
