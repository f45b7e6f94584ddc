import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./env.js";

const BASE = {
  WXPAY_APPID: "wx8888888888888888",
  WXPAY_MCHID: "1230000109",
  WXPAY_KEY: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
  WXPAY_NOTIFY_URL: "https://pay.example.com/wxpay/notify",
  WX_APPSECRET: "app-secret-value",
  SESSION_SECRET: "s".repeat(40),
  ADMIN_TOKEN: "a".repeat(30),
};

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig(BASE);
    expect(config).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      databaseUrl: "./data/pay.db",
      merchant: { signType: "HMAC-SHA256", feeType: "CNY", subAppId: undefined, subMchId: undefined },
      gateway: { baseUrl: "https://api.mch.weixin.qq.com", clientCert: undefined },
      wx: { apiBaseUrl: "https://api.weixin.qq.com" },
      orderQueryAfterSeconds: 5,
    });
  });

  it.each([
    ["WXPAY_KEY", { WXPAY_KEY: undefined }],
    ["WXPAY_APPID", { WXPAY_APPID: "" }],
    ["WXPAY_NOTIFY_URL", { WXPAY_NOTIFY_URL: "https://pay.example.com/notify?x=1" }],
    ["WXPAY_SIGN_TYPE", { WXPAY_SIGN_TYPE: "SHA1" }],
    ["WXPAY_FEE_TYPE", { WXPAY_FEE_TYPE: "XXX" }],
    ["PORT", { PORT: "http" }],
    ["SESSION_SECRET", { SESSION_SECRET: "short" }],
    ["WXPAY_SUB_MCHID", { WXPAY_SUB_APPID: "wx1111111111111111" }],
    ["WXPAY_CERT_KEY_PATH", { WXPAY_CERT_PATH: "/tmp/cert.pem" }],
  ])("names %s when it is missing or malformed", (name, override) => {
    expect(() => loadConfig({ ...BASE, ...override })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, ...override })).toThrow(name);
  });

  it("never echoes a secret in its error", () => {
    const badKey = "not-a-valid-key-but-secret-material";
    try {
      loadConfig({ ...BASE, WXPAY_KEY: badKey, ADMIN_TOKEN: "tiny-admin" });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain("WXPAY_KEY");
      expect(String(error)).toContain("ADMIN_TOKEN");
      expect(String(error)).not.toContain(badKey);
      expect(String(error)).not.toContain("tiny-admin");
    }
  });

  it("reads institutional mode and the refund certificate settings", () => {
    const config = loadConfig({
      ...BASE,
      WXPAY_SUB_APPID: "wx1111111111111111",
      WXPAY_SUB_MCHID: "1900000109",
      WXPAY_PFX_PATH: "/certs/apiclient_cert.p12",
      WXPAY_FEE_TYPE: "HKD",
    });
    expect(config.merchant).toMatchObject({ subAppId: "wx1111111111111111", subMchId: "1900000109", feeType: "HKD" });
    // The p12 passphrase defaults to the mch_id, as on the merchant platform.
    expect(config.gateway.clientCert).toEqual({ kind: "pfx", pfxPath: "/certs/apiclient_cert.p12", passphrase: "1230000109" });
  });
});
