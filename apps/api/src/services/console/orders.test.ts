import { describe, expect, it } from "vitest";
import { pendingOrderRow } from "../../../test/support/rows.js";
import type { OrderRow } from "../../db/schema.js";
import { adminOrderView } from "./orders.js";

function row(overrides: Partial<OrderRow>): OrderRow {
  return { ...pendingOrderRow("P000000000001", "user-1"), refunded_fee: 0, reserved_refund_fee: 0, ...overrides } as OrderRow;
}

describe("adminOrderView", () => {
  it.each([
    ["a paid order with no refund", { status: "paid", refunded_fee: 0, reserved_refund_fee: 0 }, 6800],
    // 20.00 refunded and 10.00 more in flight: 30.00 reserved, 38.00 left (the refund service allows exactly total − reserved).
    ["a partly refunded order with a refund in flight", { status: "paid", refunded_fee: 2000, reserved_refund_fee: 3000 }, 3800],
    ["a partly refunded order", { status: "paid", refunded_fee: 2000, reserved_refund_fee: 2000 }, 4800],
    ["a fully refunded order", { status: "refunded", refunded_fee: 6800, reserved_refund_fee: 6800 }, 0],
  ] as const)("%s may still refund what is not reserved", (_name, overrides, refundable) => {
    expect(adminOrderView(row(overrides)).refundableFee).toBe(refundable);
  });
});
