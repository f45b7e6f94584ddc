import { formatAmount, formatCompactBeijingTime, formatDashedBeijingTime, type Currency } from "@pay/core";
import type { SandboxOrder } from "../state/types.js";
import { DAY_MS, tickedLine } from "./trade-bill.js";

const HEADER = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号";
const SUMMARY_HEADER = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额";

/** One movement of the basic account: a payment in, or a successful refund out. */
interface Movement {
  readonly at: number;
  /** Positive for income, negative for expense, in minor units of `currency`. */
  readonly amount: number;
  readonly currency: Currency;
  readonly businessNo: string;
  readonly voucherNo: string;
}

function movementsOf(orders: readonly SandboxOrder[]): Movement[] {
  const movements: Movement[] = [];
  for (const order of orders) {
    if (order.paidAt !== undefined) {
      movements.push({ at: order.paidAt, amount: order.totalFee, currency: order.feeType, businessNo: order.transactionId ?? "", voucherNo: order.outTradeNo });
    }
    for (const refund of order.refunds) {
      if (refund.status === "SUCCESS" && refund.successAt !== undefined) {
        movements.push({ at: refund.successAt, amount: -refund.refundFee, currency: order.feeType, businessNo: refund.refundId, voucherNo: refund.outRefundNo });
      }
    }
  }
  // Stable: movements at the same millisecond keep store order (a payment before its refunds).
  return movements.sort((a, b) => a.at - b.at);
}

export interface FundFlowBillInput {
  readonly mchId: string;
  /** The orders whose money lands in the merchant's basic account (its own, not its sub-merchants'). */
  readonly orders: readonly SandboxOrder[];
  /** Start of the Beijing day, epoch ms. */
  readonly dayStart: number;
}

/**
 * The day's basic-account fund flow as the gateway's CSV: a BOM, the header, one backtick line per
 * payment (收入) and successful refund (支出) in time order with the running balance since the first
 * movement, then the summary (counts, income and expense totals, sums of the lines). Amounts are
 * written from integer minor units. Undefined when the day has no movement.
 */
export function buildFundFlowBillCsv(input: FundFlowBillInput): string | undefined {
  const { dayStart } = input;
  const dayEnd = dayStart + DAY_MS;
  const all = movementsOf(input.orders).filter((m) => m.at < dayEnd);
  let balance = all.filter((m) => m.at < dayStart).reduce((s, m) => s + m.amount, 0);
  const day = all.filter((m) => m.at >= dayStart);
  if (day.length === 0) return undefined;
  const currency = day[0]?.currency ?? "CNY";
  const datePart = formatCompactBeijingTime(dayStart).slice(0, 8);
  const lines = day.map((m, i) => {
    balance += m.amount;
    const income = m.amount > 0;
    return tickedLine([
      formatDashedBeijingTime(m.at),
      m.businessNo,
      `${input.mchId}${datePart}${String(i + 1).padStart(10, "0")}`,
      income ? "交易" : "退款",
      income ? "交易" : "退款",
      income ? "收入" : "支出",
      formatAmount(Math.abs(m.amount), m.currency),
      formatAmount(balance, m.currency),
      "system",
      "",
      m.voucherNo,
    ]);
  });
  const incomes = day.filter((m) => m.amount > 0);
  const expenses = day.filter((m) => m.amount < 0);
  const summary = [
    String(day.length),
    String(incomes.length),
    formatAmount(
      incomes.reduce((s, m) => s + m.amount, 0),
      currency,
    ),
    String(expenses.length),
    formatAmount(
      expenses.reduce((s, m) => s - m.amount, 0),
      currency,
    ),
  ];
  return `\uFEFF${HEADER}\r\n${lines.join("\r\n")}\r\n${SUMMARY_HEADER}\r\n${tickedLine(summary)}\r\n`;
}
