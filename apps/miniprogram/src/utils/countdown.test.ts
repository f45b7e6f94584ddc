import { describe, expect, it } from "vitest";
import type { Clock } from "./clock.js";
import { startCountdown, startWait } from "./countdown.js";

/** A clock whose sleeps are held until the test releases them, moving time as they end. */
function manualClock(): Clock & { readonly slept: number[]; step(): Promise<void>; advance(ms: number): void } {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const slept: number[] = [];
  const sleeping: { readonly ms: number; readonly wake: () => void }[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        slept.push(ms);
        sleeping.push({ ms, wake: resolve });
      }),
    advance(ms) {
      now += ms;
    },
    async step() {
      const next = sleeping.shift();
      if (next === undefined) throw new Error("nothing is sleeping");
      now += next.ms;
      next.wake();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

describe("startCountdown", () => {
  it("ticks at once, then on each whole second, and last with 0", async () => {
    const clock = manualClock();
    const ticks: number[] = [];
    startCountdown(clock, 3, (left) => ticks.push(left));
    expect(ticks).toEqual([3]);
    await clock.step();
    await clock.step();
    await clock.step();
    expect(ticks).toEqual([3, 2, 1, 0]);
    expect(clock.slept).toEqual([1000, 1000, 1000]);
  });

  it("lands on whole seconds after a late start", async () => {
    const clock = manualClock();
    const ticks: number[] = [];
    startCountdown(clock, 2, (left) => ticks.push(left));
    // The first sleep ended 300 ms late (a busy phone): the next one is shorter, so the end stays on time.
    clock.advance(300);
    await clock.step();
    expect(ticks).toEqual([2, 1]);
    await clock.step();
    expect(ticks).toEqual([2, 1, 0]);
    expect(clock.slept).toEqual([1000, 700]);
  });

  it("stops without a last tick when asked", async () => {
    const clock = manualClock();
    const ticks: number[] = [];
    const countdown = startCountdown(clock, 5, (left) => ticks.push(left));
    await clock.step();
    countdown.stop();
    await clock.step();
    expect(ticks).toEqual([5, 4]);
    expect(clock.slept).toHaveLength(2);
  });

  it("ends at once for a wait that has no time left", () => {
    const ticks: number[] = [];
    startCountdown(manualClock(), 0, (left) => ticks.push(left));
    expect(ticks).toEqual([0]);
  });
});

describe("startWait", () => {
  it("shows the time left as a button does, then nothing, and stops the countdown it replaces", async () => {
    const clock = manualClock();
    const shown: string[] = [];
    const first = startWait(clock, 150, (text) => shown.push(`first ${text}`));
    expect(shown).toEqual(["first 3 min"]);
    startWait(clock, 1, (text) => shown.push(text), first);
    await clock.step();
    await clock.step();
    expect(shown).toEqual(["first 3 min", "1 s", ""]);
  });
});
