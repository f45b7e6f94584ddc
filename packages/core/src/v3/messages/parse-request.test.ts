import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import {
  buildV3GlobalInstitutionJsapiOrder,
  buildV3JsapiOrder,
  buildV3PartnerJsapiOrder,
  V3JsapiOrderSchema,
  V3PartnerJsapiOrderSchema,
  type V3JsapiOrder,
} from "./jsapi-order.js";
import {
  parseV3GlobalInstitutionJsapiOrderBody,
  parseV3GlobalJsapiOrderBody,
  parseV3JsapiOrderBody,
  parseV3GlobalRefundBody,
  parseV3PartnerJsapiOrderBody,
  parseV3RefundBody,
} from "./parse-request.js";
import { buildV3GlobalRefund, buildV3Refund, V3RefundSchema } from "./refund.js";

const vectors = loadVectorsV3();

describe("received request bodies (the simulator's side)", () => {
  it("reads the reference's sample order body", () => {
    expect(parseV3JsapiOrderBody(vectors.requestSignature.body)).toEqual({
      ok: true,
      value: {
        appid: "wxd678efh567hg6787",
        mchid: "1900007291",
        description: "Image形象店-深圳腾大-QQ公仔",
        outTradeNo: "1217752501201407033233368018",
        notifyUrl: "https://www.weixin.qq.com/wxpay/pay.php",
        amount: { total: { amount: 100, currency: "CNY" } },
        payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
      },
    });
  });

  it("reads an absent currency as CNY on the mainland", () => {
    const body = vectors.requestSignature.body.replace(',"currency":"CNY"', "");
    const parsed = parseV3JsapiOrderBody(body);
    expect(parsed.ok && parsed.value.amount).toEqual({ total: { amount: 100, currency: "CNY" } });
  });

  const sample = JSON.parse(vectors.requestSignature.body) as Record<string, unknown>;
  const partner = {
    sp_appid: "wx8888888888888888",
    sp_mchid: "1230000109",
    sub_mchid: "1900000109",
    description: "d",
    out_trade_no: "1217752501",
    notify_url: "https://a.example/n",
    amount: { total: 1 },
  };

  it.each<[string, () => ReturnType<typeof parseV3JsapiOrderBody> | ReturnType<typeof parseV3PartnerJsapiOrderBody>, string, string]>([
    ["not JSON", () => parseV3JsapiOrderBody("{"), "MALFORMED_BODY", "not JSON"],
    ["an array", () => parseV3JsapiOrderBody("[]"), "MALFORMED_BODY", "not a JSON object"],
    ["an oversize body", () => parseV3JsapiOrderBody(" ".repeat(64 * 1024 + 1)), "MALFORMED_BODY", "longer than"],
    ["an undefined field", () => parseV3JsapiOrderBody(JSON.stringify({ ...sample, total_fee: 1 })), "UNKNOWN_FIELD", "Field total_fee:"],
    ["payer.openid in partner mode", () => parseV3PartnerJsapiOrderBody(JSON.stringify({ ...partner, payer: { openid: "o" } })), "UNKNOWN_FIELD", "Field payer.openid:"],
    ["no out_trade_no", () => parseV3JsapiOrderBody(JSON.stringify({ ...sample, out_trade_no: undefined })), "MISSING_FIELD", "Field out_trade_no: is required"],
    ["no amount.total", () => parseV3JsapiOrderBody(JSON.stringify({ ...sample, amount: { currency: "CNY" } })), "MISSING_FIELD", "Field amount.total: is required"],
    ["a short out_trade_no", () => parseV3JsapiOrderBody(JSON.stringify({ ...sample, out_trade_no: "1" })), "INVALID_FIELD", "Field out_trade_no:"],
    ["a total as text", () => parseV3JsapiOrderBody(JSON.stringify({ ...sample, amount: { total: "100", currency: "CNY" } })), "INVALID_FIELD", "Field amount.total:"],
    ["a USD order on the mainland", () => parseV3JsapiOrderBody(JSON.stringify({ ...sample, amount: { total: 100, currency: "USD" } })), "INVALID_FIELD", "Field amount.currency:"],
    [
      "both openids in partner mode",
      () => parseV3PartnerJsapiOrderBody(JSON.stringify({ ...partner, sub_appid: "wx1", payer: { sp_openid: "a", sub_openid: "b" } })),
      "INVALID_FIELD",
      "Field payer:",
    ],
  ])("refuses %s", (_, parse, code, message) => {
    const parsed = parse();
    expect(parsed).toMatchObject({ ok: false, error: { code } });
    expect(!parsed.ok && parsed.error.message).toContain(message);
  });

  it("refuses a Global body without currency", () => {
    const body = JSON.stringify({
      appid: "wx1",
      mchid: "1",
      description: "d",
      out_trade_no: "1217752501",
      notify_url: "https://a.example/n",
      trade_type: "JSAPI",
      merchant_category_code: "4111",
      amount: { total: 1 },
      payer: { openid: "o" },
    });
    expect(parseV3GlobalJsapiOrderBody(body)).toMatchObject({ ok: false, error: { code: "MISSING_FIELD", message: "Field amount.currency: is required" } });
  });

  it("refuses a refund body without currency or above its total", () => {
    const base = { transaction_id: "4200002346202407227299244938", out_refund_no: "R1" };
    expect(parseV3RefundBody(JSON.stringify({ ...base, amount: { refund: 1, total: 1 } }))).toMatchObject({
      ok: false,
      error: { code: "MISSING_FIELD", message: "Field amount.currency: is required" },
    });
    expect(parseV3RefundBody(JSON.stringify({ ...base, amount: { refund: 2, total: 1, currency: "CNY" } }))).toMatchObject({
      ok: false,
      error: { code: "INVALID_FIELD", message: "Field amount.refund: must not exceed the total" },
    });
  });

  it("reads a Global refund body as buildV3GlobalRefund wrote it, for a direct merchant and an institution", () => {
    const amount = { refund: { amount: 50, currency: "HKD" as const }, total: { amount: 100, currency: "HKD" as const } };
    const direct = { mchid: "2900300020", outTradeNo: "G123456", outRefundNo: "GR1", reason: "r", notifyUrl: "https://a.example/n", amount };
    expect(parseV3GlobalRefundBody(buildV3GlobalRefund(direct).body)).toEqual({ ok: true, value: direct });
    const institution = { spMchid: "3900300030", subMchid: "3900300031", transactionId: "4200002346202407227299244938", outRefundNo: "GR2", amount };
    expect(parseV3GlobalRefundBody(buildV3GlobalRefund(institution).body)).toEqual({ ok: true, value: institution });
  });

  it.each([
    ["no currency", { mchid: "1", out_trade_no: "G123456", out_refund_no: "R", amount: { refund: 1, total: 1 } }, "MISSING_FIELD", "Field amount.currency: is required"],
    [
      "mchid with sp_mchid",
      { mchid: "1", sp_mchid: "2", sub_mchid: "3", out_trade_no: "G123456", out_refund_no: "R", amount: { refund: 1, total: 1, currency: "HKD" } },
      "INVALID_FIELD",
      "Field mchid: must not be given with sp_mchid / sub_mchid",
    ],
    ["no merchant", { out_trade_no: "G123456", out_refund_no: "R", amount: { refund: 1, total: 1, currency: "HKD" } }, "MISSING_FIELD", "Field mchid: is required"],
    [
      "funds_account (domestic only)",
      { mchid: "1", out_trade_no: "G123456", out_refund_no: "R", funds_account: "AVAILABLE", amount: { refund: 1, total: 1, currency: "HKD" } },
      "UNKNOWN_FIELD",
      "Field funds_account: is not defined",
    ],
  ])("refuses a Global refund body with %s", (_name, body, code, message) => {
    const parsed = parseV3GlobalRefundBody(JSON.stringify(body));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe(code);
      expect(parsed.error.message).toContain(message);
    }
  });
});

const id = (max: number) => fc.stringMatching(new RegExp(`^[\\x21-\\x7E]{1,${max}}$`));
const text = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter((s) => s.trim() === s && s.length > 0);
const outTradeNo = fc.stringMatching(/^[0-9A-Za-z_\-|*]{6,32}$/);
const total = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe("build -> parse round trips", () => {
  it("a direct order comes back as it was built", () => {
    fc.assert(
      fc.property(
        fc.record({
          appid: id(32),
          mchid: id(32),
          description: text(127),
          outTradeNo,
          timeExpire: optional(fc.constantFrom("2018-06-08T10:34:56+08:00", "2030-01-01T00:00:00-05:30")),
          attach: optional(text(128)),
          notifyUrl: fc.constantFrom("https://www.weixin.qq.com/wxpay/pay.php", "https://a.example/notify/v3"),
          supportFapiao: optional(fc.boolean()),
          amount: fc.record({ total: fc.record({ amount: total, currency: fc.constant("CNY" as const) }) }),
          payer: fc.record({ openid: id(128) }),
        }),
        (order) => {
          const input = withoutUndefined(order) as V3JsapiOrder;
          expect(parseV3JsapiOrderBody(buildV3JsapiOrder(input).body)).toEqual({ ok: true, value: V3JsapiOrderSchema.parse(input) });
        },
      ),
    );
  });

  it("a partner order comes back as it was built, with either payer", () => {
    fc.assert(
      fc.property(id(32), id(32), id(32), outTradeNo, total, fc.boolean(), id(128), (spAppid, spMchid, subMchid, no, fen, sub, openid) => {
        const input = {
          spAppid,
          spMchid,
          subMchid,
          ...(sub ? { subAppid: "wxd678efh567hg6999" } : {}),
          description: "商品",
          outTradeNo: no,
          notifyUrl: "https://a.example/n",
          amount: { total: { amount: fen, currency: "CNY" as const } },
          payer: sub ? { subOpenid: openid } : { spOpenid: openid },
        };
        expect(parseV3PartnerJsapiOrderBody(buildV3PartnerJsapiOrder(input).body)).toEqual({ ok: true, value: V3PartnerJsapiOrderSchema.parse(input) });
      }),
    );
  });

  it("a Global institution order keeps its currency and amount", () => {
    fc.assert(
      fc.property(total, fc.constantFrom<"HKD" | "USD" | "JPY" | "EUR">("HKD", "USD", "JPY", "EUR"), (fen, currency) => {
        const input = {
          spAppid: "wxdace645e0bc2c424",
          spMchid: "1900000100",
          subMchid: "100012321",
          description: "d",
          outTradeNo: "20150806125346",
          notifyUrl: "https://a.example/n",
          tradeType: "JSAPI" as const,
          merchantCategoryCode: "4111",
          amount: { total: { amount: fen, currency } },
          payer: { spOpenid: "o" },
        };
        const parsed = parseV3GlobalInstitutionJsapiOrderBody(buildV3GlobalInstitutionJsapiOrder(input).body);
        expect(parsed.ok && parsed.value.amount).toEqual({ total: { amount: fen, currency } });
      }),
    );
  });

  it("a refund comes back as it was built", () => {
    fc.assert(
      fc.property(total, total, fc.stringMatching(/^[0-9A-Za-z_\-|*@]{1,64}$/), (a, b, outRefundNo) => {
        const [refund, all] = a <= b ? [a, b] : [b, a];
        const input = { outTradeNo: "1217752501", outRefundNo, amount: { refund: { amount: refund, currency: "CNY" as const }, total: { amount: all, currency: "CNY" as const } } };
        expect(parseV3RefundBody(buildV3Refund(input).body)).toEqual({ ok: true, value: V3RefundSchema.parse(input) });
      }),
    );
  });
});
