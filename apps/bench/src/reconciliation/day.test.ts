// The day's calendar arithmetic: Beijing is UTC+8, so its days start at 16:00 UTC the evening before.
import { describe, expect, it } from "vitest";
import { beijingDayStartSeconds, expectedTotals, paidAtSeconds, previousBeijingDay, reconDay, refundedAtSeconds } from "./day.js";

describe("the reconciliation day's calendar", () => {
  it("starts a Beijing day at 16:00 UTC of the day before", () => {
    expect(new Date(beijingDayStartSeconds("2026-12-01") * 1000).toISOString()).toBe("2026-11-30T16:00:00.000Z");
  });

  it("takes the Beijing day before now: at 15:59 UTC still yesterday's yesterday, at 16:00 UTC yesterday", () => {
    expect(previousBeijingDay(Date.parse("2026-12-03T15:59:59.000Z"))).toBe("2026-12-02");
    expect(previousBeijingDay(Date.parse("2026-12-03T16:00:00.000Z"))).toBe("2026-12-03");
  });

  it("pays the first order at midnight and every refund before the day ends", () => {
    const day = reconDay("2026-12-01", 1_000);
    expect(paidAtSeconds(day, 0)).toBe(day.startSeconds);
    expect(refundedAtSeconds(day, 975)).toBe(paidAtSeconds(day, 975) + 600);
    // Ten minutes after the last payment is past midnight: kept on the day's last second.
    expect(refundedAtSeconds(day, 999)).toBe(day.startSeconds + 86_399);
    expect(paidAtSeconds(day, 999)).toBeLessThan(day.startSeconds + 86_400);
  });

  it("expects our side to count every order and refund, the bill's to leave out the missing ones and add the unknown ones", () => {
    const totals = expectedTotals(reconDay("2026-12-01", 1_000));
    expect(totals.ours).toMatchObject({ paymentCount: 1_000, refundCount: 20 });
    expect(totals.bill).toMatchObject({ paymentCount: 1_000 - 2 + 2, refundCount: 20 - 1 + 1 });
    expect(totals.summary?.lineCount).toBe(1_020);
  });
});
