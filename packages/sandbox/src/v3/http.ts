import { randomBytes } from "node:crypto";
import { parseV3Authorization, verifyV3RequestSignature, type V3Authorization, type V3RequestParseErrorCode } from "@pay/core";
import { signV3Answer } from "@pay/core/testing";
import type { Context } from "koa";
import type { SandboxContext } from "../context.js";
import { readRawBody } from "../http.js";
import type { Merchant } from "../options.js";
import type { V3Identity } from "./identity.js";
import { signTestSignature } from "./notify.js";

/**
 * A v3 request that passed the gateway's checks (route and verb, Accept, Authorization, merchant serial,
 * timestamp, signature over the raw request): what a handler needs to answer it.
 */
export interface V3Call {
  readonly ctx: Context;
  readonly identity: V3Identity;
  readonly auth: V3Authorization;
  /** The raw body as received ("" for a GET). */
  readonly body: string;
  /** Path and raw query exactly as received: what the merchant signed. */
  readonly target: string;
  /** The raw query, parsed. */
  readonly query: URLSearchParams;
  /** Path parameters, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The route is a WeChat Pay Global one (`/v3/global/...`). */
  readonly global: boolean;
  /** The request's `Wechatpay-Serial` header: in migration mode it picks who signs the answer. */
  readonly requestSerial: string | undefined;
}

/** Faults that spoil a signed v3 answer; set by the fault middleware, applied when the answer is signed. */
export const V3_ANSWER_FAULTS = ["badsignature", "unknownserial", "skew", "signtest"] as const;
export type V3AnswerFault = (typeof V3_ANSWER_FAULTS)[number];

/** Six minutes: past the five a verifier allows. */
const SKEW_FAULT_MS = 6 * 60_000;

/** A Request-ID like the gateway's: hex, then `-` and the numeric error code (`-0` on success). */
function requestId(errorNumber = 0): string {
  return `${randomBytes(20).toString("hex").toUpperCase()}-${errorNumber}`;
}

function answerFaults(ctx: Context): readonly V3AnswerFault[] {
  const faults: unknown = ctx.state.v3AnswerFaults;
  return Array.isArray(faults) ? (faults as V3AnswerFault[]) : [];
}

function setCommonHeaders(ctx: Context, status: number, errorNumber: number): void {
  ctx.status = status;
  ctx.set("Server", "nginx");
  ctx.set("Request-ID", requestId(errorNumber));
  ctx.set("Cache-Control", "no-cache, must-revalidate");
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("Content-Language", "zh-CN");
}

/**
 * A signed answer: JSON `body` (or empty, for 204), with `Wechatpay-Timestamp/Nonce/Serial/Signature/
 * Signature-Type` over `TIMESTAMP\nNONCE\nBODY\n`, signed by the key the merchant's mode picks. Answer
 * faults (`X-Sandbox-Fault: badsignature | unknownserial | skew | signtest`) spoil it on purpose.
 */
export function replyV3Signed(sandbox: SandboxContext, call: V3Call, status: number, body: object | undefined, errorNumber = 0): void {
  const { ctx } = call;
  const text = body === undefined ? "" : JSON.stringify(body);
  const faults = answerFaults(ctx);
  const now = sandbox.clock.now() + (faults.includes("skew") ? SKEW_FAULT_MS : 0);
  const signer = sandbox.v3.answerSigner(call.identity, call.requestSerial, sandbox.clock.now());
  const headers = signV3Answer(text, {
    signer: faults.includes("unknownserial") ? { ...signer, serial: unknownSerialLike(signer.serial) } : signer,
    now,
    ...(faults.includes("signtest") ? { signature: signTestSignature() } : {}),
  });
  setCommonHeaders(ctx, status, errorNumber);
  for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  if (faults.includes("badsignature")) ctx.set("Wechatpay-Signature", corrupt(headers["Wechatpay-Signature"]));
  if (body === undefined) {
    ctx.body = null;
    ctx.status = status;
    ctx.remove("Content-Type");
  } else {
    ctx.type = "application/json; charset=utf-8";
    ctx.body = text;
  }
}

/** A serial of the same kind that the merchant has never been given. */
function unknownSerialLike(serial: string): string {
  if (serial.startsWith("PUB_KEY_ID_")) return `PUB_KEY_ID_${"9".repeat(28)}`;
  return "7".repeat(serial.length);
}

/** A well-formed Base64 signature that does not verify: one byte flipped. */
function corrupt(signature: string): string {
  const bytes = Buffer.from(signature, "base64");
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  return bytes.toString("base64");
}

/** The error envelope `{code, message, detail?}`. */
export interface V3ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly detail?: unknown;
}

/**
 * An error answer. Unsigned by default (500 SYSTEM_ERROR and the protocol refusals carry no `Wechatpay-*`
 * headers); pass the call to sign it, as the gateway does for business refusals such as 403 NOT_ENOUGH.
 */
export function replyV3Error(sandbox: SandboxContext, ctx: Context, status: number, error: V3ErrorBody, signedFor?: V3Call): void {
  const body = error.detail === undefined ? { code: error.code, message: error.message } : { code: error.code, message: error.message, detail: error.detail };
  if (signedFor !== undefined) return replyV3Signed(sandbox, signedFor, status, body, 268_000_000 + status);
  setCommonHeaders(ctx, status, 268_000_000 + status);
  ctx.type = "application/json; charset=utf-8";
  ctx.body = JSON.stringify(body);
}

/** A 400 PARAM_ERROR naming the field, from a received-body parse failure. */
export function replyV3ParseFailure(sandbox: SandboxContext, call: V3Call, error: { readonly code: V3RequestParseErrorCode; readonly message: string }): void {
  const field = /^Field ([^:]+):/.exec(error.message)?.[1];
  const detail =
    error.code === "UNKNOWN_FIELD"
      ? { location: null, value: field === undefined ? [] : [`/body/${field.replaceAll(".", "/")}`] }
      : { location: "body", value: field === undefined ? null : `/body/${field.replaceAll(".", "/")}` };
  const message =
    error.code === "UNKNOWN_FIELD"
      ? "请求中含有未在API文档中定义的参数"
      : error.code === "MALFORMED_BODY"
        ? `请求体格式错误: ${error.message}`
        : `输入源校验失败: ${error.message}`;
  replyV3Error(sandbox, call.ctx, 400, { code: "PARAM_ERROR", message, detail });
}

/** 401 SIGN_ERROR with the detail shape of the captured answer (reference §1). */
function replySignError(sandbox: SandboxContext, ctx: Context, message: string, issue: string, signInformation?: object): void {
  replyV3Error(sandbox, ctx, 401, {
    code: "SIGN_ERROR",
    message,
    detail: { detail: { issue }, field: "signature", location: "authorization", ...(signInformation === undefined ? {} : { sign_information: signInformation }) },
  });
}

export interface V3RouteInfo {
  readonly global: boolean;
}

/** Merchants under a mchid are Global when any entry for it is. */
function isGlobalMchId(sandbox: SandboxContext, mchId: string): boolean {
  return sandbox.options.merchants.some((m) => m.mchId === mchId && m.profile === "global");
}

/**
 * Runs the checks every v3 endpoint makes, in the documented order, answering the refusal itself;
 * returns the verified call otherwise. Route and verb are the router's (404 / 405); then:
 * `Accept` present; the body within maxBodyBytes (a transport limit, checked while reading); the
 * Authorization header parses; its mchid has v3; its serial_no is the merchant's certificate; the
 * timestamp is within 5 minutes; the signature verifies over the raw request; the body is UTF-8; the
 * route family (mainland / Global) is the merchant's; an injected `systemerror` answers 500 unsigned.
 */
export async function acceptV3Request(sandbox: SandboxContext, ctx: Context, route: V3RouteInfo, params: Readonly<Record<string, string>>): Promise<V3Call | undefined> {
  if (ctx.get("accept") === "") {
    replyV3Error(sandbox, ctx, 400, { code: "PARAM_ERROR", message: "请求头缺少Accept参数", detail: { location: "header", value: "Accept" } });
    return undefined;
  }
  const read = await readRawBody(ctx, sandbox.options.maxBodyBytes);
  if (!read.ok) {
    if (read.reason === "too-large") replyV3Error(sandbox, ctx, 400, { code: "PARAM_ERROR", message: `请求体超过${sandbox.options.maxBodyBytes}字节` });
    else ctx.req.socket.destroy();
    return undefined;
  }
  // A body that is not UTF-8 is a schema problem, refused after the signature checks (documented order);
  // until then it is verified as decoded, so only a merchant that signed exactly that text gets past them.
  const body = read.body.toString("utf8");
  const authorization = ctx.get("authorization");
  const parsed = parseV3Authorization(authorization === "" ? undefined : authorization);
  if (!parsed.ok) {
    replySignError(sandbox, ctx, "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》", parsed.error.message);
    return undefined;
  }
  const auth = parsed.value;
  const identity = sandbox.v3.get(auth.mchId);
  if (identity === undefined) {
    replyV3Error(sandbox, ctx, 400, { code: "MCH_NOT_EXISTS", message: "商户号不存在或未开通APIv3", detail: { location: "authorization", value: auth.mchId } });
    return undefined;
  }
  if (auth.serialNo.toUpperCase() !== identity.merchantCertificate.serial.toUpperCase()) {
    replySignError(sandbox, ctx, "商户证书序列号有误。", "serial_no not found");
    return undefined;
  }
  // ctx.req.url is the request target exactly as it arrived: the path and query the merchant signed.
  const target = ctx.req.url ?? ctx.url;
  const verified = verifyV3RequestSignature({
    authorization,
    method: ctx.method,
    urlPath: target,
    body,
    publicKey: identity.merchantCertificate.publicKey,
    now: sandbox.clock.now(),
  });
  if (!verified.ok) {
    if (verified.error.code === "REQUEST_TIMESTAMP_SKEW") {
      replySignError(sandbox, ctx, "请求的时间戳与当前时间相差超过5分钟，请检查服务器时间", "timestamp expired");
    } else {
      const message = `${ctx.method}\n${target}\n${auth.timestamp}\n${auth.nonce}\n${body}\n`;
      replySignError(sandbox, ctx, "签名错误，请检查签名串及商户私钥", "sign not match", {
        method: ctx.method,
        sign_message_length: Buffer.byteLength(message, "utf8"),
        truncated_sign_message: message.slice(0, 64),
        url: target,
      });
    }
    return undefined;
  }
  if (!Buffer.from(body, "utf8").equals(read.body)) {
    replyV3Error(sandbox, ctx, 400, { code: "PARAM_ERROR", message: "请求体不是合法的UTF-8编码", detail: { location: "body", value: null } });
    return undefined;
  }
  const merchantGlobal = isGlobalMchId(sandbox, identity.mchId);
  if (route.global !== merchantGlobal) {
    replyV3Error(sandbox, ctx, 400, { code: "INVALID_REQUEST", message: merchantGlobal ? "暂不支持境外支付" : "暂不支持该商户使用本api接口" });
    return undefined;
  }
  if (ctx.state.fault === "systemerror") {
    replyV3Error(sandbox, ctx, 500, { code: "SYSTEM_ERROR", message: "系统繁忙，请稍后重试" });
    return undefined;
  }
  if (ctx.state.v3Rotate === true) sandbox.v3.rotate(identity, sandbox.clock.now());
  const queryStart = target.indexOf("?");
  const requestSerial = ctx.get("wechatpay-serial");
  return {
    ctx,
    identity,
    auth,
    body,
    target,
    query: new URLSearchParams(queryStart === -1 ? "" : target.slice(queryStart + 1)),
    params,
    global: route.global,
    requestSerial: requestSerial === "" ? undefined : requestSerial,
  };
}

/** Who an order, query or refund is for, as the request names it. */
export interface V3MerchantIds {
  readonly mchid?: string | undefined;
  readonly spMchid?: string | undefined;
  readonly subMchid?: string | undefined;
}

/**
 * The merchant entry a verified call acts for: a direct merchant's `mchid`, or a service provider's /
 * institution's `sp_mchid` + `sub_mchid`. The acting mchid must be the Authorization header's. Answers
 * the refusal itself (400 PARAM_ERROR / MCH_NOT_EXISTS) and returns undefined when there is none.
 */
export function merchantFor(sandbox: SandboxContext, call: V3Call, ids: V3MerchantIds): Merchant | undefined {
  const acting = ids.spMchid ?? ids.mchid;
  if (acting !== call.auth.mchId) {
    const field = ids.spMchid === undefined ? "mchid" : "sp_mchid";
    replyV3Error(sandbox, call.ctx, 400, { code: "PARAM_ERROR", message: `${field}与Authorization中的商户号不一致`, detail: { location: "body", value: field } });
    return undefined;
  }
  const merchant = sandbox.findMerchant(acting, ids.spMchid === undefined ? undefined : ids.subMchid);
  if (merchant === undefined) {
    const message = ids.spMchid === undefined ? "商户号不存在" : "子商户号sub_mchid与服务商商户号sp_mchid不存在受理关系";
    const detail = { location: "body", value: ids.spMchid === undefined ? "mchid" : "sub_mchid" };
    replyV3Error(sandbox, call.ctx, 400, { code: ids.spMchid === undefined ? "MCH_NOT_EXISTS" : "PARAM_ERROR", message, detail });
    return undefined;
  }
  return merchant;
}
