import { createSign, createVerify, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createV3KeyStore } from "@pay/core";
import { createV3TestCertificate, generateV3TestKeyPair, type V3TestCertificate, type V3TestKeyPair } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type V3Config } from "./env.js";
import { loadV3Credentials } from "./v3-credentials.js";

const BASE = {
  WXPAY_APPID: "wx8888888888888888",
  WXPAY_MCHID: "1230000109",
  WXPAY_NOTIFY_URL: "https://pay.example.com/wxpay/v3/notify",
  WX_APPSECRET: "app-secret-value",
  SESSION_SECRET: "s".repeat(40),
  ADMIN_TOKEN: "a".repeat(30),
  WXPAY_API_VERSION: "v3",
  WXPAY_APIV3_KEY: "v3DirectApiV3KeyForTests00000001",
};
const PUBLIC_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000";

let dir: string;
let merchant: V3TestCertificate;
let wechatPay: V3TestKeyPair;
const file: Record<string, string> = {};

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  file[name] = path;
  return path;
}

/** The v3 section of a configuration built from `env` on top of BASE, as the process would load it. */
function v3(env: Record<string, string | undefined>): V3Config {
  const section = loadConfig({ ...BASE, ...env }).v3;
  if (section === undefined) throw new Error("expected a v3 section");
  return section;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pay-v3-credentials-"));
  const now = Date.now();
  merchant = createV3TestCertificate({ notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 5 * 365 * 86_400_000), commonName: "1230000109" });
  wechatPay = generateV3TestKeyPair();
  const other = createV3TestCertificate({ notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000) });
  write("apiclient_key.pem", merchant.keyPair.privateKeyPem);
  write("apiclient_key_pkcs1.pem", merchant.keyPair.privateKey.export({ type: "pkcs1", format: "pem" }).toString());
  write("apiclient_cert.pem", merchant.certificatePem);
  write("wxp_pub.pem", wechatPay.publicKeyPem);
  write("other_cert.pem", other.certificatePem);
  write("merchant_pub.pem", merchant.keyPair.publicKeyPem);
  write("encrypted_key.pem", merchant.keyPair.privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pass" }).toString());
  write("small_key.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  write("ec_pub.pem", generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString());
  write("garbage.pem", "not a pem at all\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("loadV3Credentials: valid shapes", () => {
  it("direct public-key mode with key + serial and no certificate: the key signs, the public key verifies", () => {
    const credentials = loadV3Credentials(
      v3({
        WXPAY_CERT_KEY_PATH: file["apiclient_key.pem"],
        WXPAY_CERT_SERIAL_NO: merchant.serial.toLowerCase(),
        WXPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
        WXPAY_PUBLIC_KEY_PATH: file["wxp_pub.pem"],
      }),
    );
    expect(credentials).toMatchObject({ account: "domestic", mode: "public-key", platformCertificates: false, merchantSerial: merchant.serial, apiV3Key: BASE.WXPAY_APIV3_KEY });
    // The loaded private key is the merchant's: a signature with it verifies under the certificate's key.
    const signature = createSign("sha256").update("message").sign(credentials.merchantPrivateKey);
    expect(createVerify("sha256").update("message").verify(merchant.keyPair.publicKey, signature)).toBe(true);
    expect(credentials.publicKey?.id).toBe(PUBLIC_KEY_ID);
    expect(credentials.publicKey?.publicKey.equals(wechatPay.publicKey)).toBe(true);
    // The shape goes straight into core's key store.
    const store = createV3KeyStore({ publicKeys: credentials.publicKey === undefined ? [] : [credentials.publicKey] });
    expect(store.serials).toEqual([PUBLIC_KEY_ID]);
  });

  it("service provider in platform-certificate mode: the serial is read from the certificate, upper-case", () => {
    const credentials = loadV3Credentials(
      v3({ WXPAY_CERT_KEY_PATH: file["apiclient_key.pem"], WXPAY_CERT_PATH: file["apiclient_cert.pem"], WXPAY_SUB_APPID: "wx1111111111111111", WXPAY_SUB_MCHID: "1900000109" }),
    );
    expect(credentials).toMatchObject({ mode: "platform-certificate", platformCertificates: true, publicKey: undefined, merchantSerial: merchant.serial });
    expect(credentials.merchantSerial).toMatch(/^[0-9A-F]{40}$/);
  });

  it("a Global institution with a PKCS#1 key and a serial that agrees with its certificate", () => {
    const credentials = loadV3Credentials(
      v3({
        WXPAY_ACCOUNT: "global",
        WXPAY_MERCHANT_CATEGORY_CODE: "5812",
        WXPAY_FEE_TYPE: "HKD",
        WXPAY_SUB_APPID: "wx1111111111111111",
        WXPAY_SUB_MCHID: "3900300031",
        WXPAY_CERT_KEY_PATH: file["apiclient_key_pkcs1.pem"],
        WXPAY_CERT_PATH: file["apiclient_cert.pem"],
        WXPAY_CERT_SERIAL_NO: merchant.serial.toLowerCase(),
        WXPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
        WXPAY_PUBLIC_KEY_PATH: file["wxp_pub.pem"],
      }),
    );
    expect(credentials).toMatchObject({ account: "global", merchantCategoryCode: "5812", mode: "public-key", merchantSerial: merchant.serial });
  });

  it("migration: both credentials, the public key and platform certificates", () => {
    const config = loadConfig({
      ...BASE,
      WXPAY_KEY: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
      WXPAY_CERT_KEY_PATH: file["apiclient_key.pem"],
      WXPAY_CERT_PATH: file["apiclient_cert.pem"],
      WXPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
      WXPAY_PUBLIC_KEY_PATH: file["wxp_pub.pem"],
      WXPAY_PLATFORM_CERTIFICATES: "on",
    });
    expect(config.v2).toEqual({ key: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0" });
    expect(config.gateway.clientCert).toEqual({ kind: "pem", certPath: file["apiclient_cert.pem"], keyPath: file["apiclient_key.pem"] });
    const credentials = loadV3Credentials(config.v3!);
    expect(credentials).toMatchObject({ mode: "migration", platformCertificates: true, merchantSerial: merchant.serial, publicKey: { id: PUBLIC_KEY_ID } });
  });

  it("reads through an injected reader, so nothing else touches the disk", () => {
    const read = (path: string): string => (path === "/k" ? merchant.keyPair.privateKeyPem : merchant.certificatePem);
    expect(loadV3Credentials(v3({ WXPAY_CERT_KEY_PATH: "/k", WXPAY_CERT_PATH: "/c" }), read).merchantSerial).toBe(merchant.serial);
  });
});

describe("loadV3Credentials: refusals name the variable and never quote key material", () => {
  const direct = (): Record<string, string | undefined> => ({
    WXPAY_CERT_KEY_PATH: file["apiclient_key.pem"],
    WXPAY_CERT_SERIAL_NO: merchant.serial,
    WXPAY_PUBLIC_KEY_ID: PUBLIC_KEY_ID,
    WXPAY_PUBLIC_KEY_PATH: file["wxp_pub.pem"],
  });

  it.each([
    ["a missing key file", () => ({ ...direct(), WXPAY_CERT_KEY_PATH: join(dir, "absent.pem") }), "WXPAY_CERT_KEY_PATH cannot be read (ENOENT)"],
    ["a directory as the key file", () => ({ ...direct(), WXPAY_CERT_KEY_PATH: dir }), "WXPAY_CERT_KEY_PATH cannot be read (EISDIR)"],
    ["a missing certificate file", () => ({ ...direct(), WXPAY_CERT_PATH: join(dir, "absent.pem") }), "WXPAY_CERT_PATH cannot be read (ENOENT)"],
    ["a missing public key file", () => ({ ...direct(), WXPAY_PUBLIC_KEY_PATH: join(dir, "absent.pem") }), "WXPAY_PUBLIC_KEY_PATH cannot be read (ENOENT)"],
    ["a key file that is not a key", () => ({ ...direct(), WXPAY_CERT_KEY_PATH: file["garbage.pem"] }), "WXPAY_CERT_KEY_PATH is not a usable merchant API private key"],
    ["a certificate given as the key", () => ({ ...direct(), WXPAY_CERT_KEY_PATH: file["apiclient_cert.pem"] }), "WXPAY_CERT_KEY_PATH is not a usable merchant API private key"],
    ["an encrypted key", () => ({ ...direct(), WXPAY_CERT_KEY_PATH: file["encrypted_key.pem"] }), "WXPAY_CERT_KEY_PATH is not a usable merchant API private key"],
    [
      "a 1024-bit key",
      () => ({ ...direct(), WXPAY_CERT_KEY_PATH: file["small_key.pem"] }),
      "WXPAY_CERT_KEY_PATH is not a usable merchant API private key: The merchant private key must be at least 2048 bits",
    ],
    ["a certificate file that is not a certificate", () => ({ ...direct(), WXPAY_CERT_PATH: file["garbage.pem"] }), "WXPAY_CERT_PATH is not a PEM X.509 certificate"],
    [
      "a key that does not match the certificate",
      () => ({ ...direct(), WXPAY_CERT_SERIAL_NO: undefined, WXPAY_CERT_PATH: file["other_cert.pem"] }),
      "WXPAY_CERT_KEY_PATH does not match the certificate in WXPAY_CERT_PATH",
    ],
    [
      "a serial that disagrees with the certificate",
      () => ({ ...direct(), WXPAY_CERT_SERIAL_NO: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1", WXPAY_CERT_PATH: file["apiclient_cert.pem"] }),
      "WXPAY_CERT_SERIAL_NO does not match the serial of the certificate in WXPAY_CERT_PATH",
    ],
    [
      "a private key as the WeChat Pay public key",
      () => ({ ...direct(), WXPAY_PUBLIC_KEY_PATH: file["apiclient_key.pem"] }),
      "WXPAY_PUBLIC_KEY_PATH must hold the WeChat Pay public key",
    ],
    [
      "a certificate as the WeChat Pay public key",
      () => ({ ...direct(), WXPAY_PUBLIC_KEY_PATH: file["apiclient_cert.pem"] }),
      "WXPAY_PUBLIC_KEY_PATH must hold the WeChat Pay public key",
    ],
    [
      "an EC key as the WeChat Pay public key",
      () => ({ ...direct(), WXPAY_PUBLIC_KEY_PATH: file["ec_pub.pem"] }),
      "WXPAY_PUBLIC_KEY_PATH must be an RSA public key of at least 2048 bits",
    ],
    [
      "the merchant's own public key as WeChat Pay's",
      () => ({ ...direct(), WXPAY_PUBLIC_KEY_PATH: file["merchant_pub.pem"] }),
      "WXPAY_PUBLIC_KEY_PATH holds the merchant's own public key",
    ],
  ])("refuses %s", (_what, env, message) => {
    const config = v3(env());
    expect(() => loadV3Credentials(config)).toThrow(ConfigError);
    try {
      loadV3Credentials(config);
    } catch (error) {
      const text = String(error);
      expect(text).toContain(message);
      for (const secret of [merchant.keyPair.privateKeyPem.slice(40, 80), wechatPay.publicKeyPem.slice(40, 80), BASE.WXPAY_APIV3_KEY]) expect(text).not.toContain(secret);
    }
  });
});
