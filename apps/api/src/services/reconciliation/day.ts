import { parseBeijingTime } from "@pay/core";

/** Beijing is UTC+8 all year (no daylight saving). */
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;
export const DAY_MS = 24 * 3600 * 1000;

/** The Beijing day (YYYY-MM-DD) that contains the instant `ms`. */
export function beijingDayOf(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The day `days` after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** True when the Beijing day `date` is over at `now` (it is yesterday or earlier there): only such a day has a bill. */
export function isDayOver(date: string, now: number): boolean {
  return date < beijingDayOf(now);
}

/** A Beijing day (YYYY-MM-DD, already validated) as the instants [start, end) in epoch ms. */
export function dayBounds(date: string): { readonly start: number; readonly end: number } {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const start = Date.UTC(y, m - 1, d) - BEIJING_OFFSET_MS;
  return { start, end: start + DAY_MS };
}

/** A bill's 交易时间 (`yyyy-MM-dd HH:mm:ss`, Beijing) in epoch ms; undefined when it is not a real time. */
export function billTimeOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return undefined;
  return parseBeijingTime(text)?.getTime();
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * When the gateway says a payment succeeded, from the verified fields a report was stored with
 * (payment_events.raw): v2 `time_end` (yyyyMMddHHmmss, Beijing) or v3 `success_time` (RFC 3339).
 * Undefined when the fields have neither (or an unreadable one): the caller falls back to our paid_at.
 */
export function gatewayPaidTimeOf(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  let fields: unknown;
  try {
    fields = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof fields !== "object" || fields === null) return undefined;
  const { time_end: timeEnd, success_time: successTime } = fields as Record<string, unknown>;
  if (typeof timeEnd === "string" && /^\d{14}$/.test(timeEnd)) return parseBeijingTime(timeEnd)?.getTime();
  if (typeof successTime === "string" && RFC3339.test(successTime)) {
    const at = Date.parse(successTime);
    return Number.isNaN(at) ? undefined : at;
  }
  return undefined;
}
