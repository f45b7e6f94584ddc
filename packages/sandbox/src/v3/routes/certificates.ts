import { randomBytes } from "node:crypto";
import { encryptV3Resource } from "@pay/core";
import type { SandboxContext } from "../../context.js";
import { replyV3Error, replyV3Signed, type V3Call } from "../http.js";
import { rfc3339Beijing } from "../views.js";

/** The gateway's answer for a merchant that has only a WeChat Pay public key (reference §1, status 404). */
const NO_PLATFORM_CERTIFICATES =
  "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/docs/merchant/products/platform-certificate/wxp-pub-key-guide.html";

/** A 12-character resource nonce like the gateway's (`61f9c719728a`). */
function certificateNonce(): string {
  return randomBytes(6).toString("hex");
}

/**
 * `GET /v3/certificates` (and Global's `/v3/global/certificates`): the platform certificates in use,
 * each encrypted with the merchant's APIv3 key (AES-256-GCM, AAD `certificate`), signed like any answer.
 * A merchant in public-key mode has none: 404 RESOURCE_NOT_EXISTS, as for merchants onboarded since late 2024.
 * A rotated-out certificate is listed until its overlap ends; its effective and expire times are the certificate's own.
 */
export function listCertificates(sandbox: SandboxContext, call: V3Call): void {
  const now = sandbox.clock.now();
  if (call.identity.keyMode === "public-key") return replyV3Error(sandbox, call.ctx, 404, { code: "RESOURCE_NOT_EXISTS", message: NO_PLATFORM_CERTIFICATES });
  const data = sandbox.v3.liveCertificates(call.identity, now).map((certificate) => {
    const encrypted = encryptV3Resource(certificate.certificatePem, { apiV3Key: call.identity.apiV3Key, nonce: certificateNonce(), associatedData: "certificate" });
    return {
      serial_no: certificate.serial,
      effective_time: rfc3339Beijing(certificate.effectiveAt),
      expire_time: rfc3339Beijing(certificate.expiresAt),
      encrypt_certificate: { algorithm: "AEAD_AES_256_GCM", nonce: encrypted.nonce, associated_data: encrypted.associatedData, ciphertext: encrypted.ciphertext },
    };
  });
  replyV3Signed(sandbox, call, 200, { data });
}
