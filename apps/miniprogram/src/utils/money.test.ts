import { CURRENCIES, formatMoney as coreFormatMoney } from "@pay/core/money";
import { describe, expect, it } from "vitest";
import { formatMoney } from "./money.js";

describe("formatMoney (the client's copy of @pay/core/money's display rules)", () => {
  it.each([
    [1234, "CNY", "¥12.34"],
    [5, "CNY", "¥0.05"],
    [0, "USD", "US$0.00"],
    [100_000, "HKD", "HK$1,000.00"],
    [1750, "JPY", "¥1,750"],
    [1250, "KWD", "KWD 1.250"],
    [123_456_789, "KRW", "₩123,456,789"],
    [-4800, "CNY", "-¥48.00"],
  ] as const)("formats %d %s as %s", (amount, currency, text) => {
    expect(formatMoney(amount, currency)).toBe(text);
  });

  it.each(CURRENCIES)("gives %s the same text as @pay/core for every exponent's edge cases", (currency) => {
    for (const amount of [0, 1, 9, 10, 99, 100, 999, 1000, 12_345, 1_000_000, 987_654_321, -1, -1500]) {
      expect(formatMoney(amount, currency), `${amount} ${currency}`).toBe(coreFormatMoney({ amount, currency }));
    }
  });

  it("refuses amounts that are not whole minor units", () => {
    expect(() => formatMoney(12.5, "CNY")).toThrow(RangeError);
  });
});
