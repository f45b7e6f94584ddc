import { createHmac } from "node:crypto";

/** The headers of a webhook delivery. */
export const WEBHOOK_SIGNATURE_HEADER = "Pay-Signature";
export const WEBHOOK_EVENT_ID_HEADER = "Pay-Event-Id";
export const WEBHOOK_EVENT_TYPE_HEADER = "Pay-Event-Type";

/** The signature scheme's version tag in Pay-Signature (`v1=`: HMAC-SHA256). */
export const WEBHOOK_SIGNATURE_SCHEME = "v1";

/** Hex HMAC-SHA256 of `${timestamp}.${body}` under `secret`: one `v1` value. */
export function webhookSignature(secret: string, timestamp: number, body: string | Uint8Array): string {
  const hmac = createHmac("sha256", secret);
  hmac.update(`${timestamp}.`);
  hmac.update(body);
  return hmac.digest("hex");
}

/**
 * The Pay-Signature header for a body: `t=<unix seconds>,v1=<hex>` with one `v1` per secret, in the
 * order given (during a rotation: the new secret first, then the previous one).
 */
export function webhookSignatureHeader(body: string | Uint8Array, secrets: readonly string[], timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError(`a webhook timestamp is whole unix seconds, got ${timestamp}`);
  if (secrets.length === 0) throw new RangeError("signing a webhook needs at least one secret");
  return [`t=${timestamp}`, ...secrets.map((secret) => `${WEBHOOK_SIGNATURE_SCHEME}=${webhookSignature(secret, timestamp, body)}`)].join(",");
}
