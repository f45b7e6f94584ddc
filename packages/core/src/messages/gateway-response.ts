import type { z } from "zod";
import { PayCoreError } from "../errors.js";
import { describeIssue } from "../notify/pay-notify.js";
import type { ResultError } from "../result.js";
import { isSignType, type SignType } from "../sign/sign-type.js";
import { VERIFY_ERROR_CODES, verifySign } from "../sign/verify.js";
import { parseXml, XML_ERROR_CODES, type XmlFields } from "../xml/parse.js";

/**
 * Why a gateway answer yielded no value, in the order the checks run: not XML at all (an nginx
 * HTML page), unsafe or malformed XML, return_code=FAIL, a bad signature, result_code=FAIL, or a
 * field that does not fit the message schema.
 */
export const GATEWAY_ERROR_CODES = ["NOT_XML", ...XML_ERROR_CODES, "PROTOCOL_FAIL", ...VERIFY_ERROR_CODES, "BUSINESS_FAIL", "INVALID_FIELD"] as const;
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/**
 * A failed gateway call, with the gateway's own words kept as data: `returnMsg` for PROTOCOL_FAIL,
 * `errCode` / `errCodeDes` for BUSINESS_FAIL. Retry decisions use `errCode` (isRetryableErrorCode).
 */
export interface GatewayError extends ResultError<GatewayErrorCode> {
  readonly returnMsg?: string;
  readonly errCode?: string;
  readonly errCodeDes?: string;
}

/** A verified answer: the typed value beside every field received (all of which the sign covered). */
export interface GatewayResponse<T> {
  readonly value: T;
  readonly raw: Readonly<XmlFields>;
  readonly signType: SignType;
}

export type GatewayResult<T> = { readonly ok: true; readonly value: GatewayResponse<T> } | { readonly ok: false; readonly error: GatewayError };

export interface ParseGatewayResponseOptions<T> {
  /** The v2 API key the request was signed with (the institution's key in institutional mode). */
  readonly key: string;
  /** The request's sign type: the gateway signs its answer with the same algorithm. */
  readonly signType: SignType;
  /** The message schema for a successful answer, e.g. UnifiedOrderResponseSchema. */
  readonly schema: z.ZodType<T>;
  /** Largest accepted body in bytes; parseXml's default when absent. */
  readonly maxBytes?: number;
}

function fail(code: GatewayErrorCode, message: string, data: Omit<GatewayError, "code" | "message"> = {}): { readonly ok: false; readonly error: GatewayError } {
  return { ok: false, error: { code, message, ...data } };
}

const sniffDecoder = new TextDecoder("utf-8", { fatal: false });

/** The first characters of the body, enough to tell XML from an HTML error page. */
/** Options also come from JavaScript callers, so their checks take nothing on trust. */
function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function leadingText(body: string | Uint8Array): string {
  return typeof body === "string" ? body.slice(0, 256) : sniffDecoder.decode(body.subarray(0, 256));
}

/** A one-line excerpt of a non-XML body for the error message (e.g. nginx's "400 No required SSL certificate was sent"). */
function excerpt(text: string): string {
  const title = /<title>([^<]{1,120})<\/title>/i.exec(text)?.[1];
  const line = (title ?? text).replace(/\s+/g, " ").trim();
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
}

/**
 * Parses a gateway answer from its raw body, following the protocol's decision order: safe XML,
 * return_code (FAIL answers carry no sign), the signature over every received field with the
 * request's sign type, result_code (business failures are signed), then the message schema.
 * Hostile or broken input yields a coded error, never a throw; bad options throw PayCoreError.
 */
export function parseGatewayResponse<T>(body: string | Uint8Array, options: ParseGatewayResponseOptions<T>): GatewayResult<T> {
  if (typeof options.key !== "string" || options.key === "") throw new PayCoreError("INVALID_OPTION", "The API key is missing.");
  if (!isSignType(options.signType)) throw new PayCoreError("INVALID_OPTION", `Unknown sign type ${String(options.signType)}; use MD5 or HMAC-SHA256.`);
  if (!isObject(options.schema) || typeof options.schema.safeParse !== "function") throw new PayCoreError("INVALID_OPTION", "A message schema is required.");

  const lead = leadingText(body)
    .replace(/^\uFEFF/, "")
    .trimStart();
  if (lead !== "" && !lead.startsWith("<xml") && !lead.startsWith("<?xml")) {
    return fail("NOT_XML", `The gateway answered with something other than XML: ${excerpt(lead)}`);
  }
  const xml = parseXml(body, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  if (!xml.ok) return fail(xml.error.code, xml.error.message);
  const raw = xml.value;

  const returnMsg = raw.return_msg;
  if (raw.return_code === "FAIL") {
    const errCode = raw.err_code ?? raw.error_code;
    return fail("PROTOCOL_FAIL", `The gateway refused the request: ${returnMsg ?? "(no return_msg)"}`, {
      ...(returnMsg === undefined ? {} : { returnMsg }),
      ...(errCode === undefined ? {} : { errCode }),
    });
  }
  if (raw.return_code !== "SUCCESS") return fail("INVALID_FIELD", "Field return_code: expected SUCCESS or FAIL");

  // The answer is signed with the request's algorithm, usually without sign_type: infer it from the
  // signature's length, and allow only the request's type.
  const verified = verifySign(raw, { key: options.key, signType: options.signType, inferSignType: true });
  if (!verified.ok) return fail(verified.error.code, verified.error.message);

  if (raw.result_code === "FAIL") {
    const errCode = raw.err_code;
    const errCodeDes = raw.err_code_des;
    return fail("BUSINESS_FAIL", `The gateway declined: ${errCode ?? "(no err_code)"}${errCodeDes === undefined ? "" : ` ${errCodeDes}`}`, {
      ...(returnMsg === undefined ? {} : { returnMsg }),
      ...(errCode === undefined ? {} : { errCode }),
      ...(errCodeDes === undefined ? {} : { errCodeDes }),
    });
  }
  if (raw.result_code !== "SUCCESS") return fail("INVALID_FIELD", "Field result_code: expected SUCCESS or FAIL");

  const typed = options.schema.safeParse(raw);
  if (!typed.success) return fail("INVALID_FIELD", describeIssue(typed.error));
  return { ok: true, value: { value: typed.data, raw, signType: verified.value.signType } };
}
