import { createHash } from "node:crypto";
import { buildNotifyFailReply, NOTIFY_SUCCESS_REPLY } from "@pay/core";
import type { RequestPaymentParams } from "@pay/core/contract";
import type {
  BillDownload,
  GatewayCallError,
  GatewayResult,
  IgnoredNotify,
  NotifyParse,
  NotifyReply,
  OrderState,
  PaidReport,
  PaymentGateway,
  PaymentParamsInput,
  PayNotifyReport,
  PlaceOrderInput,
  RefundReport,
  RefundRequest,
  RefundState,
  ReportedMerchant,
} from "./port.js";

/** The calls the fake answers, by name. */
export type FakeGatewayMethod = "placeOrder" | "queryOrder" | "closeOrder" | "refund" | "queryRefund" | "openBill";

export interface FakeGatewayOptions {
  /** The merchant the fake's reports name (the API's own, for a report that matches). */
  readonly merchant: ReportedMerchant;
  /** How long a prepay id lives; default 2 hours. */
  readonly prepayValidForMs?: number;
  /**
   * The protocol whose shape the fake plays at the port: v2 takes notifies as XML content types and
   * answers 200 with WeChat's XML, v3 takes JSON, answers 200 or a 400 `{"code":"FAIL"}`, and hands out
   * RSA payment params. A fake of a protocol refuses notify bodies made by a fake of the other, as a real
   * adapter fails to verify them. Unset: the protocol-neutral shape (JSON in, 200 JSON out, MD5 params).
   */
  readonly protocol?: "v2" | "v3";
}

/** An order as the fake gateway holds it. */
export interface FakeOrder {
  readonly input: PlaceOrderInput;
  readonly prepayId: string;
  state: "pending" | "paid" | "closed";
  transactionId: string | undefined;
}

/** A refund as the fake gateway holds it. */
export interface FakeRefund {
  readonly input: RefundRequest;
  readonly gatewayRefundId: string;
  status: RefundState;
  succeededAt: string | undefined;
}

/**
 * A bill file the fake serves: the CSV (text or bytes) streamed in chunks of `chunkBytes` (64 KiB
 * unless told, so a test can split lines and characters across chunks), `hashOk: false` to fail
 * `finish` as a v3 SHA1 mismatch does; or no bill, or a bill still being made.
 */
export type FakeBillFile =
  | { readonly kind: "file"; readonly csv: string | Uint8Array; readonly chunkBytes?: number; readonly hashOk?: boolean }
  | { readonly kind: "none" }
  | { readonly kind: "not-ready" };

/** Overrides for a payment report, to play a mismatching or forged-looking one. */
export type PaymentPatch = Partial<Omit<PaidReport, "source" | "rawJson">>;

/**
 * The in-memory PaymentGateway (wechatpay-go's null implementations): service tests drive it without
 * HTTP. It keeps orders and refunds like the real gateway does (re-entry returns the same prepay id, a
 * paid order cannot be closed, refunds are idempotent by id) and plays what a test asks for: a payment,
 * a refund's settlement, or the next call failing.
 */
export interface FakeGateway extends PaymentGateway {
  readonly orders: ReadonlyMap<string, FakeOrder>;
  readonly refunds: ReadonlyMap<string, FakeRefund>;
  /** Every call, in order, with the id it was about. */
  readonly calls: Array<{ readonly method: FakeGatewayMethod; readonly id: string }>;
  /** Bill files served by openBill, by date (yyyy-MM-dd); other dates answer `none` (no bill). */
  readonly billFiles: Map<string, FakeBillFile>;
  /** The payer pays a placed order: it is paid at the gateway, and the report a notify would carry is returned. */
  pay(orderId: string, patch?: PaymentPatch): PaidReport;
  /** The body of a pay notify for a report, as the route would receive it (read by parsePayNotify). */
  payNotifyBody(report: PaidReport): Uint8Array;
  /** The body of a notify for a failed payment attempt. */
  failedPayNotifyBody(code: string): Uint8Array;
  /** Moves a refund to its final status at the gateway and returns the refund notify's report. */
  settleRefund(refundId: string, status: Exclude<RefundState, "processing">, succeededAt?: string): RefundReport;
  /** The body of a refund notify for a report. */
  refundNotifyBody(report: RefundReport): Uint8Array;
  /** The body of a verified notify of an event the API does not act on (read as `ignored` by either parse). */
  ignoredNotifyBody(reason: string): Uint8Array;
  /** The next call of `method` fails with this error (queued: several calls, several errors). */
  failNext(method: FakeGatewayMethod, error: Partial<GatewayCallError> & Pick<GatewayCallError, "kind">): void;
}

/** A real gateway answers in a later turn of the event loop, so concurrent calls interleave; so does the fake. */
function answerLater(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function refusal<T>(reason: GatewayCallError["reason"], code: string, message: string): GatewayResult<T> {
  return { ok: false, error: { kind: "business", message, retryable: false, code, ...(reason === undefined ? {} : { reason }) } };
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body)) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How the fake answers a notify, by the protocol it plays. */
function notifyReplyOf(protocol: FakeGatewayOptions["protocol"], acknowledged: boolean, message: string): NotifyReply {
  switch (protocol) {
    case "v2":
      return { status: 200, contentType: "text/xml", body: acknowledged ? NOTIFY_SUCCESS_REPLY : buildNotifyFailReply(message) };
    case "v3":
      return acknowledged
        ? { status: 200, contentType: "application/json", body: "" }
        : { status: 400, contentType: "application/json", body: JSON.stringify({ code: "FAIL", message }) };
    case undefined:
      return { status: 200, contentType: "application/json", body: JSON.stringify(acknowledged ? { code: "SUCCESS" } : { code: "FAIL", message }) };
  }
}

/** Payment params as the protocol's paySign looks: an RSA signature's base64 (v3), or uppercase hex (v2: of the order's sign type; neutral: MD5). */
function paymentParamsOf(protocol: FakeGatewayOptions["protocol"], { prepayId, now, signType: chosen }: PaymentParamsInput): RequestPaymentParams {
  const timeStamp = String(Math.floor(now / 1000));
  const digest = createHash("md5").update(`${prepayId}|${timeStamp}`).digest();
  if (protocol === "v3") {
    // 256 bytes, as a 2048-bit RSA signature is: the contract checks its base64 form.
    return {
      timeStamp,
      nonceStr: "fakenonce",
      package: `prepay_id=${prepayId}`,
      signType: "RSA",
      paySign: Buffer.concat(Array.from({ length: 16 }, () => digest)).toString("base64"),
    };
  }
  // v2 signs with the order's sign type; the neutral fake always with MD5.
  const signType = protocol === "v2" ? (chosen ?? "MD5") : "MD5";
  const hex = signType === "MD5" ? digest.toString("hex") : createHash("sha256").update(digest).digest("hex");
  return { timeStamp, nonceStr: "fakenonce", package: `prepay_id=${prepayId}`, signType, paySign: hex.toUpperCase() };
}

/** Builds the in-memory gateway. */
export function createFakeGateway(options: FakeGatewayOptions): FakeGateway {
  const { merchant, protocol } = options;
  // Two fakes in one test (v2 and v3) hand out distinct ids, as the real gateway does.
  const idPrefix = protocol === undefined ? "fake" : `fake_${protocol}`;
  const validForMs = options.prepayValidForMs ?? 2 * 3600 * 1000;
  const orders = new Map<string, FakeOrder>();
  const refunds = new Map<string, FakeRefund>();
  const failures = new Map<FakeGatewayMethod, GatewayCallError[]>();
  const calls: FakeGateway["calls"] = [];
  const billFiles = new Map<string, FakeBillFile>();
  let sequence = 0;

  /** A notify body as this fake's protocol "signs" it: tagged with the protocol (untagged for the neutral fake). */
  function signed(fields: object): Uint8Array {
    return encoder.encode(JSON.stringify(protocol === undefined ? fields : { protocol, ...fields }));
  }

  /** The fields of a notify body this fake made (or any fake's, for the neutral one), without the tag. */
  function readBody(body: Uint8Array): NotifyParse<Record<string, unknown>> {
    const value = parseJson(body);
    if (!isRecord(value)) return { ok: false, error: { code: "INVALID_FIELD", message: "not a fake notify" } };
    const { protocol: tag, ...fields } = value;
    if (protocol !== undefined && tag !== protocol) return { ok: false, error: { code: "SIGN_ERROR", message: `not signed as a ${protocol} notify` } };
    return { ok: true, value: fields };
  }

  /** Records the call and returns the error queued for it, if any. */
  function enter(method: FakeGatewayMethod, id: string): GatewayCallError | undefined {
    calls.push({ method, id });
    return failures.get(method)?.shift();
  }

  function report(order: FakeOrder, source: PaidReport["source"], patch: PaymentPatch = {}): PaidReport {
    const base = {
      source,
      orderId: order.input.orderId,
      transactionId: order.transactionId ?? "",
      merchant,
      amount: order.input.amount,
      currency: order.input.currency,
      payerAmount: order.input.amount,
      payerCurrency: order.input.currency,
    };
    const merged = { ...base, ...patch };
    return { ...merged, rawJson: () => JSON.stringify({ fake: true, ...merged }) };
  }

  function refundReport(refund: FakeRefund): RefundReport {
    return {
      refundId: refund.input.refundId,
      orderId: refund.input.orderId,
      gatewayRefundId: refund.gatewayRefundId,
      amount: refund.input.amount,
      status: refund.status,
      succeededAt: refund.succeededAt,
    };
  }

  return {
    orders,
    refunds,
    calls,
    billFiles,
    async placeOrder(input) {
      await answerLater();
      const failure = enter("placeOrder", input.orderId);
      if (failure !== undefined) return { ok: false, error: failure };
      const existing = orders.get(input.orderId);
      if (existing?.state === "paid") return refusal("ORDER_PAID", "ORDER_PAID", "The order is paid.");
      if (existing?.state === "closed") return refusal("ORDER_CLOSED", "ORDER_CLOSED", "The order is closed.");
      const order = existing ?? { input, prepayId: `${idPrefix}_prepay_${++sequence}`, state: "pending" as const, transactionId: undefined };
      orders.set(input.orderId, order);
      return { ok: true, value: { prepayId: order.prepayId, validForMs } };
    },
    paymentParams(input) {
      return paymentParamsOf(protocol, input);
    },
    async queryOrder(orderId): Promise<GatewayResult<OrderState>> {
      await answerLater();
      const failure = enter("queryOrder", orderId);
      if (failure !== undefined) return { ok: false, error: failure };
      const order = orders.get(orderId);
      if (order === undefined) return { ok: true, value: { state: "not-found" } };
      if (order.state === "paid") return { ok: true, value: { state: "paid", report: report(order, "query") } };
      return { ok: true, value: { state: order.state } };
    },
    async closeOrder(orderId) {
      await answerLater();
      const failure = enter("closeOrder", orderId);
      if (failure !== undefined) return { ok: false, error: failure };
      const order = orders.get(orderId);
      if (order === undefined) return refusal("ORDER_NOT_FOUND", "ORDER_NOT_FOUND", "No such order.");
      if (order.state === "paid") return refusal("ORDER_PAID", "ORDER_PAID", "The order is paid.");
      if (order.state === "closed") return refusal("ORDER_CLOSED", "ORDER_CLOSED", "The order is closed.");
      order.state = "closed";
      return { ok: true, value: undefined };
    },
    async refund(input) {
      await answerLater();
      const failure = enter("refund", input.refundId);
      if (failure !== undefined) return { ok: false, error: failure };
      const existing = refunds.get(input.refundId);
      if (existing !== undefined) return { ok: true, value: { gatewayRefundId: existing.gatewayRefundId } };
      const order = orders.get(input.orderId);
      if (order?.state !== "paid") return refusal(undefined, "ORDER_NOT_PAID", "The order is not paid.");
      const refunded = [...refunds.values()].filter((r) => r.input.orderId === input.orderId && r.status !== "closed").reduce((sum, r) => sum + r.input.amount, 0);
      if (refunded + input.amount > order.input.amount) return refusal(undefined, "NOT_ENOUGH", "The refund exceeds what was paid.");
      const refund: FakeRefund = { input, gatewayRefundId: `${idPrefix}_refund_${++sequence}`, status: "processing", succeededAt: undefined };
      refunds.set(input.refundId, refund);
      return { ok: true, value: { gatewayRefundId: refund.gatewayRefundId } };
    },
    async queryRefund(refundId) {
      await answerLater();
      const failure = enter("queryRefund", refundId);
      if (failure !== undefined) return { ok: false, error: failure };
      const refund = refunds.get(refundId);
      if (refund === undefined) return { ok: true, value: { state: "not-found" } };
      const succeededAt = refund.succeededAt === undefined ? undefined : Date.parse(refund.succeededAt);
      return { ok: true, value: { state: "found", status: refund.status, succeededAt } };
    },
    async openBill(date): Promise<GatewayResult<BillDownload>> {
      await answerLater();
      const failure = enter("openBill", date);
      if (failure !== undefined) return { ok: false, error: failure };
      const file = billFiles.get(date) ?? { kind: "none" };
      if (file.kind !== "file") return { ok: true, value: file };
      const bytes = typeof file.csv === "string" ? encoder.encode(file.csv) : file.csv;
      const chunkBytes = file.chunkBytes ?? 64 * 1024;
      async function* body(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < bytes.length; at += chunkBytes) {
          await Promise.resolve();
          yield bytes.subarray(at, at + chunkBytes);
        }
      }
      return {
        ok: true,
        value: {
          kind: "file",
          body: body(),
          finish: () =>
            file.hashOk === false
              ? { ok: false, error: { kind: "invalid", code: "HASH_MISMATCH", message: "The bill's SHA1 does not match the answer's hash_value.", retryable: false } }
              : { ok: true, value: undefined },
        },
      };
    },
    notifyContentTypes: protocol === "v2" ? ["text/xml", "application/xml"] : ["application/json"],
    parsePayNotify(body): NotifyParse<PayNotifyReport> {
      const value = readBody(body);
      if (!value.ok) return value;
      if (value.value.kind === "ignored") return { ok: true, value: value.value as unknown as IgnoredNotify };
      const { value: fields } = value;
      if (fields.kind !== "paid" && fields.kind !== "failed") return { ok: false, error: { code: "INVALID_FIELD", message: "not a fake pay notify" } };
      if (fields.kind === "failed") return { ok: true, value: { kind: "failed", code: typeof fields.code === "string" ? fields.code : undefined } };
      if (!isRecord(fields.report)) return { ok: false, error: { code: "INVALID_FIELD", message: "not a fake pay notify" } };
      // The body carries the report's fields; its raw JSON is those fields as received, like a real adapter's.
      const received = fields.report;
      return { ok: true, value: { kind: "paid", report: { ...(received as unknown as PaidReport), rawJson: () => JSON.stringify(received) } } };
    },
    parseRefundNotify(body): NotifyParse<RefundReport | IgnoredNotify> {
      const value = readBody(body);
      if (!value.ok) return value;
      if (value.value.kind === "ignored") return { ok: true, value: value.value as unknown as IgnoredNotify };
      if (typeof value.value.refundId !== "string") return { ok: false, error: { code: "INVALID_FIELD", message: "not a fake refund notify" } };
      return { ok: true, value: value.value as unknown as RefundReport };
    },
    notifyReply(answer) {
      return notifyReplyOf(protocol, answer.acknowledged, answer.acknowledged ? "" : answer.message);
    },
    pay(orderId, patch) {
      const order = orders.get(orderId);
      if (order === undefined) throw new Error(`fake gateway: no order ${orderId} was placed`);
      order.state = "paid";
      order.transactionId ??= `${idPrefix}_tx_${++sequence}`;
      return report(order, "notify", patch);
    },
    payNotifyBody(paid) {
      return signed({ kind: "paid", report: paid } satisfies PayNotifyReport);
    },
    failedPayNotifyBody(code) {
      return signed({ kind: "failed", code } satisfies PayNotifyReport);
    },
    settleRefund(refundId, status, succeededAt) {
      const refund = refunds.get(refundId);
      if (refund === undefined) throw new Error(`fake gateway: no refund ${refundId} was submitted`);
      refund.status = status;
      refund.succeededAt = status === "succeeded" ? succeededAt : undefined;
      return refundReport(refund);
    },
    refundNotifyBody(refund) {
      return signed({ ...refund });
    },
    ignoredNotifyBody(reason) {
      return signed({ kind: "ignored", reason } satisfies IgnoredNotify);
    },
    failNext(method, error) {
      const queue = failures.get(method) ?? [];
      queue.push({ message: `fake ${method} failure`, retryable: false, ...error });
      failures.set(method, queue);
    },
  };
}
