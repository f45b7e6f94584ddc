import { formatAmount, formatDashedBeijingTime, type Currency } from "@pay/core";
import { FAKE_MERCHANT } from "./fake-app.js";

// Trade bills (bill type ALL) in WeChat Pay's layout, from lines a test describes: a BOM, the header, one
// backtick line per payment or refund, the summary header and a summary row that sums the lines (unless
// the test overrides a figure).

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

/** A payment line: SUCCESS (or another 交易状态, e.g. REVOKED). */
export interface BillPaymentLine {
  readonly kind: "payment";
  /** Epoch ms, or the text as written. */
  readonly at: number | string;
  readonly orderId: string;
  readonly transactionId: string;
  /** Minor units. */
  readonly amount: number;
  readonly currency?: Currency;
  readonly state?: string;
  readonly mchId?: string;
  readonly subMchId?: string;
}

/** A refund line (交易状态 REFUND), 退款状态 SUCCESS unless told. */
export interface BillRefundLine {
  readonly kind: "refund";
  readonly at: number | string;
  readonly orderId: string;
  readonly transactionId: string;
  readonly refundId: string;
  readonly gatewayRefundId?: string;
  /** The order's amount, minor units. */
  readonly orderAmount: number;
  readonly amount: number;
  readonly currency?: Currency;
  readonly refundStatus?: string;
  readonly mchId?: string;
}

export type BillLine = BillPaymentLine | BillRefundLine;

/** Summary figures to write instead of the sums of the lines. */
export interface BillSummaryOverrides {
  readonly tradeCount?: number;
  readonly settlement?: number;
  readonly refund?: number;
  /** 10^-5 of the major unit. */
  readonly fee?: number;
}

const fee = (amountMinor: number): number => amountMinor * 6;

function formatFee(units: number): string {
  const digits = String(Math.abs(units)).padStart(6, "0");
  return `${units < 0 ? "-" : ""}${digits.slice(0, -5)}.${digits.slice(-5)}`;
}

const ticked = (fields: readonly string[]): string => fields.map((f) => `\`${f}`).join(",");

function cells(line: BillLine): { fields: string[]; settlement: number; refund: number; fee: number } {
  const currency = line.currency ?? "CNY";
  const money = (minor: number): string => formatAmount(minor, currency);
  const at = typeof line.at === "number" ? formatDashedBeijingTime(line.at) : line.at;
  const mchId = line.mchId ?? FAKE_MERCHANT.mchId;
  if (line.kind === "payment") {
    const units = fee(line.amount);
    return {
      fields: [
        at,
        FAKE_MERCHANT.appId,
        mchId,
        line.subMchId ?? "0",
        "",
        line.transactionId,
        line.orderId,
        "o-bill-payer",
        "JSAPI",
        line.state ?? "SUCCESS",
        "OTHERS",
        currency,
        money(line.amount),
        money(0),
        "0",
        "0",
        money(0),
        money(0),
        "",
        "",
        "Shop",
        "",
        formatFee(units),
        "0.60%",
        money(line.amount),
        money(0),
        "",
      ],
      settlement: line.amount,
      refund: 0,
      fee: units,
    };
  }
  const units = -fee(line.amount);
  return {
    fields: [
      at,
      FAKE_MERCHANT.appId,
      mchId,
      "0",
      "",
      line.transactionId,
      line.orderId,
      "o-bill-payer",
      "JSAPI",
      "REFUND",
      "OTHERS",
      currency,
      money(0),
      money(0),
      line.gatewayRefundId ?? `wx-${line.refundId}`,
      line.refundId,
      money(line.amount),
      money(0),
      "ORIGINAL",
      line.refundStatus ?? "SUCCESS",
      "Shop",
      "",
      formatFee(units),
      "0.60%",
      money(line.orderAmount),
      money(line.amount),
      "",
    ],
    settlement: 0,
    refund: line.amount,
    fee: units,
  };
}

/** The CSV of a day's trade bill with these lines (in the order given). */
export function buildBillCsv(lines: readonly BillLine[], overrides: BillSummaryOverrides = {}, currency: Currency = "CNY"): string {
  const built = lines.map(cells);
  const sum = (pick: (l: (typeof built)[number]) => number): number => built.reduce((s, l) => s + pick(l), 0);
  const settlement = overrides.settlement ?? sum((l) => l.settlement);
  const refund = overrides.refund ?? sum((l) => l.refund);
  const summary = [
    String(overrides.tradeCount ?? lines.length),
    formatAmount(settlement, currency),
    formatAmount(refund, currency),
    formatAmount(0, currency),
    formatFee(overrides.fee ?? sum((l) => l.fee)),
    formatAmount(settlement, currency),
    formatAmount(refund, currency),
  ];
  return `\uFEFF${HEADER}\r\n${built.map((l) => `${ticked(l.fields)}\r\n`).join("")}${SUMMARY_HEADER}\r\n${ticked(summary)}\r\n`;
}
