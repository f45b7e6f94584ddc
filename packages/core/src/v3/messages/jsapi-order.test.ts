import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { PayCoreError } from "../../errors.js";
import { buildV3GlobalInstitutionJsapiOrder, buildV3GlobalJsapiOrder, buildV3JsapiOrder, buildV3PartnerJsapiOrder, type V3JsapiOrder } from "./jsapi-order.js";
import { buildV3GlobalRefund, buildV3Refund } from "./refund.js";

const vectors = loadVectorsV3();

/** The official sample order (reference §4.1), whose body the request-signature vector signs. */
const SAMPLE: V3JsapiOrder = {
  appid: "wxd678efh567hg6787",
  mchid: "1900007291",
  description: "Image形象店-深圳腾大-QQ公仔",
  outTradeNo: "1217752501201407033233368018",
  notifyUrl: "https://www.weixin.qq.com/wxpay/pay.php",
  amount: { total: { amount: 100, currency: "CNY" } },
  payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
};

function refusal(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(PayCoreError);
    expect((error as PayCoreError).code).toBe("INVALID_FIELD");
    return (error as PayCoreError).message;
  }
  throw new Error("expected a refusal");
}

describe("JSAPI order, direct merchant", () => {
  it("builds the exact body and path the request-signature vector signs", () => {
    const request = buildV3JsapiOrder(SAMPLE);
    expect(request).toEqual({
      method: vectors.requestSignature.method,
      host: "https://api.mch.weixin.qq.com",
      path: vectors.requestSignature.urlPath,
      body: vectors.requestSignature.body,
    });
  });

  it("places the optional fields and leaves absent ones out", () => {
    const request = buildV3JsapiOrder({
      ...SAMPLE,
      timeExpire: "2018-06-08T10:34:56+08:00",
      attach: "5_21",
      goodsTag: "WXG",
      supportFapiao: false,
      sceneInfo: { payerClientIp: "14.23.150.211" },
      settleInfo: { profitSharing: true },
    });
    expect(JSON.parse(request.body)).toEqual({
      appid: "wxd678efh567hg6787",
      mchid: "1900007291",
      description: "Image形象店-深圳腾大-QQ公仔",
      out_trade_no: "1217752501201407033233368018",
      time_expire: "2018-06-08T10:34:56+08:00",
      attach: "5_21",
      notify_url: "https://www.weixin.qq.com/wxpay/pay.php",
      goods_tag: "WXG",
      support_fapiao: false,
      amount: { total: 100, currency: "CNY" },
      payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
      scene_info: { payer_client_ip: "14.23.150.211" },
      settle_info: { profit_sharing: true },
    });
    expect(Object.keys(JSON.parse(request.body) as object).slice(0, 5)).toEqual(["appid", "mchid", "description", "out_trade_no", "time_expire"]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["out_trade_no shorter than 6", { outTradeNo: "12345" }, "Field out_trade_no:"],
    ["out_trade_no longer than 32", { outTradeNo: "1".repeat(33) }, "Field out_trade_no:"],
    ["out_trade_no with a space", { outTradeNo: "order 12345" }, "Field out_trade_no:"],
    ["empty description", { description: "" }, "Field description:"],
    ["description of 128 characters", { description: "商".repeat(128) }, "Field description: must be at most 127"],
    ["description padded with spaces", { description: " goods" }, "Field description:"],
    ["zero total", { amount: { total: { amount: 0, currency: "CNY" } } }, "Field amount.total.amount: must be positive"],
    ["negative total", { amount: { total: { amount: -1, currency: "CNY" } } }, "Field amount.total.amount:"],
    ["fractional total", { amount: { total: { amount: 1.5, currency: "CNY" } } }, "Field amount.total.amount:"],
    ["a non-CNY total", { amount: { total: { amount: 100, currency: "USD" } } }, "Field amount.total.currency: must be CNY"],
    ["http notify_url", { notifyUrl: "http://example.com/notify" }, "Field notify_url: must use https"],
    ["notify_url with a query", { notifyUrl: "https://example.com/notify?a=1" }, "Field notify_url: must not carry a query string"],
    ["relative notify_url", { notifyUrl: "/notify" }, "Field notify_url:"],
    ["time_expire without offset", { timeExpire: "2018-06-08T10:34:56" }, "Field time_expire:"],
    ["time_expire in Z", { timeExpire: "2018-06-08T10:34:56Z" }, "Field time_expire:"],
    ["time_expire on 30 February", { timeExpire: "2026-02-30T10:00:00+08:00" }, "Field time_expire:"],
    ["time_expire at 24:00", { timeExpire: "2026-02-10T24:00:00+08:00" }, "Field time_expire:"],
    ["empty openid", { payer: { openid: "" } }, "Field payer.openid:"],
    ["bad payer ip", { sceneInfo: { payerClientIp: "not-an-ip" } }, "Field scene_info.payer_client_ip:"],
  ])("refuses %s", (_, change, message) => {
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, ...change }))).toContain(message);
  });

  it("puts any positive whole total into the body unchanged, and refuses every other number", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (total) => {
        const body = JSON.parse(buildV3JsapiOrder({ ...SAMPLE, amount: { total: { amount: total, currency: "CNY" } } }).body) as { amount: { total: number } };
        expect(body.amount.total).toBe(total);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true }), fc.constantFrom(Number.NaN, Infinity, Number.MAX_SAFE_INTEGER + 1)), (total) => {
        expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, amount: { total: { amount: total, currency: "CNY" } } }))).toContain("Field amount.total.amount:");
      }),
    );
  });
});

const PARTNER = {
  spAppid: "wx8888888888888888",
  spMchid: "1230000109",
  subAppid: "wxd678efh567hg6999",
  subMchid: "1900000109",
  description: "Image形象店-深圳腾大-QQ公仔",
  outTradeNo: "1217752501201407033233368018",
  notifyUrl: "https://www.weixin.qq.com/wxpay/pay.php",
  amount: { total: { amount: 100, currency: "CNY" as const } },
};

describe("JSAPI order, service provider", () => {
  it("builds the partner body with sub_openid", () => {
    const request = buildV3PartnerJsapiOrder({ ...PARTNER, payer: { subOpenid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" } });
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v3/pay/partner/transactions/jsapi");
    expect(request.body).toBe(
      '{"sp_appid":"wx8888888888888888","sp_mchid":"1230000109","sub_appid":"wxd678efh567hg6999","sub_mchid":"1900000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"sub_openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}',
    );
  });

  it("builds the partner body with sp_openid and no sub_appid", () => {
    const { subAppid: _, ...rest } = PARTNER;
    const body = JSON.parse(buildV3PartnerJsapiOrder({ ...rest, payer: { spOpenid: "oSp" } }).body) as Record<string, unknown>;
    expect(body.payer).toEqual({ sp_openid: "oSp" });
    expect(body).not.toHaveProperty("sub_appid");
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["both openids", { payer: { spOpenid: "a", subOpenid: "b" } }, "Field payer: must carry exactly one"],
    ["no openid", { payer: {} }, "Field payer: must carry exactly one"],
    ["payer.openid (partner mode refuses it)", { payer: { openid: "o" } }, "Field payer"],
    ["sub_openid without sub_appid", { subAppid: undefined, payer: { subOpenid: "b" } }, "Field sub_appid: is required when payer.sub_openid"],
    ["no sub_mchid", { subMchid: undefined, payer: { spOpenid: "a" } }, "Field sub_mchid:"],
    ["no sp_appid", { spAppid: undefined, payer: { spOpenid: "a" } }, "Field sp_appid:"],
  ])("refuses %s", (_, change, message) => {
    expect(refusal(() => buildV3PartnerJsapiOrder({ ...PARTNER, ...change } as never))).toContain(message);
  });
});

const GLOBAL = {
  description: "Image形象店-深圳腾大-QQ公仔",
  outTradeNo: "20150806125346",
  notifyUrl: "https://wxpay.wxutil.com/pub_v2/pay/notify.v2.php",
  tradeType: "JSAPI" as const,
  merchantCategoryCode: "4111",
  amount: { total: { amount: 10000, currency: "HKD" as const } },
};

describe("JSAPI order, WeChat Pay Global", () => {
  it("builds a direct Global order on apihk with trade_type, merchant_category_code and currency", () => {
    const request = buildV3GlobalJsapiOrder({ appid: "wxdace645e0bc2c424", mchid: "1900000100", ...GLOBAL, payer: { openid: "oUpF8uN95-Ptaags6E_roPHg7AG0" } });
    expect(request).toEqual({
      method: "POST",
      host: "https://apihk.mch.weixin.qq.com",
      path: "/v3/global/transactions/jsapi",
      body: '{"appid":"wxdace645e0bc2c424","mchid":"1900000100","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"20150806125346","notify_url":"https://wxpay.wxutil.com/pub_v2/pay/notify.v2.php","trade_type":"JSAPI","merchant_category_code":"4111","amount":{"total":10000,"currency":"HKD"},"payer":{"openid":"oUpF8uN95-Ptaags6E_roPHg7AG0"}}',
    });
  });

  it("builds an institution Global order with sp_/sub_ ids", () => {
    const request = buildV3GlobalInstitutionJsapiOrder({
      spAppid: "wxdace645e0bc2c424",
      spMchid: "1900000100",
      subMchid: "100012321",
      subAppid: "wxdace645e0bc2c425",
      ...GLOBAL,
      timeStart: "2026-12-03T08:00:00+08:00",
      payer: { subOpenid: "oUpF8uN95-Ptaags6E_roPHg7AG0" },
    });
    expect(request.path).toBe("/v3/global/transactions/jsapi");
    expect(JSON.parse(request.body)).toEqual({
      sp_appid: "wxdace645e0bc2c424",
      sp_mchid: "1900000100",
      sub_appid: "wxdace645e0bc2c425",
      sub_mchid: "100012321",
      description: "Image形象店-深圳腾大-QQ公仔",
      out_trade_no: "20150806125346",
      time_start: "2026-12-03T08:00:00+08:00",
      notify_url: "https://wxpay.wxutil.com/pub_v2/pay/notify.v2.php",
      trade_type: "JSAPI",
      merchant_category_code: "4111",
      amount: { total: 10000, currency: "HKD" },
      payer: { sub_openid: "oUpF8uN95-Ptaags6E_roPHg7AG0" },
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["no trade_type", { tradeType: undefined }, "Field trade_type:"],
    ["trade_type NATIVE", { tradeType: "NATIVE" }, "Field trade_type:"],
    ["no merchant_category_code", { merchantCategoryCode: undefined }, "Field merchant_category_code:"],
    ["a three-digit MCC", { merchantCategoryCode: "411" }, "Field merchant_category_code:"],
    ["no currency", { amount: { total: { amount: 100 } } }, "Field amount.total.currency:"],
    ["an unknown currency", { amount: { total: { amount: 100, currency: "XXX" } } }, "Field amount.total.currency:"],
  ])("refuses %s", (_, change, message) => {
    expect(refusal(() => buildV3GlobalJsapiOrder({ appid: "wxdace645e0bc2c424", mchid: "1900000100", ...GLOBAL, payer: { openid: "o" }, ...change }))).toContain(message);
  });
});

describe("allowHttpNotifyUrl (a local gateway such as the sandbox)", () => {
  it("is off by default: an http notify_url is refused by every order and refund builder", () => {
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: "http://127.0.0.1:8080/notify" }))).toContain("Field notify_url: must use https");
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: "http://127.0.0.1:8080/notify" }, { allowHttpNotifyUrl: false }))).toContain("must use https");
    const refund = {
      outTradeNo: SAMPLE.outTradeNo,
      outRefundNo: "R1",
      notifyUrl: "http://127.0.0.1/n",
      amount: { refund: { amount: 1, currency: "CNY" as const }, total: { amount: 1, currency: "CNY" as const } },
    };
    expect(refusal(() => buildV3Refund(refund))).toContain("must use https");
    expect(refusal(() => buildV3GlobalRefund({ ...refund, mchid: "1900007291" }))).toContain("must use https");
  });

  it("sends an http notify_url exactly as given when allowed, in orders and refunds", () => {
    const url = "http://127.0.0.1:8080/wxpay/v3/notify";
    expect(JSON.parse(buildV3JsapiOrder({ ...SAMPLE, notifyUrl: url }, { allowHttpNotifyUrl: true }).body)).toMatchObject({ notify_url: url });
    const partner = {
      spAppid: "wx8888888888888888",
      spMchid: "1230000109",
      subAppid: "wxd678efh567hg6999",
      subMchid: "1900000109",
      description: "d",
      outTradeNo: "123456",
      notifyUrl: url,
      amount: SAMPLE.amount,
      payer: { subOpenid: "o1" },
    };
    expect(JSON.parse(buildV3PartnerJsapiOrder(partner, { allowHttpNotifyUrl: true }).body)).toMatchObject({ notify_url: url });
    const global = {
      appid: "wx1",
      mchid: "2900000001",
      description: "d",
      outTradeNo: "123456",
      notifyUrl: url,
      tradeType: "JSAPI" as const,
      merchantCategoryCode: "5812",
      amount: { total: { amount: 100, currency: "HKD" as const } },
      payer: { openid: "o1" },
    };
    expect(JSON.parse(buildV3GlobalJsapiOrder(global, { allowHttpNotifyUrl: true }).body)).toMatchObject({ notify_url: url });
    const institution = { ...partner, ...{ tradeType: "JSAPI" as const, merchantCategoryCode: "5812", amount: { total: { amount: 100, currency: "HKD" as const } } } };
    expect(JSON.parse(buildV3GlobalInstitutionJsapiOrder(institution, { allowHttpNotifyUrl: true }).body)).toMatchObject({ notify_url: url });
    const refund = {
      outTradeNo: "123456",
      outRefundNo: "R1",
      notifyUrl: url,
      amount: { refund: { amount: 1, currency: "CNY" as const }, total: { amount: 1, currency: "CNY" as const } },
    };
    expect(JSON.parse(buildV3Refund(refund, { allowHttpNotifyUrl: true }).body)).toMatchObject({ notify_url: url });
    expect(JSON.parse(buildV3GlobalRefund({ ...refund, mchid: "2900000001" }, { allowHttpNotifyUrl: true }).body)).toMatchObject({ notify_url: url });
  });

  it("still applies every other notify_url rule and the rest of the schema to an allowed http URL", () => {
    const allow = { allowHttpNotifyUrl: true };
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: "http://127.0.0.1/notify?a=1" }, allow))).toContain("Field notify_url: must not carry a query string");
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: "http://user:pw@127.0.0.1/notify" }, allow))).toContain("Field notify_url:");
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: `http://127.0.0.1/${"a".repeat(300)}` }, allow))).toContain("Field notify_url:");
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: "ftp://127.0.0.1/notify" }, allow))).toContain("Field notify_url:");
    expect(refusal(() => buildV3JsapiOrder({ ...SAMPLE, notifyUrl: "http://127.0.0.1/notify", outTradeNo: "1" }, allow))).toContain("Field out_trade_no:");
  });
});
