import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import { decryptV3ResourceText, type AesGcmErrorCode } from "../crypto/aes-gcm.js";
import type { V3KeyStore } from "../keys/key-store.js";
import type { V3Headers } from "../verify/headers.js";
import { verifyV3Signature, type V3VerifiedSignature, type V3VerifyErrorCode } from "../verify/verify.js";
import { readV3NotifyEnvelope } from "./envelope.js";
import { readV3RefundNotify, readV3TransactionNotify, type V3RefundNotify, type V3TransactionNotify } from "./payloads.js";
import { parseStrictJson, type StrictJsonErrorCode } from "./strict-json.js";
import type { Instant } from "../../time.js";

export type V3NotifyErrorCode = "TOO_LARGE" | V3VerifyErrorCode | StrictJsonErrorCode | AesGcmErrorCode | "INVALID_FIELD";

export interface ParseV3NotifyOptions {
  readonly keys: V3KeyStore;
  /** The merchant's APIv3 key (32 ASCII bytes). */
  readonly apiV3Key: string;
  readonly now: Instant;
  /** Bodies larger than this are refused before anything else (default 64 KiB; a notify is under 2 KiB). */
  readonly maxBytes?: number;
}

/** The refund events WeChat Pay sends, each with the `refund_status` its plaintext must carry. */
export const V3_REFUND_EVENTS = { "REFUND.SUCCESS": "SUCCESS", "REFUND.ABNORMAL": "ABNORMAL", "REFUND.CLOSED": "CLOSED" } as const;
export type V3RefundEventType = keyof typeof V3_REFUND_EVENTS;

interface V3NotifyBase {
  /** The notify id (a UUID): the same delivery retried keeps it. */
  readonly id: string;
  readonly createTime: Date;
  readonly summary: string | undefined;
  /** Who signed it, when, with which nonce. */
  readonly signature: V3VerifiedSignature;
}

/** A verified notify: a payment, a refund outcome, or an event this package does not model (acknowledge it). */
export type V3Notify =
  | (V3NotifyBase & {
      readonly kind: "transaction";
      readonly eventType: "TRANSACTION.SUCCESS";
      readonly transaction: V3TransactionNotify;
      readonly raw: Readonly<Record<string, unknown>>;
      /** The decrypted resource exactly as decrypted (the text `raw` was strictly parsed from): store it instead of re-encoding `raw`. */
      readonly plaintext: string;
    })
  | (V3NotifyBase & {
      readonly kind: "refund";
      readonly eventType: V3RefundEventType;
      readonly refund: V3RefundNotify;
      readonly raw: Readonly<Record<string, unknown>>;
      /** The decrypted resource exactly as decrypted. */
      readonly plaintext: string;
    })
  | (V3NotifyBase & { readonly kind: "ignored"; readonly eventType: string });

const DEFAULT_MAX_BYTES = 64 * 1024;

function byteLength(body: string | Uint8Array, limit: number): number {
  if (typeof body !== "string") return body.byteLength;
  // A UTF-16 unit is at most 3 UTF-8 bytes: skip the count when the text is plainly small or large.
  if (body.length > limit) return body.length;
  return body.length * 3 <= limit ? body.length : Buffer.byteLength(body, "utf8");
}

/**
 * Parses a WeChat Pay APIv3 notify in one call: size limit, then the signature over the raw body (see
 * verifyV3Signature: pass the bytes or exact string received, never re-serialised JSON), then strict JSON
 * (duplicate keys, `__proto__`/`constructor`/`prototype` keys, deep nesting refused), then the envelope,
 * then AES-GCM decryption of the resource with the APIv3 key, then strict JSON and a typed payload.
 * An event type it does not model is a verified `kind: "ignored"` value, not an error. Never throws on
 * untrusted input; misuse (a bad key or `now`) throws PayCoreError.
 */
export function parseV3Notify(rawBody: string | Uint8Array, headers: V3Headers, options: ParseV3NotifyOptions): Result<V3Notify, V3NotifyErrorCode> {
  const keyBytes = Buffer.byteLength(String(options.apiV3Key), "utf8");
  if (keyBytes !== 32 && keyBytes !== 16 && keyBytes !== 24) throw new PayCoreError("INVALID_KEY", `The APIv3 key is ${keyBytes} bytes; it must be 32.`);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new PayCoreError("INVALID_OPTION", "maxBytes must be a positive integer.");
  if (typeof rawBody === "string" || rawBody instanceof Uint8Array) {
    if (byteLength(rawBody, maxBytes) > maxBytes) return err("TOO_LARGE", `The notify is larger than ${maxBytes} bytes.`);
  }
  const verified = verifyV3Signature({ headers, body: rawBody, keys: options.keys, now: options.now });
  if (!verified.ok) return verified;
  const json = parseStrictJson(rawBody, { maxDepth: 8 });
  if (!json.ok) return json;
  const envelope = readV3NotifyEnvelope(json.value);
  if (!envelope.ok) return envelope;
  const { id, createTime, eventType, summary, resource } = envelope.value;
  const signature = verified.value;
  const isRefund = Object.hasOwn(V3_REFUND_EVENTS, eventType);
  if (eventType !== "TRANSACTION.SUCCESS" && !isRefund) return ok({ id, createTime, summary, signature, kind: "ignored", eventType });
  if (resource === undefined) return err("INVALID_FIELD", `A ${eventType} notify has no resource.`);

  const plaintext = decryptV3ResourceText(resource, options.apiV3Key);
  if (!plaintext.ok) return plaintext;
  const payload = parseStrictJson(plaintext.value, { maxDepth: 8 });
  if (!payload.ok) return payload;
  if (typeof payload.value !== "object" || payload.value === null || Array.isArray(payload.value)) return err("INVALID_FIELD", "The decrypted resource is not a JSON object.");
  const raw = payload.value as Readonly<Record<string, unknown>>;

  if (eventType === "TRANSACTION.SUCCESS") {
    const transaction = readV3TransactionNotify(raw);
    if (!transaction.ok) return transaction;
    if (transaction.value.tradeState !== "SUCCESS") return err("INVALID_FIELD", `A TRANSACTION.SUCCESS notify says trade_state ${transaction.value.tradeState}.`);
    return ok({ id, createTime, summary, signature, kind: "transaction", eventType, transaction: transaction.value, raw, plaintext: plaintext.value });
  }
  const refundEvent = eventType as V3RefundEventType;
  const refund = readV3RefundNotify(raw);
  if (!refund.ok) return refund;
  if (refund.value.refundStatus !== V3_REFUND_EVENTS[refundEvent]) return err("INVALID_FIELD", `A ${eventType} notify says refund_status ${refund.value.refundStatus}.`);
  return ok({ id, createTime, summary, signature, kind: "refund", eventType: refundEvent, refund: refund.value, raw, plaintext: plaintext.value });
}
