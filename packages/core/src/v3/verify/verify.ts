import { createVerify } from "node:crypto";
import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import { decodeBase64Strict } from "../crypto/base64.js";
import type { V3KeyLookupErrorCode, V3KeyStore, V3VerificationKey } from "../keys/key-store.js";
import { readHeader, WECHATPAY_HEADERS, type V3Headers } from "./headers.js";
import { epochMs, type Instant } from "../../time.js";

export type V3VerifyErrorCode =
  | V3KeyLookupErrorCode
  | "MISSING_HEADER"
  | "MALFORMED_HEADER"
  | "INVALID_TIMESTAMP"
  | "TIMESTAMP_SKEW"
  | "UNSUPPORTED_SIGNATURE_TYPE"
  | "SIGNATURE_PROBE"
  | "MALFORMED_SIGNATURE"
  | "BAD_SIGNATURE";

/** The only signature type WeChat Pay APIv3 uses (and the default when the header is absent). */
export const V3_SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048";
/** Answers and notifies more than this far from `now`, either way, are refused (WeChat Pay's 5 minutes). */
export const V3_MAX_SKEW_SECONDS = 300;
const PROBE_PREFIX = "WECHATPAY/SIGNTEST/";
const TIMESTAMP = /^[0-9]{1,12}$/;
const NONCE = /^[\x21-\x7e]{1,128}$/;

export interface VerifyV3SignatureOptions {
  readonly headers: V3Headers;
  /**
   * The body exactly as received: the raw bytes (Buffer/Uint8Array) or the exact string read from the
   * socket. Never `JSON.stringify(ctx.request.body)`: re-serialised JSON changes spacing, key order and
   * escapes, and is the most common APIv3 verification bug. An empty 204 answer is "".
   */
  readonly body: string | Uint8Array;
  readonly keys: V3KeyStore;
  readonly now: Instant;
}

/** What a good signature proves: who signed (the key named by Wechatpay-Serial), when, with which nonce. */
export interface V3VerifiedSignature {
  readonly serial: string;
  readonly key: V3VerificationKey;
  /** Unix seconds from Wechatpay-Timestamp. */
  readonly timestamp: number;
  readonly nonce: string;
}

const LINE_FEED = Buffer.from("\n");

function requiredHeader(headers: V3Headers, name: string): Result<string, "MISSING_HEADER" | "MALFORMED_HEADER"> {
  const value = readHeader(headers, name);
  if (value === null) return err("MALFORMED_HEADER", `${name} is repeated with different values.`);
  if (value === undefined || value === "") return err("MISSING_HEADER", `${name} is missing (a proxy may strip Wechatpay-* headers).`);
  return ok(value);
}

/** `TIMESTAMP\nNONCE\nBODY\n`: the message WeChat Pay signs for answers and notifies. */
export function buildV3VerifyMessage(timestamp: string, nonce: string, body: string | Uint8Array): Buffer {
  if (typeof body === "string") return Buffer.from(`${timestamp}\n${nonce}\n${body}\n`, "utf8");
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`, "utf8"), body, LINE_FEED]);
}

/**
 * Verifies a WeChat Pay answer or notify: SHA256withRSA over `TIMESTAMP\nNONCE\nRAW_BODY\n` with the
 * platform certificate or WeChat Pay public key that `Wechatpay-Serial` names in `keys`. Always pass the
 * raw body as received (bytes or the exact string), never re-serialised JSON.
 *
 * Every refusal is a coded result, never a throw: a missing or repeated header, a non-numeric timestamp,
 * a timestamp more than 5 minutes from `now` (either way), a `Wechatpay-Signature-Type` other than
 * WECHATPAY2-SHA256-RSA2048, a `WECHATPAY/SIGNTEST/` probe (WeChat Pay checks that merchants refuse it),
 * malformed base64, an unknown serial, a certificate outside its validity window, a bad signature.
 */
export function verifyV3Signature(options: VerifyV3SignatureOptions): Result<V3VerifiedSignature, V3VerifyErrorCode> {
  const { headers, body, keys, now } = options;
  if (typeof body !== "string" && !(body instanceof Uint8Array)) {
    throw new PayCoreError("INVALID_OPTION", "verifyV3Signature needs the raw body (string or bytes) as received, not a parsed object: re-serialised JSON never verifies.");
  }
  const nowMs = epochMs(now);

  const ts = requiredHeader(headers, WECHATPAY_HEADERS.timestamp);
  if (!ts.ok) return ts;
  const nonce = requiredHeader(headers, WECHATPAY_HEADERS.nonce);
  if (!nonce.ok) return nonce;
  const signature = requiredHeader(headers, WECHATPAY_HEADERS.signature);
  if (!signature.ok) return signature;
  const serial = requiredHeader(headers, WECHATPAY_HEADERS.serial);
  if (!serial.ok) return serial;
  const signatureType = readHeader(headers, WECHATPAY_HEADERS.signatureType);
  if (signatureType === null) return err("MALFORMED_HEADER", `${WECHATPAY_HEADERS.signatureType} is repeated with different values.`);

  if (signatureType !== undefined && signatureType !== "" && signatureType !== V3_SIGNATURE_TYPE) {
    return err("UNSUPPORTED_SIGNATURE_TYPE", `Wechatpay-Signature-Type ${String(signatureType).slice(0, 64)} is not ${V3_SIGNATURE_TYPE}.`);
  }
  if (!TIMESTAMP.test(ts.value)) return err("INVALID_TIMESTAMP", "Wechatpay-Timestamp is not Unix seconds.");
  const seconds = Number(ts.value);
  const skewMs = nowMs - seconds * 1000;
  if (Math.abs(skewMs) > V3_MAX_SKEW_SECONDS * 1000) {
    return err("TIMESTAMP_SKEW", `Wechatpay-Timestamp is ${Math.round(skewMs / 1000)} s from now; more than ${V3_MAX_SKEW_SECONDS} s is refused (replay or clock skew).`);
  }
  if (!NONCE.test(nonce.value)) return err("MALFORMED_HEADER", "Wechatpay-Nonce is not 1 to 128 printable ASCII characters.");
  if (signature.value.startsWith(PROBE_PREFIX)) return err("SIGNATURE_PROBE", "The signature is a WECHATPAY/SIGNTEST/ probe; refusing it is the expected answer.");
  const signatureBytes = decodeBase64Strict(signature.value);
  if (signatureBytes === undefined) return err("MALFORMED_SIGNATURE", "Wechatpay-Signature is not base64.");
  const key = keys.verificationKey(serial.value, now);
  if (!key.ok) return key;
  let good = false;
  try {
    // The message fed in three parts: the same bytes as buildV3VerifyMessage without copying the body into
    // a joined buffer (or encoding a joined string) first; measured cheaper than the one-shot crypto.verify.
    const verifier = createVerify("sha256");
    verifier.update(`${ts.value}\n${nonce.value}\n`, "utf8");
    if (typeof body === "string") verifier.update(body, "utf8");
    else verifier.update(body);
    verifier.update(LINE_FEED);
    good = verifier.verify(key.value.publicKey, signatureBytes);
  } catch {
    good = false;
  }
  if (!good) return err("BAD_SIGNATURE", "The signature does not match the raw body with this key (was the body re-serialised?).");
  return ok({ serial: key.value.serial, key: key.value, timestamp: seconds, nonce: nonce.value });
}
