export { readHeader, WECHATPAY_HEADERS, type V3Headers } from "./headers.js";
export {
  buildV3VerifyMessage,
  V3_MAX_SKEW_SECONDS,
  V3_SIGNATURE_TYPE,
  verifyV3Signature,
  type V3VerifiedSignature,
  type V3VerifyErrorCode,
  type VerifyV3SignatureOptions,
} from "./verify.js";
