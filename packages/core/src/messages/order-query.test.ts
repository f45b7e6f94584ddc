import { describe, expect, it } from "vitest";
import { buildOrderQueryFields, OrderQueryResponseSchema, parseOrderQueryRequest } from "./order-query.js";

const envelope = {
  return_code: "SUCCESS",
  return_msg: "OK",
  appid: "wx2421b1c4370ec43b",
  mch_id: "10000100",
  nonce_str: "IITRi8Iabbblz1Jc",
  sign: "7921E432F65EB8ED0CE9755F0E86D72F",
  result_code: "SUCCESS",
};

const paid: Record<string, string> = {
  ...envelope,
  trade_state: "SUCCESS",
  trade_state_desc: "支付成功",
  openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  is_subscribe: "N",
  trade_type: "JSAPI",
  bank_type: "CMC",
  total_fee: "101",
  fee_type: "CNY",
  cash_fee: "81",
  coupon_fee: "20",
  coupon_count: "2",
  coupon_id_0: "10000",
  coupon_type_0: "CASH",
  coupon_fee_0: "15",
  coupon_id_1: "10001",
  coupon_type_1: "NO_CASH",
  coupon_fee_1: "5",
  transaction_id: "4200000001202405011234567890",
  out_trade_no: "1415659990",
  attach: "支付测试",
  time_end: "20240501101530",
};

describe("orderquery request", () => {
  it.each([
    [{ outTradeNo: "1415659990" }, { out_trade_no: "1415659990" }],
    [{ transactionId: "4200000001202405011234567890" }, { transaction_id: "4200000001202405011234567890" }],
  ])("builds the lookup %o", (lookup, expected) => {
    const fields = buildOrderQueryFields({ appid: "wx2421b1c4370ec43b", mchId: "10000100", nonceStr: "n0nce", ...lookup });
    expect(fields).toEqual({ appid: "wx2421b1c4370ec43b", mch_id: "10000100", nonce_str: "n0nce", ...expected });
  });

  it("needs out_trade_no or transaction_id", () => {
    expect(() => buildOrderQueryFields({ appid: "wx1", mchId: "1", nonceStr: "n" })).toThrow("Field out_trade_no: out_trade_no or transaction_id is required");
    const parsed = parseOrderQueryRequest({ appid: "wx1", mch_id: "1", nonce_str: "n", sign: "X" });
    expect(parsed.ok).toBe(false);
  });
});

describe("OrderQueryResponseSchema", () => {
  it("reads a paid order with its indexed coupons", () => {
    const value = OrderQueryResponseSchema.parse(paid);
    expect(value).toMatchObject({
      tradeState: "SUCCESS",
      totalFee: 101,
      cashFee: 81,
      couponFee: 20,
      couponCount: 2,
      transactionId: "4200000001202405011234567890",
      timeEnd: "20240501101530",
      coupons: [
        { id: "10000", type: "CASH", fee: 15 },
        { id: "10001", type: "NO_CASH", fee: 5 },
      ],
    });
    expect(value).not.toHaveProperty("couponId0");
  });

  it("reads a Global order's cash currency and rate", () => {
    const value = OrderQueryResponseSchema.parse({
      ...paid,
      coupon_count: "0",
      fee_type: "HKD",
      total_fee: "1000",
      cash_fee_type: "CNY",
      cash_fee: "920",
      rate: "92000000",
    });
    expect(value).toMatchObject({ feeType: "HKD", totalFee: 1000, cashFeeType: "CNY", cashFee: 920, rate: "92000000", coupons: [] });
  });

  it("reads an unpaid order that carries only out_trade_no", () => {
    const value = OrderQueryResponseSchema.parse({ ...envelope, trade_state: "NOTPAY", trade_state_desc: "订单未支付", out_trade_no: "1415659990" });
    expect(value).toMatchObject({ tradeState: "NOTPAY", outTradeNo: "1415659990", coupons: [] });
    expect(value.totalFee).toBeUndefined();
  });

  it("reads a refunded order that carries only out_trade_no and attach", () => {
    const value = OrderQueryResponseSchema.parse({ ...envelope, trade_state: "REFUND", out_trade_no: "1415659990", attach: "支付测试" });
    expect(value).toMatchObject({ tradeState: "REFUND", outTradeNo: "1415659990", attach: "支付测试", coupons: [] });
  });

  it.each<[string, Record<string, string | undefined>, string]>([
    ["an unknown trade_state", { trade_state: "PAID" }, "trade_state"],
    ["a fractional total_fee", { total_fee: "1.01" }, "total_fee"],
    ["an unknown cash_fee_type", { cash_fee_type: "XXX" }, "cash_fee_type"],
    ["a malformed time_end", { time_end: "2024-05-01" }, "time_end"],
    ["a paid order without transaction_id", { transaction_id: undefined }, "transaction_id"],
    ["a paid order without time_end", { time_end: undefined }, "time_end"],
    ["a malformed coupon fee", { coupon_fee_1: "5.0" }, "coupon_fee_$n"],
    ["a missing coupon fee", { coupon_fee_0: undefined }, "coupon_fee_$n"],
    ["a non-numeric rate", { rate: "6.5" }, "rate"],
  ])("rejects %s, naming the field", (_name, change, field) => {
    const raw: Record<string, string> = { ...paid };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete raw[k];
      else raw[k] = v;
    }
    const parsed = OrderQueryResponseSchema.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual([field]);
  });
});
