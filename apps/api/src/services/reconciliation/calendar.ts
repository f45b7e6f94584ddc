// Which Beijing day it is (UTC+8 all year: China has no daylight saving time), as YYYY-MM-DD text: what the
// routes, the scheduler and the CLI ask of the calendar (day.ts has a day's instants, for the engine).

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The Beijing day that contains the instant `ms`. */
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
