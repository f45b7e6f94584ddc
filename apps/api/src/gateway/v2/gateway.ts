import {
  buildNotifyFailReply,
  buildRequestPaymentParams,
  formatCompactBeijingTime,
  NOTIFY_SUCCESS_REPLY,
  parseBeijingTime,
  parsePayNotify,
  parseRefundNotify,
  type Currency,
  type OrderQueryResponse,
  type RefundStatusV2,
  type XmlFields,
} from "@pay/core";
import {
  MAX_NOTIFY_BYTES,
  type GatewayCallError,
  type GatewayErrorReason,
  type GatewayResult,
  type OrderState,
  type PaidReport,
  type PaymentGateway,
  type PlaceOrderInput,
  type RefundRequest,
  type RefundState,
} from "../port.js";
import { createV2Client, type V2ClientOptions } from "./client.js";
import type { MerchantCredentials, UnifiedOrderInput, V2CallError, V2Client, V2Outcome } from "./types.js";

/** A prepay_id lives 2 hours (v2 §unifiedorder). */
export const V2_PREPAY_TTL_MS = 2 * 3600 * 1000;

/** The v2 PaymentGateway over HTTP(S), owning its connection pools; `close()` releases them. */
export interface V2Gateway extends PaymentGateway {
  close(): Promise<void>;
}

/** The err_codes a service branches on, in the port's terms. */
const REASONS: Readonly<Record<string, GatewayErrorReason>> = {
  ORDERPAID: "ORDER_PAID",
  ORDERCLOSED: "ORDER_CLOSED",
  ORDERNOTEXIST: "ORDER_NOT_FOUND",
  REFUNDNOTEXIST: "REFUND_NOT_FOUND",
};

const REFUND_STATES: Readonly<Record<RefundStatusV2, RefundState>> = {
  PROCESSING: "processing",
  NOTSURE: "processing",
  SUCCESS: "succeeded",
  REFUNDCLOSE: "closed",
  CHANGE: "abnormal",
};

const XML_TYPES = ["text/xml", "application/xml"] as const;

/** A v2 call error in the port's terms: err_code becomes `code`, and the branching ones a `reason`. */
export function neutralError(error: V2CallError): GatewayCallError {
  const reason = error.kind === "business" && error.errCode !== undefined ? REASONS[error.errCode] : undefined;
  return {
    kind: error.kind,
    message: error.message,
    retryable: error.retryable,
    ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
    ...(error.errCode === undefined ? {} : { code: error.errCode }),
    ...(error.errCodeDes === undefined ? {} : { description: error.errCodeDes }),
    ...(reason === undefined ? {} : { reason }),
  };
}

function failed(outcome: { readonly error: V2CallError }): { ok: false; error: GatewayCallError } {
  return { ok: false, error: neutralError(outcome.error) };
}

/** The unifiedorder fields of an order: the same order always gives the same fields, so re-entry is safe. */
export function unifiedOrderInput(order: PlaceOrderInput): UnifiedOrderInput {
  return {
    body: order.description,
    outTradeNo: order.orderId,
    feeType: order.currency,
    totalFee: order.amount,
    spbillCreateIp: order.clientIp,
    timeStart: formatCompactBeijingTime(order.startsAt),
    timeExpire: formatCompactBeijingTime(order.expiresAt),
    notifyUrl: order.notifyUrl,
    tradeType: "JSAPI",
    ...(order.payer === undefined ? {} : order.payer.scope === "merchant" ? { openid: order.payer.openid } : { subOpenid: order.payer.openid }),
  };
}

/** A verified SUCCESS / REFUND orderquery answer as a paid report. */
function queryReport(answer: OrderQueryResponse, raw: Readonly<XmlFields>): PaidReport {
  return {
    source: "query",
    orderId: answer.outTradeNo,
    transactionId: answer.transactionId ?? "",
    merchant: { appId: answer.appid, mchId: answer.mchId, subAppId: answer.subAppid, subMchId: answer.subMchId },
    amount: answer.totalFee,
    // fee_type is optional on domestic messages, where it is CNY.
    currency: answer.feeType ?? "CNY",
    payerAmount: answer.cashFee,
    payerCurrency: answer.cashFeeType,
    rawJson: () => JSON.stringify(raw),
  };
}

function orderState(outcome: V2Outcome<OrderQueryResponse>): GatewayResult<OrderState> {
  if (!outcome.ok) {
    return outcome.error.kind === "business" && outcome.error.errCode === "ORDERNOTEXIST" ? { ok: true, value: { state: "not-found" } } : failed(outcome);
  }
  switch (outcome.value.tradeState) {
    case "SUCCESS":
    case "REFUND":
      return { ok: true, value: { state: "paid", report: queryReport(outcome.value, outcome.raw) } };
    case "CLOSED":
    case "REVOKED":
    case "PAYERROR":
      return { ok: true, value: { state: "closed" } };
    case "NOTPAY":
    case "USERPAYING":
    case "ACCEPT":
      return { ok: true, value: { state: "pending" } };
  }
}

/** The v2 adapter over any v2 client (the live one, or a recording one in tests). */
export function createV2Adapter(client: V2Client, merchant: MerchantCredentials = client.merchant): PaymentGateway {
  return {
    async placeOrder(order) {
      const answer = await client.unifiedOrder(unifiedOrderInput(order));
      return answer.ok ? { ok: true, value: { prepayId: answer.value.prepayId, validForMs: V2_PREPAY_TTL_MS } } : failed(answer);
    },
    paymentParams({ prepayId, now, signType }) {
      return buildRequestPaymentParams({ appId: merchant.appId, subAppId: merchant.subAppId, prepayId, signType: signType ?? merchant.signType, key: merchant.key, now });
    },
    async queryOrder(orderId) {
      return orderState(await client.orderQuery({ outTradeNo: orderId }));
    },
    async closeOrder(orderId) {
      const answer = await client.closeOrder(orderId);
      return answer.ok ? { ok: true, value: undefined } : failed(answer);
    },
    async refund(input: RefundRequest) {
      const answer = await client.refund({
        outTradeNo: input.orderId,
        outRefundNo: input.refundId,
        totalFee: input.orderAmount,
        refundFee: input.amount,
        ...(input.currency === "CNY" ? {} : { refundFeeType: input.currency }),
        ...(input.reason === undefined ? {} : { refundDesc: input.reason }),
        ...(input.notifyUrl === undefined ? {} : { notifyUrl: input.notifyUrl }),
      });
      return answer.ok ? { ok: true, value: { gatewayRefundId: answer.value.refundId } } : failed(answer);
    },
    async queryRefund(refundId) {
      const answer = await client.refundQuery({ outRefundNo: refundId });
      if (!answer.ok) {
        return answer.error.kind === "business" && answer.error.errCode === "REFUNDNOTEXIST" ? { ok: true, value: { state: "not-found" } } : failed(answer);
      }
      const item = answer.value.refunds.find((r) => r.outRefundNo === refundId);
      // An answer that lists other refunds only tells nothing about this one: still in flight.
      if (item === undefined) return { ok: true, value: { state: "found", status: "processing" } };
      // refund_success_time_$n is yyyy-MM-dd HH:mm:ss, Beijing time.
      const succeededAt = item.refundSuccessTime === undefined ? undefined : parseBeijingTime(item.refundSuccessTime)?.getTime();
      return { ok: true, value: { state: "found", status: REFUND_STATES[item.refundStatus], ...(succeededAt === undefined ? {} : { succeededAt }) } };
    },
    async openBill(date) {
      // The plain CSV (no tar_type): v2 bills carry no hash, so there is nothing for finish() to check.
      const answer = await client.openBill({ billDate: date.replaceAll("-", ""), billType: "ALL" });
      if (!answer.ok) return failed(answer);
      const opened = answer.value;
      return { ok: true, value: opened.kind === "file" ? { kind: "file", body: opened.body, finish: () => ({ ok: true, value: undefined }) } : opened };
    },

    notifyContentTypes: XML_TYPES,
    parsePayNotify(body) {
      // HMAC-SHA256 notifies arrive without sign_type; the length of the sign implies the algorithm,
      // which must still be the merchant's configured one.
      const parsed = parsePayNotify(body, { key: merchant.key, signType: merchant.signType, inferSignType: true, maxBytes: MAX_NOTIFY_BYTES });
      if (!parsed.ok) return { ok: false, error: { code: parsed.error.code, message: parsed.error.code === "SIGN_MISMATCH" ? "签名失败" : "参数格式校验错误" } };
      const { notify, raw, paid } = parsed.value;
      if (!paid) return { ok: true, value: { kind: "failed", code: notify.errCode } };
      const currency: Currency = notify.feeType ?? "CNY";
      return {
        ok: true,
        value: {
          kind: "paid",
          report: {
            source: "notify",
            orderId: notify.outTradeNo,
            transactionId: notify.transactionId,
            merchant: { appId: notify.appid, mchId: notify.mchId, subAppId: notify.subAppid, subMchId: notify.subMchId },
            amount: notify.totalFee,
            currency,
            payerAmount: notify.cashFee,
            payerCurrency: notify.cashFeeType,
            rawJson: () => JSON.stringify(raw),
          },
        },
      };
    },
    parseRefundNotify(body) {
      const parsed = parseRefundNotify(body, { key: merchant.key, appId: merchant.appId, mchId: merchant.mchId, subMchId: merchant.subMchId, maxBytes: MAX_NOTIFY_BYTES });
      if (!parsed.ok) return { ok: false, error: { code: parsed.error.code, message: "解密或参数校验失败" } };
      const { refund, succeededAt } = parsed.value;
      return {
        ok: true,
        value: {
          refundId: refund.outRefundNo,
          orderId: refund.outTradeNo,
          gatewayRefundId: refund.refundId,
          amount: refund.refundFee,
          status: REFUND_STATES[refund.refundStatus],
          succeededAt,
        },
      };
    },
    notifyReply(answer) {
      return { status: 200, contentType: "text/xml", body: answer.acknowledged ? NOTIFY_SUCCESS_REPLY : buildNotifyFailReply(answer.message) };
    },
  };
}

/** The live v2 gateway: the wire client (retries, failover, mutual TLS) behind the port. Bad options throw. */
export function createV2Gateway(options: V2ClientOptions): V2Gateway {
  const client = createV2Client(options);
  return { ...createV2Adapter(client), close: () => client.close() };
}
