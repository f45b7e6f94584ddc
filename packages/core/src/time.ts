import { PayCoreError } from "./errors.js";

/** An injected clock reading, as every @pay/core function takes it: a Date, or epoch milliseconds (`Date.now()`'s unit). */
export type Instant = Date | number;

/** Epoch milliseconds of `now`; a non-finite or negative time is a caller bug and throws. */
export function epochMs(now: Instant): number {
  const ms = typeof now === "number" ? now : (now as unknown) instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new PayCoreError("INVALID_OPTION", "now must be a valid Date or epoch milliseconds.");
  return ms;
}

/** Whole Unix seconds of `now`: what WeChat Pay's timestamps count. */
export function unixSeconds(now: Instant): number {
  return Math.floor(epochMs(now) / 1000);
}
