import type {
  ApplyRefundRequest,
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

/** Why a gateway call produced no usable answer. Decisions branch on `kind` and `errCode`, never on text. */
export interface GatewayCallError {
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

export type GatewayOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly raw: Readonly<XmlFields> }
  | { readonly ok: false; readonly error: GatewayCallError };

/** Fields the client adds itself: merchant ids, nonce, sign type and sign. */
type ClientFilled = "appid" | "mchId" | "subAppid" | "subMchId" | "nonceStr" | "signType";

export type UnifiedOrderInput = Omit<UnifiedOrderRequest, ClientFilled>;
export type RefundInput = Omit<ApplyRefundRequest, ClientFilled>;
export type OrderRef = { readonly outTradeNo: string } | { readonly transactionId: string };
export type RefundRef = { readonly outRefundNo: string } | { readonly refundId: string } | { readonly outTradeNo: string };

/**
 * WeChat Pay v2 as the API needs it. Implementations sign, send, verify and type every call, and
 * retry only where the protocol makes it safe (same out_trade_no / out_refund_no, identical fields).
 */
export interface WxPayGateway {
  readonly merchant: MerchantCredentials;
  unifiedOrder(input: UnifiedOrderInput): Promise<GatewayOutcome<UnifiedOrderResponse>>;
  orderQuery(ref: OrderRef): Promise<GatewayOutcome<OrderQueryResponse>>;
  closeOrder(outTradeNo: string): Promise<GatewayOutcome<CloseOrderResponse>>;
  /** Over mutual TLS with the merchant's API client certificate. */
  refund(input: RefundInput): Promise<GatewayOutcome<ApplyRefundResponse>>;
  refundQuery(ref: RefundRef): Promise<GatewayOutcome<RefundQueryResponse>>;
}

/** Mini Program login (code2session), on api.weixin.qq.com. */
export interface WxLoginClient {
  code2Session(code: string): Promise<{ readonly ok: true; readonly openid: string } | { readonly ok: false; readonly error: { readonly kind: "rejected" | "unavailable"; readonly errcode?: number | undefined; readonly message: string } }>;
}
