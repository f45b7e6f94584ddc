import { isIPv6 } from "node:net";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { pruneRateLimits, readRateLimit, takeRateLimit } from "../db/rate-limits.js";
import type { Database } from "../db/schema.js";
import type { RateLimit, RateLimitConfig } from "../env.js";

// Issue 21: the public routes' rate limits, counted in the database so that every API process (API_WORKERS,
// several hosts on one PostgreSQL) shares them. Counting is ours, not a library's: the libraries made for it
// (rate-limiter-flexible and the like) read Date.now() themselves and create their own tables, and our
// tests move an injected clock through the window instead of sleeping.

/** The limits, by what they count: `orders` and `renewals` per user, `sign-ins` per client address. */
export const RATE_LIMIT_NAMES = ["orders", "renewals", "sign-ins"] as const;
export type RateLimitName = (typeof RATE_LIMIT_NAMES)[number];

/** A check's answer: allowed, or refused with how long (whole seconds, at least 1) until one more request is allowed. */
export type RateLimitDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one request of `subject` (a user id, an address) against the limit; a refused request is not counted. */
  check(name: RateLimitName, subject: string): Promise<RateLimitDecision>;
  /** Deletes up to PRUNE_BATCH rows that no longer hold anything back; answers how many (checks also call it now and then). */
  prune(): Promise<number>;
}

export interface RateLimiterOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: RateLimitConfig;
}

/** Rows one prune deletes at most: the statement stays short on SQLite's single write lock. */
export const PRUNE_BATCH = 1000;
/** How often (by the clock) a check starts a prune, at most, per process. */
export const PRUNE_INTERVAL_MS = 60_000;

const ALLOWED: RateLimitDecision = { allowed: true };

/**
 * GCRA (the generic cell rate algorithm, a token bucket kept as one number): `count` requests are allowed at
 * once, then one more every `periodSeconds / count`. Its whole state is one timestamp per key, so a check is one
 * upsert whose answer says allowed or not; a fixed window would let 2 x count through around its edge, a sliding
 * log would keep a row per request.
 */
export function gcraOf(limit: RateLimit): { readonly intervalMs: number; readonly toleranceMs: number } {
  // Rounded up: never more than count per period; the tolerance is (count - 1) intervals, so exactly count fit at once.
  const intervalMs = Math.ceil((limit.periodSeconds * 1000) / limit.count);
  return { intervalMs, toleranceMs: (limit.count - 1) * intervalMs };
}

/** Seconds until the key allows one more request: the tat must come back to `tolerance` ahead of now. */
export function retryAfterSecondsOf(tat: number, toleranceMs: number, now: number): number {
  return Math.max(1, Math.ceil((tat - toleranceMs - now) / 1000));
}

/**
 * What a per-address limit counts under: an IPv4 address as it is (an IPv4-mapped IPv6 one as its IPv4), an
 * IPv6 address by its /64, the smallest block a subscriber is given, since a client holds every address in it
 * and could otherwise take a fresh one per request.
 */
export function addressSubject(ip: string): string {
  const address = ip.split("%")[0] ?? ip;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!isIPv6(address)) return address;
  // An embedded IPv4 tail takes two groups; "::" stands for as many zero groups as are missing.
  const groups = (part: string): string[] => (part === "" ? [] : part.split(":").flatMap((group) => (group.includes(".") ? ["0", "0"] : [group])));
  const [head = "", tail] = address.split("::");
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const full = [...left, ...Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => "0"), ...right];
  return `${full
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

/** The rate limiter of one process; the counts themselves are in the database, shared with every other process. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { db, clock, logger, limits } = options;
  const byName: Readonly<Record<RateLimitName, RateLimit | undefined>> = { orders: limits.orders, renewals: limits.renewals, "sign-ins": limits.signIns };
  let nextPruneAt = clock() + PRUNE_INTERVAL_MS;
  let pruning = false;

  const prune = (): Promise<number> => pruneRateLimits(db, clock(), PRUNE_BATCH);

  /** Now and then, off the request path: at most one prune at a time per process, one per PRUNE_INTERVAL_MS. */
  function maybePrune(now: number): void {
    if (now < nextPruneAt || pruning) return;
    nextPruneAt = now + PRUNE_INTERVAL_MS;
    pruning = true;
    prune()
      .then((deleted) => {
        if (deleted > 0) logger.debug({ deleted }, "rate limits pruned");
      })
      .catch((error: unknown) => logger.warn({ err: error }, "rate limits prune failed"))
      .finally(() => {
        pruning = false;
      });
  }

  return {
    async check(name, subject) {
      const limit = byName[name];
      if (limit === undefined) return ALLOWED;
      const { intervalMs, toleranceMs } = gcraOf(limit);
      const key = `${name}:${subject}`;
      const now = clock();
      const taken = await takeRateLimit(db, { key, now, intervalMs, toleranceMs });
      maybePrune(now);
      if (taken !== undefined) return ALLOWED;
      // Refused: one read for an exact Retry-After (the row may have moved since; the answer is advice).
      const tat = (await readRateLimit(db, key)) ?? now;
      return { allowed: false, retryAfterSeconds: retryAfterSecondsOf(tat, toleranceMs, now) };
    },
    prune,
  };
}
