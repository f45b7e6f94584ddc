// The reconciliation benchmark's day: N orders paid in one Beijing day (and a refund of every 50th), as
// the database holds them and as WeChat Pay's bill lists them, with a handful of differences planted on
// purpose. Everything is a pure function of (date, N), so the seeding, the streamed bill and the
// expected result are computed apart and cannot drift into agreeing by accident.
import type { ReconciliationClass, ReconciliationTotals } from "@pay/core/contract";

export const DAY_SECONDS = 24 * 3600;
/** Beijing is UTC+8 all year. */
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;
/** Every REFUND_EVERY-th order (index % REFUND_EVERY === REFUND_AT) has a partial refund that succeeded the same day. */
export const REFUND_EVERY = 50;
const REFUND_AT = 25;
/** A refund succeeds this long after its payment (capped at the day's last second). */
const REFUND_AFTER_SECONDS = 600;
/** What the bill says an amount-mismatched order was paid: one fen more than ours. */
const MISMATCH_EXTRA = 1;
/** Amount of a payment of an order we never created, and of a refund we never asked for (fen). */
export const UNKNOWN_PAYMENT_AMOUNT = 500;
export const UNKNOWN_REFUND_AMOUNT = 100;

/** The differences planted in the bill, by order index. */
export interface Planted {
  /** Orders whose bill line carries a different amount (ours + 1 fen). */
  readonly amountMismatch: readonly number[];
  /** Paid orders whose payment line the bill leaves out. */
  readonly missingPayment: readonly number[];
  /** Refunded orders whose refund line the bill leaves out. */
  readonly missingRefund: readonly number[];
  /** After these orders' lines the bill lists a payment of an order we never created. */
  readonly unknownPaymentAfter: readonly number[];
  /** After these orders' lines the bill lists a refund (of that order) we never asked for. */
  readonly unknownRefundAfter: readonly number[];
}

export interface ReconDay {
  /** The Beijing day, YYYY-MM-DD. */
  readonly date: string;
  /** Its start, epoch seconds. */
  readonly startSeconds: number;
  /** Orders paid in the day. */
  readonly orders: number;
  readonly planted: Planted;
}

/** out_trade_no of the i-th order of the day. */
export function reconOrderId(index: number): string {
  return `R${String(index).padStart(9, "0")}`;
}

/** transaction_id of the i-th order's payment. */
export function reconTransactionId(index: number): string {
  return `42010${String(index).padStart(23, "0")}`;
}

/** The order's amount in fen. */
export function reconAmount(index: number): number {
  return 100 + (index % 9_900);
}

export function hasRefund(index: number): boolean {
  return index % REFUND_EVERY === REFUND_AT;
}

/** out_refund_no of the i-th order's refund. */
export function reconRefundId(index: number): string {
  return `RF${String(index).padStart(9, "0")}`;
}

/** The gateway's refund_id of the i-th order's refund. */
export function reconGatewayRefundId(index: number): string {
  return `50300${String(index).padStart(23, "0")}`;
}

/** Half the order, rounded down. */
export function reconRefundAmount(index: number): number {
  return Math.floor(reconAmount(index) / 2);
}

/** An order this API never created (the bill's unknown payment after order `index`). */
export function unknownOrderId(index: number): string {
  return `X${String(index).padStart(9, "0")}`;
}

export function unknownTransactionId(index: number): string {
  return `42019${String(index).padStart(23, "0")}`;
}

/** A refund this API never asked for (after order `index`, of that order). */
export function unknownRefundId(index: number): string {
  return `RX${String(index).padStart(9, "0")}`;
}

export function unknownGatewayRefundId(index: number): string {
  return `50309${String(index).padStart(23, "0")}`;
}

/** The start of a Beijing day, epoch seconds. */
export function beijingDayStartSeconds(date: string): number {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return (Date.UTC(y, m - 1, d) - BEIJING_OFFSET_MS) / 1000;
}

/** The Beijing day before the one `nowMs` falls in: the last day whose bill exists. */
export function previousBeijingDay(nowMs: number): string {
  return new Date(nowMs + BEIJING_OFFSET_MS - DAY_SECONDS * 1000).toISOString().slice(0, 10);
}

/** When the i-th order was paid, epoch seconds: spread evenly over the day, in index order. */
export function paidAtSeconds(day: ReconDay, index: number): number {
  return day.startSeconds + Math.floor((index * DAY_SECONDS) / day.orders);
}

/** When the i-th order's refund succeeded, epoch seconds. */
export function refundedAtSeconds(day: ReconDay, index: number): number {
  return Math.min(paidAtSeconds(day, index) + REFUND_AFTER_SECONDS, day.startSeconds + DAY_SECONDS - 1);
}

/**
 * The planted differences: order indexes at fixed fractions of the day, chosen so that each is used for one
 * difference only and refund-only differences fall on refunded orders (the others on orders without a refund).
 */
export function plantDifferences(orders: number): Planted {
  if (orders < 1_000) throw new Error(`The reconciliation day needs at least 1,000 orders to plant its differences, not ${orders}.`);
  const used = new Set<number>();
  const pick = (fraction: number, refunded: boolean): number => {
    let index = Math.floor(orders * fraction);
    while (used.has(index) || hasRefund(index) !== refunded) index++;
    used.add(index);
    return index;
  };
  return {
    amountMismatch: [pick(0.1, false), pick(0.45, false), pick(0.9, false)],
    missingPayment: [pick(0.2, false), pick(0.7, false)],
    missingRefund: [pick(0.3, true)],
    unknownPaymentAfter: [pick(0.4, false), pick(0.8, false)],
    unknownRefundAfter: [pick(0.6, false)],
  };
}

export function reconDay(date: string, orders: number): ReconDay {
  return { date, startSeconds: beijingDayStartSeconds(date), orders, planted: plantDifferences(orders) };
}

/** The classes the bill's planted differences must come out as; every other class zero. */
export function expectedDifferences(day: ReconDay): Record<ReconciliationClass, number> {
  const { planted } = day;
  return {
    paid_not_recorded: 0,
    unknown_payment: planted.unknownPaymentAfter.length,
    payment_missing_from_bill: planted.missingPayment.length,
    refund_not_recorded: 0,
    unknown_refund: planted.unknownRefundAfter.length,
    refund_missing_from_bill: planted.missingRefund.length,
    amount_mismatch: planted.amountMismatch.length,
    currency_mismatch: 0,
    transaction_mismatch: 0,
    unexpected_row: 0,
    summary_mismatch: 0,
  };
}

/** The service fee of a line at scale 5 (0.6% of the amount in fen is 6 units of 10^-5 yuan per fen). */
export function feeUnits(amountFen: number): number {
  return amountFen * 6;
}

/** The totals a correct run reports, computed from the model (not from the generated file). */
export function expectedTotals(day: ReconDay): ReconciliationTotals {
  const { planted } = day;
  const mismatch = new Set(planted.amountMismatch);
  const missingPayment = new Set(planted.missingPayment);
  const missingRefund = new Set(planted.missingRefund);
  const bill = { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 };
  const ours = { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 };
  let fee = 0;
  for (let i = 0; i < day.orders; i++) {
    const amount = reconAmount(i);
    ours.paymentCount++;
    ours.paymentAmount += amount;
    if (!missingPayment.has(i)) {
      const billed = mismatch.has(i) ? amount + MISMATCH_EXTRA : amount;
      bill.paymentCount++;
      bill.paymentAmount += billed;
      fee += feeUnits(billed);
    }
    if (hasRefund(i)) {
      const refund = reconRefundAmount(i);
      ours.refundCount++;
      ours.refundAmount += refund;
      if (!missingRefund.has(i)) {
        bill.refundCount++;
        bill.refundAmount += refund;
        fee -= feeUnits(refund);
      }
    }
  }
  bill.paymentCount += planted.unknownPaymentAfter.length;
  bill.paymentAmount += planted.unknownPaymentAfter.length * UNKNOWN_PAYMENT_AMOUNT;
  fee += planted.unknownPaymentAfter.length * feeUnits(UNKNOWN_PAYMENT_AMOUNT);
  bill.refundCount += planted.unknownRefundAfter.length;
  bill.refundAmount += planted.unknownRefundAfter.length * UNKNOWN_REFUND_AMOUNT;
  fee -= planted.unknownRefundAfter.length * feeUnits(UNKNOWN_REFUND_AMOUNT);
  return {
    currency: "CNY",
    bill,
    summary: { lineCount: bill.paymentCount + bill.refundCount, paymentAmount: bill.paymentAmount, refundAmount: bill.refundAmount, fee },
    ours,
    feeLines: fee,
    feeSummary: fee,
  };
}

/** The amount the bill lists for the i-th order's payment. */
export function billedAmount(day: ReconDay, index: number): number {
  return day.planted.amountMismatch.includes(index) ? reconAmount(index) + MISMATCH_EXTRA : reconAmount(index);
}
