import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../../errors.js";
import { parseV3Answer } from "./answer.js";
import {
  buildV3CloseOrder,
  buildV3QueryOrder,
  parseV3CloseAnswer,
  V3_TRADE_STATES,
  V3GlobalTransactionSchema,
  V3PrepayAnswerSchema,
  V3TransactionSchema,
  type V3QueryOrder,
} from "./transaction.js";

describe("order query and close requests", () => {
  it.each<[string, V3QueryOrder, string, string]>([
    [
      "by out_trade_no, direct",
      { mchid: "1230000109", outTradeNo: "1217752501201407033233368018" },
      "https://api.mch.weixin.qq.com",
      "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109",
    ],
    [
      "by transaction_id, direct",
      { mchid: "1230000109", transactionId: "4200000263201902167700134212" },
      "https://api.mch.weixin.qq.com",
      "/v3/pay/transactions/id/4200000263201902167700134212?mchid=1230000109",
    ],
    [
      "by out_trade_no, partner",
      { spMchid: "1230000109", subMchid: "1900000109", outTradeNo: "1217752501201407033233368018" },
      "https://api.mch.weixin.qq.com",
      "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018?sp_mchid=1230000109&sub_mchid=1900000109",
    ],
    [
      "by transaction_id, partner",
      { spMchid: "1230000109", subMchid: "1900000109", transactionId: "4200000263201902167700134212" },
      "https://api.mch.weixin.qq.com",
      "/v3/pay/partner/transactions/id/4200000263201902167700134212?sp_mchid=1230000109&sub_mchid=1900000109",
    ],
    [
      "Global by out_trade_no",
      { global: true, mchid: "1900000100", outTradeNo: "20150806125346" },
      "https://apihk.mch.weixin.qq.com",
      "/v3/global/transactions/out-trade-no/20150806125346?mchid=1900000100",
    ],
    [
      "Global institution by transaction_id",
      { global: true, spMchid: "1900000100", subMchid: "100012321", transactionId: "4200000263201902167700134212" },
      "https://apihk.mch.weixin.qq.com",
      "/v3/global/transactions/id/4200000263201902167700134212?sp_mchid=1900000100&sub_mchid=100012321",
    ],
  ])("queries %s", (_, query, host, path) => {
    expect(buildV3QueryOrder(query)).toEqual({ method: "GET", host, path, body: "" });
  });

  it("percent-encodes the path and query exactly once (| and * are legal in out_trade_no)", () => {
    expect(buildV3QueryOrder({ mchid: "1230000109", outTradeNo: "ab|cd*ef" }).path).toBe("/v3/pay/transactions/out-trade-no/ab%7Ccd%2Aef?mchid=1230000109");
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["no merchant", { outTradeNo: "1217752501" }, "Field mchid: is required"],
    ["mchid and sp_mchid", { mchid: "1", spMchid: "2", subMchid: "3", outTradeNo: "1217752501" }, "Field mchid: must not be given"],
    ["sp_mchid alone", { spMchid: "2", outTradeNo: "1217752501" }, "Field sub_mchid:"],
    ["sub_mchid alone", { subMchid: "3", outTradeNo: "1217752501" }, "Field sp_mchid:"],
    ["both numbers", { mchid: "1", outTradeNo: "1217752501", transactionId: "4200000263201902167700134212" }, "Field transaction_id: exactly one"],
    ["neither number", { mchid: "1" }, "Field transaction_id: exactly one"],
    ["a non-digit transaction_id", { mchid: "1", transactionId: "42x" }, "Field transaction_id:"],
  ])("refuses a query with %s", (_, query, message) => {
    expect(() => buildV3QueryOrder(query as V3QueryOrder)).toThrow(PayCoreError);
    expect(() => buildV3QueryOrder(query as V3QueryOrder)).toThrow(message);
  });

  it("closes with the mchid body (direct), the sp_mchid + sub_mchid body (partner) and on apihk (Global)", () => {
    expect(buildV3CloseOrder({ mchid: "1230000109", outTradeNo: "1217752501201407033233368018" })).toEqual({
      method: "POST",
      host: "https://api.mch.weixin.qq.com",
      path: "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
      body: '{"mchid":"1230000109"}',
    });
    expect(buildV3CloseOrder({ spMchid: "1230000109", subMchid: "1900000109", outTradeNo: "1217752501201407033233368018" })).toEqual({
      method: "POST",
      host: "https://api.mch.weixin.qq.com",
      path: "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018/close",
      body: '{"sp_mchid":"1230000109","sub_mchid":"1900000109"}',
    });
    expect(buildV3CloseOrder({ global: true, mchid: "1900000100", outTradeNo: "20150806125346" })).toEqual({
      method: "POST",
      host: "https://apihk.mch.weixin.qq.com",
      path: "/v3/global/transactions/out-trade-no/20150806125346/close",
      body: '{"mchid":"1900000100"}',
    });
    expect(() => buildV3CloseOrder({ mchid: "1230000109", outTradeNo: "123" })).toThrow("Field out_trade_no:");
  });
});

// Captured answers quoted in reference §6.3.
const NOTPAY =
  '{"amount":{"payer_currency":"CNY","total":1},"appid":"wxfc0e36204345c206","mchid":"1642979517","out_trade_no":"1654449150982348804202305051933","promotion_detail":[],"scene_info":{"device_id":""},"trade_state":"NOTPAY","trade_state_desc":"订单未支付"}';
const SUCCESS =
  '{"transaction_id":"4200001863202305068344507881","amount":{"currency":"CNY","payer_currency":"CNY","payer_total":1,"total":1},"mchid":"1642979517","trade_state":"SUCCESS","bank_type":"OTHERS","promotion_detail":[],"success_time":"2023-05-06T15:17:31+08:00","payer":{"openid":"oPuGI5V0_LybXP5_fmDLmW1Aiggw"},"out_trade_no":"1654747149419622403202305061517","appid":"wxfc0e36204345c206","trade_state_desc":"支付成功","trade_type":"JSAPI","attach":"5_21"}';
// Reference §14 (OAPI): Global names the order number `id` and adds exchange_rate.
const GLOBAL_SUCCESS =
  '{"id":"1217752501201407033233368018","sp_mchid":"1900000100","sub_mchid":"100012321","sp_appid":"wxdace645e0bc2c424","out_trade_no":"20150806125346","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","success_time":"2018-06-08T10:34:56+08:00","payer":{"sp_openid":"oUpF8uN95-Ptaags6E_roPHg7AG0"},"amount":{"total":100,"currency":"HKD","payer_total":85,"payer_currency":"CNY","exchange_rate":{"type":"SETTLEMENT_RATE","rate":80000000}},"promotion_detail":[{"promotion_id":"109519","amount":5}]}';

describe("transaction answer", () => {
  it("reads the captured NOTPAY answer: no transaction_id, CNY by default", () => {
    expect(parseV3Answer(V3TransactionSchema, NOTPAY)).toEqual({
      ok: true,
      value: {
        appid: "wxfc0e36204345c206",
        mchid: "1642979517",
        outTradeNo: "1654449150982348804202305051933",
        tradeState: "NOTPAY",
        tradeStateDesc: "订单未支付",
        amount: { total: { amount: 1, currency: "CNY" } },
      },
    });
  });

  it("reads the captured SUCCESS answer with payer_total in payer_currency", () => {
    const parsed = parseV3Answer(V3TransactionSchema, SUCCESS);
    expect(parsed).toEqual({
      ok: true,
      value: {
        appid: "wxfc0e36204345c206",
        mchid: "1642979517",
        outTradeNo: "1654747149419622403202305061517",
        transactionId: "4200001863202305068344507881",
        tradeType: "JSAPI",
        tradeState: "SUCCESS",
        tradeStateDesc: "支付成功",
        bankType: "OTHERS",
        attach: "5_21",
        successTime: "2023-05-06T15:17:31+08:00",
        payer: { openid: "oPuGI5V0_LybXP5_fmDLmW1Aiggw" },
        amount: { total: { amount: 1, currency: "CNY" }, payerTotal: { amount: 1, currency: "CNY" } },
      },
    });
  });

  it("reads a Global answer: id as transactionId, the exchange rate, payer_total in the payer's currency", () => {
    const parsed = parseV3Answer(V3GlobalTransactionSchema, GLOBAL_SUCCESS);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject({
      transactionId: "1217752501201407033233368018",
      spMchid: "1900000100",
      subMchid: "100012321",
      payer: { spOpenid: "oUpF8uN95-Ptaags6E_roPHg7AG0" },
      amount: { total: { amount: 100, currency: "HKD" }, payerTotal: { amount: 85, currency: "CNY" }, exchangeRate: { type: "SETTLEMENT_RATE", rate: 80000000 } },
    });
  });

  it.each(V3_TRADE_STATES)("accepts trade_state %s", (state) => {
    const parsed = parseV3Answer(V3TransactionSchema, JSON.stringify({ out_trade_no: "1217752501", trade_state: state, amount: { total: 1 } }));
    expect(parsed.ok && parsed.value.tradeState).toBe(state);
  });

  it.each<[string, string, string, string]>([
    ["not JSON", "<html>", "MALFORMED_ANSWER", "not JSON"],
    ["a JSON array", "[]", "MALFORMED_ANSWER", "not a JSON object"],
    ["an oversize answer", `{"attach":"${"x".repeat(1024 * 1024)}"}`, "MALFORMED_ANSWER", "longer than"],
    ["no trade_state", '{"out_trade_no":"1217752501","amount":{"total":1}}', "MISSING_FIELD", "Field trade_state: is required"],
    ["no amount", '{"out_trade_no":"1217752501","trade_state":"NOTPAY"}', "MISSING_FIELD", "Field amount: is required"],
    ["no amount.total", '{"out_trade_no":"1217752501","trade_state":"NOTPAY","amount":{}}', "MISSING_FIELD", "Field amount.total: is required"],
    ["an unknown trade_state", '{"out_trade_no":"1217752501","trade_state":"PAID","amount":{"total":1}}', "INVALID_FIELD", "Field trade_state:"],
    ["a fractional total", '{"out_trade_no":"1217752501","trade_state":"NOTPAY","amount":{"total":1.5}}', "INVALID_FIELD", "Field amount.total:"],
    ["a total as text", '{"out_trade_no":"1217752501","trade_state":"NOTPAY","amount":{"total":"1"}}', "INVALID_FIELD", "Field amount.total:"],
    ["a negative payer_total", '{"out_trade_no":"1217752501","trade_state":"SUCCESS","amount":{"total":1,"payer_total":-1}}', "INVALID_FIELD", "Field amount.payer_total:"],
    ["an unknown currency", '{"out_trade_no":"1217752501","trade_state":"SUCCESS","amount":{"total":1,"currency":"XXX"}}', "INVALID_FIELD", "Field amount.currency:"],
    [
      "a success_time without offset",
      '{"out_trade_no":"1217752501","trade_state":"SUCCESS","success_time":"2023-05-06 15:17:31","amount":{"total":1}}',
      "INVALID_FIELD",
      "Field success_time:",
    ],
  ])("refuses %s", (_, text, code, message) => {
    const parsed = parseV3Answer(V3TransactionSchema, text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message).toContain(message);
    }
  });

  it("refuses a Global answer without currency, and one whose id and transaction_id differ", () => {
    const noCurrency = parseV3Answer(V3GlobalTransactionSchema, '{"out_trade_no":"1217752501","trade_state":"NOTPAY","amount":{"total":1}}');
    expect(noCurrency).toMatchObject({ ok: false, error: { code: "MISSING_FIELD", message: "Field amount.currency: is required" } });
    const twoIds = parseV3Answer(
      V3GlobalTransactionSchema,
      '{"id":"1","transaction_id":"2","out_trade_no":"1217752501","trade_state":"NOTPAY","amount":{"total":1,"currency":"HKD"}}',
    );
    expect(twoIds).toMatchObject({ ok: false, error: { code: "INVALID_FIELD" } });
  });

  it("reads any whole amounts back as Money in their currencies", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom("HKD", "USD", "JPY", "KWD"),
        (total, payerTotal, currency) => {
          const text = JSON.stringify({ out_trade_no: "1217752501", trade_state: "SUCCESS", amount: { total, currency, payer_total: payerTotal, payer_currency: "CNY" } });
          const parsed = parseV3Answer(V3GlobalTransactionSchema, text);
          expect(parsed.ok && parsed.value.amount).toEqual({ total: { amount: total, currency }, payerTotal: { amount: payerTotal, currency: "CNY" } });
        },
      ),
    );
  });
});

describe("close answer", () => {
  it("accepts only an empty 204", () => {
    expect(parseV3CloseAnswer(204, "")).toEqual({ ok: true, value: null });
    expect(parseV3CloseAnswer(200, "")).toMatchObject({ ok: false, error: { code: "UNEXPECTED_ANSWER" } });
    expect(parseV3CloseAnswer(204, "{}")).toMatchObject({ ok: false, error: { code: "UNEXPECTED_ANSWER" } });
  });
});

describe("prepay answer", () => {
  it("reads prepay_id and tolerates extra fields", () => {
    expect(parseV3Answer(V3PrepayAnswerSchema, '{"prepay_id":"wx201410272009395522657a690389285100","extra":1}')).toEqual({
      ok: true,
      value: { prepayId: "wx201410272009395522657a690389285100" },
    });
  });

  it("refuses an answer without prepay_id, or with an empty one", () => {
    expect(parseV3Answer(V3PrepayAnswerSchema, '{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}')).toMatchObject({
      ok: false,
      error: { code: "MISSING_FIELD", message: "Field prepay_id: is required" },
    });
    expect(parseV3Answer(V3PrepayAnswerSchema, '{"prepay_id":""}')).toMatchObject({ ok: false, error: { code: "INVALID_FIELD" } });
  });
});
