import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../../errors.js";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { parseV3Authorization } from "./authorization.js";
import { loadV3MerchantPrivateKey, loadV3MerchantPublicKey } from "./keys.js";
import { buildV3RequestMessage } from "./message.js";
import { signV3Message, verifyV3Message } from "./rsa.js";
import { createV3Signer, generateV3Nonce } from "./signer.js";

const v = loadVectorsV3();
const sample = v.merchantSampleKey;
const pkcs1Pem = createPrivateKey(sample.privateKeyPem).export({ type: "pkcs1", format: "pem" }).toString();
const publicKey = loadV3MerchantPublicKey(sample.publicKeyPem);

describe("buildV3RequestMessage", () => {
  it("reproduces the documented request message (vectors-v3 requestSignature)", () => {
    const r = v.requestSignature;
    expect(buildV3RequestMessage({ method: r.method, urlPath: r.urlPath, timestamp: r.timestamp, nonce: r.nonce, body: r.body })).toBe(r.message);
  });

  it("ends a GET's message with an empty body line and keeps the query exactly as sent", () => {
    const urlPath = "/v3/marketing/partnerships?limit=5&authorized_data=%7B%22business_type%22%3A%22FAVOR_STOCK%22%7D";
    expect(buildV3RequestMessage({ method: "GET", urlPath, timestamp: 1554208460, nonce: "abc" })).toBe(`GET\n${urlPath}\n1554208460\nabc\n\n`);
  });

  it.each([
    ["a lower-case verb", { method: "post" }],
    ["an absolute URL", { urlPath: "https://api.mch.weixin.qq.com/v3/pay/transactions/jsapi" }],
    ["a path with a line feed", { urlPath: "/v3/x\n" }],
    ["a path with a raw space (not as sent)", { urlPath: "/v3/x?a=b c" }],
    ["a path with non-ASCII (not percent-encoded)", { urlPath: "/v3/订单" }],
    ["a millisecond-like fractional timestamp", { timestamp: "1554208460.5" }],
    ["a nonce with a line feed", { nonce: "a\nb" }],
    ["a GET with a body", { method: "GET", body: "{}" }],
  ])("throws INVALID_OPTION for %s", (_name, change) => {
    const parts = { method: "POST", urlPath: "/v3/x", timestamp: 1, nonce: "n", body: "{}", ...change };
    expect(() => buildV3RequestMessage(parts)).toThrow(PayCoreError);
  });
});

describe("SHA256withRSA with the merchant key", () => {
  it("reproduces the documented request signature and paySign with the sample key", () => {
    const key = loadV3MerchantPrivateKey(sample.privateKeyPem);
    expect(signV3Message(v.requestSignature.message, key)).toBe(v.requestSignature.signature);
    expect(signV3Message(v.paySign.message, key)).toBe(v.paySign.paySign);
  });

  it("reproduces the Go SDK signer vector (vectors-v3 goSigner)", () => {
    expect(signV3Message(v.goSigner.message, loadV3MerchantPrivateKey(v.goSigner.privateKeyPem))).toBe(v.goSigner.signature);
  });

  it("gives the same signature from the PKCS#1 and the PKCS#8 PEM of one key", () => {
    expect(pkcs1Pem).toContain("BEGIN RSA PRIVATE KEY");
    const fromPkcs1 = signV3Message(v.requestSignature.message, loadV3MerchantPrivateKey(pkcs1Pem));
    expect(fromPkcs1).toBe(signV3Message(v.requestSignature.message, loadV3MerchantPrivateKey(sample.privateKeyPem)));
    expect(fromPkcs1).toBe(v.requestSignature.signature);
  });

  it("parses a PEM once: the same KeyObject comes back for the same text", () => {
    expect(loadV3MerchantPrivateKey(sample.privateKeyPem)).toBe(loadV3MerchantPrivateKey(sample.privateKeyPem));
    expect(loadV3MerchantPublicKey(sample.publicKeyPem)).toBe(publicKey);
  });

  it("accepts the public key as SPKI, PKCS#1, a KeyObject or derived from the private key", () => {
    const pkcs1Public = createPublicKey(sample.publicKeyPem).export({ type: "pkcs1", format: "pem" }).toString();
    for (const key of [pkcs1Public, createPublicKey(sample.publicKeyPem), createPrivateKey(sample.privateKeyPem)]) {
      expect(verifyV3Message(v.requestSignature.message, v.requestSignature.signature, loadV3MerchantPublicKey(key))).toBe(true);
    }
  });

  it.each([
    ["not PEM", "hello"],
    ["a public key", sample.publicKeyPem],
    ["a truncated PEM", sample.privateKeyPem.slice(0, 200) + "\n-----END PRIVATE KEY-----\n"],
    ["an EC key", generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()],
    ["a 1024-bit RSA key", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString()],
  ])("refuses %s as the merchant private key with INVALID_KEY", (_name, pem) => {
    expect(() => loadV3MerchantPrivateKey(pem)).toThrow(expect.objectContaining({ code: "INVALID_KEY" }));
  });

  it("refuses a private key where the public key goes", () => {
    expect(() => loadV3MerchantPublicKey(sample.privateKeyPem)).toThrow(expect.objectContaining({ code: "INVALID_KEY" }));
  });

  it("treats a malformed or probe signature as not verified, never a throw", () => {
    const message = v.requestSignature.message;
    for (const bad of ["", "WECHATPAY/SIGNTEST/" + v.requestSignature.signature, "abc", v.requestSignature.signature.slice(1), "!!!!"]) {
      expect(verifyV3Message(message, bad, publicKey)).toBe(false);
    }
    expect(verifyV3Message(message + " ", v.requestSignature.signature, publicKey)).toBe(false);
  });

  it("round-trips: whatever is signed verifies with the public key, and nothing else does (property)", () => {
    const key = loadV3MerchantPrivateKey(sample.privateKeyPem);
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ maxLength: 20 }), (message, extra) => {
        const signature = signV3Message(message, key);
        expect(signature).toBe(cryptoSign("sha256", Buffer.from(message, "utf8"), key).toString("base64"));
        expect(verifyV3Message(message, signature, publicKey)).toBe(true);
        if (extra !== "") expect(verifyV3Message(message + extra, signature, publicKey)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});

describe("createV3Signer", () => {
  const signer = createV3Signer({ mchId: sample.mchid, serialNo: sample.serialNo, privateKey: sample.privateKeyPem });

  it("signs the documented request into the documented Authorization header", () => {
    const r = v.requestSignature;
    const signed = signer.signRequest({ method: r.method, urlPath: r.urlPath, body: r.body, now: Number(r.timestamp) * 1000 + 900, nonce: r.nonce });
    expect(signed).toEqual({ authorization: r.authorization, message: r.message, signature: r.signature, timestamp: Number(r.timestamp), nonce: r.nonce });
  });

  it("takes nonces from the injected source, and by default 32 CSPRNG alphanumerics", () => {
    const fixed = createV3Signer({ mchId: "1900007291", serialNo: "ABCDEF", privateKey: pkcs1Pem, nonce: () => "fixednonce" });
    expect(fixed.signRequest({ method: "GET", urlPath: "/v3/certificates", now: 1_000 }).message).toBe("GET\n/v3/certificates\n1\nfixednonce\n\n");
    const a = signer.signRequest({ method: "GET", urlPath: "/v3/certificates", now: 1_000 });
    const b = signer.signRequest({ method: "GET", urlPath: "/v3/certificates", now: new Date(1_000) });
    expect(a.nonce).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(a.nonce).not.toBe(b.nonce);
    expect(generateV3Nonce()).toMatch(/^[0-9A-Za-z]{32}$/);
  });

  it("round-trips: every signed request parses back and verifies over the rebuilt message (property)", () => {
    const token = fc.stringMatching(/^[0-9A-Za-z]{1,32}$/);
    fc.assert(
      fc.property(
        fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE"),
        fc.stringMatching(/^\/v3\/[\x21-\x7e]{0,60}$/),
        fc.string({ unit: "grapheme", maxLength: 120 }),
        fc.integer({ min: 0, max: 4_102_444_800 }),
        token,
        (method, urlPath, rawBody, now, nonce) => {
          const body = method === "GET" ? "" : rawBody;
          const signed = signer.signRequest({ method, urlPath, body, now: now * 1000, nonce });
          const parsed = parseV3Authorization(signed.authorization);
          expect(parsed).toEqual({ ok: true, value: { mchId: sample.mchid, nonce, timestamp: now, serialNo: sample.serialNo, signature: signed.signature } });
          if (!parsed.ok) return;
          const rebuilt = buildV3RequestMessage({ method, urlPath, timestamp: parsed.value.timestamp, nonce: parsed.value.nonce, body });
          expect(verifyV3Message(rebuilt, parsed.value.signature, publicKey)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([
    ["no mchId", { mchId: "" }],
    ["a serial that is not hex", { serialNo: "PUB_KEY_ID_0114" }],
    ["a bad key", { privateKey: "nope" }],
  ])("throws at construction for %s", (_name, change) => {
    expect(() => createV3Signer({ mchId: "1900007291", serialNo: "ABCDEF", privateKey: sample.privateKeyPem, ...change })).toThrow(PayCoreError);
  });

  it("throws for a clock that is not a valid time", () => {
    expect(() => signer.signRequest({ method: "GET", urlPath: "/v3/x", now: Number.NaN })).toThrow(PayCoreError);
    expect(() => signer.signRequest({ method: "GET", urlPath: "/v3/x", now: -1 })).toThrow(PayCoreError);
  });
});
