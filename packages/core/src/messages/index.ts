export {
  REFUND_STATUSES_V2,
  RefundStatusV2Schema,
  TERMINAL_TRADE_STATES,
  TRADE_STATES,
  TRADE_TYPES,
  TradeStateSchema,
  TradeTypeSchema,
  type RefundStatusV2,
  type TradeState,
  type TradeType,
} from "./enums.js";
export { PayNotifySchema, PayNotifyWireSchema, readCoupons, type Coupon, type PayNotify } from "./pay-notify.js";
export { RefundNotifyEnvelopeWireSchema, RefundNotifyPayloadSchema, RefundNotifyPayloadWireSchema, type RefundNotifyPayload } from "./refund-notify.js";
export {
  ApplyRefundRequestSchema,
  ApplyRefundResponseSchema,
  ApplyRefundResponseWireSchema,
  buildApplyRefundFields,
  parseApplyRefundRequest,
  readRefundCoupons,
  REFUND_ACCOUNTS,
  RefundAccountSchema,
  type ApplyRefundRequest,
  type ApplyRefundResponse,
  type RefundAccount,
  type RefundCoupon,
} from "./refund.js";
export {
  buildCloseOrderFields,
  CloseOrderRequestSchema,
  CloseOrderResponseSchema,
  CloseOrderResponseWireSchema,
  parseCloseOrderRequest,
  type CloseOrderRequest,
  type CloseOrderResponse,
} from "./close-order.js";
export {
  BILL_TYPES,
  BillTypeSchema,
  buildDownloadBillFields,
  DownloadBillRequestSchema,
  parseDownloadBillRequest,
  type BillType,
  type DownloadBillRequest,
} from "./download-bill.js";
export {
  DOWNLOAD_BILL_RETURN_MSGS,
  isRetryableErrorCode,
  isWxPayErrorCode,
  matchDownloadBillReturnMsg,
  WXPAY_APIS,
  WXPAY_ERROR_CODES,
  type DownloadBillReturnMsg,
  type WxPayApi,
  type WxPayErrorCode,
  type WxPayErrorCodeInfo,
  type WxPayErrorForm,
} from "./error-codes.js";
export {
  GATEWAY_ERROR_CODES,
  parseGatewayResponse,
  type GatewayError,
  type GatewayErrorCode,
  type GatewayResponse,
  type GatewayResult,
  type ParseGatewayResponseOptions,
} from "./gateway-response.js";
export {
  buildOrderQueryFields,
  OrderQueryRequestSchema,
  OrderQueryResponseSchema,
  OrderQueryResponseWireSchema,
  parseOrderQueryRequest,
  type OrderQueryRequest,
  type OrderQueryResponse,
} from "./order-query.js";
export {
  buildRefundQueryFields,
  parseRefundQueryRequest,
  readRefundQueryItems,
  RefundQueryItemWireSchema,
  RefundQueryRequestSchema,
  RefundQueryResponseSchema,
  RefundQueryResponseWireSchema,
  type RefundQueryItem,
  type RefundQueryRequest,
  type RefundQueryResponse,
} from "./refund-query.js";
export {
  buildRequestFields,
  checkPartnerIds,
  compactTimeText,
  parseRequestFields,
  PositiveMinorUnitsSchema,
  REQUEST_COMMON_SHAPE,
  RequestCurrencySchema,
  requestText,
  type ParseRequestErrorCode,
} from "./request.js";
export { ResponseEnvelopeWireSchema, wireRate, withIndexedFields, type IndexedRead } from "./response.js";
export {
  buildUnifiedOrderFields,
  isValidNotifyUrl,
  NOTIFY_URL_MAX_LENGTH,
  notifyUrlProblem,
  NotifyUrlSchema,
  OUT_TRADE_NO_PATTERN,
  OutTradeNoSchema,
  parseUnifiedOrderRequest,
  UNIFIED_ORDER_TRADE_TYPES,
  UnifiedOrderRequestSchema,
  UnifiedOrderResponseSchema,
  UnifiedOrderResponseWireSchema,
  type UnifiedOrderRequest,
  type UnifiedOrderResponse,
} from "./unified-order.js";
