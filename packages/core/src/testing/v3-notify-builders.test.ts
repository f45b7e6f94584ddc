import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../test/support/reference.js";
import { PayCoreError } from "../errors.js";
import { decryptV3ResourceText } from "../v3/crypto/aes-gcm.js";
import { createV3KeyStore } from "../v3/keys/key-store.js";
import { parseV3Notify } from "../v3/notify/parse-notify.js";
import { verifyV3Signature } from "../v3/verify/verify.js";
import { buildSignedV3Notify, signV3Answer } from "./v3-notify-builders.js";
import { createV3TestCertificate, generateV3TestKeyPair, v3TestKeyPairFromPem } from "./v3-keys.js";

const vectors = loadVectorsV3();
const now = new Date("2026-03-01T12:00:00Z");
const apiV3Key = "0123456789abcdef0123456789abcdef";

describe("signV3Answer", () => {
  it("signs the publicKeyVerify message as the gateway would (PKCS#1 v1.5 is deterministic)", () => {
    const sample = v3TestKeyPairFromPem(vectors.merchantSampleKey.privateKeyPem);
    const keys = createV3KeyStore({ publicKeys: [{ id: "PUB_KEY_ID_1", publicKey: sample.publicKeyPem }] });
    const headers = signV3Answer("{}", { signer: { privateKey: sample.privateKey, serial: "PUB_KEY_ID_1" }, now, nonce: "593BEC0C930BF1AFEB40B4A08C8FB242" });
    expect(headers["Wechatpay-Timestamp"]).toBe(String(now.getTime() / 1000));
    expect(headers["Wechatpay-Signature-Type"]).toBe("WECHATPAY2-SHA256-RSA2048");
    expect(signV3Answer("{}", { signer: { privateKey: sample.privateKey, serial: "PUB_KEY_ID_1" }, now, nonce: "593BEC0C930BF1AFEB40B4A08C8FB242" })).toEqual(headers);
    expect(verifyV3Signature({ headers, body: "{}", keys, now }).ok).toBe(true);
    expect(signV3Answer("{}", { signer: { privateKey: sample.privateKey, serial: "x" }, now })["Wechatpay-Nonce"]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("buildSignedV3Notify", () => {
  const gateway = generateV3TestKeyPair();
  const cert = createV3TestCertificate({ notBefore: new Date("2025-01-01T00:00:00Z"), notAfter: new Date("2030-01-01T00:00:00Z"), keyPair: gateway });
  const signer = { privateKey: gateway.privateKey, serial: cert.serial };
  const keys = createV3KeyStore({ certificates: [cert.certificatePem] });

  it("writes the live envelope: key order, AAD per event family, 12-character resource nonce, +08:00 time", () => {
    const notify = buildSignedV3Notify({ eventType: "REFUND.SUCCESS", resource: { a: 1 }, apiV3Key, signer, now, id: "EV-1" });
    const body = JSON.parse(notify.body) as { resource: { associated_data: string; nonce: string; ciphertext: string; original_type: string } };
    expect(Object.keys(body)).toEqual(["id", "create_time", "resource_type", "event_type", "summary", "resource"]);
    expect(notify.body).toContain('"create_time":"2026-03-01T20:00:00+08:00"');
    expect(body.resource.original_type).toBe("refund");
    expect(body.resource.associated_data).toBe("refund");
    expect(body.resource.nonce).toMatch(/^[0-9A-Za-z]{12}$/);
    expect(notify.headers["Wechatpay-Nonce"]).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(decryptV3ResourceText({ ciphertext: body.resource.ciphertext, nonce: body.resource.nonce, associatedData: "refund" }, apiV3Key)).toEqual({ ok: true, value: '{"a":1}' });
  });

  it("can send a probe, which the parser refuses", () => {
    const notify = buildSignedV3Notify({ eventType: "TRANSACTION.SUCCESS", resource: {}, apiV3Key, signer, now, signature: "WECHATPAY/SIGNTEST/QUJD" });
    const result = parseV3Notify(notify.body, notify.headers, { keys, apiV3Key, now });
    expect(result.ok ? "accepted" : result.error.code).toBe("SIGNATURE_PROBE");
  });

  it("refuses an event type that is not one", () => {
    expect(() => buildSignedV3Notify({ eventType: "paid", resource: {}, apiV3Key, signer, now })).toThrow(PayCoreError);
  });

  it("round-trips any refund (build -> parse)", () => {
    const refund = fc.record({
      status: fc.constantFrom("SUCCESS", "ABNORMAL", "CLOSED"),
      refund: fc.integer({ min: 1, max: 1_000_000 }),
      outRefundNo: fc.stringMatching(/^[0-9A-Za-z_\-|*@]{1,64}$/),
      skew: fc.integer({ min: -299, max: 299 }),
    });
    fc.assert(
      fc.property(refund, (r) => {
        const notify = buildSignedV3Notify({
          eventType: `REFUND.${r.status}`,
          resource: {
            mchid: "1900000100",
            transaction_id: "4200000000",
            out_trade_no: "T1",
            refund_id: "5030",
            out_refund_no: r.outRefundNo,
            refund_status: r.status,
            amount: { total: 1_000_000, refund: r.refund, payer_total: 1_000_000, payer_refund: r.refund },
          },
          apiV3Key,
          signer,
          now: new Date(now.getTime() + r.skew * 1000),
        });
        const result = parseV3Notify(notify.body, notify.headers, { keys, apiV3Key, now });
        expect(result).toMatchObject({
          ok: true,
          value: { kind: "refund", refund: { refundStatus: r.status, outRefundNo: r.outRefundNo, refund: { amount: r.refund, currency: "CNY" } } },
        });
      }),
      { numRuns: 25 },
    );
  });
});
