import type {
  ApplyRefundRequest,
  DownloadBillRequest,
  ApplyRefundResponse,
  CloseOrderResponse,
  OrderQueryResponse,
  RefundQueryResponse,
  SignType,
  UnifiedOrderRequest,
  UnifiedOrderResponse,
  XmlFields,
} from "@pay/core";

/** The merchant the API acts for (the institution plus sub-merchant in institutional mode). */
export interface MerchantCredentials {
  readonly appId: string;
  readonly mchId: string;
  readonly subAppId: string | undefined;
  readonly subMchId: string | undefined;
  /** The v2 API key. Never logged. */
  readonly key: string;
  readonly signType: SignType;
}

/** Why a v2 call produced no usable answer. Decisions branch on `kind` and `errCode`, never on text. */
export interface V2CallError {
  /**
   * timeout: no answer in time. network: no connection. http: a non-200 answer (nginx pages included).
   * protocol: return_code=FAIL. business: a signed result_code=FAIL. invalid: an answer that failed
   * XML, signature or schema checks (possibly forged: never acted upon).
   */
  readonly kind: "timeout" | "network" | "http" | "protocol" | "business" | "invalid";
  readonly message: string;
  /** True when repeating the identical request is safe and may succeed. */
  readonly retryable: boolean;
  readonly httpStatus?: number | undefined;
  readonly returnMsg?: string | undefined;
  readonly errCode?: string | undefined;
  readonly errCodeDes?: string | undefined;
}

export type V2Outcome<T> = { readonly ok: true; readonly value: T; readonly raw: Readonly<XmlFields> } | { readonly ok: false; readonly error: V2CallError };

/** Fields the client adds itself: merchant ids, nonce, sign type and sign. */
export type ClientFilled = "appid" | "mchId" | "subAppid" | "subMchId" | "nonceStr" | "signType";

export type UnifiedOrderInput = Omit<UnifiedOrderRequest, ClientFilled>;
export type RefundInput = Omit<ApplyRefundRequest, ClientFilled>;
export type BillInput = Omit<DownloadBillRequest, ClientFilled>;
export type OrderRef = { readonly outTradeNo: string } | { readonly transactionId: string };
export type RefundRef = { readonly outRefundNo: string } | { readonly refundId: string } | { readonly outTradeNo: string };

/**
 * The WeChat Pay v2 wire client. Implementations sign, send, verify and type every call, and
 * retry only where the protocol makes it safe (same out_trade_no / out_refund_no, identical fields).
 * Only the v2 adapter (gateway.ts) uses it: the services see the protocol-neutral PaymentGateway.
 */
export interface V2Client {
  readonly merchant: MerchantCredentials;
  unifiedOrder(input: UnifiedOrderInput): Promise<V2Outcome<UnifiedOrderResponse>>;
  orderQuery(ref: OrderRef): Promise<V2Outcome<OrderQueryResponse>>;
  closeOrder(outTradeNo: string): Promise<V2Outcome<CloseOrderResponse>>;
  /** Over mutual TLS with the merchant's API client certificate. */
  refund(input: RefundInput): Promise<V2Outcome<ApplyRefundResponse>>;
  refundQuery(ref: RefundRef): Promise<V2Outcome<RefundQueryResponse>>;
  /**
   * Opens a day's bill (downloadbill): its CSV bytes streamed as they arrive (no size cap), or what the gateway's
   * refusal says: `none` (No Bill Exist), `not-ready` (Bill Creating), else an error.
   */
  openBill(input: BillInput): Promise<V2BillOutcome>;
}

/** A downloadbill answer: the CSV body (not yet read; reading it may throw a transport error), or no bill / not yet. */
export type V2BillOpen = { readonly kind: "file"; readonly body: AsyncIterable<Uint8Array> } | { readonly kind: "none" } | { readonly kind: "not-ready" };

export type V2BillOutcome = { readonly ok: true; readonly value: V2BillOpen } | { readonly ok: false; readonly error: V2CallError };
