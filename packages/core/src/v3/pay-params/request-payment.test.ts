import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RequestPaymentParamsSchema } from "../../contract/payment.js";
import { PayCoreError } from "../../errors.js";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { loadV3MerchantPrivateKey } from "../sign/keys.js";
import { signV3Message } from "../sign/rsa.js";
import { buildV3PaySignMessage, buildV3RequestPaymentParams, V3_PAY_SIGN_ERROR_CODES, verifyV3PaySign, type V3PayApp, type V3PaySignErrorCode } from "./request-payment.js";

const v = loadVectorsV3();
const sample = v.merchantSampleKey;
const p = v.paySign;
const prepayId = p.package.replace(/^prepay_id=/, "");
const documented = { app: { mode: "direct", appId: p.appId } as const, prepayId, privateKey: sample.privateKeyPem, now: Number(p.timeStamp) * 1000, nonceStr: p.nonceStr };

describe("buildV3RequestPaymentParams", () => {
  it("reproduces the documented mini-program paySign (vectors-v3 paySign)", () => {
    const params = buildV3RequestPaymentParams(documented);
    expect(params).toEqual({ timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: "RSA", paySign: p.paySign });
    expect(buildV3PaySignMessage({ appId: p.appId, ...params })).toBe(p.message);
    expect(RequestPaymentParamsSchema.parse(params)).toEqual(params);
  });

  it("never produces the APP form: the package is prepay_id=..., and the appSign vector is not what a mini-program gets", () => {
    const key = loadV3MerchantPrivateKey(sample.privateKeyPem);
    // The APP vector is the same inputs with the bare prepay_id on the fourth line: we can sign it, we never emit it.
    expect(signV3Message(v.appSign.message, key)).toBe(v.appSign.signature);
    const params = buildV3RequestPaymentParams(documented);
    expect(params.package).toBe(`prepay_id=${prepayId}`);
    expect(params.paySign).not.toBe(v.appSign.signature);
    expect(() => buildV3RequestPaymentParams({ ...documented, prepayId: p.package })).toThrow(PayCoreError);
    // And the payer side refuses the APP form outright.
    const appForm = { ...params, package: prepayId, paySign: v.appSign.signature };
    expect(verifyV3PaySign({ appId: p.appId, params: appForm, publicKey: sample.publicKeyPem })).toMatchObject({ ok: false, error: { code: "PAY_SIGN_BAD_FIELD" } });
  });

  it("gives the same paySign from the PKCS#1 PEM of the key", () => {
    const pkcs1 = createPrivateKey(sample.privateKeyPem).export({ type: "pkcs1", format: "pem" }).toString();
    expect(buildV3RequestPaymentParams({ ...documented, privateKey: pkcs1 }).paySign).toBe(p.paySign);
  });

  describe("service-provider mode signs the appId that matches the payer", () => {
    const base = { prepayId, privateKey: sample.privateKeyPem, now: 1_700_000_000_000, nonceStr: "n0nce" };
    const spAppId = "wxsp0000000000000a";
    const subAppId = "wxsub000000000000b";
    it.each([
      ["payer.sub_openid -> sub_appid", { mode: "partner", payer: "sub_openid", spAppId, subAppId } as const, subAppId, spAppId],
      ["payer.sp_openid -> sp_appid", { mode: "partner", payer: "sp_openid", spAppId, subAppId } as const, spAppId, subAppId],
      ["payer.sp_openid without a sub_appid -> sp_appid", { mode: "partner", payer: "sp_openid", spAppId } as const, spAppId, subAppId],
    ])("%s", (_name, app: V3PayApp, signed, other) => {
      const params = buildV3RequestPaymentParams({ ...base, app });
      expect(verifyV3PaySign({ appId: signed, params, publicKey: sample.publicKeyPem })).toEqual({ ok: true, value: params });
      expect(verifyV3PaySign({ appId: other, params, publicKey: sample.publicKeyPem })).toMatchObject({ ok: false, error: { code: "PAY_SIGN_MISMATCH" } });
    });

    it("throws when the payer is a sub_openid but no sub_appid is given", () => {
      const app = { mode: "partner", payer: "sub_openid", spAppId, subAppId: "" } as const;
      expect(() => buildV3RequestPaymentParams({ ...base, app })).toThrow(expect.objectContaining({ code: "INVALID_OPTION" }));
    });
  });

  it.each([
    ["no appId", { app: { mode: "direct", appId: "" } as const }],
    ["a bad prepay_id", { prepayId: "wx 1" }],
    ["a clock that is not a number", { now: Number.NaN }],
    ["a negative clock", { now: -1 }],
    ["a nonce over 32 characters", { nonceStr: "n".repeat(33) }],
    ["a bad key", { privateKey: "nope" }],
  ])("throws PayCoreError for %s", (_name, change) => {
    expect(() => buildV3RequestPaymentParams({ ...documented, ...change })).toThrow(PayCoreError);
  });

  it("uses whole seconds and a fresh 32-character nonce by default", () => {
    const params = buildV3RequestPaymentParams({ ...documented, now: 1_700_000_000_999, nonceStr: undefined as unknown as string });
    expect(params.timeStamp).toBe("1700000000");
    expect(params.nonceStr).toMatch(/^[0-9A-Za-z]{32}$/);
  });
});

describe("verifyV3PaySign", () => {
  const params = buildV3RequestPaymentParams(documented);
  const other = generateKeyPairSync("rsa", { modulusLength: 2048 });

  it("accepts the documented paySign with the merchant public key", () => {
    expect(verifyV3PaySign({ appId: p.appId, params, publicKey: sample.publicKeyPem })).toEqual({ ok: true, value: params });
  });

  const refusals: [string, Record<string, unknown>, string, V3PaySignErrorCode][] = [
    ["signType MD5", { signType: "MD5" }, p.appId, "PAY_SIGN_WRONG_SIGN_TYPE"],
    ["no signType", { signType: undefined }, p.appId, "PAY_SIGN_WRONG_SIGN_TYPE"],
    ["a numeric timeStamp", { timeStamp: 1554208460 }, p.appId, "PAY_SIGN_BAD_FIELD"],
    ["a millisecond timeStamp with a dot", { timeStamp: "1554208460.000" }, p.appId, "PAY_SIGN_BAD_FIELD"],
    ["an empty nonceStr", { nonceStr: "" }, p.appId, "PAY_SIGN_BAD_FIELD"],
    ["the bare prepay_id (APP form)", { package: prepayId }, p.appId, "PAY_SIGN_BAD_FIELD"],
    ["an empty appId", {}, "", "PAY_SIGN_BAD_FIELD"],
    ["a probe-style paySign", { paySign: `WECHATPAY/SIGNTEST/${p.paySign}` }, p.appId, "PAY_SIGN_BAD_SIGNATURE"],
    ["a hex paySign", { paySign: "A".repeat(64) }, p.appId, "PAY_SIGN_MISMATCH"],
    ["a paySign for another appId", {}, "wx0000000000000000", "PAY_SIGN_MISMATCH"],
    ["a changed timeStamp", { timeStamp: "1554208461" }, p.appId, "PAY_SIGN_MISMATCH"],
    ["a changed nonceStr", { nonceStr: "593BEC0C930BF1AFEB40B4A08C8FB243" }, p.appId, "PAY_SIGN_MISMATCH"],
    ["a changed prepay_id", { package: "prepay_id=wx201410272009395522657a690389285101" }, p.appId, "PAY_SIGN_MISMATCH"],
  ];

  it.each(refusals)("refuses %s", (_name, change, appId, code) => {
    const result = verifyV3PaySign({ appId, params: { ...params, ...change }, publicKey: sample.publicKeyPem });
    expect(result).toMatchObject({ ok: false, error: { code } });
  });

  it("refuses a paySign made with another merchant's key", () => {
    expect(verifyV3PaySign({ appId: p.appId, params, publicKey: other.publicKey })).toMatchObject({ ok: false, error: { code: "PAY_SIGN_MISMATCH" } });
  });

  it("covers every refusal code", () => {
    expect(new Set(refusals.map(([, , , code]) => code))).toEqual(new Set(V3_PAY_SIGN_ERROR_CODES));
  });

  it("round-trips: build -> verify for any appId, prepay_id, time and nonce (property)", () => {
    const printable = (max: number) => fc.stringMatching(new RegExp(`^[\\x21-\\x7e]{1,${max}}$`));
    fc.assert(
      fc.property(printable(32), printable(64), fc.integer({ min: 0, max: 4_102_444_800 }), printable(32), (appId, id, now, nonceStr) => {
        fc.pre(!id.startsWith("prepay_id="));
        const built = buildV3RequestPaymentParams({ app: { mode: "direct", appId }, prepayId: id, privateKey: sample.privateKeyPem, now: now * 1000, nonceStr });
        expect(RequestPaymentParamsSchema.safeParse(built).success).toBe(true);
        expect(verifyV3PaySign({ appId, params: built, publicKey: sample.publicKeyPem })).toEqual({ ok: true, value: built });
      }),
      { numRuns: 60 },
    );
  });
});
