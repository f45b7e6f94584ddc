export { parseV3Notify, V3_REFUND_EVENTS, type ParseV3NotifyOptions, type V3Notify, type V3NotifyErrorCode, type V3RefundEventType } from "./parse-notify.js";
export { V3RefundNotifySchema, V3TransactionNotifySchema, type V3Merchant, type V3RefundNotify, type V3TransactionNotify } from "./payloads.js";
export { buildV3NotifyFailReply, V3_NOTIFY_SUCCESS_REPLY, v3NotifyRefusalReply, type V3NotifyReply } from "./reply.js";
export { parseStrictJson, type StrictJsonErrorCode, type StrictJsonOptions } from "./strict-json.js";
