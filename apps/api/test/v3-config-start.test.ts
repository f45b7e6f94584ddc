// The APIv3 configuration at start: startApi reads the key files before it opens anything, so bad key
// material stops the process with the variable named; good material is reported (mode, serial, key ID)
// in the start line, never the APIv3 key or a key's PEM.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createV3TestCertificate, generateV3TestKeyPair, type V3TestCertificate, type V3TestKeyPair } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/env.js";
import { createLogger } from "../src/logging.js";
import { startApi } from "../src/server.js";

const APIV3_KEY = "v3MigratingApiV3KeyForTests00003";
const PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000";

let dir: string;
let merchant: V3TestCertificate;
let wechatPay: V3TestKeyPair;

/** A v2 process that also holds v3 credentials (v3 orders settling after a rollback): it starts on this build. */
function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PORT: "0",
    DATABASE_URL: join(dir, "pay.db"),
    WXPAY_APPID: "wx8888888888888888",
    WXPAY_MCHID: "1230000109",
    WXPAY_KEY: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
    WXPAY_NOTIFY_URL: "https://pay.example.com/wxpay/notify",
    WX_APPSECRET: "app-secret-value",
    SESSION_SECRET: "s".repeat(40),
    ADMIN_TOKEN: "a".repeat(30),
    SWEEP_INTERVAL_SECONDS: "3600",
    WXPAY_APIV3_KEY: APIV3_KEY,
    WXPAY_CERT_KEY_PATH: join(dir, "apiclient_key.pem"),
    WXPAY_CERT_PATH: join(dir, "apiclient_cert.pem"),
    WXPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
    WXPAY_PUBLIC_KEY_PATH: join(dir, "wxp_pub.pem"),
    ...overrides,
  };
}

function capture(): { logs: string[]; destination: Writable } {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logs, destination };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pay-v3-start-"));
  merchant = createV3TestCertificate({ notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000) });
  wechatPay = generateV3TestKeyPair();
  writeFileSync(join(dir, "apiclient_key.pem"), merchant.keyPair.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, "apiclient_cert.pem"), merchant.certificatePem);
  writeFileSync(join(dir, "wxp_pub.pem"), wechatPay.publicKeyPem);
  writeFileSync(join(dir, "other_key.pem"), generateV3TestKeyPair().privateKeyPem, { mode: 0o600 });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("startApi with APIv3 credentials", () => {
  it("reports the key mode, the merchant serial and the public key ID, never a secret", async () => {
    const { logs, destination } = capture();
    const api = await startApi(loadConfig(env()), createLogger({ level: "trace", destination, name: "pay-api" }));
    await api.stop();
    const listening = logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === "API listening");
    expect(listening).toMatchObject({ apiVersion: "v2", v3: { account: "domestic", keyMode: "public-key", merchantSerial: merchant.serial, publicKeyId: PUBLIC_KEY_ID } });
    const text = logs.join("");
    for (const secret of [APIV3_KEY, merchant.keyPair.privateKeyPem.slice(40, 100), "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0"]) expect(text).not.toContain(secret);
  });

  it("stops before opening the database when the private key does not match the certificate", async () => {
    const database = join(dir, "never-created", "pay.db");
    const { destination } = capture();
    const start = startApi(loadConfig(env({ DATABASE_URL: database, WXPAY_CERT_KEY_PATH: join(dir, "other_key.pem") })), createLogger({ level: "silent", destination }));
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow("WXPAY_CERT_KEY_PATH does not match the certificate in WXPAY_CERT_PATH");
    expect(existsSync(database)).toBe(false);
  });

  it("stops when a key file cannot be read, naming the variable", async () => {
    const { destination } = capture();
    await expect(startApi(loadConfig(env({ WXPAY_PUBLIC_KEY_PATH: join(dir, "absent.pem") })), createLogger({ level: "silent", destination }))).rejects.toThrow(
      "WXPAY_PUBLIC_KEY_PATH cannot be read (ENOENT)",
    );
  });
});
