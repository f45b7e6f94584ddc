import { createHmac, createSecretKey, hash, type KeyObject } from "node:crypto";
import { PayCoreError } from "../errors.js";
import { buildStringToSign, type SignableParams } from "./canonical.js";
import { isSignType, type SignType } from "./sign-type.js";

/** Options for signing: the merchant's v2 API key and the algorithm. */
export interface SignOptions {
  readonly key: string;
  readonly signType: SignType;
}

function assertOptions(options: SignOptions): void {
  if (typeof options.key !== "string" || options.key === "") {
    throw new PayCoreError("INVALID_OPTION", "The API key is missing.");
  }
  if (!isSignType(options.signType)) {
    throw new PayCoreError("INVALID_OPTION", `Unknown sign type ${String(options.signType)}; use MD5 or HMAC-SHA256.`);
  }
}

const MAX_CACHED_HMAC_KEYS = 64;
const hmacKeys = new Map<string, KeyObject>();

/** The HMAC key object for an API key: a merchant signs with one key, and a KeyObject skips re-importing it per call. */
function hmacKey(apiKey: string): KeyObject {
  let keyObject = hmacKeys.get(apiKey);
  if (keyObject === undefined) {
    if (hmacKeys.size >= MAX_CACHED_HMAC_KEYS) hmacKeys.clear();
    keyObject = createSecretKey(Buffer.from(apiKey, "utf8"));
    hmacKeys.set(apiKey, keyObject);
  }
  return keyObject;
}

/** Hashes an already-built string to sign; uppercase hex. */
export function digestStringToSign(stringToSign: string, options: SignOptions): string {
  // crypto.hash is Node's one-shot digest (20.12+): the same MD5, without a Hash object per call.
  const hex = options.signType === "MD5" ? hash("md5", stringToSign, "hex") : createHmac("sha256", hmacKey(options.key)).update(stringToSign, "utf8").digest("hex");
  return hex.toUpperCase();
}

/** The v2 signature of `params` (MD5 or HMAC-SHA256, uppercase hex), per the canonical form. */
export function signParams(params: SignableParams, options: SignOptions): string {
  assertOptions(options);
  return digestStringToSign(buildStringToSign(params, options.key), options);
}
