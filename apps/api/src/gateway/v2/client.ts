import { X509Certificate } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { createSecureContext, rootCertificates } from "node:tls";
import {
  ApplyRefundResponseSchema,
  buildApplyRefundFields,
  buildCloseOrderFields,
  buildDownloadBillFields,
  buildOrderQueryFields,
  buildRefundQueryFields,
  buildUnifiedOrderFields,
  buildXml,
  CloseOrderResponseSchema,
  generateNonceStr,
  isRetryableErrorCode,
  isSignType,
  OrderQueryResponseSchema,
  parseGatewayResponse,
  RefundQueryResponseSchema,
  signParams,
  UnifiedOrderResponseSchema,
  type GatewayError,
  type XmlFields,
} from "@pay/core";
import type { Logger } from "pino";
import { Agent, request, type Dispatcher } from "undici";
import { z } from "zod";
import { childLogger } from "../../logging.js";
import { startDeadline } from "../deadline.js";
import type { BillInput, MerchantCredentials, OrderRef, RefundInput, RefundRef, UnifiedOrderInput, V2BillOpen, V2BillOutcome, V2CallError, V2Client, V2Outcome } from "./types.js";

/** The API client certificate for `/secapi/pay/refund`: a PEM pair, or apiclient_cert.p12 with its password (the mch_id by default on the platform). */
export type ClientCertificate = { readonly certPem: string; readonly keyPem: string } | { readonly pfx: Buffer; readonly passphrase: string };

export interface V2ClientOptions {
  readonly merchant: MerchantCredentials;
  /** e.g. https://api.mch.weixin.qq.com, https://apihk.mch.weixin.qq.com or a sandbox URL. */
  readonly baseUrl: string;
  /** e.g. https://api2.mch.weixin.qq.com: used after a connection error or a 5xx. */
  readonly failoverBaseUrl?: string | undefined;
  /** Per attempt, connect to last body byte. Default 10000. */
  readonly timeoutMs?: number | undefined;
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number | undefined;
  /** Wait before the first retry, doubled for each further one. Default 200. */
  readonly backoffMs?: number | undefined;
  /** How to wait between attempts (tests record or shorten it). */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /**
   * Presented on refunds only. Without it refunds are still sent, so a host that needs no certificate
   * (a sandbox started with --no-client-cert) works; the real host then answers nginx's HTTP 400, which
   * comes back as kind `http` with a message saying that no client certificate is configured.
   */
  readonly clientCertificate?: ClientCertificate | undefined;
  /** Extra CA (PEM) trusted beside Node's public roots, e.g. the sandbox's ca.pem. */
  readonly ca?: string | undefined;
  readonly logger: Logger;
}

/** A V2Client over HTTP(S) that owns connection pools; `close()` releases them. */
export interface LiveV2Client extends V2Client {
  close(): Promise<void>;
}

/** Largest answer read from the gateway; a longer one is cut off and treated as invalid. */
export const MAX_GATEWAY_RESPONSE_BYTES = 1024 * 1024;

/** Largest downloadbill refusal read (its XML); the bill itself is streamed without a cap. */
export const MAX_BILL_REFUSAL_BYTES = 64 * 1024;

/** The downloadbill refusals that are not errors: the day has no bill, or it is still being made. */
const BILL_REFUSALS: ReadonlyMap<string, "none" | "not-ready"> = new Map([
  ["No Bill Exist", "none"],
  ["Bill Creating", "not-ready"],
]);

const DEFAULTS = { timeoutMs: 10_000, maxAttempts: 3, backoffMs: 200 } as const;

const PATHS = {
  unifiedOrder: "/pay/unifiedorder",
  orderQuery: "/pay/orderquery",
  closeOrder: "/pay/closeorder",
  refund: "/secapi/pay/refund",
  refundQuery: "/pay/refundquery",
  downloadBill: "/pay/downloadbill",
} as const;
type GatewayMethod = keyof typeof PATHS;

/**
 * Business err_codes retried at once with identical fields. unifiedorder re-entry is safe, and a
 * refund keeps its out_refund_no, but only for the codes the protocol names; the read-only and
 * closing calls follow the catalogue.
 */
const RETRY_ON_ERR_CODE: Readonly<Record<GatewayMethod, (errCode: string | undefined) => boolean>> = {
  unifiedOrder: (code) => code === "SYSTEMERROR",
  orderQuery: isRetryableErrorCode,
  closeOrder: isRetryableErrorCode,
  refund: (code) => code === "SYSTEMERROR" || code === "BIZERR_NEED_RETRY",
  refundQuery: isRetryableErrorCode,
  downloadBill: isRetryableErrorCode,
};

/** undici and Node codes for a deadline that passed (connect, headers or body): kind timeout. */
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);
/** TLS trust failures: a configuration problem that no retry fixes. */
const TLS_TRUST_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL/;

function fail(message: string): never {
  throw new Error(`createV2Client: ${message}`);
}

function checkBaseUrl(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") fail(`${name} is required.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`${name} ${JSON.stringify(value)} is not an absolute URL.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail(`${name} must be an http(s) URL.`);
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") fail(`${name} must carry no query, fragment or credentials.`);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function checkInt(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be a whole number from ${min} to ${max}.`);
  return value;
}

/** Options also come from JavaScript and from configuration read at run time, so their checks take nothing on trust. */
function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function checkMerchant(merchant: MerchantCredentials | undefined): MerchantCredentials {
  if (!isObject(merchant)) return fail("merchant is required.");
  for (const name of ["appId", "mchId", "key"] as const) {
    if (typeof merchant[name] !== "string" || merchant[name] === "") fail(`merchant.${name} is required.`);
  }
  if (!isSignType(merchant.signType)) fail("merchant.signType must be MD5 or HMAC-SHA256.");
  if (merchant.subAppId !== undefined && merchant.subMchId === undefined) fail("merchant.subAppId needs merchant.subMchId (institutional mode).");
  return merchant;
}

/** TLS options for undici's connector, checked now so bad material fails at startup, not at the first refund. */
function checkClientCertificate(cert: ClientCertificate): { cert: string; key: string } | { pfx: Buffer; passphrase: string } {
  const material = "pfx" in cert ? { pfx: cert.pfx, passphrase: cert.passphrase } : { cert: cert.certPem, key: cert.keyPem };
  if ("pfx" in material) {
    if (!Buffer.isBuffer(material.pfx) || material.pfx.length === 0) fail("clientCertificate.pfx must be a non-empty Buffer.");
    if (typeof material.passphrase !== "string") fail("clientCertificate.passphrase must be a string (the mch_id by default).");
  } else if (typeof material.cert !== "string" || typeof material.key !== "string" || !material.cert.includes("-----BEGIN") || !material.key.includes("-----BEGIN")) {
    fail("clientCertificate needs certPem and keyPem in PEM form (apiclient_cert.pem, apiclient_key.pem).");
  }
  try {
    createSecureContext(material);
  } catch (cause) {
    // The reason only (e.g. "mac verify failure", "key values mismatch"); never the material.
    const reason = cause instanceof Error ? cause.message : "unreadable";
    const hint = "pfx" in material ? " (wrong passphrase, or a legacy RC2 p12 that OpenSSL 3 cannot read: convert it to PEM)" : "";
    fail(`clientCertificate cannot be loaded: ${reason}${hint}.`);
  }
  return material;
}

function checkCa(ca: string): string[] {
  try {
    new X509Certificate(ca);
  } catch {
    fail("ca must be a PEM certificate.");
  }
  // Node replaces its roots with `ca` when one is given: keep the public roots for the real hosts.
  return [...rootCertificates, ca];
}

/** A one-line excerpt of a non-XML answer, such as nginx's "400 No required SSL certificate was sent". */
function excerpt(body: Uint8Array): string {
  const text = Buffer.from(body.subarray(0, 2048)).toString("utf8");
  const title = /<title>([^<]{1,160})<\/title>/i.exec(text)?.[1];
  const line = (title ?? text).replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

/** The error code of a thrown transport error (Node's `code` or undici's), if any. */
function errorCode(cause: unknown): string | undefined {
  if (typeof cause !== "object" || cause === null) return undefined;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const inner = (cause as { cause?: unknown }).cause;
  return inner === cause ? undefined : errorCode(inner);
}

function classifyThrown(cause: unknown, timedOut: boolean, target: string, timeoutMs: number): V2CallError {
  const code = errorCode(cause);
  if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return { kind: "timeout", message: `No answer from ${target} within ${timeoutMs} ms.`, retryable: true };
  }
  if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
    return { kind: "invalid", message: `The answer from ${target} exceeds ${MAX_GATEWAY_RESPONSE_BYTES} bytes.`, retryable: false };
  }
  if (code !== undefined && TLS_TRUST_CODE.test(code)) {
    return { kind: "network", message: `TLS with ${target} failed (${code}): check the host, the trusted CA and the client certificate.`, retryable: false };
  }
  const name = cause instanceof Error ? cause.name : "error";
  return { kind: "network", message: `Could not reach ${target} (${code ?? name}).`, retryable: true };
}

function fromGatewayError(error: GatewayError, target: string): V2CallError {
  const data = {
    ...(error.returnMsg === undefined ? {} : { returnMsg: error.returnMsg }),
    ...(error.errCode === undefined ? {} : { errCode: error.errCode }),
    ...(error.errCodeDes === undefined ? {} : { errCodeDes: error.errCodeDes }),
  };
  switch (error.code) {
    case "PROTOCOL_FAIL":
      return { kind: "protocol", message: error.message, retryable: isRetryableErrorCode(error.errCode), ...data };
    case "BUSINESS_FAIL":
      return { kind: "business", message: error.message, retryable: isRetryableErrorCode(error.errCode), ...data };
    default:
      // Not XML, unsafe XML, a bad signature or an unexpected field: possibly forged, never acted upon.
      return { kind: "invalid", message: `Unusable answer from ${target} (${error.code}): ${error.message}`, retryable: false };
  }
}

interface AttemptResult<T> {
  readonly outcome: V2Outcome<T>;
  /** Set for unusable answers, e.g. SIGN_MISMATCH: logged, never sent back as text to anyone. */
  readonly reason?: string;
}

/** A downloadbill attempt: the bill (or none / not-ready), or why not. */
type BillAttempt = { readonly bill: V2BillOpen } | { readonly error: V2CallError; readonly reason?: string };

/** Turns a 200 answer's body into the call's outcome. */
type AnswerReader<T> = (body: Uint8Array, target: string) => AttemptResult<T>;

/** The text a body starts with, after a BOM and whitespace (for telling a downloadbill refusal from a bill). */
function lead(head: readonly Uint8Array[]): string {
  return Buffer.concat(head.slice(0, 64))
    .subarray(0, 256)
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart();
}

/** A downloadbill failure is XML with return_code FAIL; a success is never XML, so no schema accepts one. */
const NO_XML_ANSWER = z.never();

/** Business references worth a log line: they identify the order, not the merchant's secrets. */
function logRefs(fields: Readonly<Record<string, string | number>>): Record<string, string | number> {
  const refs: Record<string, string | number> = {};
  for (const [wire, name] of [
    ["out_trade_no", "outTradeNo"],
    ["transaction_id", "transactionId"],
    ["out_refund_no", "outRefundNo"],
    ["refund_id", "refundId"],
  ] as const) {
    const value = fields[wire];
    if (value !== undefined) refs[name] = value;
  }
  return refs;
}

/**
 * The live WeChat Pay v2 client. Every call gets the merchant ids, a fresh nonce_str, sign_type and
 * sign, is POSTed as text/xml, and its answer is verified and typed by @pay/core. Retries repeat the
 * identical business fields (new nonce and sign) only where the protocol makes that safe; after a
 * connection error or a 5xx the next attempt goes to `failoverBaseUrl` when one is set. Options are
 * checked here: bad ones throw.
 */
export function createV2Client(options: V2ClientOptions): LiveV2Client {
  if (!isObject(options)) fail("options are required.");
  const merchant = checkMerchant(options.merchant);
  const baseUrl = checkBaseUrl("baseUrl", options.baseUrl);
  const failoverBaseUrl = options.failoverBaseUrl === undefined ? undefined : checkBaseUrl("failoverBaseUrl", options.failoverBaseUrl);
  const timeoutMs = checkInt("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs, 1, 300_000);
  const maxAttempts = checkInt("maxAttempts", options.maxAttempts, DEFAULTS.maxAttempts, 1, 10);
  const backoffMs = checkInt("backoffMs", options.backoffMs, DEFAULTS.backoffMs, 0, 60_000);
  if (options.sleep !== undefined && typeof options.sleep !== "function") fail("sleep must be a function.");
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  if (!isObject(options.logger) || typeof options.logger.child !== "function") fail("logger (pino) is required.");
  const ca = options.ca === undefined ? undefined : checkCa(options.ca);
  const clientTls = options.clientCertificate === undefined ? undefined : checkClientCertificate(options.clientCertificate);

  const log = childLogger(options.logger, { component: "wxpay-gateway", mchId: merchant.mchId, ...(merchant.subMchId === undefined ? {} : { subMchId: merchant.subMchId }) });
  for (const url of [baseUrl, failoverBaseUrl]) {
    if (url?.startsWith("http:") === true && !/^http:\/\/(127\.|localhost[:/]|localhost$|\[::1\])/.test(url)) {
      log.warn({ host: url }, "gateway base URL is plain http: requests travel unencrypted");
    }
  }
  if (clientTls === undefined) log.info("no client certificate configured: refunds will be sent without one");

  const agentOptions = { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, maxResponseSize: MAX_GATEWAY_RESPONSE_BYTES };
  const plainAgent = new Agent({ ...agentOptions, connect: { ...(ca === undefined ? {} : { ca }) } });
  // The bill download alone reads answers past MAX_GATEWAY_RESPONSE_BYTES (a busy day's bill runs to hundreds of MB), streamed.
  const billAgent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { ...(ca === undefined ? {} : { ca }) } });
  const certAgent = clientTls === undefined ? undefined : new Agent({ ...agentOptions, connect: { ...(ca === undefined ? {} : { ca }), ...clientTls } });

  const commonFields = {
    appid: merchant.appId,
    mchId: merchant.mchId,
    ...(merchant.subAppId === undefined ? {} : { subAppid: merchant.subAppId }),
    ...(merchant.subMchId === undefined ? {} : { subMchId: merchant.subMchId }),
    // Always sent, so HMAC-SHA256 is explicit (the gateway assumes MD5 without it).
    signType: merchant.signType,
    // Replaced before every attempt; present here so the builders validate a complete request.
    nonceStr: generateNonceStr(),
  };

  /** One POST and the classification of its answer. */
  async function attempt<T>(method: GatewayMethod, host: string, fields: Readonly<Record<string, string | number>>, read: AnswerReader<T>): Promise<AttemptResult<T>> {
    const path = PATHS[method];
    const target = `${host}${path}`;
    const message: Record<string, string | number> = { ...fields, nonce_str: generateNonceStr() };
    message.sign = signParams(message, { key: merchant.key, signType: merchant.signType });
    const dispatcher: Dispatcher = method === "refund" ? (certAgent ?? plainAgent) : plainAgent;
    const deadline = startDeadline(timeoutMs);
    let statusCode: number;
    let body: Uint8Array;
    try {
      const response = await request(target, {
        method: "POST",
        dispatcher,
        signal: deadline.signal,
        headers: { "content-type": "text/xml; charset=utf-8", accept: "text/xml" },
        body: buildXml(message),
      });
      statusCode = response.statusCode;
      body = new Uint8Array(await response.body.arrayBuffer());
    } catch (cause) {
      return { outcome: { ok: false, error: classifyThrown(cause, deadline.signal.aborted, target, timeoutMs) } };
    } finally {
      deadline.clear();
    }

    if (statusCode !== 200) {
      let text = `HTTP ${statusCode} from ${target}: ${excerpt(body) || "(empty body)"}`;
      if (method === "refund" && certAgent === undefined && statusCode === 400) {
        text += " (no client certificate is configured: set clientCertificate to call the refund API)";
      }
      return { outcome: { ok: false, error: { kind: "http", message: text, retryable: statusCode >= 500, httpStatus: statusCode } } };
    }

    return read(body, target);
  }

  /** Reads a signed XML answer: verified, typed by `schema`, and about this merchant. */
  function xmlAnswer<T>(schema: z.ZodType<T>): AnswerReader<T> {
    return (body, target) => {
      const parsed = parseGatewayResponse(body, { key: merchant.key, signType: merchant.signType, schema, maxBytes: MAX_GATEWAY_RESPONSE_BYTES });
      if (!parsed.ok) return { outcome: { ok: false, error: fromGatewayError(parsed.error, target) }, reason: parsed.error.code };
      const mismatch = echoMismatch(parsed.value.raw);
      if (mismatch !== undefined) {
        return { outcome: { ok: false, error: { kind: "invalid", message: `Unusable answer from ${target}: ${mismatch}`, retryable: false } }, reason: "ECHO_MISMATCH" };
      }
      return { outcome: { ok: true, value: parsed.value.value, raw: parsed.value.raw } };
    };
  }

  /** A verified answer still has to be about this merchant (and sub-merchant). */
  function echoMismatch(raw: Readonly<XmlFields>): string | undefined {
    if (raw.mch_id !== merchant.mchId) return "it names another mch_id";
    if (raw.appid !== merchant.appId) return "it names another appid";
    if (merchant.subMchId !== undefined && raw.sub_mch_id !== undefined && raw.sub_mch_id !== merchant.subMchId) return "it names another sub_mch_id";
    return undefined;
  }

  function shouldRetry(method: GatewayMethod, error: V2CallError): boolean {
    switch (error.kind) {
      case "timeout":
        return true;
      case "network":
        return error.retryable;
      case "http":
        return error.httpStatus !== undefined && error.httpStatus >= 500;
      case "protocol":
      case "business":
        return RETRY_ON_ERR_CODE[method](error.errCode);
      case "invalid":
        return false;
    }
  }

  /**
   * One downloadbill POST on the bill agent. The answer is sniffed: XML (after a BOM or whitespace) is a refusal,
   * read whole up to MAX_BILL_REFUSAL_BYTES; anything else is the bill, handed on unread (the sniffed bytes first).
   */
  async function billAttempt(host: string, fields: Readonly<Record<string, string | number>>): Promise<BillAttempt> {
    const target = `${host}${PATHS.downloadBill}`;
    const message: Record<string, string | number> = { ...fields, nonce_str: generateNonceStr() };
    message.sign = signParams(message, { key: merchant.key, signType: merchant.signType });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(target, { method: "POST", dispatcher: billAgent, headers: { "content-type": "text/xml; charset=utf-8" }, body: buildXml(message) });
    } catch (cause) {
      return { error: classifyThrown(cause, false, target, timeoutMs) };
    }
    const { body } = response;
    const iterator = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let headBytes = 0;
    let ended = false;
    try {
      // Enough bytes to tell XML from a bill: the first five after a BOM and whitespace, or the end.
      while (!ended && lead(head).length < 5 && headBytes <= MAX_BILL_REFUSAL_BYTES) {
        const next = await iterator.next();
        if (next.done === true) ended = true;
        else {
          head.push(next.value);
          headBytes += next.value.length;
        }
      }
      if (response.statusCode !== 200 || lead(head).startsWith("<xml") || lead(head).startsWith("<?xml")) {
        while (!ended && headBytes <= MAX_BILL_REFUSAL_BYTES) {
          const next = await iterator.next();
          if (next.done === true) ended = true;
          else {
            head.push(next.value);
            headBytes += next.value.length;
          }
        }
        body.destroy();
        const text = Buffer.concat(head);
        if (response.statusCode !== 200) {
          const error: V2CallError = {
            kind: "http",
            message: `HTTP ${response.statusCode} from ${target}: ${excerpt(text) || "(empty body)"}`,
            retryable: response.statusCode >= 500,
            httpStatus: response.statusCode,
          };
          return { error };
        }
        if (!ended) return { error: { kind: "invalid", message: `The refusal from ${target} exceeds ${MAX_BILL_REFUSAL_BYTES} bytes.`, retryable: false } };
        const parsed = parseGatewayResponse(text, { key: merchant.key, signType: merchant.signType, schema: NO_XML_ANSWER, maxBytes: MAX_BILL_REFUSAL_BYTES });
        if (parsed.ok) return { error: { kind: "invalid", message: `Unusable answer from ${target}: XML that is no refusal.`, retryable: false } };
        const kind = parsed.error.code === "PROTOCOL_FAIL" && parsed.error.returnMsg !== undefined ? BILL_REFUSALS.get(parsed.error.returnMsg) : undefined;
        if (kind !== undefined) return { bill: { kind } };
        return { error: fromGatewayError(parsed.error, target), reason: parsed.error.code };
      }
    } catch (cause) {
      body.destroy();
      return { error: classifyThrown(cause, false, target, timeoutMs) };
    }
    async function* stream(): AsyncGenerator<Uint8Array> {
      let done = ended;
      try {
        for (const chunk of head) yield chunk;
        while (!done) {
          const next = await iterator.next();
          if (next.done === true) done = true;
          else yield next.value;
        }
      } finally {
        // A reader that stops early (or a failed read) releases the connection.
        if (!done) body.destroy();
      }
    }
    return { bill: { kind: "file", body: stream() } };
  }

  /**
   * Sends attempts with the retries and failover every call shares: `send` repeats the identical business
   * fields; after a connection error or a 5xx the next attempt goes to the failover host; one log line per
   * attempt (`succeeded` names a success's outcome and message).
   */
  async function retrying<O extends { readonly ok: true } | { readonly ok: false; readonly error: V2CallError }>(
    method: GatewayMethod,
    refs: Readonly<Record<string, string | number>>,
    send: (host: string) => Promise<{ readonly outcome: O; readonly reason?: string | undefined }>,
    succeeded: (outcome: Extract<O, { readonly ok: true }>) => { readonly outcome: string; readonly message: string },
  ): Promise<O> {
    let host = baseUrl;
    for (let n = 1; ; n++) {
      const started = performance.now();
      const { outcome, reason } = await send(host);
      const durationMs = Math.round(performance.now() - started);
      const entry = { method, path: PATHS[method], host, attempt: n, durationMs, ...refs };
      if (outcome.ok) {
        const note = succeeded(outcome as Extract<O, { readonly ok: true }>);
        log.info({ ...entry, outcome: note.outcome }, note.message);
        return outcome;
      }
      const { error } = outcome as Extract<O, { readonly ok: false }>;
      const willRetry = n < maxAttempts && shouldRetry(method, error);
      const detail = {
        ...entry,
        outcome: error.kind,
        willRetry,
        ...(error.errCode === undefined ? {} : { errCode: error.errCode }),
        ...(error.returnMsg === undefined ? {} : { returnMsg: error.returnMsg }),
        ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
        ...(reason === undefined ? {} : { reason }),
      };
      if (error.kind === "invalid") log.error(detail, "gateway answer failed verification: not acted upon");
      else log.warn(detail, "gateway call failed");
      if (!willRetry) return outcome;
      const switchHost = failoverBaseUrl !== undefined && (error.kind === "network" || (error.kind === "http" && (error.httpStatus ?? 0) >= 500));
      if (switchHost) host = failoverBaseUrl;
      await sleep(backoffMs * 2 ** (n - 1));
    }
  }

  /** downloadbill with the retries and failover of `call` (before any bill byte is handed on). */
  function openBill(fields: Readonly<Record<string, string | number>>): Promise<V2BillOutcome> {
    return retrying<V2BillOutcome>(
      "downloadBill",
      { billDate: fields.bill_date ?? "" },
      async (host) => {
        const attempted = await billAttempt(host, fields);
        return "bill" in attempted ? { outcome: { ok: true, value: attempted.bill } } : { outcome: { ok: false, error: attempted.error }, reason: attempted.reason };
      },
      (opened) => ({ outcome: opened.value.kind, message: "gateway bill opened" }),
    );
  }

  /** Runs a call with retries and failover; `fields` are built (and validated) once, so every attempt sends the same business fields. */
  function call<T>(method: GatewayMethod, fields: Readonly<Record<string, string | number>>, read: AnswerReader<T>): Promise<V2Outcome<T>> {
    return retrying<V2Outcome<T>>(
      method,
      logRefs(fields),
      (host) => attempt(method, host, fields, read),
      () => ({ outcome: "ok", message: "gateway call succeeded" }),
    );
  }

  // Builders validate the input and throw PayCoreError INVALID_FIELD on a request the gateway would refuse (a caller bug).
  return {
    merchant,
    async unifiedOrder(input: UnifiedOrderInput) {
      return call("unifiedOrder", buildUnifiedOrderFields({ ...input, ...commonFields }), xmlAnswer(UnifiedOrderResponseSchema));
    },
    async orderQuery(ref: OrderRef) {
      const by = "transactionId" in ref ? { transactionId: ref.transactionId } : { outTradeNo: ref.outTradeNo };
      return call("orderQuery", buildOrderQueryFields({ ...by, ...commonFields }), xmlAnswer(OrderQueryResponseSchema));
    },
    async closeOrder(outTradeNo: string) {
      return call("closeOrder", buildCloseOrderFields({ outTradeNo, ...commonFields }), xmlAnswer(CloseOrderResponseSchema));
    },
    async refund(input: RefundInput) {
      return call("refund", buildApplyRefundFields({ ...input, ...commonFields }), xmlAnswer(ApplyRefundResponseSchema));
    },
    async refundQuery(ref: RefundRef) {
      const by = "refundId" in ref ? { refundId: ref.refundId } : "outRefundNo" in ref ? { outRefundNo: ref.outRefundNo } : { outTradeNo: ref.outTradeNo };
      return call("refundQuery", buildRefundQueryFields({ ...by, ...commonFields }), xmlAnswer(RefundQueryResponseSchema));
    },
    async openBill(input: BillInput) {
      return openBill(buildDownloadBillFields({ ...input, ...commonFields }));
    },
    async close() {
      await Promise.all([plainAgent.close(), billAgent.close(), certAgent?.close()]);
    },
  };
}
