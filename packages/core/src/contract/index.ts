// The API contract shared by apps/api and apps/miniprogram. No Node built-ins may be imported here.
export { CurrencySchema, MinorUnitsSchema, TimestampSchema } from "./common.js";
export { API_ERROR_CODES, API_ERROR_STATUS, ApiErrorBodySchema, type ApiErrorBody, type ApiErrorCode } from "./errors.js";
export {
  CreateOrderRequestSchema,
  MAX_LINE_QUANTITY,
  MAX_ORDER_LINES,
  ORDER_STATUSES,
  OrderItemSchema,
  OrderListQuerySchema,
  OrderListResponseSchema,
  OrderPaymentResponseSchema,
  OrderResponseSchema,
  OrderSchema,
  OrderStatusSchema,
  type CreateOrderRequest,
  type Order,
  type OrderItem,
  type OrderListQuery,
  type OrderListResponse,
  type OrderPaymentResponse,
  type OrderResponse,
  type OrderStatus,
} from "./order.js";
export { PAY_SIGN_TYPES, RequestPaymentParamsSchema, type RequestPaymentParams } from "./payment.js";
export { ProductListResponseSchema, ProductSchema, type Product, type ProductListResponse } from "./product.js";
export {
  CreateRefundRequestSchema,
  REFUND_STATUSES,
  RefundResponseSchema,
  RefundSchema,
  RefundStatusSchema,
  type CreateRefundRequest,
  type Refund,
  type RefundResponse,
  type RefundStatus,
} from "./refund.js";
export { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_RULES, IdempotencyKeySchema, type IdempotencyKeyRule } from "./idempotency.js";
export { buildOpenApiDocument, openApiPath, type JsonObject, type JsonValue, type OpenApiDocument } from "./openapi.js";
export {
  API_ROUTES,
  NoBodySchema,
  OrderIdParamsSchema,
  routeErrorCodes,
  type ApiAuth,
  type ApiPathParams,
  type ApiRequestBody,
  type ApiRequestQuery,
  type ApiResponseBody,
  type ApiRouteName,
  type ApiRouteSpec,
  type ApiRoutes,
  type PathParamNames,
} from "./routes.js";
export { SessionRequestSchema, SessionResponseSchema, type SessionRequest, type SessionResponse } from "./session.js";
export {
  ORDER_EVENT_TYPES,
  REFUND_EVENT_TYPES,
  WEBHOOK_EVENT_TYPES,
  WebhookEventIdSchema,
  WebhookEventSchema,
  WebhookEventTypeSchema,
  type WebhookEvent,
  type WebhookEventOf,
  type WebhookEventType,
} from "./webhook.js";
export { CONTRACT_VERSION, CONTRACT_VERSION_HEADER, contractCompatibility, type ContractCompatibility } from "./version.js";
