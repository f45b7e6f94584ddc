import { describe, expect, expectTypeOf, it } from "vitest";
import { PayCoreError } from "../errors.js";
import { parseXml } from "../xml/parse.js";
import {
  buildUnifiedOrderFields,
  isValidNotifyUrl,
  notifyUrlProblem,
  OUT_TRADE_NO_PATTERN,
  parseUnifiedOrderRequest,
  UnifiedOrderResponseSchema,
  type UnifiedOrderRequest,
} from "./unified-order.js";

/** The official §3.4 request sample, without its sign. */
const SAMPLE_REQUEST_XML = `<xml>
  <appid>wx2421b1c4370ec43b</appid><attach>支付测试</attach><body>JSAPI支付测试</body>
  <mch_id>10000100</mch_id><nonce_str>1add1a30ac87aa2db72f57a2375d8fec</nonce_str>
  <notify_url>http://wxpay.wxutil.com/pub_v2/pay/notify.v2.php</notify_url>
  <openid>oUpF8uMuAJO_M2pxb1Q9zNjWeS6o</openid><out_trade_no>1415659990</out_trade_no>
  <spbill_create_ip>14.23.150.211</spbill_create_ip><total_fee>1</total_fee>
  <trade_type>JSAPI</trade_type><sign>0CB01533B8C1EF103065174F50BCA001</sign>
</xml>`;

/** The official §3.4 response sample. */
const SAMPLE_RESPONSE_XML = `<xml>
  <return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg>
  <appid><![CDATA[wx2421b1c4370ec43b]]></appid><mch_id><![CDATA[10000100]]></mch_id>
  <nonce_str><![CDATA[IITRi8Iabbblz1Jc]]></nonce_str><openid><![CDATA[oUpF8uMuAJO_M2pxb1Q9zNjWeS6o]]></openid>
  <sign><![CDATA[7921E432F65EB8ED0CE9755F0E86D72F]]></sign><result_code><![CDATA[SUCCESS]]></result_code>
  <prepay_id><![CDATA[wx201411101639507cbf6ffd8b0779950874]]></prepay_id><trade_type><![CDATA[JSAPI]]></trade_type>
</xml>`;

const sample: UnifiedOrderRequest = {
  appid: "wx2421b1c4370ec43b",
  mchId: "10000100",
  nonceStr: "1add1a30ac87aa2db72f57a2375d8fec",
  body: "JSAPI支付测试",
  attach: "支付测试",
  outTradeNo: "1415659990",
  totalFee: 1,
  spbillCreateIp: "14.23.150.211",
  notifyUrl: "http://wxpay.wxutil.com/pub_v2/pay/notify.v2.php",
  tradeType: "JSAPI",
  openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
};

function xmlFields(xml: string): Record<string, string> {
  const parsed = parseXml(xml);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

describe("buildUnifiedOrderFields", () => {
  it("maps the §3.4 sample request to exactly its wire fields", () => {
    const { sign: _sign, ...expected } = xmlFields(SAMPLE_REQUEST_XML);
    const fields = buildUnifiedOrderFields(sample);
    expect(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]))).toEqual({ ...expected });
    expect(fields.total_fee).toBe(1);
  });

  it("carries the Global institutional fields", () => {
    const fields = buildUnifiedOrderFields({
      ...sample,
      openid: undefined,
      appid: "wxinstitution0000001",
      subAppid: "wxminiprogram0000001",
      subMchId: "1900000109",
      subOpenid: "oMiniProgramUser0000000000",
      feeType: "HKD",
      totalFee: 1750,
      signType: "HMAC-SHA256",
      timeStart: "20240501100000",
      timeExpire: "20240501120000",
      detail: '{"goods_detail":[{"goods_id":"1","quantity":1,"price":1750}]}',
      sceneInfo: '{"store_info":{"id":"SZ001"}}',
    });
    expect(fields).toMatchObject({
      sub_appid: "wxminiprogram0000001",
      sub_mch_id: "1900000109",
      sub_openid: "oMiniProgramUser0000000000",
      fee_type: "HKD",
      total_fee: 1750,
      sign_type: "HMAC-SHA256",
      time_start: "20240501100000",
      time_expire: "20240501120000",
      detail: '{"goods_detail":[{"goods_id":"1","quantity":1,"price":1750}]}',
      scene_info: '{"store_info":{"id":"SZ001"}}',
    });
    expect(fields).not.toHaveProperty("openid");
  });

  it.each<[string, Partial<Record<keyof UnifiedOrderRequest, unknown>>, string]>([
    ["short out_trade_no", { outTradeNo: "12345" }, "Field out_trade_no:"],
    ["out_trade_no with a space", { outTradeNo: "order 123456" }, "Field out_trade_no:"],
    ["zero total_fee", { totalFee: 0 }, "Field total_fee: must be positive"],
    ["fractional total_fee", { totalFee: 1.5 }, "Field total_fee: must be a whole number"],
    ["unknown fee_type", { feeType: "XYZ" }, "Field fee_type:"],
    ["notify_url with a query", { notifyUrl: "https://pay.example.com/notify?order=1" }, "Field notify_url: must not carry a query string"],
    ["notify_url not http", { notifyUrl: "ftp://pay.example.com/notify" }, "Field notify_url: must use https (or http)"],
    ["notify_url too long", { notifyUrl: `https://pay.example.com/${"a".repeat(240)}` }, "Field notify_url: must be at most 256"],
    ["JSAPI without openid", { openid: undefined }, "Field openid: is required for trade_type JSAPI"],
    ["sub_openid without sub_appid", { openid: undefined, subOpenid: "oSub" }, "Field sub_appid: is required when sub_openid is given"],
    ["sub_appid without sub_mch_id", { subAppid: "wxsub" }, "Field sub_mch_id: is required when sub_appid is given"],
    ["NATIVE without product_id", { tradeType: "NATIVE" }, "Field product_id: is required for trade_type NATIVE"],
    ["detail that is not JSON", { detail: "{goods" }, "Field detail: must be the text of a JSON object"],
    ["scene_info that is a JSON array", { sceneInfo: "[1]" }, "Field scene_info: must be the text of a JSON object"],
    ["impossible time_start", { timeStart: "20240230120000" }, "Field time_start: is not a valid date and time"],
    ["time_expire before time_start", { timeStart: "20240501120000", timeExpire: "20240501110000" }, "Field time_expire: must be later than time_start"],
    ["bad spbill_create_ip", { spbillCreateIp: "999.1.1.1" }, "Field spbill_create_ip: must be an IPv4 or IPv6 address"],
    ["body with trailing space", { body: "JSAPI支付测试 " }, "Field body: must not start or end with whitespace"],
    ["empty attach", { attach: "" }, "Field attach: must not be empty"],
    ["long nonce_str", { nonceStr: "x".repeat(33) }, "Field nonce_str: must be at most 32"],
  ])("refuses %s, naming the field", (_name, change, message) => {
    const request = { ...sample, ...change } as UnifiedOrderRequest;
    expect(() => buildUnifiedOrderFields(request)).toThrow(PayCoreError);
    expect(() => buildUnifiedOrderFields(request)).toThrow(message);
  });

  it("accepts an IPv6 client address", () => {
    expect(buildUnifiedOrderFields({ ...sample, spbillCreateIp: "2001:db8::1" }).spbill_create_ip).toBe("2001:db8::1");
  });
});

describe("parseUnifiedOrderRequest (simulator side)", () => {
  it("reads the §3.4 sample request", () => {
    const parsed = parseUnifiedOrderRequest(xmlFields(SAMPLE_REQUEST_XML));
    expect(parsed).toEqual({ ok: true, value: sample });
  });

  it.each([
    ["a missing body", { body: undefined }, "MISSING_FIELD", "Field body:"],
    ["an empty openid on JSAPI", { openid: "" }, "MISSING_FIELD", "Field openid: is required for trade_type JSAPI"],
    ["total_fee with a leading zero", { total_fee: "01" }, "INVALID_FIELD", "Field total_fee: expected a whole number"],
    ["total_fee in yuan", { total_fee: "0.01" }, "INVALID_FIELD", "Field total_fee: expected a whole number"],
    ["an unknown trade_type", { trade_type: "SWIPE" }, "INVALID_FIELD", "Field trade_type:"],
  ])("answers %s with its code and field", (_name, change, code, message) => {
    const raw: Record<string, string> = { ...xmlFields(SAMPLE_REQUEST_XML) };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete raw[k];
      else raw[k] = v;
    }
    const parsed = parseUnifiedOrderRequest(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message).toContain(message);
    }
  });
});

describe("OUT_TRADE_NO_PATTERN", () => {
  it.each([
    ["1415659990", true],
    ["abc_-|*XYZ", true],
    ["123456", true],
    ["12345", false],
    ["x".repeat(32), true],
    ["x".repeat(33), false],
    ["订单123456", false],
    ["order@123456", false],
  ])("%s -> %s", (value, expected) => {
    expect(OUT_TRADE_NO_PATTERN.test(value)).toBe(expected);
  });
});

describe("notify_url rule", () => {
  it.each([
    ["https://pay.example.com/wxpay/notify", undefined],
    ["http://wxpay.wxutil.com/pub_v2/pay/notify.v2.php", undefined],
    ["http://127.0.0.1:3000/notify", undefined],
    ["https://pay.example.com/notify?", "must not carry a query string"],
    ["https://pay.example.com/notify#x", "must not carry a fragment"],
    ["https://user:pw@pay.example.com/notify", "must not carry credentials"],
    ["/notify", "must be an absolute URL"],
    ["javascript:alert(1)", "must use https (or http)"],
    ["https://pay.example.com/no tify", "must be printable ASCII without spaces (percent-encode other characters)"],
    ["", "must not be empty"],
    [`https://a.example/${"p".repeat(256 - 18)}`, undefined],
    [`https://a.example/${"p".repeat(257 - 18)}`, "must be at most 256 characters"],
  ])("%s -> %s", (url, problem) => {
    expect(notifyUrlProblem(url)).toBe(problem);
    expect(isValidNotifyUrl(url)).toBe(problem === undefined);
  });
});

describe("UnifiedOrderResponseSchema", () => {
  it("reads the §3.4 response sample", () => {
    const parsed = UnifiedOrderResponseSchema.parse(xmlFields(SAMPLE_RESPONSE_XML));
    expect(parsed).toEqual({
      returnCode: "SUCCESS",
      returnMsg: "OK",
      appid: "wx2421b1c4370ec43b",
      mchId: "10000100",
      nonceStr: "IITRi8Iabbblz1Jc",
      sign: "7921E432F65EB8ED0CE9755F0E86D72F",
      resultCode: "SUCCESS",
      prepayId: "wx201411101639507cbf6ffd8b0779950874",
      tradeType: "JSAPI",
    });
    expectTypeOf(parsed.prepayId).toEqualTypeOf<string>();
  });

  it("names a missing prepay_id", () => {
    const { prepay_id: _dropped, ...raw } = xmlFields(SAMPLE_RESPONSE_XML);
    const parsed = UnifiedOrderResponseSchema.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["prepay_id"]);
  });
});
