import { timingSafeEqual } from "node:crypto";
import { PayCoreError } from "../errors.js";
import { err, ok, type Result } from "../result.js";
import { buildStringToSign, type SignableValue } from "./canonical.js";
import { digestStringToSign } from "./sign.js";
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

/**
 * Verifies a received v2 message over every field it carries (known or not), in constant time.
 * Never throws for hostile input: it answers with a coded result.
 */
export function verifySign(fields: Readonly<Record<string, SignableValue>>, options: VerifyOptions): Result<Verified, VerifyErrorCode> {
  if (typeof options.key !== "string" || options.key === "") {
    throw new PayCoreError("INVALID_OPTION", "The API key is missing.");
  }
  const allowed: readonly SignType[] = typeof options.signType === "string" ? [options.signType] : options.signType;
  if (allowed.length === 0 || !allowed.every(isSignType)) {
    throw new PayCoreError("INVALID_OPTION", "signType must name MD5 and/or HMAC-SHA256.");
  }

  const received = fields.sign;
  if (typeof received !== "string" || received === "") return err("MISSING_SIGN", "The message has no sign field.");
  const sign = received.toUpperCase();
  if (!HEX_UPPER.test(sign)) return err("MALFORMED_SIGN", "The sign field is not hexadecimal.");

  const declared = fields.sign_type;
  let signType: SignType;
  if (declared !== undefined && declared !== null && declared !== "") {
    if (!isSignType(declared)) return err("UNKNOWN_SIGN_TYPE", `sign_type "${String(declared)}" is not MD5 or HMAC-SHA256.`);
    signType = declared;
  } else if (options.inferSignType === true) {
    const implied = signTypeFromLength(sign);
    if (implied === undefined) return err("MALFORMED_SIGN", `A sign of ${sign.length} characters fits no algorithm.`);
    signType = implied;
  } else {
    signType = "MD5";
  }
  if (!allowed.includes(signType)) {
    return err("SIGN_TYPE_NOT_ALLOWED", `The message is signed with ${signType}, which this merchant does not accept.`);
  }
  if (sign.length !== SIGN_HEX_LENGTH[signType]) {
    return err("MALFORMED_SIGN", `A ${signType} sign has ${SIGN_HEX_LENGTH[signType]} characters, not ${sign.length}.`);
  }

  let expected: string;
  try {
    expected = digestStringToSign(buildStringToSign(fields, options.key), { key: options.key, signType });
  } catch (cause) {
    if (cause instanceof PayCoreError) return err("UNSIGNABLE_FIELD", cause.message);
    throw cause;
  }
  // Both are ASCII hex of the same length here, so the byte buffers have equal length.
  if (!timingSafeEqual(Buffer.from(expected, "latin1"), Buffer.from(sign, "latin1"))) {
    return err("SIGN_MISMATCH", "The signature does not match the message.");
  }
  return ok({ signType });
}
