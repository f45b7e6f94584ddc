// The streamed bill must be a bill @pay/core reads (the parser the API's reconciliation uses), with the
// planted differences where the model says and a summary equal to the model's expected totals.
import { createBillReader, type BillRow } from "@pay/core";
import { describe, expect, it } from "vitest";
import { billChunks } from "./bill-csv.js";
import {
  expectedTotals,
  hasRefund,
  paidAtSeconds,
  reconAmount,
  reconDay,
  reconOrderId,
  reconRefundAmount,
  reconRefundId,
  REFUND_EVERY,
  unknownOrderId,
  unknownRefundId,
  type ReconDay,
} from "./day.js";

const PARTY = { appId: "wx-bench-app", mchId: "1900000109", openids: ["o-a", "o-b", "o-c"] };
const ORDERS = 20_000;

function readAll(day: ReconDay): { rows: BillRow[]; summary: ReturnType<ReturnType<typeof createBillReader>["end"]>; chunks: number; largest: number } {
  const reader = createBillReader({ currency: "CNY" });
  const rows: BillRow[] = [];
  let chunks = 0;
  let largest = 0;
  const encoder = new TextEncoder();
  for (const chunk of billChunks(day, PARTY)) {
    chunks++;
    largest = Math.max(largest, chunk.length);
    // As bytes, cut at an odd place so that characters and lines span pushes, as they do off the wire.
    const bytes = encoder.encode(chunk);
    const cut = Math.floor(bytes.length / 3);
    rows.push(...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut)));
  }
  return { rows, summary: reader.end(), chunks, largest };
}

describe("the reconciliation benchmark's bill", () => {
  const day = reconDay("2026-12-01", ORDERS);
  const { rows, summary, chunks, largest } = readAll(day);
  const byOrder = (id: string, state: string): BillRow | undefined => rows.find((r) => r.outTradeNo === id && r.tradeState === state);

  it("arrives in chunks of about 64 KiB, never as one string", () => {
    expect(chunks).toBeGreaterThan(10);
    expect(largest).toBeLessThan(80 * 1024);
  });

  it("has one line per billed payment and refund, and a summary equal to the model's totals to the fen", () => {
    const totals = expectedTotals(day);
    const refunds = ORDERS / REFUND_EVERY;
    expect(totals.bill.paymentCount).toBe(ORDERS - 2 + 2);
    expect(totals.bill.refundCount).toBe(refunds - 1 + 1);
    expect(rows.filter((r) => r.tradeState === "SUCCESS")).toHaveLength(totals.bill.paymentCount);
    expect(rows.filter((r) => r.tradeState === "REFUND")).toHaveLength(totals.bill.refundCount);
    expect(summary.tradeCount).toBe(totals.summary?.lineCount);
    expect(summary.settlementTotalFee?.amount).toBe(totals.bill.paymentAmount);
    expect(summary.totalFee?.amount).toBe(totals.bill.paymentAmount);
    expect(summary.refundFee?.amount).toBe(totals.bill.refundAmount);
    expect(summary.requestedRefundFee?.amount).toBe(totals.bill.refundAmount);
    expect(summary.serviceFee?.amount).toBe(totals.feeLines);
    const lineSum = (pick: (r: BillRow) => number | undefined): number => rows.reduce((s, r) => s + (pick(r) ?? 0), 0);
    expect(lineSum((r) => (r.tradeState === "SUCCESS" ? r.totalFee?.amount : 0))).toBe(totals.bill.paymentAmount);
    expect(lineSum((r) => r.requestedRefundFee?.amount)).toBe(totals.bill.refundAmount);
    expect(lineSum((r) => r.serviceFee?.amount)).toBe(totals.feeLines);
  });

  it("lists the merchant, in CNY, with every line inside the day (Beijing time)", () => {
    const first = rows[0];
    expect(first).toMatchObject({ appid: PARTY.appId, mchId: PARTY.mchId, subMchId: "0", currency: "CNY", tradeTime: "2026-12-01 00:00:00" });
    expect(rows.every((r) => r.mchId === PARTY.mchId && (r.tradeTime ?? "").startsWith("2026-12-01 "))).toBe(true);
    expect(paidAtSeconds(day, ORDERS - 1)).toBeLessThan(day.startSeconds + 86_400);
  });

  it("plants each difference where the model says", () => {
    const { planted } = day;
    for (const i of planted.missingPayment) expect(byOrder(reconOrderId(i), "SUCCESS")).toBeUndefined();
    for (const i of planted.amountMismatch) expect(byOrder(reconOrderId(i), "SUCCESS")?.totalFee?.amount).toBe(reconAmount(i) + 1);
    for (const i of planted.missingRefund) {
      expect(hasRefund(i)).toBe(true);
      expect(byOrder(reconOrderId(i), "REFUND")).toBeUndefined();
    }
    for (const i of planted.unknownPaymentAfter) expect(byOrder(unknownOrderId(i), "SUCCESS")?.totalFee?.amount).toBe(500);
    for (const i of planted.unknownRefundAfter) expect(rows.find((r) => r.outRefundNo === unknownRefundId(i))?.requestedRefundFee?.amount).toBe(100);
    const ordinary = 25;
    expect(byOrder(reconOrderId(ordinary), "SUCCESS")?.totalFee?.amount).toBe(reconAmount(ordinary));
    expect(byOrder(reconOrderId(ordinary), "REFUND")).toMatchObject({ outRefundNo: reconRefundId(ordinary), requestedRefundFee: { amount: reconRefundAmount(ordinary) } });
  });

  it("refuses a day too small to plant the differences in", () => {
    expect(() => reconDay("2026-12-01", 999)).toThrow("at least 1,000 orders");
  });
});
