import { gzipSync } from "node:zlib";
import { currencyExponent, formatAmount, formatDashedBeijingTime, parseBeijingTime, parseDownloadBillRequest } from "@pay/core";
import type { SandboxContext } from "../context.js";
import { replyProtocolFail } from "../http.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import type { GatewayRequest } from "./gateway-request.js";

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
/** The simulated service fee: 0.6%, written to five decimals as the real bill does. */
const FEE_RATE_PERCENT = "0.60%";
const FEE_RATE_PER_100K = 600;

interface BillLine {
  readonly fields: readonly string[];
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
    settlement: 0,
    refund: refund.refundFee,
    feeUnits: fee,
    total: 0,
  };
}

/** POST /pay/downloadbill: the day's trades as the gateway's CSV (BOM, backtick-prefixed fields, amounts in yuan). */
export function downloadBill(sandbox: SandboxContext, request: GatewayRequest): void {
  const { ctx, merchant, raw } = request;
  const parsed = parseDownloadBillRequest(raw);
  if (!parsed.ok) {
    // downloadbill reports every failure as return_code FAIL with one of its fixed messages.
    const { code, message } = parsed.error;
    return replyProtocolFail(ctx, code === "MISSING_FIELD" ? "missing parameter" : message.includes("bill_type") ? "invalid bill_type" : "data format error");
  }
  const { billDate, billType, tarType } = parsed.value;
  const dayStart = parseBeijingTime(`${billDate}000000`)?.getTime();
  if (dayStart === undefined) return replyProtocolFail(ctx, "invalid bill_date");
  if (dayStart + 24 * 3600 * 1000 > sandbox.clock.now()) return replyProtocolFail(ctx, "Bill Creating");
  const inDay = (t: number | undefined): t is number => t !== undefined && t >= dayStart && t < dayStart + 24 * 3600 * 1000;

  const lines: BillLine[] = [];
  const orders = sandbox.store.allOrders().filter((o) => o.mchId === merchant.mchId && o.subMchId === merchant.subMchId);
  for (const order of orders) {
    if ((billType === "ALL" || billType === "SUCCESS") && inDay(order.paidAt)) lines.push(paymentLine(order, order.paidAt));
    if (billType === "ALL" || billType === "REFUND") {
      for (const refund of order.refunds) if (refund.status === "SUCCESS" && inDay(refund.successAt)) lines.push(refundLine(order, refund, refund.successAt));
    }
  }
  if (billType === "RECHARGE_REFUND" || lines.length === 0) return replyProtocolFail(ctx, "No Bill Exist");
  lines.sort((a, b) => (a.fields[0] ?? "").localeCompare(b.fields[0] ?? ""));

  const currency = orders[0]?.feeType ?? "CNY";
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
  const tick = (fields: readonly string[]): string => fields.map((f) => `\`${f}`).join(",");
  const text = `\uFEFF${HEADER}\r\n${lines.map((l) => tick(l.fields)).join("\r\n")}\r\n${SUMMARY_HEADER}\r\n${tick(summary)}\r\n`;
  ctx.status = 200;
  if (tarType === "GZIP") {
    ctx.type = "application/x-gzip";
    ctx.body = gzipSync(Buffer.from(text, "utf8"));
  } else {
    ctx.type = "text/plain; charset=utf-8";
    ctx.body = text;
  }
}
