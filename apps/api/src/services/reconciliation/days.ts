// Beijing calendar days (UTC+8 all year: China has no daylight saving time), as YYYY-MM-DD text.

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The Beijing day that contains the instant `ms`. */
export function beijingDayOf(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant a Beijing day (a valid YYYY-MM-DD) begins. */
export function beijingDayStart(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) - BEIJING_OFFSET_MS;
}

/** The day `days` after `date` (before it when negative). */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** True when the Beijing day `date` is over at `now` (it is yesterday or earlier there): only such a day has a bill. */
export function isDayOver(date: string, now: number): boolean {
  return date < beijingDayOf(now);
}
