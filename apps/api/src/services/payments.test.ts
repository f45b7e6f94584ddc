import { describe, expect, it } from "vitest";
import { pendingOrderRow } from "../../test/support/rows.js";
import type { OrderRow } from "../db/schema.js";
import type { PaidReport } from "../gateway/port.js";
import { decidePaidReport } from "./payments.js";

// decidePaidReport is the write-free part of applyPaidReport that a notify runs synchronously (issue 20).
const pending = pendingOrderRow("ord_1", "user_1") as OrderRow;
const report: PaidReport = {
  source: "notify",
  orderId: "ord_1",
  transactionId: "4200000001",
  merchant: { appId: pending.appid, mchId: pending.mch_id, subAppId: undefined, subMchId: undefined },
  amount: 6800,
  currency: "CNY",
  payerAmount: 6800,
  payerCurrency: "CNY",
  rawJson: () => "{}",
};

describe("decidePaidReport", () => {
  it("lets a matching report for a pending order through to the write", () => {
    expect(decidePaidReport(pending, report)).toBeUndefined();
  });

  it("answers a repeat of the report that paid the order from the row, and nothing else", () => {
    const paid: OrderRow = { ...pending, status: "paid", transaction_id: "4200000001" };
    expect(decidePaidReport(paid, report)).toEqual({ outcome: "already-paid", order: paid });
    // Another transaction for a paid order goes to the write path, which reports the conflict.
    expect(decidePaidReport({ ...paid, transaction_id: "4200000002" }, report)).toBeUndefined();
  });

  it.each([
    ["another order", { orderId: "ord_2" }, "ORDER_MISMATCH"],
    ["a smaller amount", { amount: 6799 }, "AMOUNT_MISMATCH"],
    ["another currency", { currency: "HKD" as const }, "CURRENCY_MISMATCH"],
    ["another merchant", { merchant: { ...report.merchant, mchId: "1" } }, "MCH_ID_MISMATCH"],
  ])("rejects %s before anything is written, even for a paid order", (_what, patch, code) => {
    expect(decidePaidReport(pending, { ...report, ...patch })).toMatchObject({ outcome: "rejected", code });
    expect(decidePaidReport({ ...pending, status: "paid", transaction_id: "4200000001" }, { ...report, ...patch })).toMatchObject({ outcome: "rejected", code });
  });
});
