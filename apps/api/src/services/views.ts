import type { Order, OrderItem, Refund } from "@pay/core/contract";
import type { OrderRow, RefundRow } from "../db/schema.js";

/** An order row as the contract shows it. */
export function orderView(row: OrderRow): Order {
  return {
    id: row.id,
    status: row.status,
    totalFee: row.total_fee,
    refundedFee: row.refunded_fee,
    feeType: row.fee_type,
    items: JSON.parse(row.items) as OrderItem[],
    createdAt: row.created_at,
    paidAt: row.paid_at,
    transactionId: row.transaction_id,
  };
}

/** A refund row as the contract shows it. */
export function refundView(row: RefundRow): Refund {
  return {
    id: row.id,
    orderId: row.order_id,
    refundFee: row.refund_fee,
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    createdAt: row.created_at,
    succeededAt: row.succeeded_at,
  };
}
