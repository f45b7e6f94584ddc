/** The wait after a first failed attempt. */
export const FIRST_RETRY_MS = 10_000;
/** The longest wait between two attempts. */
export const MAX_RETRY_MS = 3_600_000;
/** Jitter: the wait is multiplied by a factor in [1 - JITTER, 1 + JITTER]. */
const JITTER = 0.2;

/**
 * How long to wait after the `attempts`-th failed attempt (1 for the first): 10 s doubling with each
 * attempt, at most 1 h, times a jitter factor in [0.8, 1.2] from `random` (a value in [0, 1), like
 * Math.random) so receivers coming back are not hit by every process at once; never over 1 h.
 */
export function retryDelayMs(attempts: number, random: () => number): number {
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer, got ${attempts}`);
  // 2^19 x 10 s is far past the cap: no need to compute larger powers.
  const base = Math.min(FIRST_RETRY_MS * 2 ** Math.min(attempts - 1, 20), MAX_RETRY_MS);
  const factor = 1 - JITTER + 2 * JITTER * Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.round(base * factor), MAX_RETRY_MS);
}
