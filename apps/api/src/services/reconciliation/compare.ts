import type { Currency } from "@pay/core";
import type { ReconciliationItem, ReconciliationSideTotals } from "@pay/core/contract";
import { isoAt } from "../../clock.js";
import { noDifferences } from "../../db/reconciliation-reads.js";
import {
  duplicateBillLines,
  otherBillRows,
  paymentDifferences,
  paymentsMissingFromBill,
  refundDifferences,
  refundsMissingFromBill,
  ourPaymentsInBill,
  ourRefundsInBill,
  type OurMerchant,
  type PaymentDifferenceRow,
  type RefundDifferenceRow,
  type RunLease,
  type TimeCursor,
} from "../../db/reconciliation.js";
import type { ServiceContext } from "../context.js";
import { gatewayPaidTimeOf } from "./day.js";
import { confirmPayment, confirmRefund, mapLimit } from "./repair.js";
import type { BillSums } from "./stage.js";

/** An item before it is stored. */
export type FoundItem = Omit<ReconciliationItem, "id">;

/** How late after the day's end a payment of the day may be recorded here (a notify a little after midnight). */
export const PAID_AT_GRACE_MS = 15 * 60 * 1000;

/** Rows per page of a comparison query. */
const PAGE_ROWS = 500;

/** The differences of a run: counted by class (all of them), the first `maxItems` kept. */
export class ItemCollector {
  readonly counts = noDifferences();
  readonly items: FoundItem[] = [];
  constructor(private readonly maxItems: number) {}

  add(item: FoundItem): void {
    this.counts[item.class] += 1;
    if (this.items.length < this.maxItems) this.items.push(item);
  }

  get total(): number {
    return Object.values(this.counts).reduce((sum, n) => sum + n, 0);
  }
}

export interface CompareOptions {
  readonly lease: RunLease;
  readonly merchant: OurMerchant;
  readonly day: { readonly start: number; readonly end: number };
  /** The totals' currency: our records in another currency are not summed. */
  readonly currency: Currency;
  readonly repairConcurrency: number;
  /** Throws when the run lost its lease: called before anything is repaired. */
  readonly checkLease: () => Promise<void>;
}

const item = (fields: Partial<FoundItem> & Pick<FoundItem, "class" | "detail">): FoundItem => ({
  resolution: "flagged",
  orderId: null,
  refundId: null,
  transactionId: null,
  billLine: null,
  billAmount: null,
  billCurrency: null,
  ourAmount: null,
  ourCurrency: null,
  ...fields,
});

function paymentItems(row: PaymentDifferenceRow): { readonly confirm: boolean; readonly items: FoundItem[] } {
  const base = { orderId: row.order_id === "" ? null : row.order_id, transactionId: row.transaction_id, billLine: row.line, billAmount: row.amount, billCurrency: row.currency };
  if (row.our_id === null) {
    return {
      confirm: false,
      items: [item({ ...base, class: "unknown_payment", detail: `Paid at WeChat Pay for order ${row.order_id || "(no order number)"}, which this API never created.` })],
    };
  }
  const ours = { ourAmount: row.our_amount, ourCurrency: row.our_currency };
  if (row.our_status === "pending" || row.our_status === "closed") {
    return { confirm: true, items: [item({ ...base, ...ours, class: "paid_not_recorded", detail: row.our_status })] };
  }
  const items: FoundItem[] = [];
  if (row.our_currency !== row.currency) {
    items.push(item({ ...base, ...ours, class: "currency_mismatch", detail: `The bill has the payment in ${row.currency}, this API in ${row.our_currency ?? "?"}.` }));
  } else if (row.our_amount !== row.amount) {
    items.push(
      item({
        ...base,
        ...ours,
        class: "amount_mismatch",
        detail: `The bill has the payment as ${row.amount}, this API as ${row.our_amount ?? "?"} (minor units of ${row.currency}).`,
      }),
    );
  }
  if (row.transaction_id !== null && row.our_transaction_id !== row.transaction_id) {
    items.push(
      item({ ...base, ...ours, class: "transaction_mismatch", detail: `The bill has transaction ${row.transaction_id}, this API recorded ${row.our_transaction_id ?? "none"}.` }),
    );
  }
  return { confirm: false, items };
}

function refundItems(row: RefundDifferenceRow): { readonly confirm: boolean; readonly items: FoundItem[] } {
  const base = {
    orderId: row.order_id === "" ? null : row.order_id,
    refundId: row.refund_id,
    transactionId: row.transaction_id,
    billLine: row.line,
    billAmount: row.amount,
    billCurrency: row.currency,
  };
  if (row.our_id === null) {
    return {
      confirm: false,
      items: [item({ ...base, class: "unknown_refund", detail: `Refunded at WeChat Pay as ${row.refund_id ?? "(no refund number)"}, which this API never asked for.` })],
    };
  }
  const ours = { ourAmount: row.our_amount, ourCurrency: row.our_currency };
  if (row.our_status !== "succeeded") return { confirm: true, items: [item({ ...base, ...ours, class: "refund_not_recorded", detail: row.our_status ?? "" })] };
  if (row.our_currency !== row.currency) {
    return {
      confirm: false,
      items: [item({ ...base, ...ours, class: "currency_mismatch", detail: `The bill has the refund in ${row.currency}, this API in ${row.our_currency ?? "?"}.` })],
    };
  }
  return {
    confirm: false,
    items: [
      item({
        ...base,
        ...ours,
        class: "amount_mismatch",
        detail: `The bill has the refund as ${row.amount}, this API as ${row.our_amount ?? "?"} (minor units of ${row.currency}).`,
      }),
    ],
  };
}

/**
 * Compares the staged bill with our records, differences only, a page at a time, and confirms what the bill
 * says was paid or refunded but is not here (bounded concurrency). Answers our side of the totals, counted
 * after the confirmations (a recovered payment is then ours too).
 */
export async function compareDay(ctx: ServiceContext, options: CompareOptions, collector: ItemCollector): Promise<ReconciliationSideTotals> {
  const { lease, merchant, day, currency } = options;
  // Confirms a page's differences that need a query, keeping the bill's line order in the items. The lease is
  // checked (and renewed) before each page that repairs anything: a run taken over repairs nothing more.
  const confirmAll = async (found: ReadonlyArray<{ readonly confirm: boolean; readonly items: FoundItem[] }>, confirm: (item: FoundItem) => Promise<FoundItem>) => {
    const pending = found.filter((f) => f.confirm).flatMap((f) => f.items);
    if (pending.length > 0) await options.checkLease();
    const confirmed = new Map(pending.map((i, at) => [i, at]));
    const answers = await mapLimit(pending, options.repairConcurrency, confirm);
    for (const f of found) for (const i of f.items) collector.add(f.confirm ? (answers[confirmed.get(i) ?? -1] ?? i) : i);
  };

  for (let after = 0; ;) {
    const rows = await paymentDifferences(ctx.db, lease, after, PAGE_ROWS);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.line ?? after;
    await confirmAll(rows.map(paymentItems), async (found) => ({ ...found, ...(await confirmPayment(ctx, found.orderId ?? "", found.detail)) }));
  }
  for (let after = 0; ;) {
    const rows = await refundDifferences(ctx.db, lease, after, PAGE_ROWS);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.line ?? after;
    await confirmAll(rows.map(refundItems), async (found) => ({ ...found, ...(await confirmRefund(ctx, found.refundId ?? "")) }));
  }
  for (let after = 0; ;) {
    const rows = await otherBillRows(ctx.db, lease, after, PAGE_ROWS);
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.line ?? after;
    for (const row of rows) {
      collector.add(
        item({
          class: "unexpected_row",
          orderId: row.order_id === "" ? null : row.order_id,
          refundId: row.refund_id,
          transactionId: row.transaction_id,
          billLine: row.line,
          billAmount: row.amount,
          billCurrency: row.currency,
          detail: `A bill line in state ${row.state}, which this API never makes.`,
        }),
      );
    }
  }

  // A payment or refund named by several lines would be counted twice by the bill: each is an item of its own.
  for (const duplicate of await duplicateBillLines(ctx.db, lease, PAGE_ROWS)) {
    const payment = duplicate.kind === "payment";
    collector.add(
      item({
        class: "unexpected_row",
        orderId: payment ? duplicate.key || null : null,
        refundId: payment ? null : duplicate.key || null,
        billLine: duplicate.first_line,
        detail: `The bill has ${duplicate.lines} ${payment ? "payment" : "refund"} lines for ${payment ? "order" : "refund"} ${duplicate.key || "(no number)"}, from line ${duplicate.first_line}; one is expected.`,
      }),
    );
  }

  const missingPayments = { count: 0, amount: 0 };
  const paidRange = { from: isoAt(day.start), to: isoAt(day.end + PAID_AT_GRACE_MS) };
  for (let cursor: TimeCursor | undefined; ;) {
    const rows = await paymentsMissingFromBill(ctx.db, lease, merchant, paidRange, cursor, PAGE_ROWS);
    const last = rows[rows.length - 1];
    if (last === undefined) break;
    cursor = { at: last.paid_at, id: last.id };
    for (const row of rows) {
      // The gateway's day of the payment decides: a payment of 23:59:59 recorded at 00:00:02 is the earlier day's.
      const at = gatewayPaidTimeOf(row.raw) ?? Date.parse(row.paid_at);
      if (at < day.start || at >= day.end) continue;
      if (row.fee_type === currency) {
        missingPayments.count += 1;
        missingPayments.amount += row.total_fee;
      }
      collector.add(
        item({
          class: "payment_missing_from_bill",
          orderId: row.id,
          transactionId: row.transaction_id,
          ourAmount: row.total_fee,
          ourCurrency: row.fee_type,
          detail: `Paid here at ${isoAt(at)} (transaction ${row.transaction_id ?? "none"}), but the day's bill has no line for it.`,
        }),
      );
    }
  }

  const missingRefunds = { count: 0, amount: 0 };
  const refundRange = { from: isoAt(day.start), to: isoAt(day.end) };
  for (let cursor: TimeCursor | undefined; ;) {
    const rows = await refundsMissingFromBill(ctx.db, lease, merchant, refundRange, cursor, PAGE_ROWS);
    const last = rows[rows.length - 1];
    if (last === undefined) break;
    cursor = { at: last.succeeded_at, id: last.id };
    for (const row of rows) {
      if (row.currency === currency) {
        missingRefunds.count += 1;
        missingRefunds.amount += row.refund_fee;
      }
      collector.add(
        item({
          class: "refund_missing_from_bill",
          orderId: row.order_id,
          refundId: row.id,
          ourAmount: row.refund_fee,
          ourCurrency: row.currency,
          detail: `Refund succeeded here at ${row.succeeded_at}, but the day's bill has no line for it.`,
        }),
      );
    }
  }

  const payments = await ourPaymentsInBill(ctx.db, lease, currency);
  const refunds = await ourRefundsInBill(ctx.db, lease, currency);
  return {
    paymentCount: payments.count + missingPayments.count,
    paymentAmount: payments.amount + missingPayments.amount,
    refundCount: refunds.count + missingRefunds.count,
    refundAmount: refunds.amount + missingRefunds.amount,
  };
}

/** The bill's summary row against the sums of its lines: one item per figure that differs. */
export function summaryItems(sums: BillSums): FoundItem[] {
  const { summary, currency } = sums;
  const found: FoundItem[] = [];
  const money = (name: string, stated: number | undefined, lines: number): void => {
    if (stated === undefined || stated === lines) return;
    found.push(
      item({
        class: "summary_mismatch",
        billAmount: stated,
        billCurrency: currency,
        ourAmount: lines,
        ourCurrency: currency,
        detail: `The bill's summary states ${name} ${stated}, its lines add up to ${lines} (minor units of ${currency}).`,
      }),
    );
  };
  if (summary.tradeCount !== sums.lineCount) {
    found.push(item({ class: "summary_mismatch", detail: `The bill's summary states 总交易单数 ${summary.tradeCount}, the bill has ${sums.lineCount} lines.` }));
  }
  money("应结订单总金额", summary.settlementTotalFee?.amount, sums.settlementAmount);
  money("退款总金额", summary.refundFee?.amount, sums.refundFeeAmount);
  if (summary.serviceFee !== undefined && summary.serviceFee.amount !== sums.fee) {
    found.push(
      item({ class: "summary_mismatch", detail: `The bill's summary states 手续费总金额 ${summary.serviceFee.amount}, its lines add up to ${sums.fee} (10^-5 of ${currency}).` }),
    );
  }
  return found;
}
