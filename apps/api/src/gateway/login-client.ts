import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import type { Logger } from "pino";
import { Agent, request } from "undici";
import { z } from "zod";
import { childLogger } from "../logging.js";

export interface LoginClientOptions {
  /** Default https://api.weixin.qq.com; a sandbox URL in development and tests. */
  readonly baseUrl?: string | undefined;
  /** The Mini Program's appid. */
  readonly appId: string;
  /** The Mini Program's AppSecret. Sent in the query string, so no URL is ever logged. */
  readonly appSecret: string;
  /** Connect to last body byte. Default 5000. */
  readonly timeoutMs?: number | undefined;
  /** Extra CA (PEM) trusted beside Node's public roots (a sandbox over HTTPS). */
  readonly ca?: string | undefined;
  readonly logger: Logger;
}

/** Mini Program login (code2session), on api.weixin.qq.com. */
export interface WxLoginClient {
  code2Session(
    code: string,
  ): Promise<
    | { readonly ok: true; readonly openid: string }
    | { readonly ok: false; readonly error: { readonly kind: "rejected" | "unavailable"; readonly errcode?: number | undefined; readonly message: string } }
  >;
}

/** A WxLoginClient that owns a connection pool; `close()` releases it. */
export interface LoginClient extends WxLoginClient {
  close(): Promise<void>;
}

type Code2SessionResult = Awaited<ReturnType<WxLoginClient["code2Session"]>>;

const DEFAULT_BASE_URL = "https://api.weixin.qq.com";
const PATH = "/sns/jscode2session";
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * errcodes that mean this code (or this app's credentials) will not work when repeated: a bad, used
 * or missing code, a wrong appid or secret, a blocked user. Anything else, -1 and 45011 included,
 * means the service could not answer now.
 */
const REJECTED_ERRCODES: ReadonlySet<number> = new Set([40029, 40163, 40125, 40013, 41008, 40226]);

/** The answer, keeping only what may be used: session_key is not read, so it cannot leak from here. */
const Code2SessionAnswerSchema = z.object({
  openid: z.string().min(1).max(128).optional(),
  errcode: z.number().int().optional(),
  errmsg: z.string().max(512).optional(),
});

/** A wx.login code: short printable ASCII. Anything else is refused without a call. */
const LOGIN_CODE = /^[\x21-\x7E]{1,128}$/;

function fail(message: string): never {
  throw new Error(`createLoginClient: ${message}`);
}

/** Options also come from JavaScript and from configuration read at run time, so their checks take nothing on trust. */
function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function unavailable(message: string, errcode?: number): Code2SessionResult {
  return { ok: false, error: { kind: "unavailable", message, ...(errcode === undefined ? {} : { errcode }) } };
}

/**
 * Mini Program login over `GET /sns/jscode2session`. Codes are single-use, so a call is never
 * retried here: after a timeout the code may already be spent, and the user simply logs in again.
 */
export function createLoginClient(options: LoginClientOptions): LoginClient {
  if (!isObject(options)) fail("options are required.");
  if (typeof options.appId !== "string" || options.appId === "") fail("appId is required.");
  if (typeof options.appSecret !== "string" || options.appSecret === "") fail("appSecret is required.");
  if (!isObject(options.logger) || typeof options.logger.child !== "function") fail("logger (pino) is required.");
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) fail("timeoutMs must be a whole number from 1 to 60000.");
  let base: URL;
  try {
    base = new URL(options.baseUrl ?? DEFAULT_BASE_URL);
  } catch {
    return fail("baseUrl is not an absolute URL.");
  }
  if ((base.protocol !== "https:" && base.protocol !== "http:") || base.search !== "" || base.hash !== "") fail("baseUrl must be an http(s) URL without query or fragment.");
  const endpoint = `${base.origin}${base.pathname.replace(/\/+$/, "")}${PATH}`;
  let ca: string[] | undefined;
  if (options.ca !== undefined) {
    try {
      new X509Certificate(options.ca);
    } catch {
      fail("ca must be a PEM certificate.");
    }
    ca = [...rootCertificates, options.ca];
  }

  const { appId, appSecret } = options;
  const log = childLogger(options.logger, { component: "wx-login", appId });
  const agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, maxResponseSize: MAX_RESPONSE_BYTES, connect: ca === undefined ? {} : { ca } });

  async function exchange(code: string): Promise<{ result: Code2SessionResult; status?: number }> {
    const query = new URLSearchParams({ appid: appId, secret: appSecret, js_code: code, grant_type: "authorization_code" });
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await request(`${endpoint}?${query.toString()}`, { method: "GET", dispatcher: agent, signal, headers: { accept: "application/json" } });
      status = response.statusCode;
      text = await response.body.text();
    } catch (cause) {
      // Only the error's code: messages of some errors carry the URL, and with it the secret.
      const code = (cause as { code?: unknown } | null)?.code;
      if (signal.aborted) return { result: unavailable(`No answer from WeChat login within ${timeoutMs} ms.`) };
      return { result: unavailable(`Could not reach WeChat login (${typeof code === "string" ? code : "network error"}).`) };
    }
    if (status !== 200) return { result: unavailable(`WeChat login answered HTTP ${status}.`), status };

    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { result: unavailable("WeChat login answered something other than JSON."), status };
    }
    const answer = Code2SessionAnswerSchema.safeParse(json);
    if (!answer.success) return { result: unavailable("WeChat login answered an unexpected shape."), status };
    const { openid, errcode, errmsg } = answer.data;
    if (errcode !== undefined && errcode !== 0) {
      const message = `WeChat login refused the code: ${errcode}${errmsg === undefined ? "" : ` ${errmsg}`}`;
      if (REJECTED_ERRCODES.has(errcode)) return { result: { ok: false, error: { kind: "rejected", errcode, message } }, status };
      return { result: unavailable(message, errcode), status };
    }
    if (openid === undefined) return { result: unavailable("WeChat login answered without an openid."), status };
    return { result: { ok: true, openid }, status };
  }

  return {
    async code2Session(code: string) {
      if (typeof code !== "string" || !LOGIN_CODE.test(code)) {
        log.info({ path: PATH, outcome: "rejected" }, "login code refused without a call: not a wx.login code");
        return { ok: false, error: { kind: "rejected", message: "The login code is malformed." } };
      }
      const started = performance.now();
      const { result, status } = await exchange(code);
      const entry = {
        method: "GET",
        path: PATH,
        durationMs: Math.round(performance.now() - started),
        outcome: result.ok ? "ok" : result.error.kind,
        ...(status === undefined ? {} : { httpStatus: status }),
        ...(!result.ok && result.error.errcode !== undefined ? { errcode: result.error.errcode } : {}),
      };
      if (result.ok || result.error.kind === "rejected") log.info(entry, "code2session");
      else log.warn(entry, "code2session unavailable");
      return result;
    },
    async close() {
      await agent.close();
    },
  };
}
