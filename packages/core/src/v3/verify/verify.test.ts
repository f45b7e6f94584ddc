import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { PayCoreError } from "../../errors.js";
import { createV3TestCertificate, generateV3TestKeyPair } from "../../testing/v3-keys.js";
import { signV3Answer } from "../../testing/v3-notify-builders.js";
import { createV3KeyStore } from "../keys/key-store.js";
import { verifyV3Signature, type V3VerifyErrorCode } from "./verify.js";

const vectors = loadVectorsV3();
const PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000";

describe("verifyV3Signature known answers", () => {
  it("verifies the publicKeyVerify answer with the WeChat Pay public key", () => {
    const v = vectors.publicKeyVerify;
    const keys = createV3KeyStore({ publicKeys: [{ id: PUB_KEY_ID, publicKey: v.publicKeyPem }] });
    const headers = { "wechatpay-timestamp": v.timestamp, "wechatpay-nonce": v.nonce, "wechatpay-signature": v.signature, "wechatpay-serial": PUB_KEY_ID };
    const now = new Date(Number(v.timestamp) * 1000);
    expect(verifyV3Signature({ headers, body: v.body, keys, now })).toMatchObject({ ok: true, value: { serial: PUB_KEY_ID, timestamp: Number(v.timestamp), nonce: v.nonce } });
    expect(verifyV3Signature({ headers, body: Buffer.from(v.body), keys, now }).ok).toBe(true);
    const reserialised = JSON.stringify(JSON.parse(v.body), null, 1);
    const result = verifyV3Signature({ headers, body: reserialised, keys, now });
    expect(result.ok ? "accepted" : result.error.code).toBe("BAD_SIGNATURE");
  });

  it("verifies the notifyWithPlatformCert notify with its certificate, at the instant it was signed", () => {
    const v = vectors.notifyWithPlatformCert;
    const keys = createV3KeyStore({ certificates: [v.certificatePem] });
    const now = new Date(Number(v.headers["Wechatpay-Timestamp"]) * 1000);
    expect(verifyV3Signature({ headers: v.headers, body: v.body, keys, now })).toMatchObject({ ok: true, value: { serial: v.serial } });
    const today = verifyV3Signature({ headers: v.headers, body: v.body, keys, now: new Date("2026-01-01T00:00:00Z") });
    expect(today.ok ? "accepted" : today.error.code).toBe("TIMESTAMP_SKEW");
  });
});

describe("verifyV3Signature refusals", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const gateway = generateV3TestKeyPair();
  const cert = createV3TestCertificate({ notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyPair: gateway });
  const keys = createV3KeyStore({ certificates: [cert.certificatePem], publicKeys: [{ id: PUB_KEY_ID, publicKey: gateway.publicKey }] });
  const body = '{"prepay_id":"wx201410272009395522657a690389285100"}';
  const signed = (at: Date, serial = cert.serial): Record<string, string> => ({ ...signV3Answer(body, { signer: { privateKey: gateway.privateKey, serial }, now: at }) });
  const good = signed(now);
  const shifted = (seconds: number): Record<string, string> => signed(new Date(now.getTime() + seconds * 1000));
  const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(good).filter(([k]) => k !== name));
  const other = generateV3TestKeyPair();

  it("accepts the good signature, by certificate serial and by public key ID", () => {
    expect(verifyV3Signature({ headers: good, body, keys, now }).ok).toBe(true);
    expect(verifyV3Signature({ headers: signed(now, PUB_KEY_ID), body, keys, now })).toMatchObject({ ok: true, value: { key: { kind: "publicKey" } } });
  });

  it.each([
    ["299 s old", shifted(-299), body, true],
    ["299 s ahead", shifted(299), body, true],
    ["300 s old", shifted(-300), body, true],
    ["301 s old", shifted(-301), body, "TIMESTAMP_SKEW"],
    ["301 s ahead", shifted(301), body, "TIMESTAMP_SKEW"],
    ["an hour old", shifted(-3600), body, "TIMESTAMP_SKEW"],
    ["a changed body", good, body.replace("wx2", "wx3"), "BAD_SIGNATURE"],
    ["a re-serialised body", good, JSON.stringify(JSON.parse(body), null, 2), "BAD_SIGNATURE"],
    [
      "a signature by another key",
      {
        ...good,
        "Wechatpay-Signature": signV3Answer(body, { signer: { privateKey: other.privateKey, serial: "x" }, now, nonce: good["Wechatpay-Nonce"]! })["Wechatpay-Signature"],
      },
      body,
      "BAD_SIGNATURE",
    ],
    ["an unknown serial", { ...good, "Wechatpay-Serial": "3".repeat(40) }, body, "UNKNOWN_SERIAL"],
    ["an unknown public key ID", { ...good, "Wechatpay-Serial": "PUB_KEY_ID_1" }, body, "UNKNOWN_SERIAL"],
    ["a probe signature", { ...good, "Wechatpay-Signature": "WECHATPAY/SIGNTEST/2sWfO+6tVVsZonOXBXHOrle0TugJ31jDV3iG" }, body, "SIGNATURE_PROBE"],
    ["malformed base64", { ...good, "Wechatpay-Signature": "not base64!!" }, body, "MALFORMED_SIGNATURE"],
    ["unpadded base64", { ...good, "Wechatpay-Signature": good["Wechatpay-Signature"]!.replace(/=+$/, "") }, body, "MALFORMED_SIGNATURE"],
    ["a short signature", { ...good, "Wechatpay-Signature": "QUJD" }, body, "BAD_SIGNATURE"],
    ["no timestamp", without("Wechatpay-Timestamp"), body, "MISSING_HEADER"],
    ["no nonce", without("Wechatpay-Nonce"), body, "MISSING_HEADER"],
    ["no signature", without("Wechatpay-Signature"), body, "MISSING_HEADER"],
    ["no serial", without("Wechatpay-Serial"), body, "MISSING_HEADER"],
    ["an empty signature", { ...good, "Wechatpay-Signature": "" }, body, "MISSING_HEADER"],
    ["no signature type (the default applies)", without("Wechatpay-Signature-Type"), body, true],
    ["a non-numeric timestamp", { ...good, "Wechatpay-Timestamp": "1772366400.5" }, body, "INVALID_TIMESTAMP"],
    ["a millisecond timestamp", { ...good, "Wechatpay-Timestamp": String(now.getTime()) }, body, "INVALID_TIMESTAMP"],
    ["a negative timestamp", { ...good, "Wechatpay-Timestamp": "-1" }, body, "INVALID_TIMESTAMP"],
    ["an unsupported signature type", { ...good, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3" }, body, "UNSUPPORTED_SIGNATURE_TYPE"],
    ["a nonce with a line feed", { ...good, "Wechatpay-Nonce": "a\nb" }, body, "MALFORMED_HEADER"],
  ] as const)("%s -> %s", (_, headers, received, expected: true | V3VerifyErrorCode) => {
    const result = verifyV3Signature({ headers, body: received, keys, now });
    expect(result.ok ? true : result.error.code).toBe(expected);
  });

  it("refuses a certificate outside its window even with a good signature", () => {
    const late = new Date("2030-01-01T00:04:00Z");
    const result = verifyV3Signature({ headers: signed(late), body, keys, now: late });
    expect(result.ok ? "accepted" : result.error.code).toBe("CERTIFICATE_EXPIRED");
  });

  it("reads headers in any case, as arrays, and from a fetch Headers", () => {
    const lower = Object.fromEntries(Object.entries(good).map(([k, v]) => [k.toLowerCase(), v]));
    expect(verifyV3Signature({ headers: lower, body, keys, now }).ok).toBe(true);
    const arrays = Object.fromEntries(Object.entries(good).map(([k, v]) => [k.toUpperCase(), [v, v]]));
    expect(verifyV3Signature({ headers: arrays, body, keys, now }).ok).toBe(true);
    expect(verifyV3Signature({ headers: new Headers(good), body, keys, now }).ok).toBe(true);
    const conflicting = { ...lower, "wechatpay-serial": [cert.serial, PUB_KEY_ID] };
    const result = verifyV3Signature({ headers: conflicting, body, keys, now });
    expect(result.ok ? "accepted" : result.error.code).toBe("MALFORMED_HEADER");
  });

  it("verifies an empty 204 answer", () => {
    const headers = signV3Answer("", { signer: { privateKey: gateway.privateKey, serial: cert.serial }, now });
    expect(verifyV3Signature({ headers, body: "", keys, now }).ok).toBe(true);
    expect(verifyV3Signature({ headers, body: new Uint8Array(0), keys, now }).ok).toBe(true);
  });

  it("throws PayCoreError when given a parsed body or a bad now (programmer misuse)", () => {
    expect(() => verifyV3Signature({ headers: good, body: JSON.parse(body) as string, keys, now })).toThrow(PayCoreError);
    expect(() => verifyV3Signature({ headers: good, body, keys, now: new Date(Number.NaN) })).toThrow(PayCoreError);
  });

  it("round-trips any body, as text or bytes (sign -> verify), and never throws on garbage headers", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.integer({ min: -300, max: 300 }), (text, skew) => {
        const headers = signV3Answer(text, { signer: { privateKey: gateway.privateKey, serial: cert.serial }, now: new Date(now.getTime() + skew * 1000) });
        expect(verifyV3Signature({ headers, body: text, keys, now }).ok).toBe(true);
        expect(verifyV3Signature({ headers, body: Buffer.from(text, "utf8"), keys, now }).ok).toBe(true);
      }),
      { numRuns: 30 },
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial", "Wechatpay-Signature-Type"), fc.string()),
        (headers) => {
          expect(verifyV3Signature({ headers, body, keys, now }).ok).toBe(false);
        },
      ),
    );
  });
});
