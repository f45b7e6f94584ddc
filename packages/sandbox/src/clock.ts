/** The sandbox's only source of time and timers, so tests can run the 24-hour notify schedule in milliseconds. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` of this clock's time; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Real time and Node timers. Timers are unref'd so a pending retry never keeps a process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/** A clock that moves only when told to: `advance(ms)` fires due timers in time order. */
export interface ManualClock extends Clock {
  /** Moves time forward, firing each timer that falls due, and lets their async work settle. */
  advance(ms: number): Promise<void>;
  /** Timers still waiting. */
  pending(): number;
}

/** Creates a manual clock starting at `start` (ms since the epoch). */
export function createManualClock(start = Date.UTC(2026, 0, 1, 4, 0, 0)): ManualClock {
  let now = start;
  let nextId = 1;
  let timers: ManualTimer[] = [];
  const settle = async (): Promise<void> => {
    // Lets promise chains started by a timer (an HTTP delivery, say) run before time moves again.
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { id: nextId++, at: now + Math.max(0, ms), fn };
      timers.push(timer);
      return timer.id;
    },
    clearTimer(handle) {
      timers = timers.filter((t) => t.id !== handle);
    },
    pending: () => timers.length,
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.id - b.id);
        const due = timers[0];
        if (due === undefined || due.at > target) break;
        timers.shift();
        now = due.at;
        due.fn();
        await settle();
      }
      now = target;
      await settle();
    },
  };
}
