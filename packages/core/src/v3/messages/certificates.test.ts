import { describe, expect, it } from "vitest";
import { loadVectorsV3 } from "../../../test/support/reference.js";
import { parseV3Answer } from "./answer.js";
import { buildV3Certificates, V3CertificatesAnswerSchema } from "./certificates.js";

const vectors = loadVectorsV3();

describe("certificates", () => {
  it("builds GET /v3/certificates and Global's /v3/global/certificates", () => {
    expect(buildV3Certificates()).toEqual({ method: "GET", host: "https://api.mch.weixin.qq.com", path: "/v3/certificates", body: "" });
    expect(buildV3Certificates({ global: true })).toEqual({ method: "GET", host: "https://apihk.mch.weixin.qq.com", path: "/v3/global/certificates", body: "" });
  });

  it("reads the shape of the encrypted list in vectors-v3.json", () => {
    const response = vectors.platformCertificates.response as { data: Array<{ encrypt_certificate: { ciphertext: string } }> };
    const parsed = parseV3Answer(V3CertificatesAnswerSchema, JSON.stringify(response));
    expect(parsed).toEqual({
      ok: true,
      value: {
        data: [
          {
            serialNo: vectors.platformCertificates.decryptedSerial,
            effectiveTime: "2023-09-19T23:15:58+08:00",
            expireTime: "2028-09-17T23:15:58+08:00",
            encryptCertificate: {
              algorithm: "AEAD_AES_256_GCM",
              nonce: "14b16c03dc1b",
              associatedData: "certificate",
              ciphertext: response.data[0]?.encrypt_certificate.ciphertext,
            },
          },
        ],
      },
    });
  });

  it.each<[string, string, string, string]>([
    ["no data", "{}", "MISSING_FIELD", "Field data: is required"],
    [
      "no serial_no",
      '{"data":[{"effective_time":"2023-09-19T23:15:58+08:00","expire_time":"2028-09-17T23:15:58+08:00","encrypt_certificate":{"algorithm":"AEAD_AES_256_GCM","nonce":"n","associated_data":"certificate","ciphertext":"c"}}]}',
      "MISSING_FIELD",
      "Field data.0.serial_no",
    ],
    [
      "no ciphertext",
      '{"data":[{"serial_no":"5DEA","effective_time":"2023-09-19T23:15:58+08:00","expire_time":"2028-09-17T23:15:58+08:00","encrypt_certificate":{"algorithm":"AEAD_AES_256_GCM","nonce":"n","associated_data":"certificate"}}]}',
      "MISSING_FIELD",
      "Field data.0.encrypt_certificate.ciphertext",
    ],
    [
      "a non-hex serial",
      '{"data":[{"serial_no":"PUB_KEY_ID_1","effective_time":"2023-09-19T23:15:58+08:00","expire_time":"2028-09-17T23:15:58+08:00","encrypt_certificate":{"algorithm":"A","nonce":"n","associated_data":"certificate","ciphertext":"c"}}]}',
      "INVALID_FIELD",
      "Field data.0.serial_no",
    ],
    [
      "an expire_time without offset",
      '{"data":[{"serial_no":"5DEA","effective_time":"2023-09-19T23:15:58+08:00","expire_time":"2028-09-17","encrypt_certificate":{"algorithm":"A","nonce":"n","associated_data":"certificate","ciphertext":"c"}}]}',
      "INVALID_FIELD",
      "Field data.0.expire_time",
    ],
  ])("refuses %s", (_, text, code, message) => {
    const parsed = parseV3Answer(V3CertificatesAnswerSchema, text);
    expect(parsed).toMatchObject({ ok: false, error: { code } });
    expect(!parsed.ok && parsed.error.message).toContain(message);
  });
});
