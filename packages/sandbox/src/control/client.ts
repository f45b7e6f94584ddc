import type { z } from "zod";
import {
  buildControlRequest,
  cashierUrl,
  SANDBOX_CONTROL_ROUTES,
  type SandboxControlAnswer,
  type SandboxControlBody,
  type SandboxControlCall,
  type SandboxControlQuery,
} from "./routes.js";
import { ControlErrorAnswerSchema, type ControlErrorAnswer, type RequestPaymentFields, type SandboxControlErrorCode } from "./schemas.js";

/** The part of `fetch` the client uses, so the global one, undici's (say, with a CA to trust) or a test's will do. */
export type SandboxControlFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<{ readonly status: number; text(): Promise<string> }>;

export interface SandboxControlClientOptions {
  /** The sandbox's base URL, e.g. `http://127.0.0.1:8790` (no trailing slash needed). */
  readonly baseUrl: string;
  /** Default: the global fetch. */
  readonly fetch?: SandboxControlFetch;
}

/**
 * Why a control call failed: the sandbox's own error code, `UNEXPECTED_STATUS` (another status than the
 * call's, without an error answer), `UNEXPECTED_ANSWER` (the answer does not match the call's schema) or
 * `UNREACHABLE` (no HTTP answer at all).
 */
export type SandboxControlFailure = SandboxControlErrorCode | "UNEXPECTED_STATUS" | "UNEXPECTED_ANSWER" | "UNREACHABLE";

/** A control call that did not answer as its route says; names the call and the status. */
export class SandboxControlError extends Error {
  override readonly name = "SandboxControlError";
  readonly call: SandboxControlCall;
  readonly code: SandboxControlFailure;
  /** The HTTP status, undefined when the sandbox was unreachable. */
  readonly status: number | undefined;
  /** The sandbox's error answer when it sent one (a refused payment carries `errMsg`). */
  readonly answer: ControlErrorAnswer | undefined;
  /** The answer's body as received: parsed JSON, or the text when it is not JSON. */
  readonly body: unknown;

  constructor(init: {
    call: SandboxControlCall;
    code: SandboxControlFailure;
    status: number | undefined;
    answer?: ControlErrorAnswer;
    body?: unknown;
    message: string;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.call = init.call;
    this.code = init.code;
    this.status = init.status;
    this.answer = init.answer;
    this.body = init.body;
  }
}

/** A typed client for the sandbox's control API. Every method throws a SandboxControlError when the call fails. */
export interface SandboxControlClient {
  readonly baseUrl: string;
  /** GET /sandbox/merchants: the merchants the sandbox serves (no keys). */
  listMerchants(): Promise<SandboxControlAnswer<"listMerchants">>;
  /** POST /sandbox/login-codes: a wx.login code (and the openid behind it) for a user of a Mini Program. */
  createLoginCode(body: SandboxControlBody<"createLoginCode">): Promise<SandboxControlAnswer<"createLoginCode">>;
  /** POST /sandbox/pay: what wx.requestPayment does; the sandbox then sends the pay notify (never with `notify: false`). */
  pay(body: SandboxControlBody<"pay">): Promise<SandboxControlAnswer<"pay">>;
  /** GET /sandbox/orders: the gateway's view of orders, optionally filtered. */
  listOrders(query?: SandboxControlQuery<"listOrders">): Promise<SandboxControlAnswer<"listOrders">>;
  /** GET /sandbox/deliveries: every notify attempt, optionally filtered. */
  listDeliveries(query?: SandboxControlQuery<"listDeliveries">): Promise<SandboxControlAnswer<"listDeliveries">>;
  /** POST /sandbox/refunds/settle: settles a PROCESSING refund now (without its notify with `notify: false`). */
  settleRefund(body: SandboxControlBody<"settleRefund">): Promise<SandboxControlAnswer<"settleRefund">>;
  /** GET /sandbox/faults: the queued fault rules. */
  listFaults(): Promise<SandboxControlAnswer<"listFaults">>;
  /** POST /sandbox/faults: queues faults for the next requests on a gateway path. */
  addFault(rule: SandboxControlBody<"addFault">): Promise<SandboxControlAnswer<"addFault">>;
  /** DELETE /sandbox/faults: drops every queued fault. */
  clearFaults(): Promise<void>;
  /** GET /sandbox/latency: the delay before every WeChat Pay gateway answer. */
  getLatency(): Promise<SandboxControlAnswer<"getLatency">>;
  /** POST /sandbox/latency: sets the delay before every WeChat Pay gateway answer (0 turns it off). */
  setLatency(body: SandboxControlBody<"setLatency">): Promise<SandboxControlAnswer<"setLatency">>;
  /** POST /sandbox/foreign-payments: a paid order the merchant's API never placed (no notify; in queries and the bill). */
  createForeignPayment(body: SandboxControlBody<"createForeignPayment">): Promise<SandboxControlAnswer<"createForeignPayment">>;
  /** POST /sandbox/foreign-refunds: a succeeded refund the merchant's API never asked for (no notify; in queries and the bill). */
  createForeignRefund(body: SandboxControlBody<"createForeignRefund">): Promise<SandboxControlAnswer<"createForeignRefund">>;
  /** GET /sandbox/discrepancies: the bill overrides in force. */
  listDiscrepancies(): Promise<SandboxControlAnswer<"listDiscrepancies">>;
  /** POST /sandbox/discrepancies: makes the bill differ from the gateway's state (an amount, a currency, a line left out, ...). */
  addDiscrepancy(body: SandboxControlBody<"addDiscrepancy">): Promise<SandboxControlAnswer<"addDiscrepancy">>;
  /** DELETE /sandbox/discrepancies: drops every bill override. */
  clearDiscrepancies(): Promise<void>;
  /** GET /sandbox/bill-faults: the queued bill-file faults. */
  listBillFaults(): Promise<SandboxControlAnswer<"listBillFaults">>;
  /** POST /sandbox/bill-faults: spoils the next download(s) of one merchant's bill of one day. */
  addBillFault(body: SandboxControlBody<"addBillFault">): Promise<SandboxControlAnswer<"addBillFault">>;
  /** DELETE /sandbox/bill-faults: drops every queued bill-file fault. */
  clearBillFaults(): Promise<void>;
  /** GET /sandbox/v3/keys: a v3 merchant's certificate, WeChat Pay public key and live platform certificates (no private key). */
  v3Keys(query: SandboxControlQuery<"v3Keys">): Promise<SandboxControlAnswer<"v3Keys">>;
  /** POST /sandbox/v3/certificates/rotate: a new platform certificate; the old ones stay valid for the overlap. */
  rotateV3Certificate(body: SandboxControlBody<"rotateV3Certificate">): Promise<SandboxControlAnswer<"rotateV3Certificate">>;
  /** The cashier page for a prepay_id (no request is made); a v3 order's also carries the signed wx.requestPayment fields. */
  cashierUrl(prepayId: string, payment?: RequestPaymentFields): string;
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`;
}

/** Builds a control client for the sandbox at `baseUrl`. Throws on a base URL that is not http(s). */
export function createSandboxControlClient(options: SandboxControlClientOptions): SandboxControlClient {
  if (!/^https?:\/\/[^/]/.test(options.baseUrl)) throw new Error(`createSandboxControlClient: baseUrl must be an http(s) URL, got "${options.baseUrl}"`);
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const send: SandboxControlFetch = options.fetch ?? ((url, init) => fetch(url, init));

  async function call<N extends SandboxControlCall>(
    name: N,
    input: { readonly body?: SandboxControlBody<N>; readonly query?: SandboxControlQuery<N> } = {},
  ): Promise<SandboxControlAnswer<N>> {
    const route = SANDBOX_CONTROL_ROUTES[name];
    const request = buildControlRequest(name, input);
    const what = `sandbox control ${name} (${request.method} ${request.path})`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    let status: number;
    let text: string;
    try {
      const response = await send(`${baseUrl}${request.path}`, { method: request.method, headers, ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }) });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new SandboxControlError({ call: name, code: "UNREACHABLE", status: undefined, message: `${what} got no answer from ${baseUrl}: ${reason}`, cause });
    }
    const body = parseBody(text);
    if (status !== route.status) {
      const error = ControlErrorAnswerSchema.safeParse(body);
      if (error.success) {
        const { code, message } = error.data.error;
        throw new SandboxControlError({ call: name, code, status, answer: error.data, body, message: `${what} answered HTTP ${status} ${code}: ${message}` });
      }
      const shown = text === "" ? "(no body)" : text.slice(0, 200);
      throw new SandboxControlError({ call: name, code: "UNEXPECTED_STATUS", status, body, message: `${what} answered HTTP ${status}, expected ${route.status}: ${shown}` });
    }
    if (route.answer === null) return undefined as SandboxControlAnswer<N>;
    const parsed = (route.answer as z.ZodType).safeParse(body);
    if (!parsed.success) {
      throw new SandboxControlError({
        call: name,
        code: "UNEXPECTED_ANSWER",
        status,
        body,
        message: `${what} answered HTTP ${status} with an unexpected shape: ${issueText(parsed.error)}`,
      });
    }
    return parsed.data as SandboxControlAnswer<N>;
  }

  return {
    baseUrl,
    listMerchants: () => call("listMerchants"),
    createLoginCode: (body) => call("createLoginCode", { body }),
    pay: (body) => call("pay", { body }),
    listOrders: (query = {}) => call("listOrders", { query }),
    listDeliveries: (query = {}) => call("listDeliveries", { query }),
    settleRefund: (body) => call("settleRefund", { body }),
    listFaults: () => call("listFaults"),
    addFault: (rule) => call("addFault", { body: rule }),
    clearFaults: () => call("clearFaults"),
    getLatency: () => call("getLatency"),
    setLatency: (body) => call("setLatency", { body }),
    createForeignPayment: (body) => call("createForeignPayment", { body }),
    createForeignRefund: (body) => call("createForeignRefund", { body }),
    listDiscrepancies: () => call("listDiscrepancies"),
    addDiscrepancy: (body) => call("addDiscrepancy", { body }),
    clearDiscrepancies: () => call("clearDiscrepancies"),
    listBillFaults: () => call("listBillFaults"),
    addBillFault: (body) => call("addBillFault", { body }),
    clearBillFaults: () => call("clearBillFaults"),
    v3Keys: (query) => call("v3Keys", { query }),
    rotateV3Certificate: (body) => call("rotateV3Certificate", { body }),
    cashierUrl: (prepayId, payment) => cashierUrl(baseUrl, prepayId, payment),
  };
}
