import { verifyWebhook } from "@pay/core/webhooks";
import type { DeliveryVerifier } from "./receiver.js";

/** Signatures older than this are refused (the receiver example's window in docs/webhooks.md). */
export const TOLERANCE_SECONDS = 300;

/** The receiver's check: @pay/core's verifyWebhook over the raw bytes with the endpoint's secret. */
export function webhookVerifier(secret: string, now: () => Date = () => new Date()): DeliveryVerifier {
  return (rawBody, signatureHeader) => {
    const result = verifyWebhook(rawBody, signatureHeader ?? "", [secret], { now: now(), toleranceSeconds: TOLERANCE_SECONDS });
    return result.ok ? { ok: true, id: result.value.id, createdAt: result.value.createdAt } : { ok: false, code: result.error.code };
  };
}
