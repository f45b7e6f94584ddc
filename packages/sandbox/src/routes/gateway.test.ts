import { parseGatewayResponse, UnifiedOrderResponseSchema, verifySign } from "@pay/core";
import { describe, expect, it } from "vitest";
import { callGateway, DIRECT, GLOBAL, orderFields, withSandbox } from "../../test/support/harness.js";

describe("protocol checks every endpoint makes", () => {
  it("answers a valid MD5 unifiedorder with a signed answer, its own nonce and a prepay_id", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields({ nonce_str: "request-nonce" });
      const answer = await callGateway(sandbox, "/pay/unifiedorder", fields, { key: DIRECT.key });
      expect(answer.status).toBe(200);
      const parsed = parseGatewayResponse(answer.text, { key: DIRECT.key, signType: "MD5", schema: UnifiedOrderResponseSchema });
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(parsed.value.value.prepayId).toMatch(/^wx\d{14}[0-9a-f]{20}$/);
      expect(parsed.value.raw.nonce_str).not.toBe("request-nonce");
      expect(parsed.value.value).toMatchObject({ returnCode: "SUCCESS", resultCode: "SUCCESS", tradeType: "JSAPI", appid: DIRECT.appId, mchId: DIRECT.mchId });
    });
  });

  it("signs the answer to an HMAC-SHA256 request with HMAC-SHA256", async () => {
    await withSandbox({}, async (sandbox) => {
      const answer = await callGateway(sandbox, "/pay/unifiedorder", orderFields(), { key: DIRECT.key, signType: "HMAC-SHA256" });
      expect(answer.fields?.sign).toHaveLength(64);
      expect(verifySign(answer.fields ?? {}, { key: DIRECT.key, signType: "HMAC-SHA256", inferSignType: true }).ok).toBe(true);
    });
  });

  it.each([
    ["GET", async (url: string) => fetch(`${url}/pay/unifiedorder`), "请使用post方法"],
    ["an empty body", async (url: string) => fetch(`${url}/pay/unifiedorder`, { method: "POST", body: "" }), "post数据为空"],
    ["JSON", async (url: string) => fetch(`${url}/pay/orderquery`, { method: "POST", body: '{"a":1}' }), "XML格式错误"],
    [
      "an XXE document",
      async (url: string) => fetch(`${url}/pay/orderquery`, { method: "POST", body: '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>' }),
      "XML格式错误",
    ],
    [
      "invalid UTF-8",
      async (url: string) => fetch(`${url}/pay/orderquery`, { method: "POST", body: Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]) }),
      "UTF-8",
    ],
    ["an oversize body", async (url: string) => fetch(`${url}/pay/orderquery`, { method: "POST", body: `<xml><a>${"x".repeat(100_000)}</a></xml>` }), "XML格式错误"],
  ])("refuses %s with return_code FAIL and no sign", async (_what, send, message) => {
    await withSandbox({}, async (sandbox) => {
      const response = await send(sandbox.url);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(text).toContain("<return_code><![CDATA[FAIL]]></return_code>");
      expect(text).toContain(message);
      expect(text).not.toContain("<sign>");
    });
  });

  it.each([
    ["a bad signature", { key: "wrong-key-wrong-key-wrong-key-12" }, {}, "签名错误"],
    ["an unknown mch_id", { key: DIRECT.key }, { mch_id: "999" }, "商户号mch_id不存在"],
    ["an unknown sign_type", { key: DIRECT.key }, { sign_type: "SHA1" }, "sign_type参数格式错误"],
    ["a missing openid for JSAPI", { key: DIRECT.key }, { openid: undefined }, "缺少参数"],
    ["a Global merchant without fee_type", { key: GLOBAL.key }, { appid: GLOBAL.appId, mch_id: GLOBAL.mchId }, "fee_type"],
  ])("answers %s with return_code FAIL", async (_what, options, override, message) => {
    await withSandbox({}, async (sandbox) => {
      const answer = await callGateway(sandbox, "/pay/unifiedorder", orderFields(override), options);
      expect(answer.fields).toMatchObject({ return_code: "FAIL" });
      expect(answer.fields?.return_msg).toContain(message);
      expect(answer.fields?.sign).toBeUndefined();
    });
  });

  it.each([
    ["total_fee 0", { total_fee: 0 }, "PARAM_ERROR", "total_fee"],
    ["a decimal total_fee", { total_fee: "1.50" }, "PARAM_ERROR", "total_fee"],
    ["out_trade_no with bad characters", { out_trade_no: "order#1234" }, "PARAM_ERROR", "out_trade_no"],
    ["out_trade_no over 32 characters", { out_trade_no: "A".repeat(33) }, "PARAM_ERROR", "out_trade_no"],
    ["a notify_url with a query string", { notify_url: "https://example.com/notify?order=1" }, "PARAM_ERROR", "notify_url"],
    ["a non-CNY fee_type for a domestic merchant", { fee_type: "HKD" }, "PARAM_ERROR", "fee_type"],
    ["another merchant's appid", { appid: "wx_someone_else" }, "APPID_MCHID_NOT_MATCH", "appid"],
    ["a non-JSAPI trade_type", { trade_type: "NATIVE", product_id: "p1" }, "PARAM_ERROR", "JSAPI"],
  ])("answers %s with a signed result_code FAIL", async (_what, override, errCode, mention) => {
    await withSandbox({}, async (sandbox) => {
      const answer = await callGateway(sandbox, "/pay/unifiedorder", orderFields(override), { key: DIRECT.key });
      expect(answer.fields).toMatchObject({ return_code: "SUCCESS", result_code: "FAIL", err_code: errCode });
      expect(answer.fields?.err_code_des).toContain(mention);
      expect(verifySign(answer.fields ?? {}, { key: DIRECT.key, signType: "MD5" }).ok).toBe(true);
    });
  });
});
