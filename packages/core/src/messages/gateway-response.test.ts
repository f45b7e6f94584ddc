import { describe, expect, it } from "vitest";
import { PayCoreError } from "../errors.js";
import { signParams } from "../sign/sign.js";
import type { SignType } from "../sign/sign-type.js";
import { buildXml } from "../xml/build.js";
import { isRetryableErrorCode } from "./error-codes.js";
import { parseGatewayResponse } from "./gateway-response.js";
import { OrderQueryResponseSchema } from "./order-query.js";
import { UnifiedOrderResponseSchema } from "./unified-order.js";

const KEY = "192006250b4c09247ec02edce69f6a2d";

/** A gateway answer signed the way the gateway signs it: over every field, without sign_type. */
function signedAnswer(fields: Record<string, string>, signType: SignType = "MD5", key = KEY): string {
  return buildXml({ ...fields, sign: signParams(fields, { key, signType }) });
}

/** §3.4's success answer, re-signed with a known key (the published sample's key is not public). */
const prepaid = {
  return_code: "SUCCESS",
  return_msg: "OK",
  appid: "wx2421b1c4370ec43b",
  mch_id: "10000100",
  nonce_str: "IITRi8Iabbblz1Jc",
  openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  result_code: "SUCCESS",
  prepay_id: "wx201411101639507cbf6ffd8b0779950874",
  trade_type: "JSAPI",
};

const unifiedOrder = (signType: SignType = "MD5") => ({ key: KEY, signType, schema: UnifiedOrderResponseSchema });

describe("parseGatewayResponse", () => {
  it.each<SignType>(["MD5", "HMAC-SHA256"])("returns the typed value and every raw field of a %s-signed answer", (signType) => {
    const parsed = parseGatewayResponse(signedAnswer(prepaid, signType), unifiedOrder(signType));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.value.prepayId).toBe("wx201411101639507cbf6ffd8b0779950874");
    expect(parsed.value.signType).toBe(signType);
    // openid is not in the schema but was covered by the sign and is kept.
    expect(parsed.value.raw.openid).toBe("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
  });

  it("accepts bytes and a BOM", () => {
    const body = new TextEncoder().encode(`\uFEFF${signedAnswer(prepaid)}`);
    expect(parseGatewayResponse(body, unifiedOrder()).ok).toBe(true);
  });

  it("keeps a protocol failure's return_msg as data (§3.4 real failure, no sign)", () => {
    const body = `<xml><return_code><![CDATA[FAIL]]></return_code>
<return_msg><![CDATA[签名错误，请检查后再试]]></return_msg>
</xml>`;
    const parsed = parseGatewayResponse(body, unifiedOrder());
    expect(parsed).toEqual({
      ok: false,
      error: { code: "PROTOCOL_FAIL", message: "The gateway refused the request: 签名错误，请检查后再试", returnMsg: "签名错误，请检查后再试" },
    });
  });

  it("keeps downloadbill's error_code with a protocol failure", () => {
    const parsed = parseGatewayResponse(buildXml({ return_code: "FAIL", return_msg: "No Bill Exist", error_code: "20002" }), unifiedOrder());
    expect(parsed.ok ? undefined : parsed.error).toMatchObject({ code: "PROTOCOL_FAIL", returnMsg: "No Bill Exist", errCode: "20002" });
  });

  it.each([
    ["PARAM_ERROR", "appid和openid不匹配", false],
    ["ORDERPAID", "该订单已支付", false],
    ["SYSTEMERROR", "系统超时", true],
  ])("keeps a signed business failure %s as data", (errCode, errCodeDes, retryable) => {
    const body = signedAnswer({
      return_code: "SUCCESS",
      return_msg: "OK",
      appid: "wx2421b1c4370ec43b",
      mch_id: "10000100",
      nonce_str: "QDmvvcKDFmHxoy8n",
      result_code: "FAIL",
      err_code: errCode,
      err_code_des: errCodeDes,
    });
    const parsed = parseGatewayResponse(body, unifiedOrder());
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toEqual({
      code: "BUSINESS_FAIL",
      message: `The gateway declined: ${errCode} ${errCodeDes}`,
      returnMsg: "OK",
      errCode,
      errCodeDes,
    });
    expect(isRetryableErrorCode(parsed.error.errCode)).toBe(retryable);
  });

  it.each<[string, () => string, SignType, string]>([
    ["a tampered field", () => signedAnswer(prepaid).replace("wx201411101639507cbf6ffd8b0779950874", "wx201411101639507cbf6ffd8b0779950875"), "MD5", "SIGN_MISMATCH"],
    ["another key", () => signedAnswer(prepaid, "MD5", "0".repeat(32)), "MD5", "SIGN_MISMATCH"],
    ["an MD5 sign on an HMAC-SHA256 request", () => signedAnswer(prepaid, "MD5"), "HMAC-SHA256", "SIGN_TYPE_NOT_ALLOWED"],
    ["no sign", () => buildXml(prepaid), "MD5", "MISSING_SIGN"],
    ["an unsigned business failure", () => buildXml({ ...prepaid, result_code: "FAIL", err_code: "ORDERPAID" }), "MD5", "MISSING_SIGN"],
    ["a forged business failure", () => buildXml({ ...prepaid, result_code: "FAIL", err_code: "ORDERPAID", sign: "0".repeat(32) }), "MD5", "SIGN_MISMATCH"],
  ])("rejects %s", (_name, body, signType, code) => {
    const parsed = parseGatewayResponse(body(), unifiedOrder(signType));
    expect(parsed.ok ? undefined : parsed.error.code).toBe(code);
  });

  it.each([
    [
      "nginx's client-certificate page",
      "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
      "400 No required SSL certificate was sent",
    ],
    ["a JSON body", '{"code":"FAIL","message":"bad"}', '{"code":"FAIL","message":"bad"}'],
    ["plain text", "Service Unavailable", "Service Unavailable"],
  ])("answers %s with NOT_XML", (_name, body, excerpt) => {
    const parsed = parseGatewayResponse(body, unifiedOrder());
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.code).toBe("NOT_XML");
    expect(parsed.error.message).toContain(excerpt);
  });

  it.each([
    ["a DTD", '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><return_code>&x;</return_code></xml>', "DTD_FORBIDDEN"],
    ["duplicate tags", "<xml><return_code>SUCCESS</return_code><return_code>FAIL</return_code></xml>", "DUPLICATE_TAG"],
    ["an empty body", "", "EMPTY"],
    ["truncated XML", "<xml><return_code>SUCC", "MALFORMED"],
    ["a missing return_code", "<xml><return_msg>OK</return_msg></xml>", "INVALID_FIELD"],
  ])("answers %s with the XML or field code", (_name, body, code) => {
    const parsed = parseGatewayResponse(body, unifiedOrder());
    expect(parsed.ok ? undefined : parsed.error.code).toBe(code);
  });

  it("names the field when a verified answer does not fit the schema", () => {
    const { prepay_id: _dropped, ...rest } = prepaid;
    const parsed = parseGatewayResponse(signedAnswer(rest), unifiedOrder());
    expect(parsed.ok ? undefined : parsed.error).toEqual({ code: "INVALID_FIELD", message: expect.stringContaining("Field prepay_id:") as string });
  });

  it("names an indexed field of a verified answer", () => {
    const body = signedAnswer({
      ...prepaid,
      trade_state: "SUCCESS",
      out_trade_no: "1415659990",
      transaction_id: "4200000001202405011234567890",
      total_fee: "101",
      cash_fee: "101",
      time_end: "20240501101530",
      coupon_count: "1",
      coupon_fee_0: "x",
    });
    const parsed = parseGatewayResponse(body, { key: KEY, signType: "MD5", schema: OrderQueryResponseSchema });
    expect(parsed.ok ? undefined : parsed.error.message).toContain("Field coupon_fee_$n:");
  });

  it("throws on programmer misuse, before reading the body", () => {
    expect(() => parseGatewayResponse("<xml/>", { key: "", signType: "MD5", schema: UnifiedOrderResponseSchema })).toThrow(PayCoreError);
    expect(() => parseGatewayResponse("<xml/>", { key: KEY, signType: "SHA1" as SignType, schema: UnifiedOrderResponseSchema })).toThrow(PayCoreError);
  });
});
