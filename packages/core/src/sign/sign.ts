import { createHash, createHmac } from "node:crypto";
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

/** Hashes an already-built string to sign; uppercase hex. */
export function digestStringToSign(stringToSign: string, options: SignOptions): string {
  const hex =
    options.signType === "MD5"
      ? createHash("md5").update(stringToSign, "utf8").digest("hex")
      : createHmac("sha256", options.key).update(stringToSign, "utf8").digest("hex");
  return hex.toUpperCase();
}

/** The v2 signature of `params` (MD5 or HMAC-SHA256, uppercase hex), per the canonical form. */
export function signParams(params: SignableParams, options: SignOptions): string {
  assertOptions(options);
  return digestStringToSign(buildStringToSign(params, options.key), options);
}
