import type { Currency, SignType } from "@pay/core";
import type { RequestPaymentParams } from "@pay/core/contract";

/**
 * The API's one seam to WeChat Pay, phrased in the API's terms. The v2 adapter (v2/gateway.ts) is
 * its first implementation, the in-memory fake (fake.ts) drives the service tests, and APIv3 plugs in
 * here next. No wire field names cross this line: adapters translate both ways.
 */
export interface PaymentGateway {
  /** Places (or re-enters, with identical fields) an order and returns what the client needs to pay. */
  placeOrder(order: PlaceOrderInput): Promise<GatewayResult<PlacedOrder>>;
  /** Signs the fields of `wx.requestPayment` for a prepay id, locally: no call is made. */
  paymentParams(input: PaymentParamsInput): RequestPaymentParams;
  /** What the gateway knows about an order; a paid answer carries a verified report. */
  queryOrder(orderId: string): Promise<GatewayResult<OrderState>>;
  /** Closes an unpaid order; `reason` tells ORDER_PAID / ORDER_CLOSED / ORDER_NOT_FOUND apart. */
  closeOrder(orderId: string): Promise<GatewayResult<undefined>>;
  /** Asks for a refund of a paid order; repeating it with the same refund id never refunds twice. */
  refund(input: RefundRequest): Promise<GatewayResult<SubmittedRefund>>;
  /** Where a refund stands; `not-found` when the gateway never received it. */
  queryRefund(refundId: string): Promise<GatewayResult<RefundLookup>>;
  /**
   * Opens a day's trade bill (every payment and refund, bill type ALL) as a stream, for reconciliation:
   * `none` when WeChat Pay has no bill for the day (no trades), `not-ready` while it is still making it,
   * else the file. A malformed date is a caller bug and throws.
   */
  openBill(date: BillDate): Promise<GatewayResult<BillDownload>>;
  /** The content types a notify may arrive with; anything else is refused unread. */
  readonly notifyContentTypes: readonly string[];
  /** Verifies a pay notify from its raw bytes (never a parsed body) and types it. */
  parsePayNotify(body: Uint8Array, headers: NotifyHeaders): NotifyParse<PayNotifyReport>;
  /** Verifies a refund notify from its raw bytes and types it. */
  parseRefundNotify(body: Uint8Array, headers: NotifyHeaders): NotifyParse<RefundReport | IgnoredNotify>;
  /** How to answer a notify: the protocol decides the status, content type and body. */
  notifyReply(answer: NotifyAnswer): NotifyReply;
}

/** Largest notify body read; real ones are under 4 KiB. */
export const MAX_NOTIFY_BYTES = 64 * 1024;

/**
 * timeout: no answer in time. network: no connection. http: a non-200 answer (proxy pages included).
 * protocol: the gateway refused the message itself. business: a verified refusal of the request.
 * invalid: an answer that failed parsing, signature or schema checks (possibly forged: never acted upon).
 * shed: never sent: the gateway guard (gateway/guard.ts) refused the call (breaker open, bulkhead full).
 */
export type GatewayErrorKind = "timeout" | "network" | "http" | "protocol" | "business" | "invalid" | "shed";

/** What a gateway refusal means where a service branches on it; other refusals carry none. */
export type GatewayErrorReason = "ORDER_PAID" | "ORDER_CLOSED" | "ORDER_NOT_FOUND" | "REFUND_NOT_FOUND";

/** Why a gateway call produced no usable answer, kept as data. Decisions branch on `kind` and `reason`, never on text. */
export interface GatewayCallError {
  readonly kind: GatewayErrorKind;
  readonly message: string;
  /** True when repeating the identical request is safe and may succeed. */
  readonly retryable: boolean;
  readonly httpStatus?: number | undefined;
  /** The gateway's own code for a refusal (for messages and logs). */
  readonly code?: string | undefined;
  /** The gateway's description of that code. */
  readonly description?: string | undefined;
  readonly reason?: GatewayErrorReason | undefined;
  /** A shed call: when trying again may go through (whole seconds, at least 1). */
  readonly retryAfterSeconds?: number | undefined;
}

export type GatewayResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: GatewayCallError };

/** An order as the gateway is asked to take it. Times are instants (epoch ms); the adapter formats them. */
export interface PlaceOrderInput {
  readonly orderId: string;
  readonly description: string;
  readonly amount: number;
  readonly currency: Currency;
  /** The payer's openid under the merchant's appid (direct mode) or under the sub-merchant's (institutional). */
  readonly payer: { readonly openid: string; readonly scope: "merchant" | "sub-merchant" } | undefined;
  readonly clientIp: string;
  readonly startsAt: number;
  readonly expiresAt: number;
  readonly notifyUrl: string;
}

/** A placed order: the prepay id the client pays with, and how long the gateway keeps it. */
export interface PlacedOrder {
  readonly prepayId: string;
  readonly validForMs: number;
}

export interface PaymentParamsInput {
  readonly prepayId: string;
  readonly now: number;
  /** The sign type the order was placed with, where the protocol lets the merchant choose one. */
  readonly signType?: SignType | undefined;
}

/** The merchant (and sub-merchant) a report names; checked against the stored order. */
export interface ReportedMerchant {
  readonly appId: string;
  readonly mchId: string;
  readonly subAppId: string | undefined;
  readonly subMchId: string | undefined;
}

/** A verified report that an order was paid, from a notify or an order query. */
export interface PaidReport {
  readonly source: "notify" | "query";
  readonly orderId: string;
  readonly transactionId: string;
  readonly merchant: ReportedMerchant;
  /** Minor units; undefined when the answer left it out (it then matches no order). */
  readonly amount: number | undefined;
  readonly currency: Currency;
  /** What the payer paid (before coupons), when reported. */
  readonly payerAmount: number | undefined;
  readonly payerCurrency: Currency | undefined;
  /**
   * Every verified field as received, as JSON (opaque above the adapter; stored for reconciliation). Encoded on
   * demand: only a report that pays an order is stored, and duplicates are the common case under retries.
   */
  rawJson(): string;
}

/** What the gateway knows about an order. */
export type OrderState = { readonly state: "paid"; readonly report: PaidReport } | { readonly state: "pending" } | { readonly state: "closed" } | { readonly state: "not-found" };

export interface RefundRequest {
  readonly orderId: string;
  readonly refundId: string;
  /** The order's total, as paid. */
  readonly orderAmount: number;
  readonly amount: number;
  readonly currency: Currency;
  readonly reason?: string | undefined;
  readonly notifyUrl?: string | undefined;
}

export interface SubmittedRefund {
  /** The gateway's id for the refund. */
  readonly gatewayRefundId: string;
}

/** A refund's state at the gateway, in the API's terms. */
export type RefundState = "processing" | "succeeded" | "closed" | "abnormal";

export type RefundLookup =
  | {
      readonly state: "found";
      readonly status: RefundState;
      /** When the refund succeeded at the gateway (epoch ms), when the answer says; the bill's day of a refund. */
      readonly succeededAt?: number | undefined;
    }
  | { readonly state: "not-found" };

/** `yyyy-MM-dd`, a calendar day in Beijing time. */
export type BillDate = string;

/**
 * A day's bill as opened by PaymentGateway.openBill. For `file`, `body` yields the bill's CSV bytes,
 * uncompressed, as they arrive (never the whole file at once); the reader may stop early (breaking out
 * of `for await` releases the connection). A body that cannot be read throws: BillFailure
 * (@pay/core, MALFORMED_BILL) for bytes that are not a bill (a broken gzip stream, a file past the size
 * limit), any other error for a transport failure. Once the body has been read to its end, `finish`
 * checks what only the whole file proves (v3: the SHA1 of the uncompressed file against the signed
 * answer's hash_value: an `invalid` error with code HASH_MISMATCH). Nothing read from a bill may change
 * state before `finish` answers ok.
 */
export type BillDownload =
  { readonly kind: "file"; readonly body: AsyncIterable<Uint8Array>; finish(): GatewayResult<undefined> } | { readonly kind: "none" } | { readonly kind: "not-ready" };

export type NotifyHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A notify that could not be verified: a code for the log, a message for the answer. */
export interface NotifyRefusal {
  readonly code: string;
  readonly message: string;
}

export type NotifyParse<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: NotifyRefusal };

/**
 * A verified notify the API has nothing to do with (v3: an event type it does not know): acknowledged, so
 * WeChat Pay stops sending it, and nothing changes. v2 notifies have no event type and are never ignored.
 */
export interface IgnoredNotify {
  readonly kind: "ignored";
  /** Why, for the log (e.g. the event type). */
  readonly reason: string;
}

/** A verified pay notify: a payment, a failed attempt that changes nothing, or an event that is none of the API's business. */
export type PayNotifyReport = { readonly kind: "paid"; readonly report: PaidReport } | { readonly kind: "failed"; readonly code: string | undefined } | IgnoredNotify;

/** True for a refund notify the API ignores (RefundReport has no `kind`). */
export function isIgnoredNotify(value: RefundReport | IgnoredNotify): value is IgnoredNotify {
  return "kind" in value;
}

/** A verified refund notify. */
export interface RefundReport {
  /** Our refund id. */
  readonly refundId: string;
  readonly orderId: string;
  readonly gatewayRefundId: string;
  readonly amount: number;
  readonly status: RefundState;
  /** ISO instant the refund succeeded at, when reported. */
  readonly succeededAt: string | undefined;
}

/** What the API decided about a notify. */
export type NotifyAnswer = { readonly acknowledged: true } | { readonly acknowledged: false; readonly message: string };

/** The HTTP answer to a notify, as the protocol wants it. */
export interface NotifyReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}
