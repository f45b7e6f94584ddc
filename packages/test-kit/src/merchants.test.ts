import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, DIRECT, GLOBAL, INSTITUTION, MERCHANT, SESSION_SECRET, merchantEnv, sandboxMerchant } from "./merchants.js";

describe("test merchants", () => {
  it("have v2 API keys of 32 letters and digits, and appids shaped like WeChat's", () => {
    for (const merchant of [MERCHANT, DIRECT, GLOBAL, INSTITUTION]) {
      expect(merchant.key).toMatch(/^[0-9A-Za-z]{32}$/);
      expect(merchant.appId).toMatch(/^wx[0-9a-z]{15,16}$/);
      expect(merchant.mchId).toMatch(/^\d{8,10}$/);
    }
  });

  it("have secrets long enough for the API's settings (SESSION_SECRET needs 32 characters)", () => {
    expect(SESSION_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(ADMIN_TOKEN.length).toBeGreaterThanOrEqual(16);
  });

  it("sandboxMerchant keys the app secret by the appid", () => {
    expect(sandboxMerchant(MERCHANT)).toEqual({
      appId: "wx8888888888888888",
      mchId: "1230000109",
      key: MERCHANT.key,
      appSecrets: { wx8888888888888888: MERCHANT.appSecret },
    });
  });

  it("merchantEnv names the merchant in the API's settings", () => {
    expect(merchantEnv(MERCHANT)).toEqual({ WXPAY_APPID: MERCHANT.appId, WXPAY_MCHID: MERCHANT.mchId, WXPAY_KEY: MERCHANT.key, WX_APPSECRET: MERCHANT.appSecret });
  });
});
