import { describe, expect, it } from "vitest";
import { resolveOptions } from "../options.js";
import { cashFeeFor } from "./payments.js";

describe("Global cash fee", () => {
  it.each([
    [1000, "HKD", 91_000_000, 910],
    [1, "HKD", 91_000_000, 1],
    [1750, "JPY", 4_800_000, 8400],
    [50_000, "KRW", 520_000, 26_000],
    [1250, "KWD", 2_300_000_000, 2875],
    [999, "USD", 710_000_000, 7093],
    [100, "CNY", 100_000_000, 100],
  ] as const)("%i %s at rate %i is %i CNY fen", (totalFee, currency, rate, expected) => {
    expect(cashFeeFor(totalFee, currency, rate)).toBe(expected);
  });
});

describe("sandbox options", () => {
  it("throws up front, naming the option, for a bad configuration", () => {
    expect(() => resolveOptions({ merchants: [] })).toThrow(/merchants/);
    expect(() => resolveOptions({ merchants: [{ appId: "wx1", mchId: "1", key: "" }] })).toThrow(/merchants\.0\.key/);
    expect(() => resolveOptions({ merchants: [{ appId: "wx1", mchId: "1", key: "k", subAppId: "wx2" }] })).toThrow(/subMchId/);
    expect(() => resolveOptions({ merchants: [{ appId: "wx1", mchId: "1", key: "k", rates: { XXX: 1 } }] })).toThrow(/XXX/);
    expect(() => resolveOptions({ merchants: [{ appId: "wx1", mchId: "1", key: "k" }], notify: { retryScale: 0 } })).toThrow(/notify\.retryScale/);
  });

  it("fills in the real gateway's defaults", () => {
    const options = resolveOptions({ merchants: [{ appId: "wx1", mchId: "1", key: "k" }] });
    expect(options).toMatchObject({ prepayTtlMs: 7_200_000, requireClientCert: true, notify: { retryScale: 1, omitSignTypeForHmac: true, timeoutMs: 5000 } });
    expect(options.merchants[0]?.profile).toBe("domestic");
  });
});
