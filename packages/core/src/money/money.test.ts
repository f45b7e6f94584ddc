import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CURRENCIES, currencyExponent, isCurrency } from "./currency.js";
import { formatAmount, formatMoney, money, parseAmount } from "./money.js";

describe("money", () => {
  it.each([
    [1234, "CNY", "12.34", "¥12.34"],
    [1, "CNY", "0.01", "¥0.01"],
    [0, "USD", "0.00", "US$0.00"],
    [123456789, "HKD", "1234567.89", "HK$1,234,567.89"],
    [1750, "JPY", "1750", "¥1,750"],
    [50000, "KRW", "50000", "₩50,000"],
    [1250, "KWD", "1.250", "KWD 1.250"],
    [-505, "CNY", "-5.05", "-¥5.05"],
  ] as const)("%i %s -> %s / %s", (amount, currency, plain, display) => {
    expect(formatAmount(amount, currency)).toBe(plain);
    expect(formatMoney({ amount, currency })).toBe(display);
    expect(parseAmount(plain, currency)).toEqual({ ok: true, value: { amount, currency } });
  });

  it("knows the exponents that matter", () => {
    expect([currencyExponent("CNY"), currencyExponent("JPY"), currencyExponent("KRW"), currencyExponent("KWD")]).toEqual([2, 0, 0, 3]);
    expect(isCurrency("XYZ")).toBe(false);
    expect(isCurrency("toString")).toBe(false);
  });

  it.each([
    ["0.001", "CNY", "TOO_PRECISE"],
    ["1.5", "JPY", "TOO_PRECISE"],
    ["1e3", "CNY", "INVALID_AMOUNT"],
    ["1,000", "CNY", "INVALID_AMOUNT"],
    ["", "CNY", "INVALID_AMOUNT"],
    ["abc", "CNY", "INVALID_AMOUNT"],
    ["1.00", "XXX", "UNKNOWN_CURRENCY"],
    ["99999999999999999999", "CNY", "OUT_OF_RANGE"],
  ] as const)("parseAmount(%s, %s) fails with %s", (text, currency, code) => {
    expect(parseAmount(text, currency)).toMatchObject({ ok: false, error: { code } });
  });

  it("accepts trailing zeros beyond the exponent (bill CSVs write 0.10)", () => {
    expect(parseAmount("0.10", "CNY")).toEqual({ ok: true, value: { amount: 10, currency: "CNY" } });
    expect(parseAmount("100.00", "JPY")).toEqual({ ok: true, value: { amount: 100, currency: "JPY" } });
  });

  it("refuses non-integer or unsafe amounts", () => {
    expect(money(1.5, "CNY")).toMatchObject({ ok: false, error: { code: "INVALID_AMOUNT" } });
    expect(money(2 ** 53, "CNY")).toMatchObject({ ok: false, error: { code: "INVALID_AMOUNT" } });
    expect(money(100, "CNY")).toEqual({ ok: true, value: { amount: 100, currency: "CNY" } });
    expect(() => formatAmount(0.1, "CNY")).toThrow(RangeError);
  });

  it("property: format -> parse is the identity for every currency", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom(...CURRENCIES), (amount, currency) => {
        expect(parseAmount(formatAmount(amount, currency), currency)).toEqual({ ok: true, value: { amount, currency } });
      }),
    );
  });
});
