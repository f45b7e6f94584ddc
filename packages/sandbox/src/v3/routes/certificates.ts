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

/** `algorithm_type` values OAPI lists; the sandbox's certificates are all RSA. */
const ALGORITHM_TYPES = ["RSA", "SM2", "ALL"] as const;

/**
 * `GET /v3/certificates` (and Global's `/v3/global/certificates`): the platform certificates in use,
 * each encrypted with the merchant's APIv3 key (AES-256-GCM, AAD `certificate`), signed like any answer.
 * A merchant in public-key mode has none: 404 RESOURCE_NOT_EXISTS, as for merchants onboarded since late 2024.
 * The 404 is signed: the request passed every check and the refusal is the gateway's business answer.
 * A rotated-out certificate is listed until its overlap ends; its effective and expire times are the certificate's own.
 * `?algorithm_type=RSA|SM2|ALL` (JAVA sends RSA) is checked; SM2 lists nothing, as the sandbox issues RSA certificates only.
 */
export function listCertificates(sandbox: SandboxContext, call: V3Call): void {
  const now = sandbox.clock.now();
  const algorithm = call.query.get("algorithm_type");
  if (algorithm !== null && !(ALGORITHM_TYPES as readonly string[]).includes(algorithm)) {
    return replyV3Error(sandbox, call.ctx, 400, {
      code: "PARAM_ERROR",
      message: `输入源“/query/algorithm_type”映射到值字段“证书算法类型”枚举值校验失败，取值须为${ALGORITHM_TYPES.join("、")}之一`,
      detail: { location: "query", value: algorithm },
    });
  }
  if (call.identity.keyMode === "public-key") return replyV3Error(sandbox, call.ctx, 404, { code: "RESOURCE_NOT_EXISTS", message: NO_PLATFORM_CERTIFICATES }, call);
  const live = algorithm === "SM2" ? [] : sandbox.v3.liveCertificates(call.identity, now);
  const data = live.map((certificate) => {
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
