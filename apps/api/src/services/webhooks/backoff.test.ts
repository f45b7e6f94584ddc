import { describe, expect, it } from "vitest";
import { FIRST_RETRY_MS, MAX_RETRY_MS, retryDelayMs } from "./backoff.js";

const middle = (): number => 0.5;

describe("retryDelayMs", () => {
  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [4, 80_000],
    [5, 160_000],
    [6, 320_000],
    [7, 640_000],
    [8, 1_280_000],
    [9, 2_560_000],
    [10, 3_600_000],
    [11, 3_600_000],
    [60, 3_600_000],
    [10_000, 3_600_000],
  ])("after %i failed attempts waits %i ms without jitter (random 0.5)", (attempts, expected) => {
    expect(retryDelayMs(attempts, middle)).toBe(expected);
  });

  it("jitter spans 0.8x to 1.2x of the base, and never goes past one hour", () => {
    expect(retryDelayMs(1, () => 0)).toBe(8_000);
    expect(retryDelayMs(1, () => 0.999_999_999)).toBe(12_000);
    expect(retryDelayMs(3, () => 0.25)).toBe(36_000);
    expect(retryDelayMs(9, () => 0.999_999_999)).toBe(3_072_000);
    expect(retryDelayMs(10, () => 0)).toBe(2_880_000);
    expect(retryDelayMs(12, () => 0.999)).toBe(MAX_RETRY_MS);
  });

  it("a random source out of range is clamped", () => {
    expect(retryDelayMs(1, () => -5)).toBe(8_000);
    expect(retryDelayMs(1, () => 7)).toBe(12_000);
  });

  it("the attempts of three days fit the schedule: about 80 attempts before giving up", () => {
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < 3 * 24 * 3600 * 1000) elapsed += retryDelayMs(++attempts, middle);
    expect(FIRST_RETRY_MS).toBe(10_000);
    expect(attempts).toBeGreaterThan(70);
    expect(attempts).toBeLessThan(82);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses attempts %s", (attempts) => {
    expect(() => retryDelayMs(attempts, middle)).toThrow(RangeError);
  });
});
