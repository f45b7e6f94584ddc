// Order events delivered by the API to the shop's own systems: signing, and (for receivers) verification.
// No Node built-ins beyond node:crypto.
export { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_SIGNATURE_SCHEME, webhookSignature, webhookSignatureHeader } from "./sign.js";
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  MAX_WEBHOOK_SIGNATURE_HEADER_LENGTH,
  verifyWebhook,
  WEBHOOK_VERIFY_ERROR_CODES,
  type VerifyWebhookOptions,
  type WebhookVerifyErrorCode,
} from "./verify.js";
export {
  ORDER_EVENT_TYPES,
  REFUND_EVENT_TYPES,
  WEBHOOK_EVENT_TYPES,
  WebhookEventSchema,
  type WebhookEvent,
  type WebhookEventOf,
  type WebhookEventType,
} from "../contract/webhook.js";
