import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PayCoreError } from "../errors.js";
import { createV3TestCertificate, generateV3TestKeyPair } from "./v3-keys.js";

const notBefore = new Date("2024-01-01T00:00:00Z");
const notAfter = new Date("2029-01-01T00:00:00Z");

describe("test certificates", () => {
  const keyPair = generateV3TestKeyPair();

  it.each([undefined, "1A", "57CE59D1F522D701", "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC"])("keeps the serial %s as node:crypto reads it", (serial) => {
    const cert = createV3TestCertificate({ ...(serial === undefined ? {} : { serial }), notBefore, notAfter, keyPair });
    const x509 = new X509Certificate(cert.certificatePem);
    expect(x509.serialNumber).toBe(serial ?? cert.serial);
    expect(cert.serial).toMatch(serial === undefined ? /^[0-9A-F]{40}$/ : /./);
    expect(new Date(x509.validFrom)).toEqual(notBefore);
    expect(new Date(x509.validTo)).toEqual(notAfter);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.publicKey.export({ type: "spki", format: "pem" })).toBe(keyPair.publicKeyPem);
    expect(x509.subject).toContain("CN=Tenpay.com sign");
  });

  it.each([
    ["lower case", "abc"],
    ["leading zero", "0A"],
    ["odd length", "123"],
    ["negative", "8A"],
    ["41 digits", "1".repeat(41)],
  ])("refuses a %s serial", (_, serial) => {
    expect(() => createV3TestCertificate({ serial, notBefore, notAfter, keyPair })).toThrow(PayCoreError);
  });

  it("refuses an empty validity window", () => {
    expect(() => createV3TestCertificate({ notBefore: notAfter, notAfter: notBefore, keyPair })).toThrow(PayCoreError);
  });
});
