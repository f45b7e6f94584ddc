import type { KeyObject } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { rootCertificates } from "node:tls";
import { createV3Signer, isV3ErrorCode, parseV3Error, type V3Headers, type V3Request } from "@pay/core";
import type { Logger } from "pino";
import { Agent, request as undiciRequest } from "undici";
import { childLogger } from "../../logging.js";
import { startDeadline } from "../deadline.js";
import type { GatewayCallError } from "../port.js";
import type { V3AnswerVerifier } from "./keys.js";

/** One HTTP exchange as the client sees it: the answer's status, headers and raw body bytes. */
export interface V3HttpExchange {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  readonly signal: AbortSignal;
}
export interface V3HttpAnswer {
  readonly status: number;
  readonly headers: V3Headers;
  readonly body: Uint8Array;
}
/** What sends a request: undici by default; tests may record or replace it. A throw is a timeout or network failure. */
export type V3Transport = (exchange: V3HttpExchange) => Promise<V3HttpAnswer>;

export interface V3ClientOptions {
  /** The merchant in the Authorization header: the direct merchant, or the service provider / institution. */
  readonly mchId: string;
  /** The merchant API certificate serial (hex). */
  readonly serialNo: string;
  /** apiclient_key.pem. Never logged. */
  readonly privateKey: string | KeyObject;
  /** Verifies every 2xx answer (and signed refusals) before it is used. */
  readonly verifier: V3AnswerVerifier;
  /** Sent as `Wechatpay-Serial` (the public key ID in public-key and migration modes), so answers come signed with that key. */
  readonly wechatpaySerial?: string | undefined;
  /** An origin: https://api.mch.weixin.qq.com, https://apihk.mch.weixin.qq.com or a sandbox. */
  readonly baseUrl: string;
  /** e.g. https://api2.mch.weixin.qq.com: used after a connection error or a 5xx. */
  readonly failoverBaseUrl?: string | undefined;
  /** Per attempt, connect to last body byte. Default 10000. */
  readonly timeoutMs?: number | undefined;
  /** Attempts per call, the first included. Default 3. */
  readonly maxAttempts?: number | undefined;
  /** Wait before the first retry, doubled for each further one. Default 200. */
  readonly backoffMs?: number | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** Epoch milliseconds: signs requests and judges answer timestamps. */
  readonly now: () => number;
  readonly transport?: V3Transport | undefined;
  readonly userAgent?: string | undefined;
  /** An extra CA (PEM) trusted beside Node's public roots for the gateway's HTTPS, e.g. a local sandbox's (WXPAY_CA_PATH). */
  readonly ca?: string | undefined;
  readonly logger: Logger;
}

/** A v3 call error: the port's error, and whether the refusal's signature verified (reasons are read only from verified ones). */
export interface V3CallError extends GatewayCallError {
  readonly verified: boolean;
}

/** A verified (or, for the bill file and the certificate list, raw) 2xx answer. */
export interface V3Answer {
  readonly status: number;
  readonly headers: V3Headers;
  readonly body: Uint8Array;
  readonly text: string;
}

export type V3Outcome = { readonly ok: true; readonly value: V3Answer } | { readonly ok: false; readonly error: V3CallError };

/** A 2xx download whose body is streamed: read it to its end (or stop early, which releases the connection); a read may throw a transport error. */
export interface V3Download {
  readonly status: number;
  readonly body: AsyncIterable<Uint8Array>;
}

export type V3DownloadOutcome = { readonly ok: true; readonly value: V3Download } | { readonly ok: false; readonly error: V3CallError };

/**
 * How the answer is checked: `signed` verifies it (every API answer, and signed refusals), `unsigned` skips it (the
 * bill file, and the certificate list, which the key store verifies itself); unsigned refusals carry no reason.
 */
export type V3AnswerCheck = "signed" | "unsigned";

/** The live v3 client; `close()` releases its connection pool. */
export interface V3Client {
  /**
   * Sends a request (to the base URL; to the failover origin only when `request.host` is it). Every call the
   * adapter makes may be repeated as the identical request: GETs, a close, and the order and refund POSTs,
   * whose out_trade_no / out_refund_no make a repeat one order or refund at the gateway.
   */
  call(request: V3Request, options: { readonly check: V3AnswerCheck }): Promise<V3Outcome>;
  /**
   * A signed GET whose answer is unsigned and streamed (the bill file), with no size cap (the reader caps what it
   * unpacks): to `request.host`, retried like `call` until an answer arrives. With an injected transport the body
   * arrives whole, as one chunk.
   */
  download(request: V3Request): Promise<V3DownloadOutcome>;
  readonly baseUrl: string;
  readonly failoverBaseUrl: string | undefined;
  close(): Promise<void>;
}

/** Largest answer read by `call`; the bill file is streamed by `download` instead. */
export const MAX_V3_ANSWER_BYTES = 64 * 1024 * 1024;

/** Largest refusal body read from a download. */
const MAX_DOWNLOAD_REFUSAL_BYTES = 64 * 1024;

const DEFAULTS = { timeoutMs: 10_000, maxAttempts: 3, backoffMs: 200 } as const;
const DEFAULT_USER_AGENT = `pay-api/0.1 (APIv3; node ${process.versions.node})`;
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);
const decoder = new TextDecoder("utf-8", { fatal: false });

function fail(message: string): never {
  throw new Error(`createV3Client: ${message}`);
}

/** An origin (scheme, host, port) only: the signed path is exactly the request's path, so a base path would break signatures. */
export function checkOrigin(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") fail(`${name} is required.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(`${name} ${JSON.stringify(value)} is not an absolute URL.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail(`${name} must be an http(s) URL.`);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    fail(`${name} must be an origin only (no path, query, fragment or credentials).`);
  }
  return url.origin;
}

/** Options also come from JavaScript and from configuration read at run time, so their checks take nothing on trust. */
export function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function checkInt(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be a whole number from ${min} to ${max}.`);
  return value;
}

function errorCode(cause: unknown): string | undefined {
  let current: unknown = cause;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function excerpt(body: Uint8Array): string {
  return decoder
    .decode(body.subarray(0, 200))
    .replace(/[\r\n\t]+/g, " ")
    .trim();
}

function hasSignature(headers: V3Headers): boolean {
  if (typeof (headers as { get?: unknown }).get === "function") return (headers as { get(name: string): string | null }).get("wechatpay-signature") !== null;
  return Object.keys(headers).some((name) => name.toLowerCase() === "wechatpay-signature");
}

/** undici with its own pool: deadlines per attempt and a cap on the answer size; `ca` is trusted beside Node's public roots (Node would replace them). */
function undiciTransport(timeoutMs: number, ca: string | undefined): { transport: V3Transport; stream: StreamTransport; close: () => Promise<void> } {
  // Downloads alone read past MAX_V3_ANSWER_BYTES, streamed; the deadlines stay.
  const streamAgent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(ca === undefined ? {} : { connect: { ca: [...rootCertificates, ca] } }) });
  const agent = new Agent({
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    maxResponseSize: MAX_V3_ANSWER_BYTES,
    ...(ca === undefined ? {} : { connect: { ca: [...rootCertificates, ca] } }),
  });
  return {
    transport: async ({ url, method, headers, body, signal }) => {
      const response = await undiciRequest(url, { method, headers, body: body ?? null, signal, dispatcher: agent });
      return { status: response.statusCode, headers: response.headers, body: new Uint8Array(await response.body.arrayBuffer()) };
    },
    stream: async ({ url, method, headers, body, signal }) => {
      const response = await undiciRequest(url, { method, headers, body: body ?? null, signal, dispatcher: streamAgent });
      return { status: response.statusCode, headers: response.headers, body: released(response.body) };
    },
    close: async () => {
      await Promise.all([agent.close(), streamAgent.close()]);
    },
  };
}

/** Sends a request and answers with the body unread. */
type StreamTransport = (exchange: V3HttpExchange) => Promise<{ readonly status: number; readonly headers: V3Headers; readonly body: AsyncIterable<Uint8Array> }>;

/** A response body as chunks; a reader that stops early (or a failed read) destroys it, releasing the connection. */
async function* released(body: AsyncIterable<Uint8Array> & { destroy(): unknown }): AsyncGenerator<Uint8Array> {
  let done = false;
  try {
    for await (const chunk of body) yield chunk;
    done = true;
  } finally {
    if (!done) body.destroy();
  }
}

/** Reads at most `max` bytes of a body (then drops the rest). */
async function readCapped(body: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= max) break;
  }
  return Buffer.concat(parts).subarray(0, max);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  await Promise.resolve();
  if (bytes.length > 0) yield bytes;
}

/**
 * The live WeChat Pay APIv3 client. Every request is signed (Authorization with a fresh nonce and the
 * current time), carries Accept, User-Agent, Content-Type for a body and `Wechatpay-Serial` when one is
 * configured. Every 2xx answer of an API call is verified on its raw bytes before it is returned: one that
 * does not verify is kind `invalid` and never used. Refusals become `{code, message}` data; retries repeat
 * the identical request (new signature, same body) after a timeout, a connection error or a 5xx, never after
 * a 4xx or an unverifiable answer, and
 * after a connection error or a 5xx the next attempt goes to `failoverBaseUrl`.
 */
export function createV3Client(options: V3ClientOptions): V3Client {
  if (!isObject(options)) fail("options are required.");
  const signer = createV3Signer({ mchId: options.mchId, serialNo: options.serialNo, privateKey: options.privateKey });
  const baseUrl = checkOrigin("baseUrl", options.baseUrl);
  const failoverBaseUrl = options.failoverBaseUrl === undefined ? undefined : checkOrigin("failoverBaseUrl", options.failoverBaseUrl);
  const timeoutMs = checkInt("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs, 1, 300_000);
  const maxAttempts = checkInt("maxAttempts", options.maxAttempts, DEFAULTS.maxAttempts, 1, 10);
  const backoffMs = checkInt("backoffMs", options.backoffMs, DEFAULTS.backoffMs, 0, 60_000);
  if (typeof options.now !== "function") fail("now is required.");
  const verifier: unknown = options.verifier;
  if (!isObject(verifier) || typeof (verifier as { verify?: unknown }).verify !== "function") fail("verifier is required.");
  if (options.wechatpaySerial !== undefined && !/^PUB_KEY_ID_[0-9A-Za-z]{1,64}$/.test(options.wechatpaySerial)) fail("wechatpaySerial must be a PUB_KEY_ID_ key ID.");
  const logger: unknown = options.logger;
  if (!isObject(logger) || typeof (logger as { child?: unknown }).child !== "function") fail("logger (pino) is required.");
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const own = options.transport === undefined ? undiciTransport(timeoutMs, options.ca) : undefined;
  const transport = options.transport ?? (own as { transport: V3Transport }).transport;
  // An injected transport answers whole: its download body is one chunk.
  const stream: StreamTransport =
    own?.stream ??
    (async (exchange) => {
      const answer = await transport(exchange);
      return { status: answer.status, headers: answer.headers, body: once(answer.body) };
    });
  const log = childLogger(options.logger, { component: "wxpay-gateway-v3", mchId: options.mchId });

  /** The signed headers of a request. */
  function headersOf(request: V3Request): Record<string, string> {
    const hasBody = request.method === "POST";
    const { authorization } = signer.signRequest({ method: request.method, urlPath: request.path, body: hasBody ? request.body : undefined, now: options.now() });
    return {
      authorization,
      accept: "application/json",
      "user-agent": userAgent,
      ...(hasBody ? { "content-type": "application/json" } : {}),
      ...(options.wechatpaySerial === undefined ? {} : { "wechatpay-serial": options.wechatpaySerial }),
    };
  }

  /** A thrown transport error as a call error. */
  function thrownError(cause: unknown, aborted: boolean, target: string): V3CallError {
    const code = errorCode(cause);
    if (aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
      return { kind: "timeout", message: `No answer from ${target} within ${timeoutMs} ms.`, retryable: true, verified: false };
    }
    if (code === "UND_ERR_RES_EXCEEDED_MAX_SIZE") {
      return { kind: "invalid", message: `The answer from ${target} exceeds ${MAX_V3_ANSWER_BYTES} bytes.`, retryable: false, verified: false };
    }
    return { kind: "network", message: `Could not reach ${target} (${code ?? "error"}).`, retryable: true, verified: false };
  }

  /** An unverified non-2xx answer as a call error: documented codes are business refusals (unverified), others the HTTP status. */
  function unverifiedRefusal(status: number, body: Uint8Array, target: string): V3CallError {
    const refusal = parseV3Error(status, decoder.decode(body));
    if (refusal.code === undefined) {
      return { kind: "http", message: `HTTP ${status} from ${target}: ${excerpt(body) || "(empty body)"}`, retryable: refusal.retryable, httpStatus: status, verified: false };
    }
    const data = { code: refusal.code, description: refusal.message, httpStatus: status, retryable: refusal.retryable, verified: false };
    if (!isV3ErrorCode(refusal.code)) return { kind: "http", message: `HTTP ${status} ${refusal.code} from ${target}: ${refusal.message}`, ...data };
    return { kind: "business", message: `${refusal.code}: ${refusal.message}`, ...data };
  }

  /** One signed download attempt: a 2xx answer's body unread, or why not. */
  async function downloadAttempt(request: V3Request, host: string): Promise<V3DownloadOutcome> {
    const target = `${host}${request.path}`;
    // The deadline covers the answer's headers; the body's pace is bounded by the agent's bodyTimeout.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const answer = await stream({ url: target, method: request.method, headers: headersOf(request), body: undefined, signal: controller.signal });
      if (answer.status >= 200 && answer.status < 300) return { ok: true, value: { status: answer.status, body: answer.body } };
      return { ok: false, error: unverifiedRefusal(answer.status, await readCapped(answer.body, MAX_DOWNLOAD_REFUSAL_BYTES), target) };
    } catch (cause) {
      return { ok: false, error: thrownError(cause, controller.signal.aborted, target) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** One signed attempt and the classification of its answer. */
  async function attempt(request: V3Request, host: string, check: V3AnswerCheck): Promise<{ outcome: V3Outcome; reason?: string }> {
    const target = `${host}${request.path}`;
    const hasBody = request.method === "POST";
    const headers = headersOf(request);
    const deadline = startDeadline(timeoutMs);
    let answer: V3HttpAnswer;
    try {
      answer = await transport({ url: target, method: request.method, headers, body: hasBody ? request.body : undefined, signal: deadline.signal });
    } catch (cause) {
      return { outcome: { ok: false, error: thrownError(cause, deadline.signal.aborted, target) } };
    } finally {
      deadline.clear();
    }

    const { status, body } = answer;
    const text = decoder.decode(body);
    if (status >= 200 && status < 300) {
      if (check === "signed") {
        const verified = await options.verifier.verify(answer.headers, body);
        if (!verified.ok) {
          return {
            outcome: {
              ok: false,
              error: { kind: "invalid", message: `Unverifiable answer from ${target} (${verified.error.code}).`, retryable: false, httpStatus: status, verified: false },
            },
            reason: verified.error.code,
          };
        }
      }
      return { outcome: { ok: true, value: { status, headers: answer.headers, body, text } } };
    }

    const refusal = parseV3Error(status, text);
    if (refusal.code === undefined) {
      return {
        outcome: {
          ok: false,
          error: { kind: "http", message: `HTTP ${status} from ${target}: ${excerpt(body) || "(empty body)"}`, retryable: refusal.retryable, httpStatus: status, verified: false },
        },
      };
    }
    let verified = false;
    // An unsigned call (the certificate list, the bill file) reads refusals unverified too: the certificate download
    // must not wait on the keys it is fetching.
    if (check === "signed" && hasSignature(answer.headers)) {
      const checked = await options.verifier.verify(answer.headers, body);
      if (!checked.ok) {
        return {
          outcome: {
            ok: false,
            error: { kind: "invalid", message: `Unverifiable ${status} answer from ${target} (${checked.error.code}).`, retryable: false, httpStatus: status, verified: false },
          },
          reason: checked.error.code,
        };
      }
      verified = true;
    }
    const data = { code: refusal.code, description: refusal.message, httpStatus: status, retryable: refusal.retryable, verified };
    if (!verified && !isV3ErrorCode(refusal.code)) {
      // An unsigned envelope with a code nobody documents: report the HTTP status, keep the code for the log.
      return { outcome: { ok: false, error: { kind: "http", message: `HTTP ${status} ${refusal.code} from ${target}: ${refusal.message}`, ...data } } };
    }
    return { outcome: { ok: false, error: { kind: "business", message: `${refusal.code}: ${refusal.message}`, ...data } } };
  }

  function shouldRetry(error: V3CallError): boolean {
    switch (error.kind) {
      case "timeout":
        return true;
      case "network":
        return error.retryable;
      case "http":
      case "business":
        // Never after a 4xx (429 included: the rate limit wants a slower caller, not an immediate repeat).
        return error.retryable && (error.httpStatus ?? 0) >= 500;
      case "protocol":
      case "invalid":
      case "shed":
        return false;
    }
  }

  return {
    baseUrl,
    failoverBaseUrl,
    async call(request, { check }) {
      const path = request.path.split("?")[0] ?? request.path;
      let host = failoverBaseUrl !== undefined && request.host === failoverBaseUrl ? failoverBaseUrl : baseUrl;
      for (let n = 1; ; n++) {
        const started = performance.now();
        const { outcome, reason } = await attempt(request, host, check);
        const entry = { method: request.method, path, host, attempt: n, durationMs: Math.round(performance.now() - started) };
        if (outcome.ok) {
          log.info({ ...entry, status: outcome.value.status, outcome: "ok" }, "gateway call succeeded");
          return outcome;
        }
        const { error } = outcome;
        const willRetry = n < maxAttempts && shouldRetry(error);
        const detail = {
          ...entry,
          outcome: error.kind,
          willRetry,
          ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
          ...(error.code === undefined ? {} : { code: error.code }),
          ...(reason === undefined ? {} : { reason }),
        };
        if (error.kind === "invalid") log.error(detail, "gateway answer failed verification: not acted upon");
        else log.warn(detail, "gateway call failed");
        if (!willRetry) return outcome;
        if (failoverBaseUrl !== undefined && (error.kind === "network" || (error.httpStatus ?? 0) >= 500)) host = failoverBaseUrl;
        await sleep(backoffMs * 2 ** (n - 1));
      }
    },
    async download(request) {
      const host = request.host;
      for (let n = 1; ; n++) {
        const started = performance.now();
        const outcome = await downloadAttempt(request, host);
        const entry = { method: request.method, path: request.path.split("?")[0], host, attempt: n, durationMs: Math.round(performance.now() - started) };
        if (outcome.ok) {
          log.info({ ...entry, status: outcome.value.status, outcome: "ok" }, "gateway download started");
          return outcome;
        }
        const willRetry = n < maxAttempts && shouldRetry(outcome.error);
        log.warn({ ...entry, outcome: outcome.error.kind, willRetry, ...(outcome.error.code === undefined ? {} : { code: outcome.error.code }) }, "gateway download failed");
        if (!willRetry) return outcome;
        await sleep(backoffMs * 2 ** (n - 1));
      }
    },
    async close() {
      await own?.close();
    },
  };
}
