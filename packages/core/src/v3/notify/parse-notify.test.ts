import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { PayCoreError } from "../../errors.js";
import { createV3TestCertificate, generateV3TestKeyPair } from "../../testing/v3-keys.js";
import { buildSignedV3Notify, signV3Answer } from "../../testing/v3-notify-builders.js";
import { encryptV3Resource } from "../crypto/aes-gcm.js";
import { createV3KeyStore } from "../keys/key-store.js";
import { parseV3Notify, type V3NotifyErrorCode } from "./parse-notify.js";
import { buildV3NotifyFailReply, V3_NOTIFY_SUCCESS_REPLY, v3NotifyRefusalReply } from "./reply.js";

const vectors = loadVectorsV3();
const apiV3Key = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const now = new Date("2026-03-01T12:00:00Z");
const gateway = generateV3TestKeyPair();
const cert = createV3TestCertificate({ notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyPair: gateway });
const PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000";
const keys = createV3KeyStore({ certificates: [cert.certificatePem], publicKeys: [{ id: PUB_KEY_ID, publicKey: gateway.publicKey }] });
const signer = { privateKey: gateway.privateKey, serial: cert.serial };
const options = { keys, apiV3Key, now };

const directTransaction = {
  transaction_id: "4200001863202305068344507881",
  amount: { currency: "CNY", payer_currency: "CNY", payer_total: 1, total: 1 },
  mchid: "1642979517",
  trade_state: "SUCCESS",
  bank_type: "OTHERS",
  promotion_detail: [],
  success_time: "2023-05-06T15:17:31+08:00",
  payer: { openid: "oPuGI5V0_LybXP5_fmDLmW1Aiggw" },
  out_trade_no: "1654747149419622403202305061517",
  appid: "wxfc0e36204345c206",
  trade_state_desc: "支付成功",
  trade_type: "JSAPI",
  attach: "5_21",
};
const refundSuccess = {
  mchid: "1900000100",
  transaction_id: "1008450740201411110005820873",
  out_trade_no: "20150806125346",
  refund_id: "50200207182018070300011301001",
  out_refund_no: "7752501201407033233368018",
  refund_status: "SUCCESS",
  success_time: "2018-06-08T10:34:56+08:00",
  user_received_account: "招商银行信用卡0403",
  amount: { total: 999, refund: 999, payer_total: 999, payer_refund: 999 },
};

function parse(eventType: string, resource: object | string, extra: { apiV3Key?: string; at?: Date } = {}) {
  const notify = buildSignedV3Notify({ eventType, resource, apiV3Key: extra.apiV3Key ?? apiV3Key, signer, now: extra.at ?? now });
  return parseV3Notify(notify.body, notify.headers, options);
}

/** Signs an arbitrary body as the gateway would, so hostile JSON reaches the JSON checks. */
function signed(body: string) {
  return parseV3Notify(body, signV3Answer(body, { signer, now }), options);
}

function envelope(resourceText: string, eventType = "TRANSACTION.SUCCESS"): string {
  const r = encryptV3Resource(resourceText, { apiV3Key, nonce: "abcdefghijkl", associatedData: "transaction" });
  return JSON.stringify({
    id: "7f8fcdb2-573a-547a-901e-4c34f9761293",
    create_time: "2026-03-01T20:00:00+08:00",
    resource_type: "encrypt-resource",
    event_type: eventType,
    summary: "支付成功",
    resource: { original_type: "transaction", algorithm: "AEAD_AES_256_GCM", ciphertext: r.ciphertext, associated_data: "transaction", nonce: r.nonce },
  });
}

describe("parseV3Notify", () => {
  it("verifies the notifyWithPlatformCert vector and ignores its PAYSCORE event as a typed value", () => {
    const v = vectors.notifyWithPlatformCert;
    const result = parseV3Notify(v.body, v.headers, { keys: createV3KeyStore({ certificates: [v.certificatePem] }), apiV3Key: v.apiV3Key, now: new Date(1624523846 * 1000) });
    expect(result).toMatchObject({
      ok: true,
      value: { kind: "ignored", eventType: "PAYSCORE.USER_OPEN_SERVICE", id: "3119dfba-e649-5eec-ab1e-3412bc4d2e17", signature: { serial: v.serial } },
    });
    if (result.ok) expect(result.value.createTime.toISOString()).toBe("2021-06-24T08:37:26.000Z");
  });

  it("parses a direct TRANSACTION.SUCCESS into camelCase with minor units and currency", () => {
    const result = parse("TRANSACTION.SUCCESS", directTransaction);
    expect(result.ok).toBe(true);
    if (!result.ok || result.value.kind !== "transaction") return;
    expect(result.value.transaction).toEqual({
      merchant: { mode: "direct", mchId: "1642979517", appId: "wxfc0e36204345c206" },
      outTradeNo: "1654747149419622403202305061517",
      transactionId: "4200001863202305068344507881",
      tradeType: "JSAPI",
      tradeState: "SUCCESS",
      tradeStateDesc: "支付成功",
      bankType: "OTHERS",
      attach: "5_21",
      successTime: new Date("2023-05-06T07:17:31Z"),
      payer: { openId: "oPuGI5V0_LybXP5_fmDLmW1Aiggw", spOpenId: undefined, subOpenId: undefined },
      total: { amount: 1, currency: "CNY" },
      payerTotal: { amount: 1, currency: "CNY" },
      exchangeRate: undefined,
    });
    expect(result.value.raw.promotion_detail).toEqual([]);
    // The decrypted text as the gateway encrypted it, not a re-encoding of raw.
    expect(result.value.plaintext).toBe(JSON.stringify(directTransaction));
  });

  it("keeps the decrypted resource text as decrypted (spacing and key order included)", () => {
    const text =
      '{ "out_trade_no": "A1", "amount": {"total": 5, "currency": "CNY"}, "trade_state": "SUCCESS", "trade_type": "JSAPI", "mchid": "1", "appid": "wx1", "transaction_id": "42", "9": 1 }';
    const result = signed(envelope(text));
    expect(result).toMatchObject({ ok: true, value: { kind: "transaction", plaintext: text, transaction: { outTradeNo: "A1", total: { amount: 5, currency: "CNY" } } } });
    const refund = parse("REFUND.SUCCESS", refundSuccess);
    expect(refund).toMatchObject({ ok: true, value: { kind: "refund", plaintext: JSON.stringify(refundSuccess) } });
  });

  it("parses the partner shape (sp_/sub_ fields, sub_openid)", () => {
    const { mchid: _m, appid: _a, ...rest } = directTransaction;
    const partner = {
      ...rest,
      sp_appid: "wx8888888888888888",
      sp_mchid: "1230000109",
      sub_appid: "wxd678efh567hg6999",
      sub_mchid: "1900000109",
      payer: { sp_openid: "oUpF8uN95", sub_openid: "oUpF8uMuAJ" },
    };
    const result = parse("TRANSACTION.SUCCESS", partner);
    expect(result).toMatchObject({
      ok: true,
      value: {
        transaction: {
          merchant: { mode: "partner", spMchId: "1230000109", subMchId: "1900000109", spAppId: "wx8888888888888888", subAppId: "wxd678efh567hg6999" },
          payer: { subOpenId: "oUpF8uMuAJ" },
        },
      },
    });
  });

  it("parses the Global shape (currency, payer currency, exchange rate, id as the order number)", () => {
    const { transaction_id: _t, mchid: _m, appid: _a, ...rest } = directTransaction;
    const global = {
      ...rest,
      id: "4200000000202401011234567890",
      sp_mchid: "1900000100",
      sub_mchid: "100012321",
      sp_appid: "wxdace645e0bc2cXXX",
      amount: { total: 100, currency: "HKD", payer_total: 86, payer_currency: "CNY", exchange_rate: { type: "SETTLEMENT_RATE", rate: 86000000 } },
    };
    const result = parse("TRANSACTION.SUCCESS", global);
    expect(result).toMatchObject({
      ok: true,
      value: {
        transaction: {
          transactionId: "4200000000202401011234567890",
          total: { amount: 100, currency: "HKD" },
          payerTotal: { amount: 86, currency: "CNY" },
          exchangeRate: { type: "SETTLEMENT_RATE", rate: 86000000 },
        },
      },
    });
  });

  it.each([
    ["REFUND.SUCCESS", "SUCCESS"],
    ["REFUND.ABNORMAL", "ABNORMAL"],
    ["REFUND.CLOSED", "CLOSED"],
  ] as const)("parses %s", (eventType, status) => {
    const result = parse(eventType, { ...refundSuccess, refund_status: status });
    expect(result).toMatchObject({
      ok: true,
      value: {
        kind: "refund",
        eventType,
        refund: {
          refundStatus: status,
          refundId: "50200207182018070300011301001",
          refund: { amount: 999, currency: "CNY" },
          payerRefund: { amount: 999, currency: "CNY" },
          mchId: "1900000100",
        },
      },
    });
  });

  it("returns an unknown event type as ignored without decrypting it", () => {
    const result = parse("MARKETING.FAVOR.CALLBACK", "not even JSON");
    expect(result).toMatchObject({ ok: true, value: { kind: "ignored", eventType: "MARKETING.FAVOR.CALLBACK" } });
  });

  it("accepts bytes and a public-key signature", () => {
    const notify = buildSignedV3Notify({
      eventType: "TRANSACTION.SUCCESS",
      resource: directTransaction,
      apiV3Key,
      signer: { privateKey: gateway.privateKey, serial: PUB_KEY_ID },
      now,
    });
    expect(parseV3Notify(Buffer.from(notify.body), notify.headers, options)).toMatchObject({ ok: true, value: { kind: "transaction", signature: { serial: PUB_KEY_ID } } });
  });

  const deep = `{"a":${"[".repeat(20)}${"]".repeat(20)}}`;
  it.each([
    [
      "duplicate keys in the envelope",
      () => signed(envelope(JSON.stringify(directTransaction)).replace('"event_type":"TRANSACTION.SUCCESS"', '"event_type":"REFUND.CLOSED","event_type":"TRANSACTION.SUCCESS"')),
      "DUPLICATE_KEY",
    ],
    ["duplicate keys in the resource", () => signed(envelope(JSON.stringify(directTransaction).replace('"total":1', '"total":1,"total":100000'))), "DUPLICATE_KEY"],
    ["a __proto__ key in the envelope", () => signed(envelope(JSON.stringify(directTransaction)).replace("{", '{"__proto__":{"x":1},')), "FORBIDDEN_KEY"],
    ["a constructor key in the resource", () => signed(envelope(JSON.stringify(directTransaction).replace("{", '{"constructor":{"prototype":{}},'))), "FORBIDDEN_KEY"],
    ["a non-JSON body", () => signed("<xml><return_code>SUCCESS</return_code></xml>"), "NOT_JSON"],
    ["a non-JSON resource", () => signed(envelope("not json")), "NOT_JSON"],
    ["a deeply nested body", () => signed(deep), "TOO_DEEP"],
    ["an oversize body", () => parseV3Notify(" ".repeat(70000), {}, options), "TOO_LARGE"],
    ["an oversize body as bytes", () => parseV3Notify(new Uint8Array(65537), {}, options), "TOO_LARGE"],
    ["a JSON array", () => signed("[]"), "INVALID_FIELD"],
    ["a missing resource", () => signed(JSON.stringify({ ...JSON.parse(envelope("{}")), resource: undefined })), "INVALID_FIELD"],
    ["another algorithm", () => signed(envelope("{}").replace("AEAD_AES_256_GCM", "AEAD_SM4_GCM")), "INVALID_FIELD"],
    ["a resource that is an array", () => signed(envelope("[1]")), "INVALID_FIELD"],
    ["a fractional amount", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, amount: { total: 1.5, currency: "CNY" } }), "INVALID_FIELD"],
    ["an amount as text", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, amount: { total: "1", currency: "CNY" } }), "INVALID_FIELD"],
    ["a negative amount", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, amount: { total: -1, currency: "CNY" } }), "INVALID_FIELD"],
    ["an unknown currency", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, amount: { total: 1, currency: "XXX" } }), "INVALID_FIELD"],
    ["a success notify that is not paid", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, trade_state: "NOTPAY" }), "INVALID_FIELD"],
    ["a direct notify without appid", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, appid: undefined }), "INVALID_FIELD"],
    ["a partner notify without sub_mchid", () => parse("TRANSACTION.SUCCESS", { ...directTransaction, sp_mchid: "1" }), "INVALID_FIELD"],
    ["a refund event with another status", () => parse("REFUND.CLOSED", refundSuccess), "INVALID_FIELD"],
    ["a refund without refund_id", () => parse("REFUND.SUCCESS", { ...refundSuccess, refund_id: undefined }), "INVALID_FIELD"],
    ["a bad success_time", () => parse("REFUND.SUCCESS", { ...refundSuccess, success_time: "2018-06-08 10:34:56" }), "INVALID_FIELD"],
    ["a bad create_time", () => signed(envelope("{}").replace("2026-03-01T20:00:00+08:00", "yesterday")), "INVALID_FIELD"],
    ["a resource encrypted with another key", () => parse("TRANSACTION.SUCCESS", directTransaction, { apiV3Key: "b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb" }), "DECRYPT_FAILED"],
    ["an old notify", () => parse("TRANSACTION.SUCCESS", directTransaction, { at: new Date(now.getTime() - 301_000) }), "TIMESTAMP_SKEW"],
    ["an unsigned body", () => parseV3Notify(envelope("{}"), {}, options), "MISSING_HEADER"],
  ] as const)("refuses %s", (_, run, code: V3NotifyErrorCode) => {
    const result = run();
    expect(result.ok ? "accepted" : result.error.code).toBe(code);
  });

  it("refuses a body signed then re-serialised", () => {
    const notify = buildSignedV3Notify({ eventType: "TRANSACTION.SUCCESS", resource: directTransaction, apiV3Key, signer, now });
    const result = parseV3Notify(JSON.stringify(JSON.parse(notify.body), null, 2), notify.headers, options);
    expect(result.ok ? "accepted" : result.error.code).toBe("BAD_SIGNATURE");
  });

  it("throws PayCoreError on misuse: an APIv3 key of the wrong length, a bad maxBytes", () => {
    const notify = buildSignedV3Notify({ eventType: "TRANSACTION.SUCCESS", resource: directTransaction, apiV3Key, signer, now });
    expect(() => parseV3Notify(notify.body, notify.headers, { ...options, apiV3Key: "short" })).toThrow(PayCoreError);
    expect(() => parseV3Notify(notify.body, notify.headers, { ...options, maxBytes: 0 })).toThrow(PayCoreError);
  });

  it("round-trips any payment (build -> parse)", () => {
    const payment = fc.record({
      total: fc.integer({ min: 1, max: 10_000_000_000 }),
      currency: fc.constantFrom("CNY", "HKD", "USD", "JPY"),
      outTradeNo: fc.stringMatching(/^[0-9A-Za-z_\-|*]{6,32}$/),
      attach: fc.string({ maxLength: 128 }),
      openid: fc.stringMatching(/^[0-9A-Za-z_-]{28}$/),
    });
    fc.assert(
      fc.property(payment, (p) => {
        const resource = { ...directTransaction, out_trade_no: p.outTradeNo, attach: p.attach, payer: { openid: p.openid }, amount: { total: p.total, currency: p.currency } };
        const result = parse("TRANSACTION.SUCCESS", resource);
        expect(result).toMatchObject({
          ok: true,
          value: {
            kind: "transaction",
            transaction: { outTradeNo: p.outTradeNo, attach: p.attach, total: { amount: p.total, currency: p.currency }, payerTotal: undefined, payer: { openId: p.openid } },
          },
        });
      }),
      { numRuns: 25 },
    );
  });
});

describe("notify replies", () => {
  it("acknowledges with an empty 204", () => {
    expect(V3_NOTIFY_SUCCESS_REPLY).toEqual({ status: 204, headers: {}, body: "" });
  });

  it("refuses with 4xx/5xx and {code: FAIL, message}", () => {
    expect(buildV3NotifyFailReply("处理失败")).toEqual({
      status: 500,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: '{"code":"FAIL","message":"处理失败"}',
    });
    expect(() => buildV3NotifyFailReply("x", 200)).toThrow(PayCoreError);
  });

  it.each([
    ["BAD_SIGNATURE", 401],
    ["SIGNATURE_PROBE", 401],
    ["TIMESTAMP_SKEW", 401],
    ["UNKNOWN_SERIAL", 401],
    ["TOO_LARGE", 413],
    ["DUPLICATE_KEY", 400],
    ["INVALID_FIELD", 400],
    ["DECRYPT_FAILED", 500],
  ] as const)("answers %s with %i", (code, status) => {
    const reply = v3NotifyRefusalReply(code);
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.body)).toEqual({ code: "FAIL", message: code });
  });
});
