import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { PayCoreError } from "../../errors.js";
import { createV3TestCertificate, generateV3TestKeyPair } from "../../testing/v3-keys.js";
import { encryptV3Resource } from "../crypto/aes-gcm.js";
import { decryptV3Certificates } from "./certificates.js";
import { createV3KeyStore } from "./key-store.js";

const vectors = loadVectorsV3();
const vector = vectors.platformCertificates;
type Entry = { serial_no: string; encrypt_certificate: Record<string, string> } & Record<string, unknown>;
const answer = vector.response as { data: Entry[] };
const entry = answer.data[0]!;
const withEntry = (patch: Partial<Entry>): object => ({ data: [{ ...entry, ...patch }] });

describe("decryptV3Certificates", () => {
  it("decrypts the platformCertificates vector to the certificate it names", () => {
    const result = decryptV3Certificates(answer, { apiV3Key: vector.apiV3Key, now: new Date("2025-01-01T00:00:00Z") });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.certificates.map((c) => c.serial)).toEqual([vector.decryptedSerial]);
    expect(result.value.valid.map((c) => c.serial)).toEqual([vector.decryptedSerial]);
    expect(result.value.certificates[0]!.notBefore.toISOString()).toBe("2023-09-19T15:15:58.000Z");
    expect(result.value.certificates[0]!.notAfter.toISOString()).toBe("2028-09-17T15:15:58.000Z");
  });

  it("reads the raw answer text too", () => {
    const result = decryptV3Certificates(JSON.stringify(answer), { apiV3Key: vector.apiV3Key, now: new Date("2025-01-01T00:00:00Z") });
    expect(result.ok).toBe(true);
  });

  const now = new Date("2025-01-01T00:00:00Z");
  it.each([
    ["a wrong APIv3 key", answer, "b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb", now, "DECRYPT_FAILED"],
    ["another AAD", withEntry({ encrypt_certificate: { ...entry.encrypt_certificate, associated_data: "transaction" } }), vector.apiV3Key, now, "INVALID_ANSWER"],
    ["a serial the certificate does not carry", withEntry({ serial_no: "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427ED" }), vector.apiV3Key, now, "SERIAL_MISMATCH"],
    ["an empty list", { data: [] }, vector.apiV3Key, now, "INVALID_ANSWER"],
    ["no data", { code: "RESOURCE_NOT_EXISTS" }, vector.apiV3Key, now, "INVALID_ANSWER"],
    ["an expired list", answer, vector.apiV3Key, new Date("2028-09-18T00:00:00Z"), "NO_VALID_CERTIFICATE"],
    ["a not yet valid list", answer, vector.apiV3Key, new Date("2023-09-19T00:00:00Z"), "NO_VALID_CERTIFICATE"],
    ["duplicate keys", '{"data":[],"data":[]}', vector.apiV3Key, now, "DUPLICATE_KEY"],
    ["non-JSON", "<html>", vector.apiV3Key, now, "NOT_JSON"],
  ] as const)("refuses %s", (_, input, apiV3Key, at, code) => {
    const result = decryptV3Certificates(input, { apiV3Key, now: at });
    expect(result.ok ? "accepted" : result.error.code).toBe(code);
  });

  it("refuses a ciphertext that is not a certificate", () => {
    const resource = encryptV3Resource("not a certificate", { apiV3Key: vector.apiV3Key, nonce: "14b16c03dc1b", associatedData: "certificate" });
    const result = decryptV3Certificates(withEntry({ encrypt_certificate: { ...entry.encrypt_certificate, ciphertext: resource.ciphertext } }), { apiV3Key: vector.apiV3Key, now });
    expect(result.ok ? "accepted" : result.error.code).toBe("INVALID_CERTIFICATE");
  });
});

describe("key store", () => {
  const keyPair = generateV3TestKeyPair();
  const older = createV3TestCertificate({
    serial: "1111111111111111111111111111111111111111",
    notBefore: new Date("2024-01-01T00:00:00Z"),
    notAfter: new Date("2026-01-01T00:00:00Z"),
    keyPair,
  });
  const newer = createV3TestCertificate({
    serial: "2222222222222222222222222222222222222222",
    notBefore: new Date("2025-06-01T00:00:00Z"),
    notAfter: new Date("2030-06-01T00:00:00Z"),
  });
  const apiV3Key = "0123456789abcdef0123456789abcdef";
  const listAnswer = {
    data: [older, newer].map((c, i) => ({
      serial_no: c.serial,
      effective_time: c.notBefore.toISOString(),
      expire_time: c.notAfter.toISOString(),
      encrypt_certificate: {
        algorithm: "AEAD_AES_256_GCM",
        ...encryptV3Resource(c.certificatePem, { apiV3Key, nonce: `nonce0000000${i}`.slice(-12), associatedData: "certificate" }),
      },
    })),
  };
  const wire = JSON.parse(JSON.stringify(listAnswer)) as { data: { encrypt_certificate: Record<string, string> }[] };
  for (const e of wire.data) {
    const c = e.encrypt_certificate;
    e.encrypt_certificate = { algorithm: c.algorithm!, nonce: c.nonce!, associated_data: c.associatedData!, ciphertext: c.ciphertext! };
  }

  it("rotates: two valid certificates verify and the newest encrypts; once one expires it is refused", () => {
    const during = new Date("2025-09-01T00:00:00Z");
    const list = decryptV3Certificates(wire, { apiV3Key, now: during });
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    expect(list.value.valid.map((c) => c.serial)).toEqual([newer.serial, older.serial]);
    const store = createV3KeyStore({ certificates: list.value.certificates });
    expect(store.verificationKey(older.serial, during).ok).toBe(true);
    expect(store.verificationKey(newer.serial, during).ok).toBe(true);
    expect(store.encryptionKey(during)).toMatchObject({ ok: true, value: { serial: newer.serial } });

    const after = new Date("2026-02-01T00:00:00Z");
    const expired = store.verificationKey(older.serial, after);
    expect(expired.ok ? "accepted" : expired.error.code).toBe("CERTIFICATE_EXPIRED");
    expect(store.verificationKey(newer.serial, after).ok).toBe(true);
    expect(store.encryptionKey(after)).toMatchObject({ ok: true, value: { serial: newer.serial } });
    const relisted = decryptV3Certificates(wire, { apiV3Key, now: after });
    expect(relisted.ok && relisted.value.valid.map((c) => c.serial)).toEqual([newer.serial]);
  });

  it("refuses an unknown serial, and a certificate outside its window", () => {
    const store = createV3KeyStore({ certificates: [older.certificatePem] });
    const now = new Date("2025-01-01T00:00:00Z");
    for (const serial of ["3333333333333333333333333333333333333333", "PUB_KEY_ID_0114232134912410000000000000", "", "../etc", "x".repeat(5000)]) {
      const result = store.verificationKey(serial, now);
      expect(result.ok ? "accepted" : result.error.code).toBe("UNKNOWN_SERIAL");
    }
    const early = store.verificationKey(older.serial, new Date("2023-12-31T23:59:59Z"));
    expect(early.ok ? "accepted" : early.error.code).toBe("CERTIFICATE_NOT_YET_VALID");
    const none = store.encryptionKey(new Date("2027-01-01T00:00:00Z"));
    expect(none.ok ? "accepted" : none.error.code).toBe("NO_ENCRYPTION_KEY");
  });

  it("matches a hex serial in any case, and a public key ID exactly", () => {
    const store = createV3KeyStore({
      certificates: [vectors.notifyWithPlatformCert.certificatePem],
      publicKeys: [{ id: "PUB_KEY_ID_0114232134912410000000000000", publicKey: vectors.publicKeyVerify.publicKeyPem }],
    });
    const now = new Date("2025-01-01T00:00:00Z");
    expect(store.verificationKey("d7ce59d1f522d701", now)).toMatchObject({ ok: true, value: { kind: "certificate", serial: "D7CE59D1F522D701" } });
    expect(store.verificationKey("PUB_KEY_ID_0114232134912410000000000000", now)).toMatchObject({ ok: true, value: { kind: "publicKey" } });
    expect(store.verificationKey("pub_key_id_0114232134912410000000000000", now).ok).toBe(false);
    expect(store.serials).toEqual(["D7CE59D1F522D701", "PUB_KEY_ID_0114232134912410000000000000"]);
  });

  it("holds both modes during migration and encrypts with the public key", () => {
    const store = createV3KeyStore({ certificates: [older.certificatePem], publicKeys: [{ id: "PUB_KEY_ID_1", publicKey: keyPair.publicKey }] });
    const now = new Date("2025-01-01T00:00:00Z");
    expect(store.verificationKey(older.serial, now).ok).toBe(true);
    expect(store.verificationKey("PUB_KEY_ID_1", now).ok).toBe(true);
    expect(store.encryptionKey(new Date("2040-01-01T00:00:00Z"))).toMatchObject({ ok: true, value: { serial: "PUB_KEY_ID_1" } });
  });

  it("refreshes with withCertificates, leaving the old store unchanged", () => {
    const store = createV3KeyStore({ certificates: [older.certificatePem] });
    const refreshed = store.withCertificates([newer.certificatePem, older.certificatePem]);
    expect(refreshed.serials).toEqual([older.serial, newer.serial]);
    expect(store.serials).toEqual([older.serial]);
  });

  it.each([
    ["a malformed certificate", { certificates: ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"] }],
    ["a malformed key ID", { publicKeys: [{ id: "KEY_1", publicKey: keyPair.publicKeyPem }] }],
    ["a private key as public key", { publicKeys: [{ id: "PUB_KEY_ID_1", publicKey: keyPair.privateKey }] }],
    ["a malformed public key", { publicKeys: [{ id: "PUB_KEY_ID_1", publicKey: "nope" }] }],
    [
      "a key ID listed twice",
      {
        publicKeys: [
          { id: "PUB_KEY_ID_1", publicKey: keyPair.publicKeyPem },
          { id: "PUB_KEY_ID_1", publicKey: keyPair.publicKeyPem },
        ],
      },
    ],
    ["no keys at all", {}],
  ])("throws PayCoreError for %s (configuration)", (_, options) => {
    expect(() => createV3KeyStore(options)).toThrow(PayCoreError);
  });
});
