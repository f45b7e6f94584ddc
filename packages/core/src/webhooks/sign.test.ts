import { describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_SIGNATURE_SCHEME, webhookSignature, webhookSignatureHeader } from "./sign.js";

const SECRET = "whsec_test_secret_0123456789abcdef";
const OTHER = "whsec_5Qm9xVb2Lr8Tn4Kd7Wz3Hj6Pc1Fy0Ga";
// Known answers computed with OpenSSL 3.0 when this test was written, independently of node:crypto:
//   printf '%s' '1733212800.{"hello":"world"}' | openssl dgst -sha256 -hmac 'whsec_test_secret_0123456789abcdef'
const HELLO = "9424ecf83935cf55bc61f5359baa3eff7c7436e3530aa933af803954158d6178";
//   printf '%s' '0.' | openssl dgst -sha256 -hmac 'whsec_test_secret_0123456789abcdef'
const EMPTY_AT_ZERO = "9085fa3fb3c56acb50e949cabd93977d7a54fc6a25ae2c956d969c72f2429d7f";

describe("webhookSignature", () => {
  it("is the hex HMAC-SHA256 of `t.body` (known answers from openssl)", () => {
    expect(webhookSignature(SECRET, 1733212800, '{"hello":"world"}')).toBe(HELLO);
    expect(webhookSignature(SECRET, 0, "")).toBe(EMPTY_AT_ZERO);
  });

  it("signs bytes and the same text as a string alike", () => {
    expect(webhookSignature(SECRET, 1733212800, new TextEncoder().encode('{"hello":"world"}'))).toBe(HELLO);
  });
});

describe("webhookSignatureHeader", () => {
  it("is t=<unix seconds>,v1=<hex>", () => {
    expect(webhookSignatureHeader('{"hello":"world"}', [SECRET], 1733212800)).toBe(`t=1733212800,v1=${HELLO}`);
  });

  it("has one v1 per secret, in the order given (new secret first during a rotation)", () => {
    const header = webhookSignatureHeader('{"hello":"world"}', [OTHER, SECRET], 1733212800);
    expect(header).toBe(`t=1733212800,v1=${webhookSignature(OTHER, 1733212800, '{"hello":"world"}')},v1=${HELLO}`);
    expect(header.split(",").map((part) => part.split("=")[0])).toEqual(["t", WEBHOOK_SIGNATURE_SCHEME, WEBHOOK_SIGNATURE_SCHEME]);
  });

  it.each([[-1], [1.5], [Number.NaN], [Number.POSITIVE_INFINITY], [2 ** 53]])("refuses the timestamp %s with a RangeError", (timestamp) => {
    expect(() => webhookSignatureHeader("{}", [SECRET], timestamp)).toThrow(RangeError);
    expect(() => webhookSignatureHeader("{}", [SECRET], timestamp)).toThrow(/whole unix seconds/);
  });

  it("refuses an empty secret list with a RangeError", () => {
    expect(() => webhookSignatureHeader("{}", [], 1733212800)).toThrow(new RangeError("signing a webhook needs at least one secret"));
  });

  it("names the three headers as the API sends them", () => {
    expect([WEBHOOK_SIGNATURE_HEADER, WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER]).toEqual(["Pay-Signature", "Pay-Event-Id", "Pay-Event-Type"]);
  });
});
