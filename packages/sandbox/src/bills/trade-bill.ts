import { currencyExponent, formatAmount, formatDashedBeijingTime, type Currency } from "@pay/core";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";

/** One Beijing day in epoch milliseconds. */
export const DAY_MS = 24 * 3600 * 1000;

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
/** The simulated service fee: 0.6%, written to five decimals as the real bill does. */
const FEE_RATE_PERCENT = "0.60%";
const FEE_RATE_PER_100K = 600;

/** The bill types whose lines the sandbox has: payments, refunds, or both. */
export type TradeBillLines = "ALL" | "SUCCESS" | "REFUND";

interface BillLine {
  readonly fields: readonly string[];
  readonly currency: Currency;
  readonly settlement: number;
  readonly refund: number;
  readonly feeUnits: number;
  readonly total: number;
}

/** The service fee in 10^-5 of the major unit (0.6% of the minor-unit amount). */
function feeUnits(amountMinor: number, exponent: number): number {
  return Math.round((amountMinor * 10 ** (5 - exponent) * FEE_RATE_PER_100K) / 100_000);
}

function formatFee(units: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(units)).padStart(6, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -5)}.${digits.slice(-5)}`;
}

function paymentLine(order: SandboxOrder, at: number): BillLine {
  const money = (minor: number): string => formatAmount(minor, order.feeType);
  const fee = feeUnits(order.totalFee, currencyExponent(order.feeType));
  return {
    fields: [
      formatDashedBeijingTime(at),
      order.appId,
      order.mchId,
      order.subMchId ?? "0",
      "",
      order.transactionId ?? "",
      order.outTradeNo,
      order.subOpenid ?? order.openid ?? "",
      "JSAPI",
      "SUCCESS",
      "OTHERS",
      order.feeType,
      money(order.totalFee),
      money(0),
      "0",
      "0",
      money(0),
      money(0),
      "",
      "",
      order.body,
      order.attach ?? "",
      formatFee(fee),
      FEE_RATE_PERCENT,
      money(order.totalFee),
      money(0),
      "",
    ],
    currency: order.feeType,
    settlement: order.totalFee,
    refund: 0,
    feeUnits: fee,
    total: order.totalFee,
  };
}

function refundLine(order: SandboxOrder, refund: SandboxRefund, at: number): BillLine {
  const money = (minor: number): string => formatAmount(minor, order.feeType);
  const fee = -feeUnits(refund.refundFee, currencyExponent(order.feeType));
  return {
    fields: [
      formatDashedBeijingTime(at),
      order.appId,
      order.mchId,
      order.subMchId ?? "0",
      "",
      order.transactionId ?? "",
      order.outTradeNo,
      order.subOpenid ?? order.openid ?? "",
      "JSAPI",
      "REFUND",
      "OTHERS",
      order.feeType,
      money(0),
      money(0),
      refund.refundId,
      refund.outRefundNo,
      money(refund.refundFee),
      money(0),
      "ORIGINAL",
      "SUCCESS",
      order.body,
      order.attach ?? "",
      formatFee(fee),
      FEE_RATE_PERCENT,
      money(order.totalFee),
      money(refund.refundFee),
      "",
    ],
    currency: order.feeType,
    settlement: 0,
    refund: refund.refundFee,
    feeUnits: fee,
    total: 0,
  };
}

/** A line of a backtick bill: every cell prefixed with a backtick so spreadsheets keep long numbers as text. */
export function tickedLine(fields: readonly string[]): string {
  return fields.map((f) => `\`${f}`).join(",");
}

export interface TradeBillInput {
  /** The merchant's orders (any protocol); only their payments and successful refunds inside the day count. */
  readonly orders: readonly SandboxOrder[];
  /** Start of the Beijing day, epoch ms. */
  readonly dayStart: number;
  readonly lines: TradeBillLines;
  /** The currency the summary amounts are written in; the first line's when absent. */
  readonly summaryCurrency?: Currency;
}

/**
 * The day's trade bill as the gateway's CSV (the v2 downloadbill and the v3 tradebill file): a BOM, the
 * header, one backtick line per payment and per successful refund in time order, amounts in the order's
 * currency from integer minor units, then the summary header and a summary line whose totals are sums
 * of the lines. Undefined when the day has no line.
 */
export function buildTradeBillCsv(input: TradeBillInput): string | undefined {
  const { dayStart, lines: kind } = input;
  const inDay = (t: number | undefined): t is number => t !== undefined && t >= dayStart && t < dayStart + DAY_MS;
  const lines: BillLine[] = [];
  for (const order of input.orders) {
    if ((kind === "ALL" || kind === "SUCCESS") && inDay(order.paidAt)) lines.push(paymentLine(order, order.paidAt));
    if (kind === "ALL" || kind === "REFUND") {
      for (const refund of order.refunds) if (refund.status === "SUCCESS" && inDay(refund.successAt)) lines.push(refundLine(order, refund, refund.successAt));
    }
  }
  if (lines.length === 0) return undefined;
  lines.sort((a, b) => (a.fields[0] ?? "").localeCompare(b.fields[0] ?? ""));

  const currency = input.summaryCurrency ?? lines[0]?.currency ?? "CNY";
  const sum = (pick: (l: BillLine) => number): number => lines.reduce((s, l) => s + pick(l), 0);
  const summary = [
    String(lines.length),
    formatAmount(
      sum((l) => l.settlement),
      currency,
    ),
    formatAmount(
      sum((l) => l.refund),
      currency,
    ),
    formatAmount(0, currency),
    formatFee(sum((l) => l.feeUnits)),
    formatAmount(
      sum((l) => l.total),
      currency,
    ),
    formatAmount(
      sum((l) => l.refund),
      currency,
    ),
  ];
  return `\uFEFF${HEADER}\r\n${lines.map((l) => tickedLine(l.fields)).join("\r\n")}\r\n${SUMMARY_HEADER}\r\n${tickedLine(summary)}\r\n`;
}
