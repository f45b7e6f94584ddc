import type { KeyObject } from "node:crypto";
import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import { parseV3Authorization, type V3Authorization, type V3AuthorizationErrorCode } from "./authorization.js";
import { loadV3MerchantPublicKey } from "./keys.js";
import { verifyV3Message } from "./rsa.js";
import { epochMs, type Instant } from "../../time.js";

/** Why a signed v3 request was refused: its header, its clock, or its signature. */
export type V3RequestVerifyErrorCode = V3AuthorizationErrorCode | "REQUEST_TIMESTAMP_SKEW" | "REQUEST_TARGET_INVALID" | "REQUEST_SIGNATURE_MISMATCH";

/** A request as the gateway received it, and what to check it against. */
export interface V3RequestVerifyInput {
  /** The raw `Authorization` header. */
  readonly authorization: string | undefined | null;
  readonly method: string;
  /** Path plus `?` and the raw query exactly as received. */
  readonly urlPath: string;
  /** The raw body bytes as received ("" for none). */
  readonly body: string;
  /** The merchant's public key (SPKI / PKCS#1 PEM, its API certificate, or a KeyObject), chosen by the caller from mchid + serial_no. */
  readonly publicKey: string | KeyObject;
  /** The current time: a Date or epoch milliseconds. */
  readonly now: Instant;
  /** Largest allowed |now - timestamp| in seconds; 300 by default (the documented five minutes). */
  readonly maxSkewSeconds?: number;
}

const METHOD = /^[A-Z]{1,16}$/;
const URL_PATH = /^\/[\x21-\x7e]*$/;

/**
 * The gateway's check of a merchant request: parse the Authorization header, refuse a timestamp more than five
 * minutes from `now`, rebuild `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` from the raw request (never a re-serialised
 * body) and verify it with the merchant's public key. Every refusal is a coded result value.
 */
export function verifyV3RequestSignature(input: V3RequestVerifyInput): Result<V3Authorization, V3RequestVerifyErrorCode> {
  const maxSkew = input.maxSkewSeconds ?? 300;
  if (!Number.isFinite(maxSkew) || maxSkew < 0) throw new PayCoreError("INVALID_OPTION", "maxSkewSeconds must be a number of seconds.");
  const nowSeconds = epochMs(input.now) / 1000;
  const key = loadV3MerchantPublicKey(input.publicKey);
  const parsed = parseV3Authorization(input.authorization);
  if (!parsed.ok) return parsed;
  const auth = parsed.value;
  if (Math.abs(nowSeconds - auth.timestamp) > maxSkew) return err("REQUEST_TIMESTAMP_SKEW", `The request timestamp is more than ${maxSkew} seconds from the gateway's clock.`);
  if (typeof input.method !== "string" || !METHOD.test(input.method) || typeof input.urlPath !== "string" || !URL_PATH.test(input.urlPath) || typeof input.body !== "string") {
    return err("REQUEST_TARGET_INVALID", "The request's method or target cannot have been signed.");
  }
  const message = `${input.method}\n${input.urlPath}\n${auth.timestamp}\n${auth.nonce}\n${input.body}\n`;
  if (!verifyV3Message(message, auth.signature, key)) return err("REQUEST_SIGNATURE_MISMATCH", "The request signature does not verify with the merchant's public key.");
  return ok(auth);
}
