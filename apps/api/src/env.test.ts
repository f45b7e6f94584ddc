import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_API_WORKER_NICENESS, isWechatPayHost, loadConfig, MAX_API_WORKERS } from "./env.js";

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
      apiVersion: "v2",
      v2: { key: BASE.WXPAY_KEY },
      v3: undefined,
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

/** A v3 process without v2 orders: a direct domestic merchant in public-key mode, signing with key + serial. */
const V3_DIRECT = {
  ...BASE,
  WXPAY_KEY: undefined,
  WXPAY_API_VERSION: "v3",
  WXPAY_APIV3_KEY: "v3DirectApiV3KeyForTests00000001",
  WXPAY_CERT_KEY_PATH: "/etc/pay/apiclient_key.pem",
  WXPAY_CERT_SERIAL_NO: "408b07e79b8269fec3d5d3e6ab8ed163a6a380db",
  WXPAY_PUBLIC_KEY_ID: "PUB_KEY_ID_0114232134912410000000000000",
  WXPAY_PUBLIC_KEY_PATH: "/etc/pay/wxp_pub.pem",
  WXPAY_NOTIFY_URL: "https://pay.example.com/wxpay/v3/notify",
  WXPAY_REFUND_NOTIFY_URL: "https://pay.example.com/wxpay/v3/refund-notify",
};

describe("loadConfig: APIv3", () => {
  it("reads a direct domestic merchant in public-key mode without the v2 key", () => {
    const config = loadConfig(V3_DIRECT);
    expect(config.apiVersion).toBe("v3");
    // No v2 key: whoever serves a v2 order must refuse it.
    expect(config.v2).toBeUndefined();
    expect(config.gateway.baseUrl).toBe("https://api.mch.weixin.qq.com");
    expect(config.gateway.clientCert).toBeUndefined();
    expect(config.v3).toEqual({
      account: "domestic",
      apiV3Key: "v3DirectApiV3KeyForTests00000001",
      merchantKeyPath: "/etc/pay/apiclient_key.pem",
      merchantCertPath: undefined,
      merchantSerialNo: "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
      publicKey: { id: "PUB_KEY_ID_0114232134912410000000000000", path: "/etc/pay/wxp_pub.pem" },
      platformCertificates: false,
      mode: "public-key",
      merchantCategoryCode: undefined,
      allowHttpNotifyUrl: false,
    });
  });

  it("reads a service provider in platform-certificate mode with the certificate pair (the serial comes from the file at start)", () => {
    const config = loadConfig({
      ...V3_DIRECT,
      WXPAY_PUBLIC_KEY_ID: undefined,
      WXPAY_PUBLIC_KEY_PATH: undefined,
      WXPAY_CERT_SERIAL_NO: undefined,
      WXPAY_CERT_PATH: "/etc/pay/apiclient_cert.pem",
      WXPAY_SUB_APPID: "wx1111111111111111",
      WXPAY_SUB_MCHID: "1900000109",
      WXPAY_FAILOVER_BASE_URL: "https://api2.mch.weixin.qq.com",
    });
    expect(config.merchant).toMatchObject({ subAppId: "wx1111111111111111", subMchId: "1900000109" });
    expect(config.gateway).toMatchObject({
      baseUrl: "https://api.mch.weixin.qq.com",
      failoverBaseUrl: "https://api2.mch.weixin.qq.com",
      clientCert: { kind: "pem", certPath: "/etc/pay/apiclient_cert.pem", keyPath: "/etc/pay/apiclient_key.pem" },
    });
    expect(config.v3).toMatchObject({
      mode: "platform-certificate",
      platformCertificates: true,
      publicKey: undefined,
      merchantCertPath: "/etc/pay/apiclient_cert.pem",
      merchantSerialNo: undefined,
    });
  });

  it("reads a Global institution: apihk by default, the MCC, the fee type", () => {
    const config = loadConfig({
      ...V3_DIRECT,
      WXPAY_ACCOUNT: "global",
      WXPAY_MERCHANT_CATEGORY_CODE: "5812",
      WXPAY_FEE_TYPE: "HKD",
      WXPAY_SUB_APPID: "wx1111111111111111",
      WXPAY_SUB_MCHID: "3900300031",
    });
    expect(config.gateway.baseUrl).toBe("https://apihk.mch.weixin.qq.com");
    expect(config.merchant.feeType).toBe("HKD");
    expect(config.v3).toMatchObject({ account: "global", merchantCategoryCode: "5812", mode: "public-key" });
  });

  it("keeps an explicit WXPAY_BASE_URL for a Global account", () => {
    const config = loadConfig({
      ...V3_DIRECT,
      WXPAY_ACCOUNT: "global",
      WXPAY_MERCHANT_CATEGORY_CODE: "5812",
      WXPAY_FEE_TYPE: "HKD",
      WXPAY_BASE_URL: "https://apius.mch.weixin.qq.com",
    });
    expect(config.gateway.baseUrl).toBe("https://apius.mch.weixin.qq.com");
  });

  it("reads migration: both credentials, v3 for new orders, the public key and platform certificates", () => {
    const config = loadConfig({
      ...V3_DIRECT,
      WXPAY_KEY: BASE.WXPAY_KEY,
      WXPAY_CERT_SERIAL_NO: undefined,
      WXPAY_CERT_PATH: "/etc/pay/apiclient_cert.pem",
      WXPAY_PLATFORM_CERTIFICATES: "on",
    });
    expect(config.apiVersion).toBe("v3");
    expect(config.v2).toEqual({ key: BASE.WXPAY_KEY });
    expect(config.v3).toMatchObject({ mode: "migration", platformCertificates: true, publicKey: { id: "PUB_KEY_ID_0114232134912410000000000000" } });
  });

  it("reads WXPAY_PLATFORM_CERTIFICATES=on without a public key as platform-certificate mode", () => {
    const config = loadConfig({ ...V3_DIRECT, WXPAY_PUBLIC_KEY_ID: undefined, WXPAY_PUBLIC_KEY_PATH: undefined, WXPAY_PLATFORM_CERTIFICATES: "on" });
    expect(config.v3).toMatchObject({ mode: "platform-certificate", platformCertificates: true, publicKey: undefined });
  });

  it("keeps v3 configured on v2 while v3 orders settle (a rollback), and v2 alone unchanged", () => {
    const rollback = loadConfig({ ...V3_DIRECT, WXPAY_KEY: BASE.WXPAY_KEY, WXPAY_API_VERSION: "v2" });
    expect(rollback.apiVersion).toBe("v2");
    expect(rollback.v2).toEqual({ key: BASE.WXPAY_KEY });
    expect(rollback.v3?.mode).toBe("public-key");
    const v2 = loadConfig({ ...BASE, WXPAY_CERT_PATH: "/c.pem", WXPAY_CERT_KEY_PATH: "/k.pem", WXPAY_NOTIFY_URL: "http://pay.example.com/wxpay/notify" });
    expect(v2).toMatchObject({ apiVersion: "v2", v3: undefined, merchant: { notifyUrl: "http://pay.example.com/wxpay/notify" } });
  });

  it("allows plain-http notify URLs only against a gateway that is not WeChat Pay (the sandbox)", () => {
    const local = {
      ...V3_DIRECT,
      WXPAY_BASE_URL: "https://127.0.0.1:8791",
      WXPAY_NOTIFY_URL: "http://127.0.0.1:3000/wxpay/v3/notify",
      WXPAY_REFUND_NOTIFY_URL: "http://127.0.0.1:3000/wxpay/v3/refund-notify",
    };
    expect(loadConfig(local).v3?.allowHttpNotifyUrl).toBe(true);
    expect(loadConfig({ ...V3_DIRECT, WXPAY_BASE_URL: "https://127.0.0.1:8791" }).v3?.allowHttpNotifyUrl).toBe(true);
    expect(() => loadConfig({ ...local, WXPAY_FAILOVER_BASE_URL: "https://api2.mch.weixin.qq.com" })).toThrow("WXPAY_NOTIFY_URL must use https for APIv3");
    expect(() => loadConfig({ ...local, WXPAY_BASE_URL: undefined })).toThrow(/WXPAY_NOTIFY_URL must use https.*WXPAY_REFUND_NOTIFY_URL must use https/);
  });

  it.each([
    ["api.mch.weixin.qq.com", true],
    ["API2.MCH.WEIXIN.QQ.COM", true],
    ["apihk.mch.weixin.qq.com", true],
    ["apius.mch.weixin.qq.com", true],
    ["api.wechatpay.cn", true],
    ["api2.wechatpay.cn.", true],
    ["127.0.0.1", false],
    ["sandbox.example.com", false],
    ["weixin.qq.com.example.com", false],
  ])("counts %s as a WeChat Pay host: %s", (host, expected) => {
    expect(isWechatPayHost(`https://${host}/`)).toBe(expected);
  });

  it.each([
    ["WXPAY_KEY", "is required while new orders use v2", { ...V3_DIRECT, WXPAY_API_VERSION: undefined, WXPAY_KEY: undefined }],
    ["WXPAY_API_VERSION", "must be v2 or v3", { ...V3_DIRECT, WXPAY_API_VERSION: "v4" }],
    ["WXPAY_APIV3_KEY", "is required with WXPAY_API_VERSION=v3", { ...V3_DIRECT, WXPAY_APIV3_KEY: undefined }],
    ["WXPAY_APIV3_KEY", "must be the 32-character APIv3 key", { ...V3_DIRECT, WXPAY_APIV3_KEY: "short-key" }],
    ["WXPAY_APIV3_KEY", "must be the 32-character APIv3 key", { ...V3_DIRECT, WXPAY_APIV3_KEY: "v3DirectApiV3KeyForTests00000001x" }],
    ["WXPAY_APIV3_KEY", "must be the 32-character APIv3 key", { ...V3_DIRECT, WXPAY_APIV3_KEY: "v3DirectApiV3KeyForTests0000000\n" }],
    ["WXPAY_CERT_KEY_PATH", "is required for APIv3", { ...V3_DIRECT, WXPAY_CERT_KEY_PATH: undefined }],
    [
      "WXPAY_CERT_KEY_PATH",
      "is required for APIv3: the merchant API private key (apiclient_key.pem) signs every request; APIv3 does not sign with WXPAY_PFX_PATH",
      { ...V3_DIRECT, WXPAY_CERT_KEY_PATH: undefined, WXPAY_PFX_PATH: "/etc/pay/apiclient_cert.p12" },
    ],
    ["WXPAY_CERT_SERIAL_NO", "is required for APIv3 when WXPAY_CERT_PATH is not set", { ...V3_DIRECT, WXPAY_CERT_SERIAL_NO: undefined }],
    ["WXPAY_CERT_SERIAL_NO", "must be the merchant API certificate's serial number in hex", { ...V3_DIRECT, WXPAY_CERT_SERIAL_NO: "serial=408B07E7" }],
    ["WXPAY_CERT_KEY_PATH", "set both WXPAY_CERT_PATH and WXPAY_CERT_KEY_PATH", { ...V3_DIRECT, WXPAY_CERT_KEY_PATH: undefined, WXPAY_CERT_PATH: "/etc/pay/apiclient_cert.pem" }],
    ["WXPAY_PUBLIC_KEY_ID", "must be the WeChat Pay public key ID: PUB_KEY_ID_", { ...V3_DIRECT, WXPAY_PUBLIC_KEY_ID: "0114232134912410000000000000" }],
    ["WXPAY_PUBLIC_KEY_ID", "public-key mode needs both", { ...V3_DIRECT, WXPAY_PUBLIC_KEY_ID: undefined }],
    ["WXPAY_PUBLIC_KEY_PATH", "public-key mode needs both", { ...V3_DIRECT, WXPAY_PUBLIC_KEY_PATH: undefined }],
    [
      "WXPAY_PLATFORM_CERTIFICATES",
      "must not be off without WXPAY_PUBLIC_KEY_ID",
      { ...V3_DIRECT, WXPAY_PUBLIC_KEY_ID: undefined, WXPAY_PUBLIC_KEY_PATH: undefined, WXPAY_PLATFORM_CERTIFICATES: "off" },
    ],
    ["WXPAY_PLATFORM_CERTIFICATES", "must be on or off", { ...V3_DIRECT, WXPAY_PLATFORM_CERTIFICATES: "yes" }],
    ["WXPAY_ACCOUNT", "must be domestic or global", { ...V3_DIRECT, WXPAY_ACCOUNT: "hk" }],
    ["WXPAY_MERCHANT_CATEGORY_CODE", "is required with WXPAY_ACCOUNT=global", { ...V3_DIRECT, WXPAY_ACCOUNT: "global", WXPAY_FEE_TYPE: "HKD" }],
    [
      "WXPAY_MERCHANT_CATEGORY_CODE",
      "must be a four-digit merchant category code",
      { ...V3_DIRECT, WXPAY_ACCOUNT: "global", WXPAY_FEE_TYPE: "HKD", WXPAY_MERCHANT_CATEGORY_CODE: "58120" },
    ],
    ["WXPAY_FEE_TYPE", "must be CNY for a domestic APIv3 merchant", { ...V3_DIRECT, WXPAY_FEE_TYPE: "HKD" }],
    ["WXPAY_NOTIFY_URL", "must use https for APIv3", { ...V3_DIRECT, WXPAY_NOTIFY_URL: "http://pay.example.com/wxpay/v3/notify" }],
    ["WXPAY_REFUND_NOTIFY_URL", "must use https for APIv3", { ...V3_DIRECT, WXPAY_REFUND_NOTIFY_URL: "http://pay.example.com/wxpay/v3/refund-notify" }],
    ["WXPAY_BASE_URL", "must use https for WeChat Pay", { ...V3_DIRECT, WXPAY_BASE_URL: "http://api.mch.weixin.qq.com" }],
    ["WXPAY_FAILOVER_BASE_URL", "must use https for WeChat Pay", { ...V3_DIRECT, WXPAY_FAILOVER_BASE_URL: "http://api2.mch.weixin.qq.com" }],
    ["WXPAY_CERT_SERIAL_NO", "is an APIv3 setting", { ...BASE, WXPAY_CERT_SERIAL_NO: "408B07E7" }],
    ["WXPAY_PUBLIC_KEY_ID", "is an APIv3 setting", { ...BASE, WXPAY_PUBLIC_KEY_ID: "PUB_KEY_ID_0114232134912410000000000000" }],
    ["WXPAY_CERT_PATH", "set both WXPAY_CERT_PATH and WXPAY_CERT_KEY_PATH", { ...BASE, WXPAY_CERT_KEY_PATH: "/etc/pay/apiclient_key.pem" }],
  ])("refuses %s: %s", (name, message, env) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`${name} ${message}`);
  });

  it("never echoes the APIv3 key in its error", () => {
    const badKey = "an-apiv3-key-that-is-far-too-long-to-be-valid";
    expect(() => loadConfig({ ...V3_DIRECT, WXPAY_APIV3_KEY: badKey })).toThrow("WXPAY_APIV3_KEY");
    try {
      loadConfig({ ...V3_DIRECT, WXPAY_APIV3_KEY: badKey });
    } catch (error) {
      expect(String(error)).not.toContain(badKey);
    }
  });
});

describe("loadConfig: webhooks and NODE_ENV", () => {
  const SECRET = "whsec_environment-secret-0123456789";
  const configError = (env: Record<string, string | undefined>): string => {
    try {
      loadConfig({ ...BASE, ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return String(error);
    }
    return expect.unreachable("the configuration was accepted");
  };

  it("defaults: development, no endpoint, delivery on, a poll every second", () => {
    expect(loadConfig(BASE)).toMatchObject({ nodeEnv: "development", webhooks: { endpoint: undefined, delivery: true, pollIntervalMs: 1000 } });
  });

  it.each(["development", "production", "test"] as const)("takes NODE_ENV=%s", (value) => {
    expect(loadConfig({ ...BASE, NODE_ENV: value }).nodeEnv).toBe(value);
  });

  it.each(["prod", "Production", "staging", "dev"])("refuses NODE_ENV=%s, naming the values", (value) => {
    expect(configError({ NODE_ENV: value })).toContain("NODE_ENV must be development, production or test");
  });

  it("WEBHOOK_URL + WEBHOOK_SECRET configure the endpoint", () => {
    const config = loadConfig({ ...BASE, WEBHOOK_URL: "https://shop.example.com/hooks", WEBHOOK_SECRET: SECRET, NODE_ENV: "production" });
    expect(config.webhooks.endpoint).toEqual({ url: "https://shop.example.com/hooks", secret: SECRET });
  });

  it("WEBHOOK_URL without WEBHOOK_SECRET is refused, naming the secret", () => {
    expect(configError({ WEBHOOK_URL: "https://shop.example.com/hooks" })).toContain("WEBHOOK_SECRET is required with WEBHOOK_URL");
  });

  it("WEBHOOK_SECRET without WEBHOOK_URL is refused, naming the URL, and never echoes the secret", () => {
    const message = configError({ WEBHOOK_SECRET: SECRET });
    expect(message).toContain("WEBHOOK_URL is required with WEBHOOK_SECRET");
    expect(message).not.toContain(SECRET);
  });

  it.each([
    ["shorter than 24 characters", "s".repeat(23), "WEBHOOK_SECRET must be at least 24 characters"],
    ["longer than 256 characters", "s".repeat(257), "WEBHOOK_SECRET must be at most 256 characters"],
  ])("a WEBHOOK_SECRET %s is refused without being echoed", (_what, secret, expected) => {
    const message = configError({ WEBHOOK_URL: "https://shop.example.com/hooks", WEBHOOK_SECRET: secret });
    expect(message).toContain(expected);
    expect(message).not.toContain(secret);
  });

  it("accepts a WEBHOOK_SECRET of exactly 24 characters", () => {
    expect(loadConfig({ ...BASE, WEBHOOK_URL: "https://shop.example.com/hooks", WEBHOOK_SECRET: "s".repeat(24) }).webhooks.endpoint?.secret).toBe("s".repeat(24));
  });

  it.each([
    ["http to loopback in production", "production", "http://127.0.0.1:4000/hooks", "WEBHOOK_URL must use https when NODE_ENV=production"],
    ["http to another host in development", "development", "http://shop.example.com/hooks", "WEBHOOK_URL must use https (plain http is allowed only to a loopback host"],
    ["not a URL", "development", "shop.example.com/hooks", "WEBHOOK_URL must be an absolute URL"],
    ["credentials in the URL", "development", "https://user:pw@shop.example.com/hooks", "WEBHOOK_URL must not contain a user name or password"],
    ["another scheme", "development", "ftp://shop.example.com/hooks", "WEBHOOK_URL must be an https URL"],
  ])("refuses %s", (_what, nodeEnv, url, expected) => {
    expect(configError({ NODE_ENV: nodeEnv, WEBHOOK_URL: url, WEBHOOK_SECRET: SECRET })).toContain(expected);
  });

  it.each(["http://127.0.0.1:4000/hooks", "http://localhost:4000/hooks", "http://[::1]:4000/hooks", "http://receiver.localhost/hooks"])(
    "accepts http to loopback outside production: %s",
    (url) => {
      for (const nodeEnv of ["development", "test"]) expect(loadConfig({ ...BASE, NODE_ENV: nodeEnv, WEBHOOK_URL: url, WEBHOOK_SECRET: SECRET }).webhooks.endpoint?.url).toBe(url);
    },
  );

  it.each([
    ["on", true],
    ["off", false],
  ] as const)("WEBHOOK_DELIVERY=%s", (value, delivery) => {
    expect(loadConfig({ ...BASE, WEBHOOK_DELIVERY: value }).webhooks.delivery).toBe(delivery);
  });

  it.each(["yes", "true", "1", "ON"])("refuses WEBHOOK_DELIVERY=%s", (value) => {
    expect(configError({ WEBHOOK_DELIVERY: value })).toContain("WEBHOOK_DELIVERY must be on or off");
  });

  it.each([
    ["10", 10],
    ["60000", 60_000],
  ])("takes WEBHOOK_POLL_INTERVAL_MS=%s (the bounds)", (value, expected) => {
    expect(loadConfig({ ...BASE, WEBHOOK_POLL_INTERVAL_MS: value }).webhooks.pollIntervalMs).toBe(expected);
  });

  it.each(["9", "60001", "0", "-1", "1.5", "soon"])("refuses WEBHOOK_POLL_INTERVAL_MS=%s", (value) => {
    expect(configError({ WEBHOOK_POLL_INTERVAL_MS: value })).toContain("WEBHOOK_POLL_INTERVAL_MS");
  });
});

describe("loadConfig: webhook delivery settings", () => {
  it("delivers by default, polling every second, with a 60 s lease", () => {
    expect(loadConfig(BASE).webhooks).toMatchObject({ delivery: true, pollIntervalMs: 1000, leaseMs: 60_000 });
  });

  it.each([
    ["5", 5_000],
    ["300", 300_000],
    ["3600", 3_600_000],
  ])("WEBHOOK_LEASE_SECONDS=%s holds a claim %i ms", (value, leaseMs) => {
    expect(loadConfig({ ...BASE, WEBHOOK_LEASE_SECONDS: value }).webhooks.leaseMs).toBe(leaseMs);
  });

  it.each(["4", "0", "3601", "1.5", "soon"])("refuses WEBHOOK_LEASE_SECONDS=%s, naming it", (value) => {
    expect(() => loadConfig({ ...BASE, WEBHOOK_LEASE_SECONDS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, WEBHOOK_LEASE_SECONDS: value })).toThrow("WEBHOOK_LEASE_SECONDS");
  });
});

describe("loadConfig: reconciliation settings", () => {
  it("schedules by default at 10:00 Beijing, retrying after 30 minutes, 3 days back, a 300 s lease, a look every 60 s", () => {
    expect(loadConfig(BASE).reconciliation).toEqual({ schedule: true, atMinutes: 600, retryMinutes: 30, catchUpDays: 3, leaseSeconds: 300, pollSeconds: 60 });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      ...BASE,
      RECONCILE_SCHEDULE: "off",
      RECONCILE_AT: "23:59",
      RECONCILE_RETRY_MINUTES: "5",
      RECONCILE_CATCH_UP_DAYS: "7",
      RECONCILE_LEASE_SECONDS: "60",
      RECONCILE_POLL_SECONDS: "5",
    });
    expect(config.reconciliation).toEqual({ schedule: false, atMinutes: 23 * 60 + 59, retryMinutes: 5, catchUpDays: 7, leaseSeconds: 60, pollSeconds: 5 });
    expect(loadConfig({ ...BASE, RECONCILE_AT: "00:00" }).reconciliation.atMinutes).toBe(0);
  });

  it.each([
    ["RECONCILE_SCHEDULE", "yes", "must be on or off"],
    ["RECONCILE_AT", "24:00", "must be a Beijing time of day as HH:MM"],
    ["RECONCILE_AT", "9:30", "must be a Beijing time of day as HH:MM"],
    ["RECONCILE_AT", "10:60", "must be a Beijing time of day as HH:MM"],
    ["RECONCILE_RETRY_MINUTES", "0", "RECONCILE_RETRY_MINUTES"],
    ["RECONCILE_RETRY_MINUTES", "1441", "RECONCILE_RETRY_MINUTES"],
    ["RECONCILE_CATCH_UP_DAYS", "0", "RECONCILE_CATCH_UP_DAYS"],
    ["RECONCILE_CATCH_UP_DAYS", "32", "RECONCILE_CATCH_UP_DAYS"],
    ["RECONCILE_LEASE_SECONDS", "29", "RECONCILE_LEASE_SECONDS"],
    ["RECONCILE_LEASE_SECONDS", "1.5", "RECONCILE_LEASE_SECONDS"],
    ["RECONCILE_POLL_SECONDS", "4", "RECONCILE_POLL_SECONDS"],
    ["RECONCILE_POLL_SECONDS", "often", "RECONCILE_POLL_SECONDS"],
  ])("refuses %s=%s, naming it", (variable, value, message) => {
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(variable);
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(message);
  });
});

describe("API_WORKERS", () => {
  it("is one process by default; a number of workers, or auto for one per core (capped)", () => {
    expect(loadConfig(BASE).workers).toBe(1);
    expect(loadConfig({ ...BASE, API_WORKERS: "1" }).workers).toBe(1);
    expect(loadConfig({ ...BASE, API_WORKERS: " 2 " }).workers).toBe(2);
    expect(loadConfig({ ...BASE, API_WORKERS: String(MAX_API_WORKERS) }).workers).toBe(MAX_API_WORKERS);
    expect(loadConfig({ ...BASE, API_WORKERS: "auto" }).workers).toBe(Math.min(availableParallelism(), MAX_API_WORKERS));
  });

  it.each(["0", "-1", "1.5", "two", "AUTO ALL", String(MAX_API_WORKERS + 1), "99999"])("refuses API_WORKERS=%s with a clear error", (value) => {
    expect(() => loadConfig({ ...BASE, API_WORKERS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, API_WORKERS: value })).toThrow(`API_WORKERS must be auto or a whole number of processes from 1 to ${MAX_API_WORKERS}`);
  });
});

// Issue 21, notifies first: the notify routes' own listener and process.
describe("NOTIFY_PORT", () => {
  it("is off by default: notifies are served on PORT only", () => {
    expect(loadConfig(BASE).notifyListener).toBeUndefined();
  });

  it("names the notify worker's listener, on HOST unless NOTIFY_HOST says otherwise", () => {
    expect(loadConfig({ ...BASE, HOST: "0.0.0.0", NOTIFY_PORT: "3001" }).notifyListener).toEqual({ port: 3001, host: "0.0.0.0" });
    expect(loadConfig({ ...BASE, NOTIFY_PORT: "3001", NOTIFY_HOST: "10.0.0.5" }).notifyListener).toEqual({ port: 3001, host: "10.0.0.5" });
    // A free port chosen at start, beside a fixed PORT.
    expect(loadConfig({ ...BASE, PORT: "3000", NOTIFY_PORT: "0" }).notifyListener).toEqual({ port: 0, host: "127.0.0.1" });
  });

  it.each([
    [{ NOTIFY_PORT: "3000" }, "NOTIFY_PORT must differ from PORT"],
    [{ PORT: "0", NOTIFY_PORT: "0" }, "NOTIFY_PORT cannot be 0 while PORT is 0"],
    [{ NOTIFY_PORT: "9100", METRICS_PORT: "9100" }, "NOTIFY_PORT must differ from METRICS_PORT"],
    [{ NOTIFY_PORT: "70000" }, "NOTIFY_PORT"],
    [{ NOTIFY_PORT: "notify" }, "NOTIFY_PORT"],
    [{ NOTIFY_HOST: "10.0.0.5" }, "NOTIFY_HOST is set but NOTIFY_PORT is not"],
    [{ API_WORKER_NICENESS: "5" }, "API_WORKER_NICENESS is set but NOTIFY_PORT is not"],
    [{ NOTIFY_PORT: "3001", API_WORKER_NICENESS: "-1" }, "API_WORKER_NICENESS must be a whole number of nice levels from 0 to 19"],
    [{ NOTIFY_PORT: "3001", API_WORKER_NICENESS: "20" }, "API_WORKER_NICENESS must be a whole number of nice levels from 0 to 19"],
    [{ NOTIFY_PORT: "3001", API_WORKER_NICENESS: "2.5" }, "API_WORKER_NICENESS must be a whole number of nice levels from 0 to 19"],
    [{ NOTIFY_PORT: "3001", API_WORKER_NICENESS: "low" }, "API_WORKER_NICENESS must be a whole number of nice levels from 0 to 19"],
  ])("refuses %o with an error naming the variable", (extra, message) => {
    expect(() => loadConfig({ ...BASE, ...extra })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, ...extra })).toThrow(message);
  });

  it("lowers the API workers' priority by API_WORKER_NICENESS, 10 unless set, 0 to 19", () => {
    expect(loadConfig(BASE).apiWorkerNiceness).toBe(DEFAULT_API_WORKER_NICENESS);
    expect(DEFAULT_API_WORKER_NICENESS).toBe(10);
    expect(loadConfig({ ...BASE, NOTIFY_PORT: "3001" }).apiWorkerNiceness).toBe(10);
    expect(loadConfig({ ...BASE, NOTIFY_PORT: "3001", API_WORKER_NICENESS: "0" }).apiWorkerNiceness).toBe(0);
    expect(loadConfig({ ...BASE, NOTIFY_PORT: "3001", API_WORKER_NICENESS: "19" }).apiWorkerNiceness).toBe(19);
    // Empty counts as unset, as everywhere.
    expect(loadConfig({ ...BASE, API_WORKER_NICENESS: "" }).apiWorkerNiceness).toBe(10);
  });
});

// Issue 21: graceful shutdown.
describe("loadConfig: graceful shutdown", () => {
  it("defaults to 5 s of readiness 503 and a 25 s deadline", () => {
    expect(loadConfig(BASE).shutdown).toEqual({ readinessDelayMs: 5000, timeoutMs: 25_000 });
  });

  it("takes the bounds: no delay, a 300 s delay, a 1 s and a 3600 s deadline", () => {
    expect(loadConfig({ ...BASE, SHUTDOWN_READINESS_DELAY_MS: "0", SHUTDOWN_TIMEOUT_SECONDS: "1" }).shutdown).toEqual({ readinessDelayMs: 0, timeoutMs: 1000 });
    expect(loadConfig({ ...BASE, SHUTDOWN_READINESS_DELAY_MS: "300000", SHUTDOWN_TIMEOUT_SECONDS: "3600" }).shutdown).toEqual({ readinessDelayMs: 300_000, timeoutMs: 3_600_000 });
  });

  it.each([
    ["SHUTDOWN_READINESS_DELAY_MS", "-1"],
    ["SHUTDOWN_READINESS_DELAY_MS", "300001"],
    ["SHUTDOWN_READINESS_DELAY_MS", "1.5"],
    ["SHUTDOWN_READINESS_DELAY_MS", "soon"],
    ["SHUTDOWN_TIMEOUT_SECONDS", "0"],
    ["SHUTDOWN_TIMEOUT_SECONDS", "3601"],
    ["SHUTDOWN_TIMEOUT_SECONDS", "2.5"],
    ["SHUTDOWN_TIMEOUT_SECONDS", "never"],
  ])("refuses %s=%s, naming it", (variable, value) => {
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(variable);
  });
});

// ---- issue 21, rate limits
describe("loadConfig: rate limits and TRUST_PROXY_HOPS", () => {
  it("defaults to limits a payer never reaches and the connection's address", () => {
    expect(loadConfig(BASE).rateLimits).toEqual({
      orders: { count: 20, periodSeconds: 60 },
      renewals: { count: 30, periodSeconds: 60 },
      signIns: { count: 120, periodSeconds: 60 },
      trustProxyHops: 0,
    });
  });

  it("reads <count>/<seconds>, off, and a number of proxies", () => {
    const config = loadConfig({ ...BASE, RATE_LIMIT_ORDERS: "3/600", RATE_LIMIT_RENEWALS: "off", RATE_LIMIT_SIGN_INS: " 100000/86400 ", TRUST_PROXY_HOPS: "2" });
    expect(config.rateLimits).toEqual({ orders: { count: 3, periodSeconds: 600 }, renewals: undefined, signIns: { count: 100_000, periodSeconds: 86_400 }, trustProxyHops: 2 });
  });

  it.each([
    ["RATE_LIMIT_ORDERS", "20"],
    ["RATE_LIMIT_ORDERS", "0/60"],
    ["RATE_LIMIT_RENEWALS", "20/0"],
    ["RATE_LIMIT_RENEWALS", "20/86401"],
    ["RATE_LIMIT_SIGN_INS", "100001/60"],
    ["RATE_LIMIT_SIGN_INS", "20 per minute"],
    ["RATE_LIMIT_SIGN_INS", "-1/60"],
    ["RATE_LIMIT_ORDERS", "1.5/60"],
    ["RATE_LIMIT_ORDERS", "OFF"],
  ])("refuses %s=%s with a ConfigError naming it and the form", (variable, value) => {
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ ...BASE, [variable]: value })).toThrow(`${variable} must be off or <count>/<seconds>, e.g. 20/60 (count 1 to 100000, seconds 1 to 86400)`);
  });

  it.each(["-1", "17", "1.5", "one", "100"])("refuses TRUST_PROXY_HOPS=%s with a ConfigError naming it", (value) => {
    expect(() => loadConfig({ ...BASE, TRUST_PROXY_HOPS: value })).toThrow("TRUST_PROXY_HOPS must be a whole number of proxies in front of the API, from 0 to 16");
  });
});

// Issue 21, gateway guard.
describe("loadConfig: the gateway guard", () => {
  it("defaults: 64 calls in flight, 64 waiting at most 1 s, a breaker opening after 5 failures for 10 s, doubling up to 60 s", () => {
    expect(loadConfig(BASE).gatewayGuard).toEqual({
      maxConcurrentCalls: 64,
      maxQueuedCalls: 64,
      maxQueueWaitMs: 1000,
      breaker: { failures: 5, openSeconds: 10, maxOpenSeconds: 60 },
    });
  });

  it("reads every variable; GATEWAY_BREAKER_FAILURES=off means no breaker; a queue of 0 is allowed", () => {
    expect(
      loadConfig({
        ...BASE,
        GATEWAY_MAX_CONCURRENT_CALLS: "8",
        GATEWAY_MAX_QUEUED_CALLS: "0",
        GATEWAY_MAX_QUEUE_WAIT_MS: "250",
        GATEWAY_BREAKER_FAILURES: "off",
      }).gatewayGuard,
    ).toEqual({ maxConcurrentCalls: 8, maxQueuedCalls: 0, maxQueueWaitMs: 250, breaker: undefined });
    expect(loadConfig({ ...BASE, GATEWAY_BREAKER_FAILURES: "3", GATEWAY_BREAKER_OPEN_SECONDS: "30", GATEWAY_BREAKER_MAX_OPEN_SECONDS: "30" }).gatewayGuard.breaker).toEqual({
      failures: 3,
      openSeconds: 30,
      maxOpenSeconds: 30,
    });
  });

  it.each([
    ["GATEWAY_MAX_CONCURRENT_CALLS", "0", "must be a whole number of calls from 1 to 10000"],
    ["GATEWAY_MAX_CONCURRENT_CALLS", "many", "must be a whole number of calls from 1 to 10000"],
    ["GATEWAY_MAX_QUEUED_CALLS", "-1", "must be a whole number of calls from 0 to 10000"],
    ["GATEWAY_MAX_QUEUED_CALLS", "2.5", "must be a whole number of calls from 0 to 10000"],
    ["GATEWAY_MAX_QUEUE_WAIT_MS", "0", "must be a whole number of milliseconds from 1 to 60000"],
    ["GATEWAY_BREAKER_FAILURES", "0", "must be off or a whole number of failures from 1 to 1000"],
    ["GATEWAY_BREAKER_FAILURES", "never", "must be off or a whole number of failures from 1 to 1000"],
    ["GATEWAY_BREAKER_OPEN_SECONDS", "3601", "must be a whole number of seconds from 1 to 3600"],
    ["GATEWAY_BREAKER_MAX_OPEN_SECONDS", "5", "must be at least GATEWAY_BREAKER_OPEN_SECONDS (10)"],
  ])("refuses %s=%s with a ConfigError naming it", (variable, value, message) => {
    const load = () => loadConfig({ ...BASE, [variable]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(`${variable} ${message}`);
  });
});

// Issue 21, server timeouts and limits.
describe("HTTP_* and API_MAX_IN_FLIGHT", () => {
  it("default to the limits the server had (15 s, 10 s, 5 s), a 5 s JSON body deadline and 256 /api requests in flight", () => {
    expect(loadConfig(BASE)).toMatchObject({
      http: {
        requestTimeoutMs: 15_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        socketIdleTimeoutMs: 120_000,
        maxRequestsPerSocket: 1_000,
        maxHeaderBytes: 16_384,
        jsonBodyTimeoutMs: 5_000,
      },
      apiMaxInFlight: 256,
    });
  });

  it("reads every variable", () => {
    const config = loadConfig({
      ...BASE,
      HTTP_REQUEST_TIMEOUT_MS: "20000",
      HTTP_HEADERS_TIMEOUT_MS: "20000",
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "61000",
      HTTP_SOCKET_IDLE_TIMEOUT_MS: "30000",
      HTTP_MAX_REQUESTS_PER_SOCKET: "50",
      HTTP_MAX_HEADER_BYTES: "8192",
      HTTP_BODY_TIMEOUT_MS: "2000",
      API_MAX_IN_FLIGHT: "64",
    });
    expect(config.http).toEqual({
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 20_000,
      keepAliveTimeoutMs: 61_000,
      socketIdleTimeoutMs: 30_000,
      maxRequestsPerSocket: 50,
      maxHeaderBytes: 8192,
      jsonBodyTimeoutMs: 2000,
    });
    expect(config.apiMaxInFlight).toBe(64);
  });

  it("refuses a headers timeout longer than the request timeout, naming both", () => {
    const load = () => loadConfig({ ...BASE, HTTP_REQUEST_TIMEOUT_MS: "8000", HTTP_HEADERS_TIMEOUT_MS: "9000" });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow("HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS (8000)");
    // The default headers timeout (10 s) is longer than a 5 s request timeout too.
    expect(() => loadConfig({ ...BASE, HTTP_REQUEST_TIMEOUT_MS: "5000" })).toThrow("HTTP_HEADERS_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS");
  });

  it("refuses a JSON body deadline longer than the request timeout", () => {
    expect(() => loadConfig({ ...BASE, HTTP_BODY_TIMEOUT_MS: "16000" })).toThrow("HTTP_BODY_TIMEOUT_MS must be at most HTTP_REQUEST_TIMEOUT_MS (15000)");
  });

  it.each([
    ["HTTP_REQUEST_TIMEOUT_MS", "0"],
    ["HTTP_REQUEST_TIMEOUT_MS", "soon"],
    ["HTTP_HEADERS_TIMEOUT_MS", "100"],
    ["HTTP_KEEP_ALIVE_TIMEOUT_MS", "-1"],
    ["HTTP_SOCKET_IDLE_TIMEOUT_MS", "1.5"],
    ["HTTP_MAX_REQUESTS_PER_SOCKET", "0"],
    ["HTTP_MAX_HEADER_BYTES", "1024"],
    ["HTTP_MAX_HEADER_BYTES", "1048576"],
    ["HTTP_BODY_TIMEOUT_MS", "10"],
    ["API_MAX_IN_FLIGHT", "0"],
    ["API_MAX_IN_FLIGHT", "unlimited"],
  ])("names %s=%s as malformed", (name, value) => {
    const load = () => loadConfig({ ...BASE, [name]: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
  });
});
