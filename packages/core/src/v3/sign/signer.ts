import { randomBytes, type KeyObject } from "node:crypto";
import { PayCoreError } from "../../errors.js";
import { buildV3Authorization } from "./authorization.js";
import { loadV3MerchantPrivateKey } from "./keys.js";
import { buildV3RequestMessage } from "./message.js";
import { signV3Message } from "./rsa.js";
import { unixSeconds, type Instant } from "../../time.js";

/** Who signs: the merchant (the service provider in partner mode), its API certificate serial and private key. */
export interface V3SignerOptions {
  /** The `mchid` of the Authorization header (sp_mchid in partner mode). */
  readonly mchId: string;
  /** Serial of the merchant API certificate (apiclient_cert.pem), hex. */
  readonly serialNo: string;
  /** apiclient_key.pem: PKCS#8 or PKCS#1 PEM, or a KeyObject. Parsed once, here. */
  readonly privateKey: string | KeyObject;
  /** Nonce source; by default 32 alphanumeric characters from the CSPRNG, as the SDKs send. */
  readonly nonce?: () => string;
}

/** One request to sign, exactly as it will be sent. */
export interface V3SignRequest {
  readonly method: string;
  /** Path plus `?` and the raw query, as sent. */
  readonly urlPath: string;
  /** The exact body bytes as a string; omit for GET. */
  readonly body?: string | undefined;
  /** The current time: a Date or epoch milliseconds (whole seconds are used). */
  readonly now: Instant;
  /** A fixed nonce for this request (known-answer tests); otherwise the signer's nonce source. */
  readonly nonce?: string;
}

/** A signed request: the header to send and the pieces that went into it. */
export interface V3SignedRequest {
  readonly authorization: string;
  readonly message: string;
  readonly signature: string;
  readonly timestamp: number;
  readonly nonce: string;
}

/** Signs v3 requests (and any other message) with one merchant key. */
export interface V3Signer {
  readonly mchId: string;
  readonly serialNo: string;
  /** Signs a request: `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` and the Authorization header for it. */
  signRequest(request: V3SignRequest): V3SignedRequest;
  /** Base64 SHA256withRSA of an arbitrary message with the merchant key (paySign uses this). */
  sign(message: string): string;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** 32 characters of [0-9A-Za-z] from the CSPRNG (bytes >= 248 are rejected, so every character is equally likely). */
export function generateV3Nonce(): string {
  let out = "";
  while (out.length < 32) {
    for (const byte of randomBytes(40)) {
      if (byte < 248 && out.length < 32) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** Builds a signer for one merchant key; checks the options and parses the key up front (throws PayCoreError). */
export function createV3Signer(options: V3SignerOptions): V3Signer {
  const { mchId, serialNo } = options;
  if (typeof mchId !== "string" || !/^[\x21-\x7e]{1,64}$/.test(mchId)) throw new PayCoreError("INVALID_OPTION", "mchId must be the merchant id.");
  if (typeof serialNo !== "string" || !/^[0-9A-Fa-f]{1,64}$/.test(serialNo)) {
    throw new PayCoreError("INVALID_OPTION", "serialNo must be the merchant API certificate serial in hex.");
  }
  const key = loadV3MerchantPrivateKey(options.privateKey);
  const nextNonce = options.nonce ?? generateV3Nonce;

  return {
    mchId,
    serialNo,
    signRequest(request: V3SignRequest): V3SignedRequest {
      const timestamp = unixSeconds(request.now);
      const nonce = request.nonce ?? nextNonce();
      const message = buildV3RequestMessage({ method: request.method, urlPath: request.urlPath, timestamp, nonce, body: request.body });
      const signature = signV3Message(message, key);
      const authorization = buildV3Authorization({ mchId, nonce, timestamp, serialNo, signature });
      return { authorization, message, signature, timestamp, nonce };
    },
    sign(message: string): string {
      return signV3Message(message, key);
    },
  };
}
