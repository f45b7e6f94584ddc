import { buildSignedPayNotify } from "@pay/core/testing";
import { MERCHANT } from "./merchant.js";
import { orderIdAt, totalFeeAt, transactionIdAt } from "./orders.js";

const COUPON_FEES = [10, 20] as const;

/**
 * The fields of a realistic domestic JSAPI pay notify for the i-th seeded order: two coupons (one
 * cash, one not), CJK attach, every optional field a real notify usually carries.
 */
export function payNotifyFields(index: number): Record<string, string | number> {
  const total = totalFeeAt(index);
  const couponFee = COUPON_FEES[0] + COUPON_FEES[1];
  return {
    return_code: "SUCCESS",
    return_msg: "OK",
    appid: MERCHANT.appId,
    mch_id: MERCHANT.mchId,
    device_info: "WEB",
    result_code: "SUCCESS",
    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    is_subscribe: "N",
    trade_type: "JSAPI",
    bank_type: "CMB_CREDIT",
    total_fee: total,
    settlement_total_fee: total,
    fee_type: "CNY",
    cash_fee: total - couponFee,
    cash_fee_type: "CNY",
    coupon_fee: couponFee,
    coupon_count: 2,
    coupon_type_0: "CASH",
    coupon_id_0: "10000000000000000001",
    coupon_fee_0: COUPON_FEES[0],
    coupon_type_1: "NO_CASH",
    coupon_id_1: "10000000000000000002",
    coupon_fee_1: COUPON_FEES[1],
    transaction_id: transactionIdAt(index),
    out_trade_no: orderIdAt(index),
    attach: "深圳分店",
    time_end: "20250102113405",
  };
}

/** The signed XML body WeChat Pay would POST for the i-th order (HMAC-SHA256, sign_type included). */
export function signedPayNotify(index: number): string {
  return buildSignedPayNotify(payNotifyFields(index), { key: MERCHANT.key, signType: MERCHANT.signType });
}
