import { z } from "zod";
import {
  AdminOrderDetailResponseSchema,
  AdminOrderExportQuerySchema,
  AdminOrderListQuerySchema,
  AdminOrderListResponseSchema,
  AuditLogQuerySchema,
  AuditLogResponseSchema,
  CsvBodySchema,
  OverviewQuerySchema,
  OverviewResponseSchema,
  StaffSessionResponseSchema,
  StaffSignInRequestSchema,
  StaffSignOutResponseSchema,
} from "./console.js";
import { API_ERROR_CODES, type ApiErrorCode } from "./errors.js";
import type { IdempotencyKeyRule } from "./idempotency.js";
import { CreateOrderRequestSchema, OrderListQuerySchema, OrderListResponseSchema, OrderPaymentResponseSchema, OrderResponseSchema, OrderSchema } from "./order.js";
import { ProductListResponseSchema } from "./product.js";
import {
  ReconciliationDateParamsSchema,
  ReconciliationDetailQuerySchema,
  ReconciliationDetailResponseSchema,
  ReconciliationListQuerySchema,
  ReconciliationListResponseSchema,
} from "./reconciliation.js";
import { CreateRefundRequestSchema, RefundResponseSchema } from "./refund.js";
import { SessionRequestSchema, SessionResponseSchema } from "./session.js";
import {
  CreateWebhookEndpointRequestSchema,
  ReplayFailedWebhookDeliveriesRequestSchema,
  ReplayFailedWebhookDeliveriesResponseSchema,
  ReplayWebhookEventRequestSchema,
  ReplayWebhookEventResponseSchema,
  RotateWebhookSecretRequestSchema,
  UpdateWebhookEndpointRequestSchema,
  WebhookDeliveryListQuerySchema,
  WebhookDeliveryListResponseSchema,
  WebhookEndpointDetailResponseSchema,
  WebhookEndpointListResponseSchema,
  WebhookEndpointParamsSchema,
  WebhookEndpointResponseSchema,
  WebhookEndpointSecretResponseSchema,
  WebhookEventParamsSchema,
} from "./webhook-endpoints.js";

/** The body of a route that takes none: the server accepts an empty body or `{}` on a POST, and never reads a GET's. */
export const NoBodySchema = z.undefined();

/** The `:id` of the order routes: an out_trade_no. */
export const OrderIdParamsSchema = z.object({ id: OrderSchema.shape.id });

/**
 * Who may call a route: anyone; a signed-in user (session token); the back office reading ("admin": any
 * signed-in staff member, or ADMIN_TOKEN); the back office acting ("operator": a staff member with the
 * operator role, or ADMIN_TOKEN). A staff member's state-changing call also carries the x-csrf-token header.
 */
export type ApiAuth = "none" | "user" | "admin" | "operator";

/** The `:name` segments of a route path, as a union of names (never when there are none). */
export type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

interface RouteSpecBase {
  readonly path: `/api/${string}`;
  /** One line for humans; the OpenAPI summary. */
  readonly summary: string;
  readonly auth: ApiAuth;
  /** The `:name` path segments' schema (an object with exactly those keys), or null for a path without any. */
  readonly params: z.ZodObject | null;
  readonly idempotencyKey: IdempotencyKeyRule;
  readonly query: z.ZodObject | null;
  readonly response: z.ZodType;
  readonly status: 200 | 201;
  /** Set on a route whose success body is not JSON: the router sends the string it answers with this type (the response schema is then a string). */
  readonly produces?: "text/csv";
  /**
   * Set on a route that may also answer 202 Accepted, with the same response schema, when the work it
   * started is still going on (the answer then shows where it stands; the client looks again later).
   */
  readonly accepted?: 202;
  /** The route's own failures, beyond those its auth, params, key, body and query imply (see routeErrorCodes). */
  readonly errors: readonly ApiErrorCode[];
}

/** What one route of the table says; a GET never takes a body. */
export type ApiRouteSpec =
  | (RouteSpecBase & { readonly method: "GET"; readonly body: typeof NoBodySchema })
  | (RouteSpecBase & { readonly method: "POST" | "PUT" | "PATCH" | "DELETE"; readonly body: z.ZodType });

/** Gateway failures, for the routes that call WeChat Pay. */
const GATEWAY = ["GATEWAY_ERROR", "GATEWAY_UNAVAILABLE", "GATEWAY_TIMEOUT"] as const;

/**
 * The API's routes, each with its request and response schemas. The server registers exactly these
 * (method, path, auth, params, Idempotency-Key rule, body or query, success status) and the client's
 * types are inferred from them, so the two tiers cannot disagree; docs/openapi.json is generated from them.
 */
export const API_ROUTES = {
  createSession: {
    method: "POST",
    path: "/api/session",
    summary: "Sign in with a wx.login code",
    auth: "none",
    params: null,
    idempotencyKey: "none",
    body: SessionRequestSchema,
    query: null,
    response: SessionResponseSchema,
    status: 200,
    errors: ["LOGIN_FAILED", "RATE_LIMITED", "GATEWAY_UNAVAILABLE"],
  },
  listProducts: {
    method: "GET",
    path: "/api/products",
    summary: "List the catalogue, prices in the merchant's currency",
    auth: "none",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: ProductListResponseSchema,
    status: 200,
    errors: [],
  },
  createOrder: {
    method: "POST",
    path: "/api/orders",
    summary: "Place an order and get the wx.requestPayment fields",
    auth: "user",
    params: null,
    idempotencyKey: "optional",
    body: CreateOrderRequestSchema,
    query: null,
    response: OrderPaymentResponseSchema,
    status: 201,
    errors: ["ORDER_NOT_PAYABLE", "IDEMPOTENCY_CONFLICT", "RATE_LIMITED", ...GATEWAY],
  },
  listOrders: {
    method: "GET",
    path: "/api/orders",
    summary: "List the caller's orders, newest first",
    auth: "user",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: OrderListQuerySchema,
    response: OrderListResponseSchema,
    status: 200,
    errors: [],
  },
  getOrder: {
    method: "GET",
    path: "/api/orders/:id",
    summary: "Read one of the caller's orders",
    auth: "user",
    params: OrderIdParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: OrderResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  renewPayment: {
    method: "POST",
    path: "/api/orders/:id/payment",
    summary: "Get fresh wx.requestPayment fields for a pending order",
    auth: "user",
    params: OrderIdParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: OrderPaymentResponseSchema,
    status: 200,
    errors: ["NOT_FOUND", "ORDER_NOT_PAYABLE", "RATE_LIMITED", ...GATEWAY],
  },
  closeOrder: {
    method: "POST",
    path: "/api/orders/:id/close",
    summary: "Close a pending order",
    auth: "user",
    params: OrderIdParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: OrderResponseSchema,
    status: 200,
    errors: ["NOT_FOUND", "ORDER_NOT_CLOSABLE", ...GATEWAY],
  },
  createRefund: {
    method: "POST",
    path: "/api/admin/orders/:id/refunds",
    summary: "Refund part or all of a paid order (back office)",
    auth: "operator",
    params: OrderIdParamsSchema,
    idempotencyKey: "required",
    body: CreateRefundRequestSchema,
    query: null,
    response: RefundResponseSchema,
    status: 201,
    errors: ["NOT_FOUND", "ORDER_NOT_REFUNDABLE", "REFUND_EXCEEDS_PAID", "IDEMPOTENCY_CONFLICT", ...GATEWAY],
  },
  createWebhookEndpoint: {
    method: "POST",
    path: "/api/admin/webhook-endpoints",
    summary: "Add a webhook endpoint; the answer carries its signing secret, shown only here",
    auth: "operator",
    params: null,
    idempotencyKey: "none",
    body: CreateWebhookEndpointRequestSchema,
    query: null,
    response: WebhookEndpointSecretResponseSchema,
    status: 201,
    errors: [],
  },
  listWebhookEndpoints: {
    method: "GET",
    path: "/api/admin/webhook-endpoints",
    summary: "List the webhook endpoints (never their secrets)",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: WebhookEndpointListResponseSchema,
    status: 200,
    errors: [],
  },
  getWebhookEndpoint: {
    method: "GET",
    path: "/api/admin/webhook-endpoints/:id",
    summary: "Read one webhook endpoint and how many of its deliveries are pending, delivered and failed",
    auth: "admin",
    params: WebhookEndpointParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: WebhookEndpointDetailResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  updateWebhookEndpoint: {
    method: "PATCH",
    path: "/api/admin/webhook-endpoints/:id",
    summary: "Change a webhook endpoint's URL, event types or description, or disable (enabled: false) and re-enable it",
    auth: "operator",
    params: WebhookEndpointParamsSchema,
    idempotencyKey: "none",
    body: UpdateWebhookEndpointRequestSchema,
    query: null,
    response: WebhookEndpointResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  rotateWebhookSecret: {
    method: "POST",
    path: "/api/admin/webhook-endpoints/:id/rotate-secret",
    summary: "Give a webhook endpoint a new signing secret; the old one keeps signing beside it for a while",
    auth: "operator",
    params: WebhookEndpointParamsSchema,
    idempotencyKey: "none",
    body: RotateWebhookSecretRequestSchema,
    query: null,
    response: WebhookEndpointSecretResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  listWebhookDeliveries: {
    method: "GET",
    path: "/api/admin/webhook-endpoints/:id/deliveries",
    summary: "List a webhook endpoint's deliveries, newest first",
    auth: "admin",
    params: WebhookEndpointParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: WebhookDeliveryListQuerySchema,
    response: WebhookDeliveryListResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  replayWebhookEvent: {
    method: "POST",
    path: "/api/admin/webhook-events/:id/replay",
    summary: "Deliver one event again, to every endpoint that receives it or to one",
    auth: "operator",
    params: WebhookEventParamsSchema,
    idempotencyKey: "none",
    body: ReplayWebhookEventRequestSchema,
    query: null,
    response: ReplayWebhookEventResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  replayFailedWebhookDeliveries: {
    method: "POST",
    path: "/api/admin/webhook-deliveries/replay",
    summary: "Deliver again every delivery that failed since a time, of every endpoint or of one",
    auth: "operator",
    params: null,
    idempotencyKey: "none",
    body: ReplayFailedWebhookDeliveriesRequestSchema,
    query: null,
    response: ReplayFailedWebhookDeliveriesResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  listReconciliations: {
    method: "GET",
    path: "/api/admin/reconciliations",
    summary: "List the days' reconciliation runs between from and to (default: the 31 days ending yesterday, Beijing), newest first",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: ReconciliationListQuerySchema,
    response: ReconciliationListResponseSchema,
    status: 200,
    errors: [],
  },
  getReconciliation: {
    method: "GET",
    path: "/api/admin/reconciliations/:date",
    summary: "Read one day's reconciliation: its state, totals and a page of its items (differences), oldest first",
    auth: "admin",
    params: ReconciliationDateParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: ReconciliationDetailQuerySchema,
    response: ReconciliationDetailResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  runReconciliation: {
    method: "POST",
    path: "/api/admin/reconciliations/:date/run",
    summary: "Reconcile one day (over in Beijing) now: 200 with the result when the run ends within 10 s, else 202 with the running run",
    auth: "operator",
    params: ReconciliationDateParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: ReconciliationDetailResponseSchema,
    status: 200,
    accepted: 202,
    errors: [],
  },
  staffSignIn: {
    method: "POST",
    path: "/api/admin/session",
    summary: "Sign a staff member in to the console: sets the HttpOnly session cookie and answers the CSRF token",
    auth: "none",
    params: null,
    idempotencyKey: "none",
    body: StaffSignInRequestSchema,
    query: null,
    response: StaffSessionResponseSchema,
    status: 200,
    errors: ["SIGN_IN_FAILED", "RATE_LIMITED"],
  },
  getStaffSession: {
    method: "GET",
    path: "/api/admin/session",
    summary: "Who is calling the back office, with the session's CSRF token (after a console reload)",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: StaffSessionResponseSchema,
    status: 200,
    errors: [],
  },
  staffSignOut: {
    method: "DELETE",
    path: "/api/admin/session",
    summary: "Sign the staff member out: ends the session and clears its cookie",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: StaffSignOutResponseSchema,
    status: 200,
    errors: [],
  },
  getOverview: {
    method: "GET",
    path: "/api/admin/overview",
    summary: "One Beijing day at a glance: payments and refunds per currency, refused notifies, open differences, webhook backlog",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: OverviewQuerySchema,
    response: OverviewResponseSchema,
    status: 200,
    errors: [],
  },
  listAdminOrders: {
    method: "GET",
    path: "/api/admin/orders",
    summary: "Every user's orders, newest first, filtered by status, Beijing days, or an order id, transaction id or openid",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: AdminOrderListQuerySchema,
    response: AdminOrderListResponseSchema,
    status: 200,
    errors: [],
  },
  exportAdminOrders: {
    method: "GET",
    path: "/api/admin/exports/orders",
    summary: "The orders matching the list's filters as CSV (text/csv), streamed",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: AdminOrderExportQuerySchema,
    response: CsvBodySchema,
    produces: "text/csv",
    status: 200,
    errors: [],
  },
  getAdminOrder: {
    method: "GET",
    path: "/api/admin/orders/:id",
    summary: "One order for staff: items, amounts, refunds and its timeline",
    auth: "admin",
    params: OrderIdParamsSchema,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: null,
    response: AdminOrderDetailResponseSchema,
    status: 200,
    errors: ["NOT_FOUND"],
  },
  listAuditLog: {
    method: "GET",
    path: "/api/admin/audit-log",
    summary: "Operator actions, newest first: who, what, when, the idempotency key and the outcome",
    auth: "admin",
    params: null,
    idempotencyKey: "none",
    body: NoBodySchema,
    query: AuditLogQuerySchema,
    response: AuditLogResponseSchema,
    status: 200,
    errors: [],
  },
} as const satisfies Record<string, ApiRouteSpec>;

export type ApiRoutes = typeof API_ROUTES;
export type ApiRouteName = keyof ApiRoutes;
/** The JSON body a route accepts. */
export type ApiRequestBody<N extends ApiRouteName> = z.input<ApiRoutes[N]["body"]>;
/** The query a route accepts, or undefined for a route that reads none. */
export type ApiRequestQuery<N extends ApiRouteName> = ApiRoutes[N]["query"] extends z.ZodType ? z.input<ApiRoutes[N]["query"]> : undefined;
/** The path parameters a route takes, or undefined for a path without any. */
export type ApiPathParams<N extends ApiRouteName> = ApiRoutes[N]["params"] extends z.ZodType ? z.input<ApiRoutes[N]["params"]> : undefined;
/** The JSON a route answers with on success. */
export type ApiResponseBody<N extends ApiRouteName> = z.output<ApiRoutes[N]["response"]>;

/** Every route's params schema has exactly the path's `:name` keys; a mismatch fails to compile here. */
type ParamsMatchPath = {
  [N in ApiRouteName]: [ApiPathParams<N>] extends [undefined]
    ? [PathParamNames<ApiRoutes[N]["path"]>] extends [never]
      ? true
      : false
    : [keyof ApiPathParams<N>] extends [PathParamNames<ApiRoutes[N]["path"]>]
      ? [PathParamNames<ApiRoutes[N]["path"]>] extends [keyof ApiPathParams<N>]
        ? true
        : false
      : false;
}[ApiRouteName];
type Holds<T extends true> = T;
type _ParamsMatchPath = Holds<ParamsMatchPath>;

/**
 * Every error code a route can answer with, in API_ERROR_CODES order: the version check's (every
 * /api route), its auth's, its params', Idempotency-Key's, its body's or query's, its own, and INTERNAL.
 */
export function routeErrorCodes(name: ApiRouteName): ApiErrorCode[] {
  const route: ApiRouteSpec = API_ROUTES[name];
  // OVERLOADED: any /api route is shed with 503 + Retry-After when the process has too many requests in flight.
  const codes = new Set<ApiErrorCode>(["VALIDATION_FAILED", "UPGRADE_REQUIRED", "OVERLOADED", "INTERNAL", ...route.errors]);
  if (route.auth !== "none") codes.add("UNAUTHORIZED");
  if (route.auth === "admin" || route.auth === "operator") {
    codes.add("FORBIDDEN");
    // A staff session's state-changing call without its session's x-csrf-token header.
    if (route.method !== "GET") codes.add("CSRF_FAILED");
  }
  if (route.method !== "GET") {
    codes.add("PAYLOAD_TOO_LARGE");
    codes.add("UNSUPPORTED_MEDIA_TYPE");
  }
  return API_ERROR_CODES.filter((code) => codes.has(code));
}
