import { describe, expect, it } from "vitest";
import {
  DOWNLOAD_BILL_RETURN_MSGS,
  isRetryableErrorCode,
  isWxPayErrorCode,
  matchDownloadBillReturnMsg,
  WXPAY_APIS,
  WXPAY_ERROR_CODES,
  type WxPayErrorCode,
} from "./error-codes.js";

describe("WXPAY_ERROR_CODES", () => {
  it.each<[WxPayErrorCode, boolean, "result" | "return"]>([
    ["SYSTEMERROR", true, "result"],
    ["BIZERR_NEED_RETRY", true, "result"],
    ["INVALID_REQ_TOO_MUCH", true, "result"],
    ["FREQUENCY_LIMITED", true, "result"],
    ["NOAUTH", false, "return"],
    ["NOTENOUGH", false, "result"],
    ["ORDERPAID", false, "result"],
    ["ORDERCLOSED", false, "result"],
    ["OUT_TRADE_NO_USED", false, "result"],
    ["INVALID_REQUEST", false, "result"],
    ["APPID_NOT_EXIST", false, "result"],
    ["MCHID_NOT_EXIST", false, "result"],
    ["APPID_MCHID_NOT_MATCH", false, "result"],
    ["LACK_PARAMS", false, "return"],
    ["SIGNERROR", false, "return"],
    ["XML_FORMAT_ERROR", false, "return"],
    ["REQUIRE_POST_METHOD", false, "return"],
    ["POST_DATA_EMPTY", false, "return"],
    ["NOT_UTF8", false, "return"],
    ["ORDERNOTEXIST", false, "result"],
    ["TRADE_STATE_ERROR", false, "result"],
    ["TRADE_OVERDUE", false, "result"],
    ["ERROR", false, "result"],
    ["USER_ACCOUNT_ABNORMAL", false, "result"],
    ["INVALID_TRANSACTIONID", false, "result"],
    ["PARAM_ERROR", false, "result"],
    ["REFUNDNOTEXIST", false, "result"],
  ])("%s: retryable %s, arrives as %s FAIL", (code, retryable, form) => {
    expect(WXPAY_ERROR_CODES[code].retryable).toBe(retryable);
    expect(WXPAY_ERROR_CODES[code].form).toBe(form);
    expect(isRetryableErrorCode(code)).toBe(retryable);
  });

  it("lists every code in the table above and only known APIs", () => {
    expect(Object.keys(WXPAY_ERROR_CODES)).toHaveLength(27);
    for (const info of Object.values(WXPAY_ERROR_CODES)) {
      expect(info.apis.length).toBeGreaterThan(0);
      for (const api of info.apis) expect(WXPAY_APIS).toContain(api);
    }
  });

  it.each([
    ["SYSTEMERROR", true],
    ["systemerror", false],
    ["UNKNOWN_CODE", false],
    ["__proto__", false],
    ["toString", false],
  ])("isWxPayErrorCode(%s) is %s", (code, known) => {
    expect(isWxPayErrorCode(code)).toBe(known);
    if (!known) expect(isRetryableErrorCode(code)).toBe(false);
  });

  it("does not retry an absent code", () => {
    expect(isRetryableErrorCode(undefined)).toBe(false);
  });
});

describe("downloadbill return_msg", () => {
  it.each([
    ["No Bill Exist", "No Bill Exist", false],
    ["NO Bill Exist", "No Bill Exist", false],
    [" Bill Creating ", "Bill Creating", true],
    ["invalid bill_type", "invalid bill_type", false],
    ["SIGN ERROR", "SIGN ERROR", false],
    ["SYSTEMERROR", "SYSTEMERROR", true],
  ] as const)("%s -> %s (retryable %s)", (text, msg, retryable) => {
    expect(matchDownloadBillReturnMsg(text)).toBe(msg);
    expect(DOWNLOAD_BILL_RETURN_MSGS[msg].retryable).toBe(retryable);
  });

  it("does not match unknown text", () => {
    expect(matchDownloadBillReturnMsg("签名错误")).toBeUndefined();
    expect(matchDownloadBillReturnMsg(undefined)).toBeUndefined();
  });
});
