import { describe, expect, it } from "vitest";
import { billTimeOf, dayBounds, gatewayPaidTimeOf } from "./day.js";

describe("a Beijing day and the times that place a payment in it", () => {
  it("bounds a day at Beijing midnights (UTC+8, no daylight saving), across month and year ends", () => {
    expect(dayBounds("2026-01-01")).toEqual({ start: Date.UTC(2025, 11, 31, 16), end: Date.UTC(2026, 0, 1, 16) });
    expect(dayBounds("2024-02-29")).toEqual({ start: Date.UTC(2024, 1, 28, 16), end: Date.UTC(2024, 1, 29, 16) });
  });

  it.each([
    ["2026-01-01 00:00:00", Date.UTC(2025, 11, 31, 16)],
    ["2026-01-01 23:59:59", Date.UTC(2026, 0, 1, 15, 59, 59)],
    ["2026-02-30 10:00:00", undefined],
    ["2026-01-01 24:00:00", undefined],
    ["20260101120000", undefined],
    ["", undefined],
    [undefined, undefined],
  ])("reads the bill's 交易时间 %j", (text, expected) => {
    expect(billTimeOf(text)).toBe(expected);
  });

  it.each([
    ["v2 time_end (Beijing)", JSON.stringify({ time_end: "20260101235958" }), Date.UTC(2026, 0, 1, 15, 59, 58)],
    ["v3 success_time (RFC 3339)", JSON.stringify({ success_time: "2026-01-01T23:59:58+08:00" }), Date.UTC(2026, 0, 1, 15, 59, 58)],
    ["no time (the fake's reports)", JSON.stringify({ fake: true }), undefined],
    ["an unreadable time_end", JSON.stringify({ time_end: "2026-01-01" }), undefined],
    ["an unreadable success_time", JSON.stringify({ success_time: "yesterday" }), undefined],
    ["not JSON", "<xml/>", undefined],
    ["a JSON scalar", "42", undefined],
    ["nothing stored", null, undefined],
  ])("takes the gateway's payment time from the stored fields: %s", (_what, raw, expected) => {
    expect(gatewayPaidTimeOf(raw)).toBe(expected);
  });
});
