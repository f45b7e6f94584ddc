/** Time as the services see it; tests pass a fake so that polling runs without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The runtime's own clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
