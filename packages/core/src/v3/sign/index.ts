export {
  buildV3Authorization,
  MAX_V3_AUTHORIZATION_LENGTH,
  parseV3Authorization,
  V3_AUTHORIZATION_ERROR_CODES,
  V3_AUTHORIZATION_SCHEME,
  type V3Authorization,
  type V3AuthorizationErrorCode,
} from "./authorization.js";
export { loadV3MerchantPrivateKey, loadV3MerchantPublicKey } from "./keys.js";
export { buildV3RequestMessage, type V3RequestMessageParts } from "./message.js";
export { isV3SignatureBase64, MAX_V3_SIGNATURE_BYTES, signV3Message, verifyV3Message } from "./rsa.js";
export { createV3Signer, generateV3Nonce, type V3SignedRequest, type V3Signer, type V3SignerOptions, type V3SignRequest } from "./signer.js";
export { verifyV3RequestSignature, type V3RequestVerifyErrorCode, type V3RequestVerifyInput } from "./verify-request.js";
