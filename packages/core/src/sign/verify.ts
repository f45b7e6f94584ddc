import { timingSafeEqual } from "node:crypto";
import { PayCoreError } from "../errors.js";
import { err, ok, type Result } from "../result.js";
import type { FlatXml } from "../xml/parse.js";
import { buildStringToSign, buildStringToSignFromLists, type SignableValue } from "./canonical.js";
import { digestBytes } from "./sign.js";
import { isSignType, signTypeFromLength, SIGN_HEX_LENGTH, type SignType } from "./sign-type.js";

export const VERIFY_ERROR_CODES = ["MISSING_SIGN", "MALFORMED_SIGN", "UNKNOWN_SIGN_TYPE", "SIGN_TYPE_NOT_ALLOWED", "SIGN_MISMATCH", "UNSIGNABLE_FIELD"] as const;
export type VerifyErrorCode = (typeof VERIFY_ERROR_CODES)[number];

/** How a received message is checked. */
export interface VerifyOptions {
  /** The merchant's v2 API key (the institution's key in institutional mode). */
  readonly key: string;
  /** The algorithm(s) this caller accepts, normally the one the order was placed with. */
  readonly signType: SignType | readonly SignType[];
  /**
   * When the message carries no `sign_type`, take the algorithm from the signature's length
   * (32 hex = MD5, 64 hex = HMAC-SHA256) instead of the protocol default MD5. Genuine HMAC-SHA256
   * notifies arrive without `sign_type`, so a notify handler for an HMAC merchant sets this.
   */
  readonly inferSignType?: boolean;
}

/** What a verified message was signed with. */
export interface Verified {
  readonly signType: SignType;
}

const HEX_UPPER = /^[0-9A-F]+$/;

type SignCheck = { readonly sign: string; readonly signType: SignType };

/** Everything before the digest: the options, the sign's form and the algorithm it was made with. */
function checkSign(sign: SignableValue, declared: SignableValue, options: VerifyOptions): Result<SignCheck, VerifyErrorCode> {
  if (typeof options.key !== "string" || options.key === "") {
    throw new PayCoreError("INVALID_OPTION", "The API key is missing.");
  }
  const allowed: readonly SignType[] = typeof options.signType === "string" ? [options.signType] : options.signType;
  if (allowed.length === 0 || !allowed.every(isSignType)) {
    throw new PayCoreError("INVALID_OPTION", "signType must name MD5 and/or HMAC-SHA256.");
  }

  if (typeof sign !== "string" || sign === "") return err("MISSING_SIGN", "The message has no sign field.");
  const upper = sign.toUpperCase();
  if (!HEX_UPPER.test(upper)) return err("MALFORMED_SIGN", "The sign field is not hexadecimal.");

  let signType: SignType;
  if (declared !== undefined && declared !== null && declared !== "") {
    if (!isSignType(declared)) return err("UNKNOWN_SIGN_TYPE", `sign_type "${String(declared)}" is not MD5 or HMAC-SHA256.`);
    signType = declared;
  } else if (options.inferSignType === true) {
    const implied = signTypeFromLength(upper);
    if (implied === undefined) return err("MALFORMED_SIGN", `A sign of ${upper.length} characters fits no algorithm.`);
    signType = implied;
  } else {
    signType = "MD5";
  }
  if (!allowed.includes(signType)) {
    return err("SIGN_TYPE_NOT_ALLOWED", `The message is signed with ${signType}, which this merchant does not accept.`);
  }
  if (upper.length !== SIGN_HEX_LENGTH[signType]) {
    return err("MALFORMED_SIGN", `A ${signType} sign has ${SIGN_HEX_LENGTH[signType]} characters, not ${upper.length}.`);
  }
  return ok({ sign: upper, signType });
}

/** Compares the digest of the string to sign with the received sign, in constant time. */
function compareSign(stringToSign: string, check: SignCheck, key: string): Result<Verified, VerifyErrorCode> {
  const expected = digestBytes(stringToSign, { key, signType: check.signType });
  // The sign is checked hex of the algorithm's length, so its bytes have the digest's length.
  if (!timingSafeEqual(expected, Buffer.from(check.sign, "hex"))) {
    return err("SIGN_MISMATCH", "The signature does not match the message.");
  }
  return ok({ signType: check.signType });
}

/**
 * Verifies a received v2 message over every field it carries (known or not), in constant time.
 * Never throws for hostile input: it answers with a coded result.
 */
export function verifySign(fields: Readonly<Record<string, SignableValue>>, options: VerifyOptions): Result<Verified, VerifyErrorCode> {
  const check = checkSign(fields.sign, fields.sign_type, options);
  if (!check.ok) return check;
  let stringToSign: string;
  try {
    stringToSign = buildStringToSign(fields, options.key);
  } catch (cause) {
    if (cause instanceof PayCoreError) return err("UNSIGNABLE_FIELD", cause.message);
    throw cause;
  }
  return compareSign(stringToSign, check.value, options.key);
}

/**
 * `verifySign` of a parsed document, walking its names and values in document order instead of asking
 * its record: the same checks over the same text.
 */
export function verifyParsedSign(document: FlatXml, options: VerifyOptions): Result<Verified, VerifyErrorCode> {
  const check = checkSign(document.fields.sign, document.fields.sign_type, options);
  if (!check.ok) return check;
  let stringToSign: string;
  try {
    stringToSign = buildStringToSignFromLists(document.names, document.values, options.key);
  } catch (cause) {
    if (cause instanceof PayCoreError) return err("UNSIGNABLE_FIELD", cause.message);
    throw cause;
  }
  return compareSign(stringToSign, check.value, options.key);
}
