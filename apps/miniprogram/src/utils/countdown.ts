import type { Clock } from "./clock.js";
import { formatWait } from "./format.js";

/** A countdown in progress; `stop()` ends it without a last tick (the page was closed). */
export interface Countdown {
  stop(): void;
}

/**
 * Counts down `seconds` on `clock` for a button that must wait for the server's Retry-After: calls
 * `onTick` at once and at each whole second with the seconds left, and a last time with 0 when the
 * time has passed. Ticks land on whole seconds from the start, so the label never shows a second
 * that has already gone.
 */
export function startCountdown(clock: Clock, seconds: number, onTick: (secondsLeft: number) => void): Countdown {
  const until = clock.now() + seconds * 1000;
  let stopped = false;
  // Set by stop() while run() sleeps; read through a call, since the compiler assumes it is still false.
  const isStopped = (): boolean => stopped;

  async function run(): Promise<void> {
    for (;;) {
      const left = until - clock.now();
      if (left <= 0) {
        onTick(0);
        return;
      }
      onTick(Math.ceil(left / 1000));
      await clock.sleep(left % 1000 === 0 ? 1000 : left % 1000);
      if (isStopped()) return;
    }
  }

  run().catch((error: unknown) => console.error("countdown failed", error));
  return {
    stop() {
      stopped = true;
    },
  };
}

/**
 * A countdown for a page: `show` gets the time left as a button shows it ("29 s", "3 min"), and ""
 * once the wait is over. `previous` (the page's countdown for the same button) is stopped first.
 */
export function startWait(clock: Clock, seconds: number, show: (text: string) => void, previous?: Countdown): Countdown {
  previous?.stop();
  return startCountdown(clock, seconds, (left) => show(left > 0 ? formatWait(left) : ""));
}
