import { describe, expect, it } from "vitest";
import { PayCoreError } from "../errors.js";
import { ApplyRefundResponseSchema, buildApplyRefundFields, parseApplyRefundRequest, type ApplyRefundRequest } from "./refund.js";

const request: ApplyRefundRequest = {
  appid: "wx2421b1c4370ec43b",
  mchId: "10000100",
  nonceStr: "6cefdb308e1e2e8aabd48cf79e546a02",
  outTradeNo: "1415757673",
  outRefundNo: "R1415701182",
  totalFee: 1000,
  refundFee: 400,
  refundFeeType: "CNY",
  refundDesc: "商品已售完",
  refundAccount: "REFUND_SOURCE_RECHARGE_FUNDS",
  notifyUrl: "https://pay.example.com/wxpay/refund-notify",
};

const answer: Record<string, string> = {
  return_code: "SUCCESS",
  return_msg: "OK",
  appid: "wx2421b1c4370ec43b",
  mch_id: "10000100",
  nonce_str: "NfsMFbUFpdbEhPXP",
  sign: "B7274EB9F8925EB93100DD2085FA56C0",
  result_code: "SUCCESS",
  transaction_id: "1008450740201411110005820873",
  out_trade_no: "1415757673",
  out_refund_no: "R1415701182",
  refund_id: "2008450740201411110000174436",
  refund_fee: "400",
  total_fee: "1000",
  cash_fee: "900",
  cash_refund_fee: "360",
  coupon_refund_fee: "40",
  coupon_refund_count: "2",
  coupon_type_0: "CASH",
  coupon_refund_id_0: "10000",
  coupon_refund_fee_0: "30",
  coupon_type_1: "NO_CASH",
  coupon_refund_id_1: "10001",
  coupon_refund_fee_1: "10",
};

describe("refund request", () => {
  it("builds every §5.3 field", () => {
    expect(buildApplyRefundFields(request)).toEqual({
      appid: "wx2421b1c4370ec43b",
      mch_id: "10000100",
      nonce_str: "6cefdb308e1e2e8aabd48cf79e546a02",
      out_trade_no: "1415757673",
      out_refund_no: "R1415701182",
      total_fee: 1000,
      refund_fee: 400,
      refund_fee_type: "CNY",
      refund_desc: "商品已售完",
      refund_account: "REFUND_SOURCE_RECHARGE_FUNDS",
      notify_url: "https://pay.example.com/wxpay/refund-notify",
    });
  });

  it.each<[string, Partial<Record<keyof ApplyRefundRequest, unknown>>, string]>([
    ["a refund larger than the order", { refundFee: 1001 }, "Field refund_fee: must not exceed total_fee"],
    ["no order identifier", { outTradeNo: undefined }, "Field out_trade_no: out_trade_no or transaction_id is required"],
    ["a long out_refund_no", { outRefundNo: "R".repeat(65) }, "Field out_refund_no: must be at most 64"],
    ["a long refund_desc", { refundDesc: "退".repeat(81) }, "Field refund_desc: must be at most 80"],
    ["an unknown refund_account", { refundAccount: "REFUND_SOURCE_OTHER" }, "Field refund_account:"],
    ["a notify_url with a query", { notifyUrl: "https://pay.example.com/r?x=1" }, "Field notify_url: must not carry a query string"],
    ["a zero refund", { refundFee: 0 }, "Field refund_fee: must be positive"],
  ])("refuses %s", (_name, change, message) => {
    const bad = { ...request, ...change } as ApplyRefundRequest;
    expect(() => buildApplyRefundFields(bad)).toThrow(PayCoreError);
    expect(() => buildApplyRefundFields(bad)).toThrow(message);
  });

  it("parses received fields by transaction_id", () => {
    const parsed = parseApplyRefundRequest({
      appid: "wx2421b1c4370ec43b",
      mch_id: "10000100",
      nonce_str: "n",
      sign: "S",
      transaction_id: "1008450740201411110005820873",
      out_refund_no: "R1",
      total_fee: "1000",
      refund_fee: "1000",
    });
    expect(parsed).toEqual({
      ok: true,
      value: { appid: "wx2421b1c4370ec43b", mchId: "10000100", nonceStr: "n", transactionId: "1008450740201411110005820873", outRefundNo: "R1", totalFee: 1000, refundFee: 1000 },
    });
  });
});

describe("ApplyRefundResponseSchema", () => {
  it("reads the answer with its coupon refunds", () => {
    expect(ApplyRefundResponseSchema.parse(answer)).toMatchObject({
      refundId: "2008450740201411110000174436",
      refundFee: 400,
      totalFee: 1000,
      cashFee: 900,
      cashRefundFee: 360,
      couponRefundFee: 40,
      coupons: [
        { type: "CASH", id: "10000", fee: 30 },
        { type: "NO_CASH", id: "10001", fee: 10 },
      ],
    });
  });

  it("reads Global currencies and rate", () => {
    const value = ApplyRefundResponseSchema.parse({ ...answer, refund_fee_type: "HKD", fee_type: "HKD", cash_fee_type: "CNY", cash_refund_fee_type: "CNY", rate: "92000000" });
    expect(value).toMatchObject({ refundFeeType: "HKD", cashRefundFeeType: "CNY", rate: "92000000" });
  });

  it.each<[string, Record<string, string | undefined>, string]>([
    ["a malformed coupon refund fee", { coupon_refund_fee_1: "ten" }, "coupon_refund_fee_1"],
    ["a missing coupon refund fee", { coupon_refund_fee_0: undefined }, "coupon_refund_fee_0"],
    ["an absurd coupon count", { coupon_refund_count: "1000" }, "coupon_refund_count"],
    ["a missing refund_id", { refund_id: undefined }, "refund_id"],
    ["a negative refund_fee", { refund_fee: "-1" }, "refund_fee"],
  ])("rejects %s, naming the field", (_name, change, field) => {
    const raw: Record<string, string> = { ...answer };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete raw[k];
      else raw[k] = v;
    }
    const parsed = ApplyRefundResponseSchema.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual([field]);
  });
});
