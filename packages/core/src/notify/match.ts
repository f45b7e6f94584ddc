import type { Currency } from "../money/currency.js";
import { err, ok, type Result } from "../result.js";

export type PaymentMatchErrorCode =
  "ORDER_MISMATCH" | "APPID_MISMATCH" | "MCH_ID_MISMATCH" | "SUB_APPID_MISMATCH" | "SUB_MCH_ID_MISMATCH" | "AMOUNT_MISMATCH" | "CURRENCY_MISMATCH";

/** What a paid message (notify or orderquery) must agree with: the order as stored. */
export interface ExpectedPayment {
  readonly outTradeNo: string;
  readonly appId: string;
  readonly mchId: string;
  readonly subAppId?: string | undefined;
  readonly subMchId?: string | undefined;
  readonly totalFee: number;
  readonly feeType: Currency;
}

/** The fields of a notify or orderquery answer that are checked against the order. */
export interface ReportedPayment {
  readonly outTradeNo?: string | undefined;
  readonly appid: string;
  readonly mchId: string;
  readonly subAppid?: string | undefined;
  readonly subMchId?: string | undefined;
  readonly totalFee?: number | undefined;
  readonly feeType?: string | undefined;
}

/**
 * Checks that a verified payment report is for this order, merchant and amount. A valid signature
 * alone is not enough: a notify for another merchant, or for a smaller amount, must not mark it paid.
 */
export function matchPayment(reported: ReportedPayment, expected: ExpectedPayment): Result<true, PaymentMatchErrorCode> {
  if (reported.outTradeNo !== expected.outTradeNo) return err("ORDER_MISMATCH", `out_trade_no ${reported.outTradeNo ?? "(missing)"} is not this order.`);
  if (reported.appid !== expected.appId) return err("APPID_MISMATCH", "appid does not match the merchant.");
  if (reported.mchId !== expected.mchId) return err("MCH_ID_MISMATCH", "mch_id does not match the merchant.");
  if ((expected.subMchId ?? "") !== (reported.subMchId ?? "")) return err("SUB_MCH_ID_MISMATCH", "sub_mch_id does not match the merchant.");
  if (expected.subAppId !== undefined && reported.subAppid !== undefined && reported.subAppid !== expected.subAppId) {
    return err("SUB_APPID_MISMATCH", "sub_appid does not match the merchant.");
  }
  if (reported.totalFee !== expected.totalFee) {
    return err("AMOUNT_MISMATCH", `total_fee ${reported.totalFee ?? "(missing)"} differs from the order's ${expected.totalFee}.`);
  }
  // fee_type is optional on domestic messages, where it defaults to CNY.
  const feeType = reported.feeType ?? "CNY";
  if (feeType !== expected.feeType) return err("CURRENCY_MISMATCH", `fee_type ${feeType} differs from the order's ${expected.feeType}.`);
  return ok(true);
}
