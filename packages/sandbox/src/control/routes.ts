import type { z } from "zod";
import {
  BillFaultAnswerSchema,
  BillFaultRuleSchema,
  BillFaultsAnswerSchema,
  DeliveriesAnswerSchema,
  DeliveriesQuerySchema,
  DiscrepanciesAnswerSchema,
  DiscrepancyAnswerSchema,
  DiscrepancySchema,
  ForeignPaymentAnswerSchema,
  ForeignPaymentRequestSchema,
  ForeignRefundRequestSchema,
  FaultAnswerSchema,
  FaultRuleSchema,
  FaultsAnswerSchema,
  LatencySchema,
  LoginCodeAnswerSchema,
  LoginCodeRequestSchema,
  MerchantsAnswerSchema,
  OrdersAnswerSchema,
  OrdersQuerySchema,
  PayAnswerSchema,
  PayRequestSchema,
  RotateCertificateAnswerSchema,
  RotateCertificateRequestSchema,
  V3KeysAnswerSchema,
  V3KeysQuerySchema,
  SettleRefundAnswerSchema,
  SettleRefundRequestSchema,
  type RequestPaymentFields,
} from "./schemas.js";

/** Every path under the control prefix; the gateway paths are the real hosts' and live elsewhere. */
export const SANDBOX_CONTROL_PATHS = {
  prefix: "/sandbox",
  merchants: "/sandbox/merchants",
  loginCodes: "/sandbox/login-codes",
  pay: "/sandbox/pay",
  orders: "/sandbox/orders",
  deliveries: "/sandbox/deliveries",
  settleRefund: "/sandbox/refunds/settle",
  faults: "/sandbox/faults",
  latency: "/sandbox/latency",
  foreignPayments: "/sandbox/foreign-payments",
  foreignRefunds: "/sandbox/foreign-refunds",
  discrepancies: "/sandbox/discrepancies",
  billFaults: "/sandbox/bill-faults",
  v3Keys: "/sandbox/v3/keys",
  rotateV3Certificate: "/sandbox/v3/certificates/rotate",
  /** The payer's payment sheet (HTML): `?prepay_id=…`. */
  cashier: "/sandbox/cashier",
} as const;

const P = SANDBOX_CONTROL_PATHS;

/**
 * The control API's JSON calls: method, path, body and query schemas, answer schema and success
 * status. The sandbox parses and answers with these very schemas, and the client sends and checks them.
 */
export const SANDBOX_CONTROL_ROUTES = {
  listMerchants: { method: "GET", path: P.merchants, body: null, query: null, answer: MerchantsAnswerSchema, status: 200 },
  createLoginCode: { method: "POST", path: P.loginCodes, body: LoginCodeRequestSchema, query: null, answer: LoginCodeAnswerSchema, status: 201 },
  pay: { method: "POST", path: P.pay, body: PayRequestSchema, query: null, answer: PayAnswerSchema, status: 200 },
  listOrders: { method: "GET", path: P.orders, body: null, query: OrdersQuerySchema, answer: OrdersAnswerSchema, status: 200 },
  listDeliveries: { method: "GET", path: P.deliveries, body: null, query: DeliveriesQuerySchema, answer: DeliveriesAnswerSchema, status: 200 },
  settleRefund: { method: "POST", path: P.settleRefund, body: SettleRefundRequestSchema, query: null, answer: SettleRefundAnswerSchema, status: 200 },
  listFaults: { method: "GET", path: P.faults, body: null, query: null, answer: FaultsAnswerSchema, status: 200 },
  addFault: { method: "POST", path: P.faults, body: FaultRuleSchema, query: null, answer: FaultAnswerSchema, status: 201 },
  clearFaults: { method: "DELETE", path: P.faults, body: null, query: null, answer: null, status: 204 },
  getLatency: { method: "GET", path: P.latency, body: null, query: null, answer: LatencySchema, status: 200 },
  setLatency: { method: "POST", path: P.latency, body: LatencySchema, query: null, answer: LatencySchema, status: 200 },
  createForeignPayment: { method: "POST", path: P.foreignPayments, body: ForeignPaymentRequestSchema, query: null, answer: ForeignPaymentAnswerSchema, status: 201 },
  createForeignRefund: { method: "POST", path: P.foreignRefunds, body: ForeignRefundRequestSchema, query: null, answer: ForeignPaymentAnswerSchema, status: 201 },
  listDiscrepancies: { method: "GET", path: P.discrepancies, body: null, query: null, answer: DiscrepanciesAnswerSchema, status: 200 },
  addDiscrepancy: { method: "POST", path: P.discrepancies, body: DiscrepancySchema, query: null, answer: DiscrepancyAnswerSchema, status: 201 },
  clearDiscrepancies: { method: "DELETE", path: P.discrepancies, body: null, query: null, answer: null, status: 204 },
  listBillFaults: { method: "GET", path: P.billFaults, body: null, query: null, answer: BillFaultsAnswerSchema, status: 200 },
  addBillFault: { method: "POST", path: P.billFaults, body: BillFaultRuleSchema, query: null, answer: BillFaultAnswerSchema, status: 201 },
  clearBillFaults: { method: "DELETE", path: P.billFaults, body: null, query: null, answer: null, status: 204 },
  v3Keys: { method: "GET", path: P.v3Keys, body: null, query: V3KeysQuerySchema, answer: V3KeysAnswerSchema, status: 200 },
  rotateV3Certificate: { method: "POST", path: P.rotateV3Certificate, body: RotateCertificateRequestSchema, query: null, answer: RotateCertificateAnswerSchema, status: 200 },
} as const;

export type SandboxControlRoutes = typeof SANDBOX_CONTROL_ROUTES;
export type SandboxControlCall = keyof SandboxControlRoutes;

type InputOf<S> = S extends z.ZodType ? z.input<S> : undefined;
type OutputOf<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The JSON body a call sends (undefined when it sends none). */
export type SandboxControlBody<N extends SandboxControlCall> = InputOf<SandboxControlRoutes[N]["body"]>;
/** The query a call takes (undefined when it takes none). */
export type SandboxControlQuery<N extends SandboxControlCall> = InputOf<SandboxControlRoutes[N]["query"]>;
/** The answer of a successful call (undefined for 204). */
export type SandboxControlAnswer<N extends SandboxControlCall> = OutputOf<SandboxControlRoutes[N]["answer"]>;

/** A control request in wire form: what to send, relative to the sandbox's base URL. */
export interface SandboxControlRequest {
  readonly method: "GET" | "POST" | "DELETE";
  /** The path with its query string. */
  readonly path: string;
  readonly body: unknown;
}

/** Turns a call and its input into the request to send (the query's undefined fields are left out). */
export function buildControlRequest<N extends SandboxControlCall>(
  call: N,
  input: { readonly body?: SandboxControlBody<N>; readonly query?: SandboxControlQuery<N> } = {},
): SandboxControlRequest {
  const route = SANDBOX_CONTROL_ROUTES[call];
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries((input.query ?? {}) as Record<string, unknown>)) {
    if (typeof value === "string") params.set(name, value);
  }
  const search = params.toString();
  return { method: route.method, path: search === "" ? route.path : `${route.path}?${search}`, body: input.body };
}

/** The wx.requestPayment fields in the cashier URL's query, in this order (appId only when given). */
export const CASHIER_PAYMENT_PARAMS = ["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"] as const satisfies readonly (keyof RequestPaymentFields)[];

/**
 * The cashier page's URL for a prepay_id, where a person plays the payer in a browser. A v3 order also needs
 * `payment`, the wx.requestPayment fields the merchant server signed: the page cannot compute a paySign.
 */
export function cashierUrl(baseUrl: string, prepayId: string, payment?: RequestPaymentFields): string {
  const url = `${baseUrl}${SANDBOX_CONTROL_PATHS.cashier}?prepay_id=${encodeURIComponent(prepayId)}`;
  if (payment === undefined) return url;
  const fields = CASHIER_PAYMENT_PARAMS.flatMap((name) => {
    const value = payment[name];
    return value === undefined ? [] : [`${name}=${encodeURIComponent(value)}`];
  });
  return `${url}&${fields.join("&")}`;
}
