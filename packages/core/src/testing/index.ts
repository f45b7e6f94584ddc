// Test helpers that mirror the gateway's side of the protocol. Not for production code paths.
export { buildRefundNotify, buildSignedPayNotify, type SignedNotifyOptions } from "./notify-builders.js";
