export { REFUND_STATUSES_V2, RefundStatusV2Schema, TERMINAL_TRADE_STATES, TRADE_STATES, TRADE_TYPES, TradeStateSchema, TradeTypeSchema, type RefundStatusV2, type TradeState, type TradeType } from "./enums.js";
export { PayNotifySchema, PayNotifyWireSchema, readCoupons, type Coupon, type PayNotify } from "./pay-notify.js";
export { RefundNotifyEnvelopeWireSchema, RefundNotifyPayloadSchema, RefundNotifyPayloadWireSchema, type RefundNotifyPayload } from "./refund-notify.js";
