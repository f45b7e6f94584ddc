// Test helpers that mirror the gateway's side of the protocol. Not for production code paths.
export { buildRefundNotify, buildSignedPayNotify, type SignedNotifyOptions } from "./notify-builders.js";
export { createV3TestCertificate, generateV3TestKeyPair, v3TestKeyPairFromPem, type V3TestCertificate, type V3TestCertificateOptions, type V3TestKeyPair } from "./v3-keys.js";
export {
  buildSignedV3Notify,
  signV3Answer,
  type BuildSignedV3NotifyOptions,
  type SignedV3Notify,
  type SignV3AnswerOptions,
  type V3GatewaySigner,
  type V3SignedHeaders,
} from "./v3-notify-builders.js";
export {
  buildTestWebhookEvent,
  signWebhookForTest,
  testWebhookEventId,
  type SignedTestWebhook,
  type SignWebhookForTestOptions,
  type TestWebhookEventOverrides,
} from "./webhooks.js";
