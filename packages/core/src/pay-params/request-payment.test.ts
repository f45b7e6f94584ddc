import { describe, expect, it } from "vitest";
import { RequestPaymentParamsSchema } from "../contract/payment.js";
import { signParams } from "../sign/sign.js";
import { loadVectors } from "../../test/support/reference.js";
import { buildRequestPaymentParams } from "./request-payment.js";

const vectors = loadVectors();
const requestPaymentVectors = vectors.signs.filter((v) => "package" in v.params);

describe("buildRequestPaymentParams", () => {
  it.each(requestPaymentVectors.map((v) => [v.id, v] as const))("%s: reproduces the documented paySign", (_id, v) => {
    const params = buildRequestPaymentParams({
      appId: v.params.appId ?? "",
      prepayId: (v.params.package ?? "").replace(/^prepay_id=/, ""),
      signType: v.signType,
      key: v.key,
      now: Number(v.params.timeStamp) * 1000 + 999,
      nonceStr: v.params.nonceStr ?? "",
    });
    expect(params).toEqual({
      timeStamp: v.params.timeStamp,
      nonceStr: v.params.nonceStr,
      package: v.params.package,
      signType: v.signType,
      paySign: v.expected,
    });
  });

  it("returns exactly the five wx.requestPayment fields, all strings, valid per the contract", () => {
    const params = buildRequestPaymentParams({
      appId: "wxd678efh567hg6787",
      prepayId: "wx2017",
      signType: "HMAC-SHA256",
      key: "k".repeat(32),
      now: new Date("2026-01-01T00:00:00.500Z"),
    });
    expect(Object.keys(params).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);
    for (const value of Object.values(params)) expect(typeof value).toBe("string");
    expect(params.timeStamp).toBe("1767225600");
    expect(params.nonceStr).toMatch(/^[0-9a-f]{32}$/);
    expect(params.paySign).toHaveLength(64);
    expect(RequestPaymentParamsSchema.parse(params)).toEqual(params);
  });

  it("signs the sub_appid (the Mini Program) in institutional mode", () => {
    const common = { prepayId: "wx1", signType: "MD5", key: "k".repeat(32), now: 1_700_000_000_000, nonceStr: "n" } as const;
    const params = buildRequestPaymentParams({ ...common, appId: "wx_institution", subAppId: "wx_miniprogram" });
    const expected = signParams(
      { appId: "wx_miniprogram", nonceStr: "n", package: "prepay_id=wx1", signType: "MD5", timeStamp: "1700000000" },
      { key: common.key, signType: "MD5" },
    );
    expect(params.paySign).toBe(expected);
  });

  it("never reuses a unifiedorder sign: paySign covers the five fields only", () => {
    const key = "k".repeat(32);
    const unifiedOrderSign = signParams({ appid: "wx1", prepay_id: "wx1", nonce_str: "n" }, { key, signType: "MD5" });
    const params = buildRequestPaymentParams({ appId: "wx1", prepayId: "wx1", signType: "MD5", key, now: 0, nonceStr: "n" });
    expect(params.paySign).not.toBe(unifiedOrderSign);
  });

  it("gives each call a fresh nonce", () => {
    const input = { appId: "wx1", prepayId: "wx1", signType: "MD5", key: "k", now: 0 } as const;
    expect(buildRequestPaymentParams(input).nonceStr).not.toBe(buildRequestPaymentParams(input).nonceStr);
  });

  it.each([
    ["an empty appId", { appId: "" }],
    ["an empty prepayId", { prepayId: "" }],
    ["a prepayId with spaces", { prepayId: "wx 1" }],
    ["a nonce over 32 characters", { nonceStr: "x".repeat(33) }],
    ["an invalid time", { now: Number.NaN }],
  ])("throws on %s", (_what, override) => {
    expect(() => buildRequestPaymentParams({ appId: "wx1", prepayId: "wx1", signType: "MD5", key: "k", now: 0, ...override })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTION" }),
    );
  });
});
