import { describe, expect, it } from "vitest";
import { buildRefundQueryFields, parseRefundQueryRequest, RefundQueryResponseSchema } from "./refund-query.js";

const answer: Record<string, string> = {
  return_code: "SUCCESS",
  return_msg: "OK",
  appid: "wx2421b1c4370ec43b",
  mch_id: "10000100",
  nonce_str: "TeqClE3i0mvn3DrK",
  sign: "1F2841558E233C33ABA71A961D27561C",
  result_code: "SUCCESS",
  transaction_id: "1008450740201411110005820873",
  out_trade_no: "1415757673",
  total_fee: "1000",
  cash_fee: "1000",
  total_refund_count: "2",
  refund_count: "2",
  out_refund_no_0: "R1415701182",
  refund_id_0: "2008450740201411110000174436",
  refund_channel_0: "ORIGINAL",
  refund_fee_0: "400",
  coupon_refund_fee_0: "40",
  coupon_refund_count_0: "2",
  coupon_type_0_0: "CASH",
  coupon_refund_id_0_0: "10000",
  coupon_refund_fee_0_0: "30",
  coupon_type_0_1: "NO_CASH",
  coupon_refund_id_0_1: "10001",
  coupon_refund_fee_0_1: "10",
  refund_status_0: "SUCCESS",
  refund_account_0: "REFUND_SOURCE_UNSETTLED_FUNDS",
  refund_recv_accout_0: "支付用户的零钱",
  refund_success_time_0: "2024-05-01 10:20:30",
  out_refund_no_1: "R1415701183",
  refund_id_1: "2008450740201411110000174437",
  refund_fee_1: "600",
  refund_status_1: "PROCESSING",
};

describe("refundquery request", () => {
  it.each([
    [{ refundId: "2008450740201411110000174436" }, { refund_id: "2008450740201411110000174436" }],
    [{ outRefundNo: "R1415701182" }, { out_refund_no: "R1415701182" }],
    [
      { transactionId: "1008450740201411110005820873", offset: 10 },
      { transaction_id: "1008450740201411110005820873", offset: 10 },
    ],
    [
      { outTradeNo: "1415757673", offset: 0 },
      { out_trade_no: "1415757673", offset: 0 },
    ],
  ])("builds the lookup %o", (lookup, expected) => {
    expect(buildRefundQueryFields({ appid: "wx1", mchId: "1", nonceStr: "n", ...lookup })).toEqual({ appid: "wx1", mch_id: "1", nonce_str: "n", ...expected });
  });

  it.each([
    [{ appid: "wx1", mchId: "1", nonceStr: "n" }, "Field out_trade_no: one of refund_id, out_refund_no, transaction_id, out_trade_no is required"],
    [{ appid: "wx1", mchId: "1", nonceStr: "n", outTradeNo: "1415757673", offset: -1 }, "Field offset: must not be negative"],
  ])("refuses %o", (request, message) => {
    expect(() => buildRefundQueryFields(request)).toThrow(message);
  });

  it("parses a received offset as a number", () => {
    const parsed = parseRefundQueryRequest({ appid: "wx1", mch_id: "1", nonce_str: "n", sign: "S", out_trade_no: "1415757673", offset: "20" });
    expect(parsed.ok && parsed.value.offset).toBe(20);
  });
});

describe("RefundQueryResponseSchema", () => {
  it("reads every _$n refund, with its _$n_$m coupons", () => {
    const value = RefundQueryResponseSchema.parse(answer);
    expect(value).toMatchObject({ transactionId: "1008450740201411110005820873", totalFee: 1000, refundCount: 2, totalRefundCount: 2 });
    expect(value.refunds).toEqual([
      {
        outRefundNo: "R1415701182",
        refundId: "2008450740201411110000174436",
        refundChannel: "ORIGINAL",
        refundFee: 400,
        couponRefundFee: 40,
        couponRefundCount: 2,
        refundStatus: "SUCCESS",
        refundAccount: "REFUND_SOURCE_UNSETTLED_FUNDS",
        refundRecvAccout: "支付用户的零钱",
        refundSuccessTime: "2024-05-01 10:20:30",
        coupons: [
          { type: "CASH", id: "10000", fee: 30 },
          { type: "NO_CASH", id: "10001", fee: 10 },
        ],
      },
      { outRefundNo: "R1415701183", refundId: "2008450740201411110000174437", refundFee: 600, refundStatus: "PROCESSING", coupons: [] },
    ]);
  });

  it.each<[string, Record<string, string | undefined>, string, string]>([
    ["an unknown refund_status", { refund_status_1: "DONE" }, "refund_status_1", "Invalid option"],
    ["a v3-only refund_status", { refund_status_0: "ABNORMAL" }, "refund_status_0", "Invalid option"],
    ["a missing refund_id", { refund_id_1: undefined }, "refund_id_1", "expected string"],
    ["a fractional refund_fee", { refund_fee_0: "4.00" }, "refund_fee_0", "expected a whole number"],
    ["a malformed success time", { refund_success_time_0: "20240501102030" }, "refund_success_time_0", "expected yyyy-MM-dd HH:mm:ss"],
    ["a malformed coupon fee", { coupon_refund_fee_0_1: "" }, "coupon_refund_fee_0_1", "expected a whole number"],
    ["more refunds than listed", { refund_count: "3" }, "out_refund_no_2", "expected string"],
    ["an absurd refund_count", { refund_count: "100000000" }, "refund_count", "more than 50 refunds"],
  ])("rejects %s, naming the field", (_name, change, field, message) => {
    const raw: Record<string, string> = { ...answer };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete raw[k];
      else raw[k] = v;
    }
    const parsed = RefundQueryResponseSchema.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual([field]);
    expect(parsed.error?.issues[0]?.message).toContain(message);
  });
});
