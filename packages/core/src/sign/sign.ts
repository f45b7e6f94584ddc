import { hash } from "node:crypto";
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
const SHA256_BLOCK_BYTES = 64;

/** A key's HMAC-SHA256 pads (RFC 2104): the key (hashed when longer than a block) XOR 0x36 and XOR 0x5c. */
interface HmacPads {
  readonly inner: Buffer;
  readonly outer: Buffer;
}

const hmacPads = new Map<string, HmacPads>();

function padsOf(apiKey: string): HmacPads {
  let pads = hmacPads.get(apiKey);
  if (pads === undefined) {
    if (hmacPads.size >= MAX_CACHED_HMAC_KEYS) hmacPads.clear();
    let key = Buffer.from(apiKey, "utf8");
    if (key.length > SHA256_BLOCK_BYTES) key = hash("sha256", key, "buffer");
    const inner = Buffer.alloc(SHA256_BLOCK_BYTES, 0x36);
    const outer = Buffer.alloc(SHA256_BLOCK_BYTES, 0x5c);
    for (let i = 0; i < key.length; i++) {
      inner[i] = 0x36 ^ (key[i] as number);
      outer[i] = 0x5c ^ (key[i] as number);
    }
    pads = { inner, outer };
    hmacPads.set(apiKey, pads);
  }
  return pads;
}

// Where the inner hash's input (the inner pad, then the message as UTF-8) is written: no buffer per call.
// Used synchronously only, and overwritten by the next call.
const scratch = Buffer.allocUnsafe(16 * 1024);
const outerScratch = Buffer.allocUnsafe(SHA256_BLOCK_BYTES + 32);

/**
 * HMAC-SHA256 (RFC 2104) as two one-shot hashes: H(outer pad || H(inner pad || message)). Node's Hmac
 * object costs about as much to create as hashing a notify's text; crypto.hash has no object per call.
 * Checked against createHmac in sign.test.ts, lone surrogates and long keys included.
 */
export function hmacSha256(apiKey: string, message: string): Buffer {
  const { inner, outer } = padsOf(apiKey);
  let innerDigest: Buffer;
  // A UTF-16 unit takes at most 3 UTF-8 bytes, so a message within this bound is never cut short.
  if (SHA256_BLOCK_BYTES + message.length * 3 <= scratch.length) {
    inner.copy(scratch, 0);
    const written = scratch.write(message, SHA256_BLOCK_BYTES, "utf8");
    innerDigest = hash("sha256", scratch.subarray(0, SHA256_BLOCK_BYTES + written), "buffer");
  } else {
    innerDigest = hash("sha256", Buffer.concat([inner, Buffer.from(message, "utf8")]), "buffer");
  }
  outer.copy(outerScratch, 0);
  innerDigest.copy(outerScratch, SHA256_BLOCK_BYTES);
  return hash("sha256", outerScratch, "buffer");
}

/** The raw digest of an already-built string to sign (16 bytes MD5, 32 bytes HMAC-SHA256). */
export function digestBytes(stringToSign: string, options: SignOptions): Buffer {
  // crypto.hash is Node's one-shot digest (20.12+): the same MD5, without a Hash object per call.
  return options.signType === "MD5" ? hash("md5", stringToSign, "buffer") : hmacSha256(options.key, stringToSign);
}

/** Hashes an already-built string to sign; uppercase hex. */
export function digestStringToSign(stringToSign: string, options: SignOptions): string {
  return digestBytes(stringToSign, options).toString("hex").toUpperCase();
}

/** The v2 signature of `params` (MD5 or HMAC-SHA256, uppercase hex), per the canonical form. */
export function signParams(params: SignableParams, options: SignOptions): string {
  assertOptions(options);
  return digestStringToSign(buildStringToSign(params, options.key), options);
}
