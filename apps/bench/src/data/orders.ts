// Deterministic order rows, so that a notify for order i can be built without reading the database.

/** out_trade_no of the i-th seeded order: `B` and nine digits. */
export function orderIdAt(index: number): string {
  return `B${String(index).padStart(9, "0")}`;
}

/** The total of the i-th order, in fen: varied, always above the coupons a notify carries. */
export function totalFeeAt(index: number): number {
  return 100 + (index % 9_900);
}

/** The transaction_id a payment of the i-th order carries (unique per order, as the gateway's are). */
export function transactionIdAt(index: number): string {
  return `42000${String(index).padStart(23, "0")}`;
}

/** What a seeded order is in: pending orders wait for a notify, the others fill the table. */
export type SeedStatus = "pending" | "paid" | "closed";
