import { z } from "zod";
import {
  CreateOrderRequestSchema,
  OrderListQuerySchema,
  OrderListResponseSchema,
  OrderPaymentResponseSchema,
  OrderResponseSchema,
} from "./order.js";
import { ProductListResponseSchema } from "./product.js";
import { CreateRefundRequestSchema, RefundResponseSchema } from "./refund.js";
import { SessionRequestSchema, SessionResponseSchema } from "./session.js";

const NoBody = z.undefined();

/**
 * The API's routes, each with its request and response schemas. The server validates with these
 * very schemas and the client's types are inferred from them, so the two tiers cannot disagree.
 */
export const API_ROUTES = {
  createSession: { method: "POST", path: "/api/session", auth: "none", body: SessionRequestSchema, query: null, response: SessionResponseSchema, status: 200 },
  listProducts: { method: "GET", path: "/api/products", auth: "none", body: NoBody, query: null, response: ProductListResponseSchema, status: 200 },
  createOrder: { method: "POST", path: "/api/orders", auth: "user", body: CreateOrderRequestSchema, query: null, response: OrderPaymentResponseSchema, status: 201 },
  listOrders: { method: "GET", path: "/api/orders", auth: "user", body: NoBody, query: OrderListQuerySchema, response: OrderListResponseSchema, status: 200 },
  getOrder: { method: "GET", path: "/api/orders/:id", auth: "user", body: NoBody, query: null, response: OrderResponseSchema, status: 200 },
  renewPayment: { method: "POST", path: "/api/orders/:id/payment", auth: "user", body: NoBody, query: null, response: OrderPaymentResponseSchema, status: 200 },
  closeOrder: { method: "POST", path: "/api/orders/:id/close", auth: "user", body: NoBody, query: null, response: OrderResponseSchema, status: 200 },
  createRefund: { method: "POST", path: "/api/admin/orders/:id/refunds", auth: "admin", body: CreateRefundRequestSchema, query: null, response: RefundResponseSchema, status: 201 },
} as const;

export type ApiRoutes = typeof API_ROUTES;
export type ApiRouteName = keyof ApiRoutes;
/** The JSON body a route accepts. */
export type ApiRequestBody<N extends ApiRouteName> = z.input<ApiRoutes[N]["body"]>;
/** The JSON a route answers with on success. */
export type ApiResponseBody<N extends ApiRouteName> = z.output<ApiRoutes[N]["response"]>;
