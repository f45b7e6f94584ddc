import { describe, expect, it } from "vitest";
import type { OrderRow } from "../../src/db/schema.js";
import { adminOrderView } from "../../src/services/console/orders.js";
import { pendingOrderRow } from "../support/rows.js";

// What a refund may still take: paid minus refunded minus refunds in flight. reserved_refund_fee holds both of
// the latter (refunded_fee <= reserved_refund_fee), so neither is subtracted twice.
describe("adminOrderView: refundableFee", () => {
  const paid = (refunded: number, reserved: number): OrderRow =>
    ({ ...pendingOrderRow("ADMREFUNDABLE1", "user-1"), status: "paid", refunded_fee: refunded, reserved_refund_fee: reserved }) as OrderRow;

  it.each([
    [0, 0, 6800],
    [1250, 1250, 5550],
    [1250, 1750, 5050],
    [0, 500, 6300],
    [6800, 6800, 0],
  ])("refunded %i, reserved %i: %i refundable", (refunded, reserved, refundable) => {
    expect(adminOrderView(paid(refunded, reserved)).refundableFee).toBe(refundable);
  });
});
