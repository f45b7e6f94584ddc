export { matchPayment, type ExpectedPayment, type PaymentMatchErrorCode, type ReportedPayment } from "./match.js";
export { describeIssue, parsePayNotify, type ParsePayNotifyOptions, type PayNotifyErrorCode, type VerifiedPayNotify } from "./pay-notify.js";
export { parseRefundNotify, type DecryptedRefundNotify, type ParseRefundNotifyOptions, type RefundNotifyErrorCode } from "./refund-notify.js";
export { isNotifyAcknowledged } from "./acknowledged.js";
export { buildNotifyFailReply, NOTIFY_SUCCESS_REPLY } from "./reply.js";
