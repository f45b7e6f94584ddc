import { constants, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { PayCoreError } from "../../errors.js";
import { decryptV3Resource, decryptV3ResourceText, encryptV3Resource } from "./aes-gcm.js";
import { decodeBase64Strict } from "./base64.js";
import { encryptV3SensitiveField } from "./rsa-oaep.js";

const vectors = loadVectorsV3();
const KEY = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

describe("AES-GCM resources", () => {
  it.each(vectors.aesGcm.map((v) => [`AES-${v.aes}`, v] as const))("decrypts the %s known answer", (_, v) => {
    const result = decryptV3ResourceText({ ciphertext: v.ciphertext, nonce: v.nonce, associatedData: v.associatedData }, v.key);
    expect(result).toEqual({ ok: true, value: v.plaintext });
  });

  it.each(vectors.aesGcm.map((v) => [`AES-${v.aes}`, v] as const))("encrypts the %s known answer", (_, v) => {
    expect(encryptV3Resource(v.plaintext, { apiV3Key: v.key, nonce: v.nonce, associatedData: v.associatedData }).ciphertext).toBe(v.ciphertext);
  });

  it("decrypts the notify vector's resource, which is AES-128-GCM because its key is 16 bytes", () => {
    const n = vectors.notifyWithPlatformCert;
    const body = JSON.parse(n.body) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
    const resource = { ciphertext: body.resource.ciphertext, nonce: body.resource.nonce, associatedData: body.resource.associated_data };
    expect(Buffer.byteLength(n.apiV3Key)).toBe(16);
    expect(decryptV3ResourceText(resource, n.apiV3Key)).toEqual({ ok: true, value: n.plaintext });
  });

  const base = vectors.aesGcm[0]!;
  const good = { ciphertext: base.ciphertext, nonce: base.nonce, associatedData: base.associatedData };
  const flipped = Buffer.from(base.ciphertext, "base64");
  flipped[flipped.length - 1]! ^= 1;
  it.each([
    ["wrong tag", { ...good, ciphertext: flipped.toString("base64") }, KEY, "DECRYPT_FAILED"],
    ["wrong AAD", { ...good, associatedData: "transaction" }, KEY, "DECRYPT_FAILED"],
    ["wrong key", good, "b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb", "DECRYPT_FAILED"],
    ["wrong nonce", { ...good, nonce: "uluk4a9R25RX" }, KEY, "DECRYPT_FAILED"],
    ["short nonce", { ...good, nonce: "uluk4a9R25R" }, KEY, "INVALID_NONCE"],
    ["16-byte nonce", { ...good, nonce: "0123456789abcdef" }, KEY, "INVALID_NONCE"],
    ["key of 31 bytes", good, KEY.slice(1), "INVALID_KEY_LENGTH"],
    ["ciphertext not base64", { ...good, ciphertext: "not base64!" }, KEY, "MALFORMED_CIPHERTEXT"],
    ["ciphertext shorter than a tag", { ...good, ciphertext: "AAAA" }, KEY, "MALFORMED_CIPHERTEXT"],
    ["empty ciphertext", { ...good, ciphertext: "" }, KEY, "MALFORMED_CIPHERTEXT"],
  ] as const)("refuses a %s with a code", (_, resource, key, code) => {
    const result = decryptV3Resource(resource, key);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });

  it("refuses bytes that authenticate but are not UTF-8", () => {
    const resource = encryptV3Resource(Uint8Array.of(0xff, 0xfe), { apiV3Key: KEY, nonce: "abcdefghijkl", associatedData: "x" });
    const result = decryptV3ResourceText(resource, KEY);
    expect(result.ok ? "decrypted" : result.error.code).toBe("DECRYPT_FAILED");
  });

  it("throws PayCoreError when encrypting with an unusable key or nonce (programmer misuse)", () => {
    expect(() => encryptV3Resource("x", { apiV3Key: "short", nonce: "abcdefghijkl", associatedData: "" })).toThrow(PayCoreError);
    expect(() => encryptV3Resource("x", { apiV3Key: KEY, nonce: "short", associatedData: "" })).toThrow(PayCoreError);
  });

  it("round-trips any text, AAD and nonce (encrypt -> decrypt)", () => {
    const nonce = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), minLength: 12, maxLength: 12 });
    const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string(), nonce, key, (plaintext, associatedData, n, k) => {
        const resource = encryptV3Resource(plaintext, { apiV3Key: k, nonce: n, associatedData });
        expect(decryptV3ResourceText(resource, k)).toEqual({ ok: true, value: plaintext });
      }),
    );
  });
});

describe("strict base64", () => {
  it.each([
    ["", false],
    ["QQ==", true],
    ["QUI=", true],
    ["QUJD", true],
    ["QQ", false],
    ["Q Q==", false],
    ["QQ==QQ==", false],
    ["WECHATPAY/SIGNTEST/QUJD", false],
    ["-_-_", false],
  ] as const)("%j -> %s", (text, accepted) => {
    expect(decodeBase64Strict(text) !== undefined).toBe(accepted);
  });

  it("accepts exactly the padded-base64 grammar, and decodes as Buffer does", () => {
    const grammar = /^[A-Za-z0-9+/]+={0,2}$/;
    const char = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(..."ABCXYZabcxyz0189+/") },
      { weight: 3, arbitrary: fc.constantFrom("=", "-", "_", " ", "\n", ".", "\u0000", "é", "\u00ff", "中", "Ł", "\u2d2d", "\ud83d") },
    );
    const text = fc.oneof(
      fc.array(char, { maxLength: 16 }).map((cs) => cs.join("")),
      fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b).toString("base64")),
    );
    fc.assert(
      fc.property(text, (t) => {
        const accepted = t.length > 0 && t.length % 4 === 0 && grammar.test(t);
        const decoded = decodeBase64Strict(t);
        expect(decoded !== undefined).toBe(accepted);
        if (decoded !== undefined) expect(decoded.equals(Buffer.from(t, "base64"))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("RSA-OAEP sensitive fields", () => {
  it("encrypts with the platform key, decrypts with its private key, and names the serial to send", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const encrypted = encryptV3SensitiveField("张三", { serial: "PUB_KEY_ID_0114232134912410000000000000", publicKey });
    expect(encrypted.wechatpaySerial).toBe("PUB_KEY_ID_0114232134912410000000000000");
    const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, Buffer.from(encrypted.ciphertext, "base64"));
    expect(plain.toString("utf8")).toBe("张三");
    expect(encryptV3SensitiveField("张三", { serial: "x", publicKey }).ciphertext).not.toBe(encrypted.ciphertext);
  });

  it("works with the sample merchant public key (OAEP-SHA1, 256-byte ciphertext)", () => {
    const key = vectors.merchantSampleKey;
    const encrypted = encryptV3SensitiveField("110101199003071234", { serial: key.serialNo, publicKey: createPublicKey(key.publicKeyPem) });
    const plain = privateDecrypt(
      { key: createPrivateKey(key.privateKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
      Buffer.from(encrypted.ciphertext, "base64"),
    );
    expect(plain.toString()).toBe("110101199003071234");
    expect(Buffer.from(encrypted.ciphertext, "base64")).toHaveLength(256);
  });
});
