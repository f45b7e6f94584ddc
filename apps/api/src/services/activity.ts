import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { isoAt, type Clock } from "../clock.js";
import { insertActivity, type NewOrderActivityRow } from "../db/activity.js";
import type { Database, OrderActivityKind } from "../db/schema.js";

/** One thing that happened to an order (or a notify that named none we trust), as the timeline shows it. */
export interface ActivityEntry {
  readonly kind: OrderActivityKind;
  readonly outcome: string;
  /** Set only when trusted: a verified notify's order, or the order a query or prepay was made for. */
  readonly orderId?: string | undefined;
  readonly refundId?: string | undefined;
  readonly protocol?: "v2" | "v3" | undefined;
  /** A short code (a refusal code, a gateway error code). */
  readonly reason?: string | undefined;
  /** Short text: the trigger (sweep, client, reconciliation) or an unverified claim. Never a secret, never a raw body. */
  readonly detail?: string | undefined;
}

/**
 * Buffers activity rows and writes them in batches, off the request path: record() only pushes onto an
 * array. A crash loses at most the rows not yet flushed (timeline rows, never money state).
 *
 * Repeated duplicates coalesce: a duplicate notify identical to one still buffered (same kind, order,
 * refund, protocol, reason and detail) adds to that row's `repeats` and moves its `last_at` instead of
 * adding a row, so WeChat Pay's retries of a paid order cost a counter, not a row each. The row keeps
 * the first one's time; the timeline shows the count and the last time. Nothing else coalesces.
 */
export interface ActivityRecorder {
  /** Keeps the entry (timestamped now) for the next batch; never throws, never waits. */
  record(entry: ActivityEntry): void;
  /** Writes everything buffered so far (a failed batch is retried once, then dropped with an error line). */
  flush(): Promise<void>;
  /** Flushes and stops: later entries are dropped with a warning. */
  close(): Promise<void>;
  /** Rows waiting to be written. */
  readonly pending: number;
}

export interface ActivityRecorderOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long an entry may wait for its batch; default 200 ms. */
  readonly intervalMs?: number | undefined;
  /** A batch is written at once when this many wait; default 200. */
  readonly batchSize?: number | undefined;
  /** Most rows buffered (the database being down or slow): beyond it the oldest are dropped; default 10 000. */
  readonly maxBuffered?: number | undefined;
  /** Called with how many rows were dropped (the metrics counter). */
  readonly onDropped?: ((count: number) => void) | undefined;
}

/** Text columns stay short: a detail is a sentence, never a body. */
const MAX_TEXT = 300;

function short(text: string | undefined): string | null {
  if (text === undefined) return null;
  // eslint-disable-next-line no-control-regex -- PostgreSQL text refuses NUL; control characters become spaces
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT - 3)}...` : clean;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** A row as buffered: every column given, so the rows of one batch insert the same columns. */
type BufferedRow = NewOrderActivityRow & { repeats: number; last_at: string | null };

/** What makes two duplicate entries the same row. */
function repeatKey(entry: ActivityEntry): string {
  return JSON.stringify([entry.kind, entry.orderId, entry.refundId, entry.protocol, entry.reason, entry.detail]);
}

/** The recorder behind ServiceContext.activity. Its timer is unref'd: it never keeps a process alive. */
export function createActivityRecorder(options: ActivityRecorderOptions): ActivityRecorder {
  const intervalMs = positiveInteger("intervalMs", options.intervalMs ?? 200);
  const batchSize = positiveInteger("batchSize", options.batchSize ?? 200);
  const maxBuffered = positiveInteger("maxBuffered", options.maxBuffered ?? 10_000);
  const { db, clock, logger } = options;
  const buffer: BufferedRow[] = [];
  // The buffered duplicate rows a repeat may still add to, by what makes them the same. Cleared whenever
  // rows leave the buffer, so a row is never changed once its INSERT has taken it.
  const repeatable = new Map<string, BufferedRow>();
  let timer: NodeJS.Timeout | undefined;
  // The one write loop, while it runs: it takes batches off the buffer until it is empty, so rows never
  // pile up in writes waiting on each other and the buffer's bound is the memory's.
  let writer: Promise<void> | undefined;
  let closed = false;
  // One warning per episode of drops (until a batch is written again), not one per row.
  let warned = false;

  const drop = (count: number, why: string): void => {
    options.onDropped?.(count);
    if (warned) return;
    warned = true;
    logger.warn({ dropped: count, maxBuffered }, why);
  };

  async function write(rows: NewOrderActivityRow[]): Promise<void> {
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        await insertActivity(db, rows);
        warned = false;
        return;
      } catch (error) {
        // The error's class and code only: a driver message can quote the statement's values.
        const err = error as { name?: unknown; code?: unknown };
        const fields = {
          rows: rows.length,
          attempt,
          error: { name: typeof err.name === "string" ? err.name : "Error", code: typeof err.code === "string" ? err.code : undefined },
        };
        if (attempt === 1) logger.warn(fields, "activity rows not written; retrying once");
        else {
          logger.error(fields, "activity rows not written; dropped (timeline rows only, no money state)");
          options.onDropped?.(rows.length);
        }
      }
    }
  }

  async function drain(): Promise<void> {
    while (buffer.length > 0) {
      repeatable.clear();
      await write(buffer.splice(0, batchSize));
    }
  }

  /** Writes what is buffered (and what arrives meanwhile), joining the loop already running if there is one. */
  function startWrite(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    writer ??= drain().finally(() => {
      writer = undefined;
    });
    return writer;
  }

  return {
    record(entry) {
      if (closed) {
        drop(1, "activity recorded after close; dropped");
        return;
      }
      const at = isoAt(clock());
      const key = entry.outcome === "duplicate" ? repeatKey(entry) : undefined;
      const same = key === undefined ? undefined : repeatable.get(key);
      if (same !== undefined) {
        same.repeats += 1;
        same.last_at = at;
        return;
      }
      const row: BufferedRow = {
        order_id: entry.orderId ?? null,
        refund_id: entry.refundId ?? null,
        at,
        kind: entry.kind,
        protocol: entry.protocol ?? null,
        outcome: entry.outcome,
        reason: short(entry.reason),
        detail: short(entry.detail),
        repeats: 1,
        last_at: null,
      };
      buffer.push(row);
      if (key !== undefined) repeatable.set(key, row);
      if (buffer.length > maxBuffered) {
        const over = buffer.length - maxBuffered;
        buffer.splice(0, over);
        repeatable.clear();
        drop(over, "activity buffer full; the oldest rows were dropped");
      }
      if (writer !== undefined) return;
      if (buffer.length >= batchSize) void startWrite();
      else if (timer === undefined) {
        timer = setTimeout(() => void startWrite(), intervalMs);
        timer.unref();
      }
    },
    flush: () => startWrite(),
    async close() {
      closed = true;
      await startWrite();
    },
    get pending() {
      return buffer.length;
    },
  };
}
