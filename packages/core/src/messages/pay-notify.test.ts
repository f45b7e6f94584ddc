import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayNotifySchema, readCoupons, readPayNotify } from "./pay-notify.js";

// readPayNotify is PayNotifySchema's parse without zod (issue 20): for any record of text fields it must
// accept exactly what the schema accepts and give the same value.
const VALID: Readonly<Record<string, string>> = {
  return_code: "SUCCESS",
  return_msg: "OK",
  appid: "wx2421b1c4370ec43b",
  mch_id: "10000100",
  nonce_str: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
  sign: "C380BEC2BFD727A4B6845133519F3AD6",
  result_code: "SUCCESS",
  openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  is_subscribe: "N",
  trade_type: "JSAPI",
  bank_type: "CMC",
  total_fee: "100",
  fee_type: "CNY",
  cash_fee: "90",
  coupon_fee: "10",
  coupon_count: "1",
  coupon_fee_0: "10",
  transaction_id: "4200000483202001042069747825",
  out_trade_no: "000123abc",
  attach: "支付测试",
  time_end: "20260101120000",
};

const NAMES = [...Object.keys(VALID), "sub_appid", "sub_mch_id", "device_info", "sign_type", "err_code", "err_code_des", "sub_openid", "sub_is_subscribe"];
const MORE = ["settlement_total_fee", "cash_fee_type", "rate", "rate_value", "version", "unknown_field"];
const TRICKY = [
  "",
  "0",
  "00",
  "01",
  "1.0",
  "-1",
  " 1",
  "1\n",
  "9007199254740991",
  "9007199254740992",
  "9999999999999999",
  "99999999999999999",
  "CNY",
  "HKD",
  "XXX",
  "toString",
  "__proto__",
  "SUCCESS",
  "FAIL",
  "success",
  "20260101120000",
  "2026010112000",
  "202601011200001",
  "１２",
  "N",
  "NY",
  "x".repeat(16),
  "x".repeat(17),
  "x".repeat(32),
  "x".repeat(33),
  "x".repeat(64),
  "x".repeat(65),
  "中".repeat(128),
  "中".repeat(129),
  "1234567890123456",
  "12345678901234567",
];

describe("readPayNotify", () => {
  it("reads a valid notify as the schema does", () => {
    const parsed = PayNotifySchema.parse(VALID);
    expect(readPayNotify(VALID)).toEqual(parsed);
    expect(readPayNotify({ ...VALID, rate_value: "91000000" })).toEqual(PayNotifySchema.parse({ ...VALID, rate_value: "91000000" }));
    expect(readPayNotify({ ...VALID, rate_value: "91000000" })?.rate).toBe("91000000");
    expect(readPayNotify({ ...VALID, rate: "1", rate_value: "2" })?.rate).toBe("1");
  });

  it("accepts exactly what PayNotifySchema accepts, with the same value", () => {
    const edit = fc.tuple(fc.constantFrom(...NAMES, ...MORE), fc.option(fc.constantFrom(...TRICKY), { nil: undefined }));
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 4 }), (edits) => {
        const raw: Record<string, string> = { ...VALID };
        for (const [name, value] of edits) {
          if (value === undefined) delete raw[name];
          else raw[name] = value;
        }
        const fast = readPayNotify(raw);
        const schema = PayNotifySchema.safeParse(raw);
        expect(fast !== undefined).toBe(schema.success);
        if (schema.success) expect(fast).toEqual(schema.data);
      }),
      { numRuns: 5000 },
    );
  });

  it("reads coupons with wireInt's checks", () => {
    expect(readCoupons({ coupon_fee_0: "10", coupon_id_0: "a", coupon_type_0: "CASH", coupon_fee_1: "0" }, 2)).toEqual([
      { id: "a", type: "CASH", fee: 10 },
      { id: undefined, type: undefined, fee: 0 },
    ]);
    for (const fee of ["01", "1.0", "", "9007199254740992", "x"]) expect(readCoupons({ coupon_fee_0: fee }, 1)).toBeUndefined();
    expect(readCoupons({}, 1)).toBeUndefined();
    expect(readCoupons({}, 0)).toEqual([]);
    expect(readCoupons({}, 101)).toBeUndefined();
  });
});
