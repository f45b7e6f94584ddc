import type { KeyObject } from "node:crypto";
import {
  buildV3BillDownload,
  buildV3Certificates,
  buildV3CloseOrder,
  buildV3GlobalInstitutionJsapiOrder,
  buildV3GlobalJsapiOrder,
  buildV3GlobalQueryRefund,
  buildV3GlobalRefund,
  buildV3JsapiOrder,
  buildV3PartnerJsapiOrder,
  buildV3QueryOrder,
  buildV3QueryRefund,
  buildV3Refund,
  buildV3RequestPaymentParams,
  buildV3TradeBill,
  parseV3Answer,
  parseV3CloseAnswer,
  parseV3Notify,
  readV3BillStream,
  V3_HOSTS,
  V3BillAnswerSchema,
  V3GlobalRefundAnswerSchema,
  V3GlobalTransactionSchema,
  V3PrepayAnswerSchema,
  V3RefundAnswerSchema,
  V3TransactionSchema,
  v3NotifyRefusalReply,
  type V3Notify,
  type V3NotifyErrorCode,
  type V3PayApp,
  type V3Request,
  type V3RefundStatus,
  type V3Transaction,
} from "@pay/core";
import type { Logger } from "pino";
import { childLogger } from "../../logging.js";
import {
  MAX_NOTIFY_BYTES,
  type BillDownload,
  type GatewayCallError,
  type GatewayErrorReason,
  type GatewayResult,
  type IgnoredNotify,
  type NotifyHeaders,
  type OrderState,
  type PaidReport,
  type PaymentGateway,
  type PlaceOrderInput,
  type RefundState,
} from "../port.js";
import { checkOrigin, createV3Client, isObject, type V3Answer, type V3CallError, type V3Client, type V3Transport } from "./client.js";
import { createV3Keys, type V3KeyMode, type V3Keys, type V3PublicKeyConfig } from "./keys.js";

/** A v3 prepay_id lives 2 hours, as in v2. */
export const V3_PREPAY_TTL_MS = 2 * 3600 * 1000;

/** The acknowledgement WeChat Pay documents for v3 notifies. */
export const V3_NOTIFY_ACK_BODY = JSON.stringify({ code: "SUCCESS", message: "成功" });

export interface V3GatewayOptions {
  /** `domestic` (`/v3/pay/...`, `/v3/refund/domestic/...`) or WeChat Pay `global` (`/v3/global/...`). */
  readonly account: "domestic" | "global";
  /** The direct merchant's appid and mchid, or the service provider's / institution's (sp_appid, sp_mchid). */
  readonly appId: string;
  readonly mchId: string;
  /** The sub-merchant's Mini Program (sub_appid) in partner mode: payers identified under it pay with paySign over it. */
  readonly subAppId?: string | undefined;
  /** The sub-merchant (sub_mchid): set, the adapter acts as a service provider (domestic) or an institution (Global). */
  readonly subMchId?: string | undefined;
  /** Global only (required there): the ISO 18245 merchant category code. */
  readonly merchantCategoryCode?: string | undefined;
  /** The 32-character APIv3 key: decrypts notifies and certificates. Never logged. */
  readonly apiV3Key: string;
  /** apiclient_key.pem and its certificate's serial: signs every request and paySign. Never logged. */
  readonly privateKey: string | KeyObject;
  readonly serialNo: string;
  readonly keyMode: V3KeyMode;
  /** The WeChat Pay public key and its ID (public-key and migration modes). */
  readonly publicKey?: V3PublicKeyConfig | undefined;
  /** An origin; by default the account's WeChat host. */
  readonly baseUrl?: string | undefined;
  readonly failoverBaseUrl?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly maxAttempts?: number | undefined;
  readonly backoffMs?: number | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Epoch milliseconds; default Date.now. */
  readonly now?: (() => number) | undefined;
  readonly transport?: V3Transport | undefined;
  readonly userAgent?: string | undefined;
  /** Extra CA certificates (PEM) for the gateway's HTTPS (WXPAY_CA_PATH). */
  readonly ca?: string | undefined;
  /** Send `http://` notify URLs (a local gateway only; the configuration turns it on for a non-WeChat base URL). */
  readonly allowHttpNotifyUrl?: boolean | undefined;
  /** Certificate refresh interval and the least gap between downloads (defaults 12 h and 1 min). */
  readonly certificateRefreshMs?: number | undefined;
  readonly certificateMinGapMs?: number | undefined;
  readonly logger: Logger;
}

/** The v3 PaymentGateway over HTTP(S). `start()` loads the platform certificates; `close()` releases the connections. */
export interface V3Gateway extends PaymentGateway {
  /** The verification keys (the notify parser reads `keys.store()`). */
  readonly keys: V3Keys;
  /** Loads the platform certificates (certificate and migration modes); call it once at start. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const REFUND_STATES: Readonly<Record<V3RefundStatus, RefundState>> = {
  PROCESSING: "processing",
  SUCCESS: "succeeded",
  CLOSED: "closed",
  ABNORMAL: "abnormal",
};

/** Refusal codes a service branches on, read only from answers whose signature verified. */
const ORDER_REASONS: Readonly<Record<string, GatewayErrorReason>> = {
  ORDERPAID: "ORDER_PAID",
  ORDER_CLOSED: "ORDER_CLOSED",
  ORDER_NOT_EXIST: "ORDER_NOT_FOUND",
};

const JSON_TYPES = ["application/json"] as const;

function fail(message: string): never {
  throw new Error(`createV3Gateway: ${message}`);
}

function requiredText(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") fail(`${name} is required.`);
  return value;
}

/** `yyyy-MM-ddTHH:mm:ss+08:00`: an instant in Beijing time, the form the v3 examples use. */
export function formatV3Time(at: number): string {
  return `${new Date(Math.floor(at / 1000) * 1000 + 8 * 3600 * 1000).toISOString().slice(0, 19)}+08:00`;
}

type Failure = { readonly ok: false; readonly error: V3CallError };

/** A v3 call error in the port's terms; `reasons` apply only to a verified refusal. */
function neutral(outcome: Failure, reasons: Readonly<Record<string, GatewayErrorReason>> = ORDER_REASONS): { ok: false; error: GatewayCallError } {
  const { verified, ...error } = outcome.error;
  const reason = error.kind === "business" && verified && error.code !== undefined ? reasons[error.code] : undefined;
  return { ok: false, error: { ...error, ...(reason === undefined ? {} : { reason }) } };
}

function invalid(message: string): { ok: false; error: GatewayCallError } {
  return { ok: false, error: { kind: "invalid", message, retryable: false } };
}

function isBusiness(outcome: Failure, code: string, verified = true): boolean {
  return outcome.error.kind === "business" && outcome.error.code === code && (!verified || outcome.error.verified);
}

/**
 * The WeChat Pay APIv3 adapter: a domestic direct merchant, a service provider with a sub-merchant
 * (`subMchId`), or WeChat Pay Global (direct, or an institution with a sub-merchant). Options are checked
 * here: bad ones throw. Notifies are parsed from their raw bytes with the same key store the answers are
 * verified with; an unknown serial there asks for a certificate download in the background (at most one a
 * minute), and the refused notify verifies when WeChat Pay delivers it again.
 */
export function createV3Gateway(options: V3GatewayOptions): V3Gateway {
  if (!isObject(options)) fail("options are required.");
  const account: string = options.account;
  if (account !== "domestic" && account !== "global") fail("account must be domestic or global.");
  const global = account === "global";
  const appId = requiredText("appId", options.appId);
  const mchId = requiredText("mchId", options.mchId);
  const subMchId = options.subMchId;
  const subAppId = options.subAppId;
  if (subAppId !== undefined && subMchId === undefined) fail("subAppId needs subMchId (partner mode).");
  const partner = subMchId !== undefined;
  const merchantCategoryCode = options.merchantCategoryCode;
  if (global && (merchantCategoryCode === undefined || !/^[0-9]{4}$/.test(merchantCategoryCode))) fail("merchantCategoryCode (four digits) is required for a Global account.");
  if (!global && merchantCategoryCode !== undefined) fail("merchantCategoryCode is for a Global account only.");
  const apiV3Key = requiredText("apiV3Key", options.apiV3Key);
  if (Buffer.byteLength(apiV3Key, "utf8") !== 32) fail("apiV3Key must be 32 bytes.");
  const logger: unknown = options.logger;
  if (!isObject(logger) || typeof (logger as { child?: unknown }).child !== "function") fail("logger (pino) is required.");
  const now = options.now ?? (() => Date.now());
  const baseUrl = checkOrigin("baseUrl", options.baseUrl ?? (global ? V3_HOSTS.global : V3_HOSTS.domestic));
  const failoverOrigin = options.failoverBaseUrl === undefined ? undefined : checkOrigin("failoverBaseUrl", options.failoverBaseUrl);
  const build = { allowHttpNotifyUrl: options.allowHttpNotifyUrl === true };
  const log = childLogger(options.logger, { component: "wxpay-gateway-v3", mchId, ...(subMchId === undefined ? {} : { subMchId }) });

  const keys = createV3Keys({
    mode: options.keyMode,
    publicKey: options.publicKey,
    apiV3Key,
    now,
    logger: log,
    refreshIntervalMs: options.certificateRefreshMs,
    minRefreshGapMs: options.certificateMinGapMs,
    fetchCertificates: async () => {
      const answer = await live.call(buildV3Certificates({ global }), { check: "unsigned" });
      return answer.ok ? { ok: true, value: { headers: answer.value.headers, body: answer.value.body } } : { ok: false, message: answer.error.message };
    },
  });
  const live: V3Client = createV3Client({
    mchId,
    serialNo: options.serialNo,
    privateKey: options.privateKey,
    verifier: keys,
    wechatpaySerial: options.keyMode === "platform-certificate" ? undefined : options.publicKey?.id,
    baseUrl,
    failoverBaseUrl: failoverOrigin,
    timeoutMs: options.timeoutMs,
    maxAttempts: options.maxAttempts,
    backoffMs: options.backoffMs,
    sleep: options.sleep,
    now,
    transport: options.transport,
    userAgent: options.userAgent,
    ca: options.ca,
    logger: options.logger,
  });
  const merchantQuery = partner ? { spMchid: mchId, subMchid: subMchId } : { mchid: mchId };
  const payApp: V3PayApp = !partner
    ? { mode: "direct", appId }
    : subAppId === undefined
      ? { mode: "partner", payer: "sp_openid", spAppId: appId }
      : { mode: "partner", payer: "sub_openid", spAppId: appId, subAppId };

  async function signed(request: V3Request): Promise<Failure | { readonly ok: true; readonly value: V3Answer }> {
    return live.call(request, { check: "signed" });
  }

  function orderRequest(order: PlaceOrderInput): V3Request {
    if (order.payer === undefined) throw new Error("createV3Gateway: a v3 JSAPI order needs the payer's openid.");
    const payer = order.payer.scope === "sub-merchant" ? { subOpenid: order.payer.openid } : { spOpenid: order.payer.openid };
    const common = {
      description: order.description,
      outTradeNo: order.orderId,
      timeExpire: formatV3Time(order.expiresAt),
      notifyUrl: order.notifyUrl,
      sceneInfo: { payerClientIp: order.clientIp },
    };
    const total = { amount: order.amount, currency: order.currency };
    if (global) {
      const tail = { ...common, timeStart: formatV3Time(order.startsAt), tradeType: "JSAPI" as const, merchantCategoryCode: merchantCategoryCode as string, amount: { total } };
      return partner
        ? buildV3GlobalInstitutionJsapiOrder({ spAppid: appId, spMchid: mchId, subAppid: subAppId, subMchid: subMchId, ...tail, payer }, build)
        : buildV3GlobalJsapiOrder({ appid: appId, mchid: mchId, ...tail, payer: { openid: order.payer.openid } }, build);
    }
    // Mainland merchants deal in CNY only; the builder refuses any other currency (INVALID_FIELD).
    const cny = { amount: order.amount, currency: order.currency as "CNY" };
    return partner
      ? buildV3PartnerJsapiOrder({ spAppid: appId, spMchid: mchId, subAppid: subAppId, subMchid: subMchId, ...common, amount: { total: cny }, payer }, build)
      : buildV3JsapiOrder({ appid: appId, mchid: mchId, ...common, amount: { total: cny }, payer: { openid: order.payer.openid } }, build);
  }

  /** A verified transaction still has to be about this order and this merchant (and sub-merchant). */
  function transactionMismatch(t: V3Transaction, orderId: string): string | undefined {
    if (t.outTradeNo !== orderId) return "it names another out_trade_no";
    if (partner) {
      if (t.spMchid !== mchId) return "it names another sp_mchid";
      if (t.subMchid !== subMchId) return "it names another sub_mchid";
      return undefined;
    }
    if (t.mchid !== mchId) return "it names another mchid";
    if (t.appid !== undefined && t.appid !== appId) return "it names another appid";
    return undefined;
  }

  function paidFromQuery(t: V3Transaction, text: string): PaidReport {
    return {
      source: "query",
      orderId: t.outTradeNo,
      transactionId: t.transactionId ?? "",
      merchant: partner
        ? { appId: t.spAppid ?? "", mchId: t.spMchid ?? "", subAppId: t.subAppid, subMchId: t.subMchid }
        : { appId: t.appid ?? "", mchId: t.mchid ?? "", subAppId: undefined, subMchId: undefined },
      amount: t.amount.total.amount,
      currency: t.amount.total.currency,
      payerAmount: t.amount.payerTotal?.amount,
      payerCurrency: t.amount.payerTotal?.currency,
      // The verified answer as received: payer_total, payer_currency and Global's exchange_rate included.
      rawJson: () => text,
    };
  }

  function readNotify(body: Uint8Array, headers: NotifyHeaders): { ok: true; value: V3Notify } | { ok: false; error: { code: string; message: string } } {
    const store = keys.store();
    if (store === undefined) {
      void keys.refreshForUnknownSerial();
      return { ok: false, error: { code: "UNKNOWN_SERIAL", message: "UNKNOWN_SERIAL" } };
    }
    const parsed = parseV3Notify(body, headers, { keys: store, apiV3Key, now: now(), maxBytes: MAX_NOTIFY_BYTES });
    if (parsed.ok) return parsed;
    if (parsed.error.code === "UNKNOWN_SERIAL") void keys.refreshForUnknownSerial();
    log.warn({ code: parsed.error.code, reason: parsed.error.message }, "v3 notify refused");
    // The message names the code only (notifyReply maps it to a status); details stay in the log.
    return { ok: false, error: { code: parsed.error.code, message: parsed.error.code } };
  }

  /** A verified event this API does not handle: reported as ignored, so the route acknowledges it and nothing changes. */
  function ignored(notify: V3Notify): { ok: true; value: IgnoredNotify } {
    log.info({ eventType: notify.eventType, id: notify.id }, "v3 notify of an event this API does not handle: acknowledged, nothing changes");
    return { ok: true, value: { kind: "ignored", reason: `event_type ${notify.eventType}` } };
  }

  function wrongEvent(notify: V3Notify, route: string): { ok: false; error: { code: string; message: string } } {
    log.warn({ eventType: notify.eventType, id: notify.id, route }, "v3 notify delivered to the wrong route: refused");
    return { ok: false, error: { code: "WRONG_EVENT", message: "WRONG_EVENT" } };
  }

  const gateway: V3Gateway = {
    keys,
    async start() {
      await keys.ensureFresh();
    },
    async close() {
      await live.close();
    },

    async placeOrder(order) {
      const answer = await signed(orderRequest(order));
      if (!answer.ok) return neutral(answer);
      const prepay = parseV3Answer(V3PrepayAnswerSchema, answer.value.text);
      if (!prepay.ok) return invalid(`Unusable prepay answer (${prepay.error.code}): ${prepay.error.message}`);
      return { ok: true, value: { prepayId: prepay.value.prepayId, validForMs: V3_PREPAY_TTL_MS } };
    },

    paymentParams({ prepayId, now: at }) {
      return buildV3RequestPaymentParams({ app: payApp, prepayId, privateKey: options.privateKey, now: at });
    },

    async queryOrder(orderId): Promise<GatewayResult<OrderState>> {
      const answer = await signed(buildV3QueryOrder({ ...merchantQuery, outTradeNo: orderId, global }));
      if (!answer.ok) return isBusiness(answer, "ORDER_NOT_EXIST") ? { ok: true, value: { state: "not-found" } } : neutral(answer);
      const parsed = parseV3Answer(global ? V3GlobalTransactionSchema : V3TransactionSchema, answer.value.text);
      if (!parsed.ok) return invalid(`Unusable order answer (${parsed.error.code}): ${parsed.error.message}`);
      const mismatch = transactionMismatch(parsed.value, orderId);
      if (mismatch !== undefined) {
        log.error({ orderId, reason: mismatch }, "gateway answer about another order or merchant: not acted upon");
        return invalid(`Unusable order answer: ${mismatch}.`);
      }
      switch (parsed.value.tradeState) {
        case "SUCCESS":
        case "REFUND":
          if (parsed.value.transactionId === undefined) return invalid("Unusable order answer: a paid order without transaction_id.");
          return { ok: true, value: { state: "paid", report: paidFromQuery(parsed.value, answer.value.text) } };
        case "CLOSED":
        case "REVOKED":
        case "PAYERROR":
          return { ok: true, value: { state: "closed" } };
        case "NOTPAY":
        case "USERPAYING":
        case "ACCEPT":
          return { ok: true, value: { state: "pending" } };
      }
    },

    async closeOrder(orderId) {
      const answer = await signed(buildV3CloseOrder({ ...merchantQuery, outTradeNo: orderId, global }));
      if (!answer.ok) return neutral(answer);
      const closed = parseV3CloseAnswer(answer.value.status, answer.value.text);
      return closed.ok ? { ok: true, value: undefined } : invalid(`Unusable close answer: ${closed.error.message}`);
    },

    async refund(input) {
      // A mainland refund is in CNY; the domestic builder refuses any other currency (INVALID_FIELD).
      const currency = input.currency as "CNY";
      const amount = { refund: { amount: input.amount, currency }, total: { amount: input.orderAmount, currency } };
      const fields = {
        outTradeNo: input.orderId,
        outRefundNo: input.refundId,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.notifyUrl === undefined ? {} : { notifyUrl: input.notifyUrl }),
        amount,
      };
      const request = global ? buildV3GlobalRefund({ ...merchantQuery, ...fields }, build) : buildV3Refund({ ...(partner ? { subMchid: subMchId } : {}), ...fields }, build);
      const answer = await signed(request);
      if (!answer.ok) return neutral(answer);
      const parsed = parseV3Answer(global ? V3GlobalRefundAnswerSchema : V3RefundAnswerSchema, answer.value.text);
      if (!parsed.ok) return invalid(`Unusable refund answer (${parsed.error.code}): ${parsed.error.message}`);
      if (parsed.value.outRefundNo !== input.refundId) return invalid("Unusable refund answer: it names another out_refund_no.");
      return { ok: true, value: { gatewayRefundId: parsed.value.refundId } };
    },

    async queryRefund(refundId) {
      const request = global
        ? buildV3GlobalQueryRefund({ ...merchantQuery, outRefundNo: refundId })
        : buildV3QueryRefund({ outRefundNo: refundId, ...(partner ? { subMchid: subMchId } : {}) });
      const answer = await signed(request);
      if (!answer.ok) {
        // Read even unsigned: the only use of "not found" is to send the same out_refund_no again, which refunds at most once.
        if (isBusiness(answer, "RESOURCE_NOT_EXISTS", false)) return { ok: true, value: { state: "not-found" } };
        return neutral(answer, { ...ORDER_REASONS, RESOURCE_NOT_EXISTS: "REFUND_NOT_FOUND" });
      }
      const parsed = parseV3Answer(global ? V3GlobalRefundAnswerSchema : V3RefundAnswerSchema, answer.value.text);
      if (!parsed.ok) return invalid(`Unusable refund answer (${parsed.error.code}): ${parsed.error.message}`);
      if (parsed.value.outRefundNo !== refundId) return invalid("Unusable refund answer: it names another out_refund_no.");
      const succeededAt = parsed.value.successTime === undefined ? undefined : Date.parse(parsed.value.successTime);
      return {
        ok: true,
        value: { state: "found", status: REFUND_STATES[parsed.value.status], ...(succeededAt === undefined || Number.isNaN(succeededAt) ? {} : { succeededAt }) },
      };
    },

    async openBill(date): Promise<GatewayResult<BillDownload>> {
      // A malformed date throws PayCoreError INVALID_FIELD here: a caller bug.
      const answer = await signed(buildV3TradeBill({ billDate: date, billType: "ALL", tarType: "GZIP", ...(partner ? { subMchid: subMchId } : {}) }));
      if (!answer.ok) {
        if (isBusiness(answer, "NO_STATEMENT_EXIST")) return { ok: true, value: { kind: "none" } };
        if (isBusiness(answer, "STATEMENT_CREATING")) return { ok: true, value: { kind: "not-ready" } };
        if (global && answer.error.code === "INVALID_REQUEST") {
          const { verified: _, ...error } = answer.error;
          return {
            ok: false,
            error: { ...error, kind: "business", retryable: false, message: `WeChat Pay Global bills are not supported by the v3 bill API (${answer.error.message}).` },
          };
        }
        return neutral(answer);
      }
      const bill = parseV3Answer(V3BillAnswerSchema, answer.value.text);
      if (!bill.ok) return invalid(`Unusable bill answer (${bill.error.code}): ${bill.error.message}`);
      // The signed download goes only to the gateway this adapter talks to: a tampered download_url gets no Authorization.
      const origins = [baseUrl, ...(failoverOrigin === undefined ? [] : [failoverOrigin])];
      let origin: string;
      try {
        origin = new URL(bill.value.downloadUrl).origin;
      } catch {
        return invalid("Unusable bill answer: download_url is not a URL.");
      }
      if (!origins.includes(origin)) return invalid(`Unusable bill answer: download_url is on ${origin}, not the configured gateway.`);
      const download = buildV3BillDownload(bill.value, { allowedOrigins: [origin] });
      if (!download.ok) return invalid(`Unusable bill answer: ${download.error.message}`);
      const file = await live.download(download.value);
      if (!file.ok) return neutral(file);
      const stream = readV3BillStream(file.value.body, { hashValue: bill.value.hashValue, tarType: "GZIP" });
      return {
        ok: true,
        value: {
          kind: "file",
          body: stream.body,
          finish: () =>
            stream.verify()
              ? { ok: true, value: undefined }
              : {
                  ok: false,
                  error: { kind: "invalid", code: "HASH_MISMATCH", message: "The bill's SHA1 does not match the answer's hash_value (HASH_MISMATCH).", retryable: false },
                },
        },
      };
    },

    notifyContentTypes: JSON_TYPES,

    parsePayNotify(body, headers) {
      const read = readNotify(body, headers);
      if (!read.ok) return read;
      const notify = read.value;
      if (notify.kind === "ignored") return ignored(notify);
      if (notify.kind !== "transaction") return wrongEvent(notify, "pay");
      const t = notify.transaction;
      const merchant =
        t.merchant.mode === "direct"
          ? { appId: t.merchant.appId, mchId: t.merchant.mchId, subAppId: undefined, subMchId: undefined }
          : { appId: t.merchant.spAppId ?? "", mchId: t.merchant.spMchId, subAppId: t.merchant.subAppId, subMchId: t.merchant.subMchId };
      // The verified, strictly parsed plaintext as decrypted: stored as is, never re-encoded.
      const plaintext = notify.plaintext;
      return {
        ok: true,
        value: {
          kind: "paid",
          report: {
            source: "notify",
            orderId: t.outTradeNo,
            transactionId: t.transactionId,
            merchant,
            amount: t.total.amount,
            currency: t.total.currency,
            payerAmount: t.payerTotal?.amount,
            payerCurrency: t.payerTotal?.currency,
            rawJson: () => plaintext,
          },
        },
      };
    },

    parseRefundNotify(body, headers) {
      const read = readNotify(body, headers);
      if (!read.ok) return read;
      const notify = read.value;
      if (notify.kind === "ignored") return ignored(notify);
      if (notify.kind !== "refund") return wrongEvent(notify, "refund");
      const r = notify.refund;
      // The refund report names no merchant, so the adapter checks it: another merchant's refund changes nothing here.
      const ours = partner ? r.spMchId === mchId && r.subMchId === subMchId : r.mchId === mchId;
      if (!ours) {
        log.warn({ id: notify.id, outRefundNo: r.outRefundNo }, "v3 refund notify for another merchant: refused");
        return { ok: false, error: { code: "MERCHANT_MISMATCH", message: "MERCHANT_MISMATCH" } };
      }
      return {
        ok: true,
        value: {
          refundId: r.outRefundNo,
          orderId: r.outTradeNo,
          gatewayRefundId: r.refundId,
          amount: r.refund.amount,
          status: REFUND_STATES[r.refundStatus],
          succeededAt: r.successTime?.toISOString(),
        },
      };
    },

    notifyReply(answer) {
      if (answer.acknowledged) return { status: 200, contentType: "application/json", body: V3_NOTIFY_ACK_BODY };
      const status = isNotifyErrorCode(answer.message) ? v3NotifyRefusalReply(answer.message).status : (ADAPTER_REFUSALS[answer.message] ?? 500);
      return {
        status,
        contentType: "application/json",
        body: JSON.stringify({ code: "FAIL", message: answer.message.slice(0, 128) || "FAIL" }),
      };
    },
  };
  return gateway;
}

/** The adapter's own refusals: a notify that verified but is not for this route or merchant. */
const ADAPTER_REFUSALS: Readonly<Record<string, number>> = { WRONG_EVENT: 400, MERCHANT_MISMATCH: 400, EVENT_IGNORED: 400 };

/** The parse refusals whose status v3NotifyRefusalReply knows; any other refusal (a mismatch, a failed commit) answers 500 so WeChat Pay retries. */
const NOTIFY_ERROR_CODES: ReadonlySet<string> = new Set<V3NotifyErrorCode>([
  "TOO_LARGE",
  "MISSING_HEADER",
  "MALFORMED_HEADER",
  "INVALID_TIMESTAMP",
  "TIMESTAMP_SKEW",
  "UNSUPPORTED_SIGNATURE_TYPE",
  "SIGNATURE_PROBE",
  "MALFORMED_SIGNATURE",
  "UNKNOWN_SERIAL",
  "CERTIFICATE_NOT_YET_VALID",
  "CERTIFICATE_EXPIRED",
  "BAD_SIGNATURE",
  "NOT_JSON",
  "DUPLICATE_KEY",
  "FORBIDDEN_KEY",
  "TOO_DEEP",
  "INVALID_FIELD",
  "DECRYPT_FAILED",
  "INVALID_NONCE",
  "MALFORMED_CIPHERTEXT",
  "INVALID_KEY_LENGTH",
]);

function isNotifyErrorCode(message: string): message is V3NotifyErrorCode {
  return NOTIFY_ERROR_CODES.has(message);
}
