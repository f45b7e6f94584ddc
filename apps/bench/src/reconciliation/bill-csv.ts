// The day's trade bill as WeChat Pay's v2 downloadbill answers it (the layout @pay/sandbox writes: a BOM,
// the header, one backtick line per payment and per successful refund, the summary header and line),
// generated line by line: a generator of text chunks, so a million-line bill never exists in memory.
import {
  billedAmount,
  DAY_SECONDS,
  feeUnits,
  hasRefund,
  reconAmount,
  reconGatewayRefundId,
  reconOrderId,
  reconRefundAmount,
  reconRefundId,
  reconTransactionId,
  refundedAtSeconds,
  paidAtSeconds,
  UNKNOWN_PAYMENT_AMOUNT,
  UNKNOWN_REFUND_AMOUNT,
  unknownGatewayRefundId,
  unknownOrderId,
  unknownRefundId,
  unknownTransactionId,
  type ReconDay,
} from "./day.js";

const HEADER =
  "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const SUMMARY_HEADER = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";
const BEIJING_OFFSET_SECONDS = 8 * 3600;
/** Lines are gathered into chunks of about this many characters before they are handed on. */
const CHUNK_CHARS = 64 * 1024;

/** Who the bill is for and whom it names. */
export interface BillParty {
  readonly appId: string;
  readonly mchId: string;
  /** The payers' openids; order i's is openids[i % length]. */
  readonly openids: readonly string[];
}

/** Fen as yuan with two decimals. */
function yuan(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const cents = abs % 100;
  return `${sign}${Math.floor(abs / 100)}.${cents < 10 ? "0" : ""}${cents}`;
}

/** A fee at scale 5 as the bill writes it (0.00600). */
function fee(units: number): string {
  const digits = String(Math.abs(units)).padStart(6, "0");
  return `${units < 0 ? "-" : ""}${digits.slice(0, -5)}.${digits.slice(-5)}`;
}

/** `yyyy-MM-dd HH:mm:ss` in Beijing time of epoch seconds (the last one remembered: a million lines share 86,400 seconds). */
function createTimeFormatter(): (seconds: number) => string {
  let last = Number.NaN;
  let text = "";
  return (seconds) => {
    if (seconds !== last) {
      last = seconds;
      text = new Date((seconds + BEIJING_OFFSET_SECONDS) * 1000).toISOString().slice(0, 19).replace("T", " ");
    }
    return text;
  };
}

function ticked(fields: readonly string[]): string {
  return `\`${fields.join(",`")}`;
}

/** Running sums of the lines written, for the summary line. */
interface Sums {
  lines: number;
  settlement: number;
  refund: number;
  fee: number;
  total: number;
}

/**
 * The bill's text in chunks of about 64 KiB: payment lines in the order they were paid, each refund line right
 * after its order's payment line, the planted differences in place, and a summary whose figures are the sums
 * of the lines written.
 */
export function* billChunks(day: ReconDay, party: BillParty): Generator<string, void, undefined> {
  const time = createTimeFormatter();
  const { planted } = day;
  const missingPayment = new Set(planted.missingPayment);
  const missingRefund = new Set(planted.missingRefund);
  const unknownPaymentAfter = new Set(planted.unknownPaymentAfter);
  const unknownRefundAfter = new Set(planted.unknownRefundAfter);
  const sums: Sums = { lines: 0, settlement: 0, refund: 0, fee: 0, total: 0 };
  const paymentLine = (at: number, transactionId: string, orderId: string, openid: string, amount: number): string => {
    sums.lines++;
    sums.settlement += amount;
    sums.total += amount;
    sums.fee += feeUnits(amount);
    const money = yuan(amount);
    return ticked([
      time(at),
      party.appId,
      party.mchId,
      "0",
      "",
      transactionId,
      orderId,
      openid,
      "JSAPI",
      "SUCCESS",
      "OTHERS",
      "CNY",
      money,
      "0.00",
      "0",
      "0",
      "0.00",
      "0.00",
      "",
      "",
      "Ceramic mug",
      "",
      fee(feeUnits(amount)),
      "0.60%",
      money,
      "0.00",
      "",
    ]);
  };
  const refundLine = (at: number, index: number, gatewayRefundId: string, refundId: string, refund: number): string => {
    sums.lines++;
    sums.refund += refund;
    sums.fee -= feeUnits(refund);
    const money = yuan(refund);
    return ticked([
      time(at),
      party.appId,
      party.mchId,
      "0",
      "",
      reconTransactionId(index),
      reconOrderId(index),
      party.openids[index % party.openids.length] ?? "",
      "JSAPI",
      "REFUND",
      "OTHERS",
      "CNY",
      "0.00",
      "0.00",
      gatewayRefundId,
      refundId,
      money,
      "0.00",
      "ORIGINAL",
      "SUCCESS",
      "Ceramic mug",
      "",
      fee(-feeUnits(refund)),
      "0.60%",
      yuan(reconAmount(index)),
      money,
      "",
    ]);
  };

  let chunk = `\uFEFF${HEADER}\r\n`;
  for (let i = 0; i < day.orders; i++) {
    const paidAt = paidAtSeconds(day, i);
    const openid = party.openids[i % party.openids.length] ?? "";
    if (!missingPayment.has(i)) chunk += `${paymentLine(paidAt, reconTransactionId(i), reconOrderId(i), openid, billedAmount(day, i))}\r\n`;
    if (hasRefund(i) && !missingRefund.has(i)) chunk += `${refundLine(refundedAtSeconds(day, i), i, reconGatewayRefundId(i), reconRefundId(i), reconRefundAmount(i))}\r\n`;
    if (unknownPaymentAfter.has(i)) chunk += `${paymentLine(paidAt, unknownTransactionId(i), unknownOrderId(i), openid, UNKNOWN_PAYMENT_AMOUNT)}\r\n`;
    if (unknownRefundAfter.has(i)) {
      chunk += `${refundLine(Math.min(paidAt + 60, day.startSeconds + DAY_SECONDS - 1), i, unknownGatewayRefundId(i), unknownRefundId(i), UNKNOWN_REFUND_AMOUNT)}\r\n`;
    }
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  const summary = ticked([String(sums.lines), yuan(sums.settlement), yuan(sums.refund), "0.00", fee(sums.fee), yuan(sums.total), yuan(sums.refund)]);
  yield `${chunk}${SUMMARY_HEADER}\r\n${summary}\r\n`;
}
