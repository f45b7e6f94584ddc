import { randomBytes, sign as rsaSign, type KeyObject } from "node:crypto";
import { PayCoreError } from "../errors.js";
import { encryptV3Resource } from "../v3/crypto/aes-gcm.js";
import { buildV3VerifyMessage, V3_SIGNATURE_TYPE } from "../v3/verify/verify.js";
import { epochMs, unixSeconds, type Instant } from "../time.js";

/** The gateway's signing identity: a platform certificate's key and serial, or a WeChat Pay public key pair and its `PUB_KEY_ID_...`. */
export interface V3GatewaySigner {
  readonly privateKey: KeyObject;
  readonly serial: string;
}

export interface SignV3AnswerOptions {
  readonly signer: V3GatewaySigner;
  readonly now: Instant;
  /** Default: 32 random lower-case hex characters, like the gateway's. */
  readonly nonce?: string;
  /** Override the signature (e.g. a `WECHATPAY/SIGNTEST/...` probe). */
  readonly signature?: string;
}

/** The `Wechatpay-*` headers of a signed answer or notify. */
export type V3SignedHeaders = Readonly<Record<"Wechatpay-Timestamp" | "Wechatpay-Nonce" | "Wechatpay-Signature" | "Wechatpay-Serial" | "Wechatpay-Signature-Type", string>>;

/**
 * Signs an answer body as the gateway would: SHA256withRSA over `TIMESTAMP\nNONCE\nBODY\n`, returned as
 * the `Wechatpay-*` headers. It ships beside verifyV3Signature so the two cannot drift. Tests and the sandbox only.
 */
export function signV3Answer(body: string | Uint8Array, options: SignV3AnswerOptions): V3SignedHeaders {
  const timestamp = String(unixSeconds(options.now));
  const nonce = options.nonce ?? randomBytes(16).toString("hex");
  const signature = options.signature ?? rsaSign("sha256", buildV3VerifyMessage(timestamp, nonce, body), options.signer.privateKey).toString("base64");
  return {
    "Wechatpay-Timestamp": timestamp,
    "Wechatpay-Nonce": nonce,
    "Wechatpay-Signature": signature,
    "Wechatpay-Serial": options.signer.serial,
    "Wechatpay-Signature-Type": V3_SIGNATURE_TYPE,
  };
}

const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function alnum(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

/** The `original_type` and AAD the gateway uses for each known event family. */
function resourceTypeOf(eventType: string): string {
  if (eventType.startsWith("TRANSACTION.")) return "transaction";
  if (eventType.startsWith("REFUND.")) return "refund";
  return eventType.split(".")[0]?.toLowerCase() ?? "resource";
}

export interface BuildSignedV3NotifyOptions {
  /** `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, ... */
  readonly eventType: string;
  /** The plaintext resource: an object (serialised with JSON.stringify) or exact JSON text. */
  readonly resource: object | string;
  readonly apiV3Key: string;
  readonly signer: V3GatewaySigner;
  readonly now: Instant;
  /** Default: a random UUID-like id. */
  readonly id?: string;
  readonly summary?: string;
  /** Default: `transaction` / `refund` from the event type (the live AAD); "" is what the docs' examples show. */
  readonly associatedData?: string;
  /** Default: 12 random alphanumerics. */
  readonly resourceNonce?: string;
  readonly headerNonce?: string;
  readonly signature?: string;
}

/** A v3 notify as the gateway sends it: the exact body text and its `Wechatpay-*` headers. */
export interface SignedV3Notify {
  readonly body: string;
  readonly headers: V3SignedHeaders;
}

/**
 * Builds a signed, encrypted v3 notify the way the gateway does: the resource AES-GCM-encrypted with the
 * APIv3 key, the envelope in the live key order, the body signed with a platform certificate's key or a
 * WeChat Pay public key pair. Tests and the sandbox only; never to accept money.
 */
export function buildSignedV3Notify(options: BuildSignedV3NotifyOptions): SignedV3Notify {
  if (!/^[A-Z0-9_]+(?:\.[A-Z0-9_]+)+$/.test(options.eventType)) throw new PayCoreError("INVALID_OPTION", `"${options.eventType}" is not an event type like TRANSACTION.SUCCESS.`);
  const originalType = resourceTypeOf(options.eventType);
  const plaintext = typeof options.resource === "string" ? options.resource : JSON.stringify(options.resource);
  const resource = encryptV3Resource(plaintext, {
    apiV3Key: options.apiV3Key,
    nonce: options.resourceNonce ?? alnum(12),
    associatedData: options.associatedData ?? originalType,
  });
  const id = options.id ?? [8, 4, 4, 4, 12].map((n) => randomBytes(n).toString("hex").slice(0, n)).join("-");
  const createTime = new Date(epochMs(options.now) + 8 * 3600_000).toISOString().replace(/\.\d{3}Z$/, "+08:00");
  const body = JSON.stringify({
    id,
    create_time: createTime,
    resource_type: "encrypt-resource",
    event_type: options.eventType,
    summary: options.summary ?? (options.eventType === "TRANSACTION.SUCCESS" ? "支付成功" : "退款状态变更"),
    resource: { original_type: originalType, algorithm: "AEAD_AES_256_GCM", ciphertext: resource.ciphertext, associated_data: resource.associatedData, nonce: resource.nonce },
  });
  const headers = signV3Answer(body, {
    signer: options.signer,
    now: options.now,
    nonce: options.headerNonce ?? alnum(32),
    ...(options.signature === undefined ? {} : { signature: options.signature }),
  });
  return { body, headers };
}
