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
