export { buildStringToSign, buildStringToSignFromLists, canonicalPairs, compareByteOrder, type SignableParams, type SignableValue } from "./canonical.js";
export { digestStringToSign, signParams, type SignOptions } from "./sign.js";
export { isSignType, SIGN_HEX_LENGTH, SIGN_TYPES, signTypeFromLength, type SignType } from "./sign-type.js";
export { VERIFY_ERROR_CODES, verifyParsedSign, verifySign, type Verified, type VerifyErrorCode, type VerifyOptions } from "./verify.js";
