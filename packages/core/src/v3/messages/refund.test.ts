import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../../errors.js";
import { parseV3Answer } from "./answer.js";
import { buildV3GlobalQueryRefund, buildV3GlobalRefund, buildV3QueryRefund, buildV3Refund, V3GlobalRefundAnswerSchema, V3RefundAnswerSchema, type V3Refund } from "./refund.js";

const cny = (amount: number) => ({ amount, currency: "CNY" as const });

const REFUND: V3Refund = {
  transactionId: "4200002346202407227299244938",
  outRefundNo: "1818571211644825600",
  reason: "商品已售完",
  notifyUrl: "https://weixin.qq.com/refund-notify",
  amount: { refund: cny(10), total: cny(10) },
};

describe("refund requests", () => {
  it("builds POST /v3/refund/domestic/refunds with amount{refund,total,currency}", () => {
    expect(buildV3Refund(REFUND)).toEqual({
      method: "POST",
      host: "https://api.mch.weixin.qq.com",
      path: "/v3/refund/domestic/refunds",
      body: '{"transaction_id":"4200002346202407227299244938","out_refund_no":"1818571211644825600","reason":"商品已售完","notify_url":"https://weixin.qq.com/refund-notify","amount":{"refund":10,"total":10,"currency":"CNY"}}',
    });
  });

  it("puts sub_mchid first in partner mode and refunds by out_trade_no", () => {
    const body = buildV3Refund({ subMchid: "1900000109", outTradeNo: "1815322542292299776", outRefundNo: "R1", amount: { refund: cny(5), total: cny(10) } }).body;
    expect(body).toBe('{"sub_mchid":"1900000109","out_trade_no":"1815322542292299776","out_refund_no":"R1","amount":{"refund":5,"total":10,"currency":"CNY"}}');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["both order numbers", { outTradeNo: "1815322542292299776" }, "Field transaction_id: exactly one"],
    ["no order number", { transactionId: undefined }, "Field transaction_id: exactly one"],
    ["a refund above the total", { amount: { refund: cny(11), total: cny(10) } }, "Field amount.refund: must not exceed the total"],
    ["a zero refund", { amount: { refund: cny(0), total: cny(10) } }, "Field amount.refund.amount: must be positive"],
    ["a USD refund", { amount: { refund: { amount: 1, currency: "USD" }, total: cny(10) } }, "Field amount.refund.currency: must be CNY"],
    ["out_refund_no with a space", { outRefundNo: "R 1" }, "Field out_refund_no:"],
    ["out_refund_no of 65 characters", { outRefundNo: "R".repeat(65) }, "Field out_refund_no:"],
    ["an http notify_url", { notifyUrl: "http://weixin.qq.com/n" }, "Field notify_url: must use https"],
    ["a reason of 81 characters", { reason: "因".repeat(81) }, "Field reason:"],
  ])("refuses %s", (_, change, message) => {
    expect(() => buildV3Refund({ ...REFUND, ...change })).toThrow(PayCoreError);
    expect(() => buildV3Refund({ ...REFUND, ...change })).toThrow(message);
  });

  it("builds Global refunds on apihk in the order's currency", () => {
    expect(
      buildV3GlobalRefund({
        mchid: "1900000100",
        outTradeNo: "20150806125346",
        outRefundNo: "R1",
        amount: { refund: { amount: 50, currency: "HKD" }, total: { amount: 100, currency: "HKD" } },
      }),
    ).toEqual({
      method: "POST",
      host: "https://apihk.mch.weixin.qq.com",
      path: "/v3/global/refunds",
      body: '{"mchid":"1900000100","out_trade_no":"20150806125346","out_refund_no":"R1","amount":{"refund":50,"total":100,"currency":"HKD"}}',
    });
    expect(() =>
      buildV3GlobalRefund({
        mchid: "1",
        outTradeNo: "20150806125346",
        outRefundNo: "R1",
        amount: { refund: { amount: 50, currency: "USD" }, total: { amount: 100, currency: "HKD" } },
      }),
    ).toThrow("Field amount.refund: must be in the currency of the total");
    expect(() =>
      buildV3GlobalRefund({ outTradeNo: "20150806125346", outRefundNo: "R1", amount: { refund: { amount: 1, currency: "HKD" }, total: { amount: 1, currency: "HKD" } } }),
    ).toThrow("Field mchid:");
  });

  it("builds the refund queries", () => {
    expect(buildV3QueryRefund({ outRefundNo: "1217752501201407033233368018" })).toEqual({
      method: "GET",
      host: "https://api.mch.weixin.qq.com",
      path: "/v3/refund/domestic/refunds/1217752501201407033233368018",
      body: "",
    });
    expect(buildV3QueryRefund({ outRefundNo: "R@1", subMchid: "1900000109" }).path).toBe("/v3/refund/domestic/refunds/R%401?sub_mchid=1900000109");
    expect(buildV3GlobalQueryRefund({ mchid: "1900000100", outRefundNo: "R1" })).toEqual({
      method: "GET",
      host: "https://apihk.mch.weixin.qq.com",
      path: "/v3/global/refunds/out-refund-no/R1?mchid=1900000100",
      body: "",
    });
    expect(buildV3GlobalQueryRefund({ spMchid: "1900000100", subMchid: "100012321", refundId: "50303400132024073135461150169" }).path).toBe(
      "/v3/global/refunds/id/50303400132024073135461150169?sp_mchid=1900000100&sub_mchid=100012321",
    );
    expect(() => buildV3GlobalQueryRefund({ mchid: "1900000100" })).toThrow("Field out_refund_no: exactly one");
  });

  it("puts any refund up to the total into the body unchanged", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (a, b) => {
        const [refund, total] = a <= b ? [a, b] : [b, a];
        const body = JSON.parse(buildV3Refund({ ...REFUND, amount: { refund: cny(refund), total: cny(total) } }).body) as { amount: unknown };
        expect(body.amount).toEqual({ refund, total, currency: "CNY" });
      }),
    );
  });
});

// The captured live answer quoted in reference §8.1.
const CAPTURED =
  '{"amount":{"currency":"CNY","discount_refund":0,"from":[],"payer_refund":10,"payer_total":10,"refund":10,"refund_fee":0,"settlement_refund":10,"settlement_total":10,"total":10},"channel":"ORIGINAL","create_time":"2024-07-31T16:55:39+08:00","funds_account":"AVAILABLE","out_refund_no":"1818571211644825600","out_trade_no":"1815322542292299776","promotion_detail":[],"refund_id":"50303400132024073135461150169","status":"PROCESSING","transaction_id":"4200002346202407227299244938","user_received_account":"支付用户零钱"}';

describe("refund answer", () => {
  it("reads the captured answer into Money amounts", () => {
    expect(parseV3Answer(V3RefundAnswerSchema, CAPTURED)).toEqual({
      ok: true,
      value: {
        refundId: "50303400132024073135461150169",
        outRefundNo: "1818571211644825600",
        transactionId: "4200002346202407227299244938",
        outTradeNo: "1815322542292299776",
        channel: "ORIGINAL",
        userReceivedAccount: "支付用户零钱",
        createTime: "2024-07-31T16:55:39+08:00",
        status: "PROCESSING",
        fundsAccount: "AVAILABLE",
        amount: {
          total: cny(10),
          refund: cny(10),
          payerTotal: cny(10),
          payerRefund: cny(10),
          settlementTotal: cny(10),
          settlementRefund: cny(10),
          discountRefund: cny(0),
        },
      },
    });
  });

  it.each(["SUCCESS", "CLOSED", "PROCESSING", "ABNORMAL"])("accepts status %s", (status) => {
    const parsed = parseV3Answer(V3RefundAnswerSchema, JSON.stringify({ refund_id: "5030", out_refund_no: "R1", status, amount: { total: 10, refund: 5 } }));
    expect(parsed.ok && parsed.value.status).toBe(status);
  });

  it("reads a Global refund: id, payer amounts in the payer's currency, the exchange rate", () => {
    const text = JSON.stringify({
      id: "50000000382019052709732678859",
      out_refund_no: "1217752501201407033233368018",
      status: "SUCCESS",
      amount: { total: 100, refund: 100, currency: "HKD", payer_refund: 85, payer_currency: "CNY", exchange_rate: { type: "SETTLEMENT_RATE", rate: 85000000 } },
    });
    const parsed = parseV3Answer(V3GlobalRefundAnswerSchema, text);
    expect(parsed.ok && parsed.value).toEqual({
      refundId: "50000000382019052709732678859",
      outRefundNo: "1217752501201407033233368018",
      status: "SUCCESS",
      amount: {
        total: { amount: 100, currency: "HKD" },
        refund: { amount: 100, currency: "HKD" },
        payerRefund: { amount: 85, currency: "CNY" },
        exchangeRate: { type: "SETTLEMENT_RATE", rate: 85000000 },
      },
    });
  });

  it.each<[string, unknown, string, string]>([
    ["no refund id", { out_refund_no: "R1", status: "SUCCESS", amount: { total: 1, refund: 1 } }, "MISSING_FIELD", "Field refund_id: is required"],
    ["no status", { refund_id: "5", out_refund_no: "R1", amount: { total: 1, refund: 1 } }, "MISSING_FIELD", "Field status: is required"],
    ["an unknown status", { refund_id: "5", out_refund_no: "R1", status: "DONE", amount: { total: 1, refund: 1 } }, "INVALID_FIELD", "Field status:"],
    ["no amount.refund", { refund_id: "5", out_refund_no: "R1", status: "SUCCESS", amount: { total: 1 } }, "MISSING_FIELD", "Field amount.refund: is required"],
    ["a negative refund", { refund_id: "5", out_refund_no: "R1", status: "SUCCESS", amount: { total: 1, refund: -1 } }, "INVALID_FIELD", "Field amount.refund:"],
  ])("refuses %s", (_, json, code, message) => {
    const parsed = parseV3Answer(V3RefundAnswerSchema, JSON.stringify(json));
    expect(parsed).toMatchObject({ ok: false, error: { code } });
    expect(!parsed.ok && parsed.error.message).toContain(message);
  });

  it("refuses a Global refund answer without currency", () => {
    const parsed = parseV3Answer(V3GlobalRefundAnswerSchema, '{"id":"5","out_refund_no":"R1","status":"SUCCESS","amount":{"total":1,"refund":1}}');
    expect(parsed).toMatchObject({ ok: false, error: { code: "MISSING_FIELD", message: "Field amount.currency: is required" } });
  });
});
