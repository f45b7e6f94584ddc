import { currencyExponent, formatAmount, formatDashedBeijingTime, type Currency } from "@pay/core";
import type { BillFaultKind } from "../control/schemas.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import { NO_OVERRIDES, type BillOverrides, type PaymentLineOverride, type RefundLineOverride } from "./bill-controls.js";

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

function paymentLine(order: SandboxOrder, at: number, override: PaymentLineOverride): BillLine {
  const feeType = override.feeType ?? order.feeType;
  const totalFee = override.totalFee ?? order.totalFee;
  const money = (minor: number): string => formatAmount(minor, feeType);
  const fee = feeUnits(totalFee, currencyExponent(feeType));
  return {
    fields: [
      formatDashedBeijingTime(at),
      order.appId,
      order.mchId,
      order.subMchId ?? "0",
      "",
      override.transactionId ?? order.transactionId ?? "",
      order.outTradeNo,
      order.subOpenid ?? order.openid ?? "",
      "JSAPI",
      "SUCCESS",
      "OTHERS",
      feeType,
      money(totalFee),
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
      money(totalFee),
      money(0),
      "",
    ],
    currency: feeType,
    settlement: totalFee,
    refund: 0,
    feeUnits: fee,
    total: totalFee,
  };
}

/** A line for the order in a trade state a payment line never has (REVOKED, ...): nothing to settle, no fee. */
function unexpectedLine(order: SandboxOrder, at: number, tradeState: string): BillLine {
  const money = (minor: number): string => formatAmount(minor, order.feeType);
  const fields = [...paymentLine(order, at, { omitted: false }).fields];
  fields[9] = tradeState;
  fields[12] = money(0);
  fields[22] = formatFee(0);
  return { fields, currency: order.feeType, settlement: 0, refund: 0, feeUnits: 0, total: order.totalFee };
}

function refundLine(order: SandboxOrder, refund: SandboxRefund, at: number, override: RefundLineOverride): BillLine {
  const money = (minor: number): string => formatAmount(minor, order.feeType);
  const refundFee = override.refundFee ?? refund.refundFee;
  const fee = -feeUnits(refundFee, currencyExponent(order.feeType));
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
      money(refundFee),
      money(0),
      "ORIGINAL",
      "SUCCESS",
      order.body,
      order.attach ?? "",
      formatFee(fee),
      FEE_RATE_PERCENT,
      money(order.totalFee),
      money(refundFee),
      "",
    ],
    currency: order.feeType,
    settlement: 0,
    refund: refundFee,
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
  /** Differences from the gateway's state made on purpose (the control API's discrepancies); none when absent. */
  readonly overrides?: BillOverrides;
  /** A bill-file fault to build the file with (hash_mismatch is the download's, not the file's). */
  readonly fault?: Exclude<BillFaultKind, "hash_mismatch">;
}

/** What a `garbage` bill-file fault serves: an error page where the bill should be. */
export const GARBAGE_BILL = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\r\n";

/** The 商户号 a `foreign_merchant` bill-file fault writes: a merchant that is not `mchId`. */
export function foreignMchId(mchId: string): string {
  return mchId === "1230000109" ? "1230000110" : "1230000109";
}

/**
 * The day's trade bill as the gateway's CSV (the v2 downloadbill and the v3 tradebill file): a BOM, the
 * header, one backtick line per payment and per successful refund in time order, amounts in the order's
 * currency from integer minor units, then the summary header and a summary line whose totals are sums
 * of the lines. Undefined when the day has no line. `overrides` change lines (and the summary) on
 * purpose; `fault` spoils the file as a whole.
 */
export function buildTradeBillCsv(input: TradeBillInput): string | undefined {
  const { dayStart, lines: kind } = input;
  const overrides = input.overrides ?? NO_OVERRIDES;
  const inDay = (t: number | undefined): t is number => t !== undefined && t >= dayStart && t < dayStart + DAY_MS;
  const lines: BillLine[] = [];
  for (const order of input.orders) {
    const override = overrides.payment(order);
    if ((kind === "ALL" || kind === "SUCCESS") && inDay(order.paidAt) && !override.omitted) lines.push(paymentLine(order, order.paidAt, override));
    const unexpectedAt = order.paidAt ?? order.createdAt;
    if ((kind === "ALL" || kind === "SUCCESS") && override.unexpectedState !== undefined && inDay(unexpectedAt))
      lines.push(unexpectedLine(order, unexpectedAt, override.unexpectedState));
    if (kind === "ALL" || kind === "REFUND") {
      for (const refund of order.refunds) {
        const refundOverride = overrides.refund(refund);
        if (refund.status === "SUCCESS" && inDay(refund.successAt) && !refundOverride.omitted) lines.push(refundLine(order, refund, refund.successAt, refundOverride));
      }
    }
  }
  if (lines.length === 0) return undefined;
  if (input.fault === "garbage") return GARBAGE_BILL;
  lines.sort((a, b) => (a.fields[0] ?? "").localeCompare(b.fields[0] ?? ""));
  const shown = lines.map((l) => spoilFields(l.fields, input.fault));

  const currency = input.summaryCurrency ?? lines[0]?.currency ?? "CNY";
  const sum = (pick: (l: BillLine) => number): number => lines.reduce((s, l) => s + pick(l), 0);
  const said = overrides.summary ?? {};
  const settlement = said.settlementTotalFee ?? sum((l) => l.settlement);
  const refunded = said.refundFee ?? sum((l) => l.refund);
  const total = said.settlementTotalFee ?? sum((l) => l.total);
  const summary = [
    String(said.tradeCount ?? lines.length),
    formatAmount(settlement, currency),
    formatAmount(refunded, currency),
    formatAmount(0, currency),
    formatFee(sum((l) => l.feeUnits)),
    formatAmount(total, currency),
    formatAmount(refunded, currency),
  ];
  const body = `\uFEFF${HEADER}\r\n${shown.map(tickedLine).join("\r\n")}\r\n`;
  if (input.fault === "truncated") return body;
  return `${body}${SUMMARY_HEADER}\r\n${tickedLine(summary)}\r\n`;
}

/** A line's fields as a `foreign_merchant` or `other_day` fault shows them (unchanged for any other). */
function spoilFields(fields: readonly string[], fault: TradeBillInput["fault"]): readonly string[] {
  if (fault === "foreign_merchant") return fields.map((f, i) => (i === 2 ? foreignMchId(f) : f));
  if (fault === "other_day") {
    return fields.map((f, i) => (i === 0 ? formatDashedBeijingTime(Date.parse(`${f.replace(" ", "T")}+08:00`) - DAY_MS) : f));
  }
  return fields;
}
