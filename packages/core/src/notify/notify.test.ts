import { describe, expect, it } from "vitest";
import { encryptRefundReqInfo } from "../crypto/refund-req-info.js";
import { loadVectors } from "../../test/support/reference.js";
import { buildRefundNotify, buildSignedPayNotify } from "../testing/notify-builders.js";
import { buildXml } from "../xml/build.js";
import { isNotifyAcknowledged } from "./acknowledged.js";
import { matchPayment, type ExpectedPayment } from "./match.js";
import { parsePayNotify } from "./pay-notify.js";
import { parseRefundNotify } from "./refund-notify.js";
import { buildNotifyFailReply, NOTIFY_SUCCESS_REPLY } from "./reply.js";

const KEY = "192006250b4c09247ec02edce69f6a2d";
const FIELDS = {
  return_code: "SUCCESS",
  appid: "wx2421b1c4370ec43b",
  mch_id: "10000100",
  result_code: "SUCCESS",
  openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  is_subscribe: "N",
  trade_type: "JSAPI",
  bank_type: "CMC",
  total_fee: "100",
  cash_fee: "90",
  coupon_fee: "10",
  coupon_count: "1",
  coupon_type_0: "CASH",
  coupon_id_0: "10000",
  coupon_fee_0: "10",
  transaction_id: "4200000483202001042069747825",
  out_trade_no: "000123abc",
  time_end: "20260101120000",
  attach: "支付测试",
} as const;

const EXPECTED: ExpectedPayment = { outTradeNo: "000123abc", appId: FIELDS.appid, mchId: FIELDS.mch_id, totalFee: 100, feeType: "CNY" };

describe("parsePayNotify", () => {
  it("accepts a genuine HMAC-SHA256 notify that carries no sign_type", () => {
    const body = buildSignedPayNotify(FIELDS, { key: KEY, signType: "HMAC-SHA256", omitSignType: true });
    expect(body).not.toContain("sign_type");
    const parsed = parsePayNotify(body, { key: KEY, signType: "HMAC-SHA256", inferSignType: true });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.signType).toBe("HMAC-SHA256");
    expect(parsed.value.paid).toBe(true);
    expect(parsed.value.notify).toMatchObject({ outTradeNo: "000123abc", totalFee: 100, cashFee: 90, transactionId: FIELDS.transaction_id, attach: "支付测试" });
    expect(parsed.value.notify.coupons).toEqual([{ id: "10000", type: "CASH", fee: 10 }]);
    expect(parsed.value.raw.coupon_id_0).toBe("10000");
  });

  it("accepts an MD5 notify with or without sign_type", () => {
    for (const omitSignType of [true, false]) {
      const body = buildSignedPayNotify(FIELDS, { key: KEY, signType: "MD5", omitSignType });
      expect(parsePayNotify(body, { key: KEY, signType: "MD5" }).ok).toBe(true);
    }
  });

  it("reads Global fields and accepts rate or rate_value", () => {
    const global = { ...FIELDS, fee_type: "HKD", cash_fee_type: "CNY", cash_fee: "88", rate_value: "91000000" };
    const parsed = parsePayNotify(buildSignedPayNotify(global, { key: KEY, signType: "MD5" }), { key: KEY, signType: "MD5" });
    expect(parsed.ok && parsed.value.notify).toMatchObject({ feeType: "HKD", cashFeeType: "CNY", rate: "91000000" });
  });

  it("treats a result_code=FAIL notify as received but not paid", () => {
    const failed = { ...FIELDS, result_code: "FAIL", err_code: "NOTENOUGH", err_code_des: "余额不足" };
    const parsed = parsePayNotify(buildSignedPayNotify(failed, { key: KEY, signType: "MD5" }), { key: KEY, signType: "MD5" });
    expect(parsed.ok && parsed.value.paid).toBe(false);
  });

  it.each<readonly [string, () => string, string]>([
    ["a bad signature", () => buildSignedPayNotify(FIELDS, { key: KEY, signType: "HMAC-SHA256" }).replace("<total_fee>100<", "<total_fee>1<"), "SIGN_MISMATCH"],
    ["another merchant's key", () => buildSignedPayNotify(FIELDS, { key: "x".repeat(32), signType: "HMAC-SHA256", omitSignType: true }), "SIGN_MISMATCH"],
    ["an MD5 notify for an HMAC merchant", () => buildSignedPayNotify(FIELDS, { key: KEY, signType: "MD5" }), "SIGN_TYPE_NOT_ALLOWED"],
    ["no sign", () => buildXml(FIELDS), "MISSING_SIGN"],
    ["return_code FAIL", () => buildXml({ return_code: "FAIL", return_msg: "bad" }), "RETURN_FAIL"],
    ["an XXE body", () => '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>', "DTD_FORBIDDEN"],
    ["a duplicate total_fee", () => buildSignedPayNotify(FIELDS, { key: KEY, signType: "HMAC-SHA256" }).replace("</xml>", "<total_fee>1</total_fee></xml>"), "DUPLICATE_TAG"],
    ["a non-integer amount", () => buildSignedPayNotify({ ...FIELDS, total_fee: "1.00" }, { key: KEY, signType: "HMAC-SHA256" }), "INVALID_FIELD"],
    ["a missing transaction_id", () => buildSignedPayNotify({ ...FIELDS, transaction_id: "" }, { key: KEY, signType: "HMAC-SHA256" }), "INVALID_FIELD"],
    ["a malformed coupon fee", () => buildSignedPayNotify({ ...FIELDS, coupon_fee_0: "x" }, { key: KEY, signType: "HMAC-SHA256" }), "INVALID_FIELD"],
  ])("rejects %s", (_what, body, code) => {
    expect(parsePayNotify(body(), { key: KEY, signType: "HMAC-SHA256", inferSignType: true })).toMatchObject({ ok: false, error: { code } });
  });

  it("names the field at fault", () => {
    const parsed = parsePayNotify(buildSignedPayNotify({ ...FIELDS, total_fee: "-1" }, { key: KEY, signType: "MD5" }), { key: KEY, signType: "MD5" });
    expect(parsed.ok ? "" : parsed.error.message).toContain("total_fee");
  });
});

describe("matchPayment", () => {
  const reported = { outTradeNo: "000123abc", appid: FIELDS.appid, mchId: FIELDS.mch_id, totalFee: 100 };
  it("accepts the stored order's merchant, amount and currency (CNY by default)", () => {
    expect(matchPayment(reported, EXPECTED)).toEqual({ ok: true, value: true });
    expect(matchPayment({ ...reported, feeType: "CNY" }, EXPECTED).ok).toBe(true);
  });

  it.each([
    ["another order", { outTradeNo: "other" }, "ORDER_MISMATCH"],
    ["another appid", { appid: "wx_other" }, "APPID_MISMATCH"],
    ["another mch_id", { mchId: "1" }, "MCH_ID_MISMATCH"],
    ["a sub_mch_id where none is expected", { subMchId: "1" }, "SUB_MCH_ID_MISMATCH"],
    ["a smaller amount", { totalFee: 1 }, "AMOUNT_MISMATCH"],
    ["another currency", { feeType: "HKD" }, "CURRENCY_MISMATCH"],
  ] as const)("rejects %s", (_what, override, code) => {
    expect(matchPayment({ ...reported, ...override }, EXPECTED)).toMatchObject({ ok: false, error: { code } });
  });

  it("checks sub ids in institutional mode", () => {
    const institutional = { ...EXPECTED, subMchId: "1900000109", subAppId: "wx_mini" };
    expect(matchPayment({ ...reported, subMchId: "1900000109", subAppid: "wx_mini" }, institutional).ok).toBe(true);
    expect(matchPayment({ ...reported, subMchId: "1900000110", subAppid: "wx_mini" }, institutional)).toMatchObject({ ok: false, error: { code: "SUB_MCH_ID_MISMATCH" } });
    expect(matchPayment({ ...reported, subMchId: "1900000109", subAppid: "wx_evil" }, institutional)).toMatchObject({ ok: false, error: { code: "SUB_APPID_MISMATCH" } });
  });
});

describe("parseRefundNotify", () => {
  const v8 = loadVectors().refundReqInfo;

  it("decrypts the published refund notify (V8)", () => {
    const body = buildXml({ return_code: "SUCCESS", appid: v8.appid, mch_id: v8.mch_id, nonce_str: "n", req_info: v8.reqInfo });
    const parsed = parseRefundNotify(body, { key: v8.apiKey, appId: v8.appid, mchId: v8.mch_id });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.refund).toMatchObject({
      outRefundNo: "1234",
      outTradeNo: "2020010418301551404339261814",
      refundFee: 1,
      totalFee: 1,
      refundStatus: "SUCCESS",
      refundRecvAccout: "招商银行信用卡8915",
      successTime: "2020-01-04 18:34:24",
    });
  });

  it("round-trips through the test builder", () => {
    const payload = { transaction_id: "42", out_trade_no: "order1", refund_id: "50", out_refund_no: "r1", total_fee: 100, refund_fee: 30, refund_status: "PROCESSING" };
    const parsed = parseRefundNotify(buildRefundNotify({ appid: "wx1", mch_id: "1" }, payload, KEY), { key: KEY });
    expect(parsed.ok && parsed.value.refund).toMatchObject({ outRefundNo: "r1", refundFee: 30, refundStatus: "PROCESSING" });
  });

  it("reads success_time (Beijing time) as an ISO instant", () => {
    const payload = {
      transaction_id: "42",
      out_trade_no: "order1",
      refund_id: "50",
      out_refund_no: "r1",
      total_fee: 100,
      refund_fee: 30,
      refund_status: "SUCCESS",
      success_time: "2026-01-01 08:30:05",
    };
    const parsed = parseRefundNotify(buildRefundNotify({ appid: "wx1", mch_id: "1" }, payload, KEY), { key: KEY });
    expect(parsed.ok && parsed.value).toMatchObject({ succeededAt: "2026-01-01T00:30:05.000Z", refund: { successTime: "2026-01-01 08:30:05" } });
  });

  it.each(["2026-02-30 25:00:00", "2026-02-30 12:00:00", "2026-01-01 24:00:00", "2026-01-01T12:00:00", "20260101120000", "2026-13-01 00:00:00", "yesterday"])(
    "refuses success_time %j with INVALID_FIELD naming the field",
    (successTime) => {
      const payload = {
        transaction_id: "42",
        out_trade_no: "order1",
        refund_id: "50",
        out_refund_no: "r1",
        total_fee: 100,
        refund_fee: 30,
        refund_status: "SUCCESS",
        success_time: successTime,
      };
      const parsed = parseRefundNotify(buildRefundNotify({ appid: "wx1", mch_id: "1" }, payload, KEY), { key: KEY });
      expect(parsed).toMatchObject({ ok: false, error: { code: "INVALID_FIELD" } });
      expect(!parsed.ok && parsed.error.message).toMatch(/success_time/);
    },
  );

  it.each<readonly [string, () => string, string]>([
    ["another key", () => buildRefundNotify({ appid: v8.appid, mch_id: v8.mch_id }, { a: "1" }, "x".repeat(32)), "DECRYPT_FAILED"],
    ["another merchant", () => buildXml({ return_code: "SUCCESS", appid: "wx_other", mch_id: v8.mch_id, req_info: v8.reqInfo }), "MERCHANT_MISMATCH"],
    ["no req_info", () => buildXml({ return_code: "SUCCESS", appid: v8.appid, mch_id: v8.mch_id }), "INVALID_FIELD"],
    ["garbage req_info", () => buildXml({ return_code: "SUCCESS", appid: v8.appid, mch_id: v8.mch_id, req_info: "@@@" }), "MALFORMED_REQ_INFO"],
    [
      "an <xml> payload instead of <root>",
      () => buildXml({ return_code: "SUCCESS", appid: v8.appid, mch_id: v8.mch_id, req_info: encryptRefundReqInfo("<xml><a>1</a></xml>", v8.apiKey) }),
      "UNEXPECTED_ROOT",
    ],
    ["a payload missing fields", () => buildRefundNotify({ appid: v8.appid, mch_id: v8.mch_id }, { out_refund_no: "1" }, v8.apiKey), "INVALID_FIELD"],
  ])("rejects %s", (_what, body, code) => {
    expect(parseRefundNotify(body(), { key: v8.apiKey, appId: v8.appid, mchId: v8.mch_id })).toMatchObject({ ok: false, error: { code } });
  });
});

describe("replies", () => {
  it("builds the exact SUCCESS acknowledgement and a FAIL reply", () => {
    expect(NOTIFY_SUCCESS_REPLY).toBe("<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>");
    expect(isNotifyAcknowledged(NOTIFY_SUCCESS_REPLY)).toBe(true);
    expect(isNotifyAcknowledged("<xml><return_code>SUCCESS</return_code></xml>")).toBe(true);
    expect(isNotifyAcknowledged(buildNotifyFailReply("签名失败"))).toBe(false);
    expect(isNotifyAcknowledged("SUCCESS")).toBe(false);
    expect(isNotifyAcknowledged("")).toBe(false);
  });
});
