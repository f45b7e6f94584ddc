import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadVectors } from "../../test/support/reference.js";
import { generateNonceStr } from "./nonce.js";
import { decryptRefundReqInfo, encryptRefundReqInfo, refundNotifyAesKey } from "./refund-req-info.js";

const { refundReqInfo: v8 } = loadVectors();

describe("refund notify req_info (V8)", () => {
  it("derives the AES key as the lowercase hex MD5 of the API key", () => {
    expect(refundNotifyAesKey(v8.apiKey).toString("ascii")).toBe(v8.aesKey);
  });

  it("decrypts the published req_info to the published <root> payload", () => {
    expect(decryptRefundReqInfo(v8.reqInfo, v8.apiKey)).toEqual({ ok: true, value: v8.plaintext });
  });

  it("encrypts to the same bytes the gateway produced (ECB is deterministic)", () => {
    expect(encryptRefundReqInfo(v8.plaintext, v8.apiKey)).toBe(v8.reqInfo);
  });

  it("fails with a code, not a throw, for a wrong key, tampering or garbage", () => {
    expect(decryptRefundReqInfo(v8.reqInfo, "another-api-key-of-32-characters")).toMatchObject({ ok: false, error: { code: "DECRYPT_FAILED" } });
    const bytes = Buffer.from(v8.reqInfo, "base64");
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    expect(decryptRefundReqInfo(bytes.toString("base64"), v8.apiKey)).toMatchObject({ ok: false, error: { code: "DECRYPT_FAILED" } });
    expect(decryptRefundReqInfo("not base64!", v8.apiKey)).toMatchObject({ ok: false, error: { code: "MALFORMED_REQ_INFO" } });
    expect(decryptRefundReqInfo("", v8.apiKey)).toMatchObject({ ok: false, error: { code: "MALFORMED_REQ_INFO" } });
    expect(decryptRefundReqInfo(Buffer.alloc(15).toString("base64"), v8.apiKey)).toMatchObject({ ok: false, error: { code: "MALFORMED_REQ_INFO" } });
  });

  it("property: encrypt -> decrypt round-trips any UTF-8 text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ minLength: 1, maxLength: 40 }), (text, key) => {
        expect(decryptRefundReqInfo(encryptRefundReqInfo(text, key), key)).toEqual({ ok: true, value: text });
      }),
    );
  });
});

describe("generateNonceStr", () => {
  it("is 32 hex characters and does not repeat", () => {
    const seen = new Set(Array.from({ length: 1000 }, generateNonceStr));
    expect(seen.size).toBe(1000);
    for (const nonce of seen) expect(nonce).toMatch(/^[0-9a-f]{32}$/);
  });
});
