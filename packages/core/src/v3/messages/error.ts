import { z } from "zod";

/** One v3 error code: the HTTP status it comes with, whether repeating the same request can succeed, and how sure we are. */
export interface V3ErrorCodeInfo {
  readonly status: number;
  /** The status is seen in a captured answer (reference §1), not only inferred. */
  readonly statusConfirmed: boolean;
  /** The code is in the reference (§1, §6, §8), not only named by the issue. */
  readonly inReference: boolean;
  readonly retryable: boolean;
  readonly description: string;
}

/**
 * The v3 error codes (reference §1: GO's refund list, the order query's ORDER_NOT_EXIST, and the
 * captured answers). Retry decisions branch on these codes, never on `message`; a retry repeats the
 * same out_trade_no / out_refund_no. Where the status is unconfirmed, a 4xx is assumed and the code
 * is not retried (the money-safe side: a retry of a refused refund must be a person's decision).
 */
export const V3_ERROR_CODES = {
  SYSTEM_ERROR: {
    status: 500,
    statusConfirmed: true,
    inReference: true,
    retryable: true,
    description: "System busy (系统繁忙); retry the same request, querying first for an order.",
  },
  FREQUENCY_LIMITED: { status: 429, statusConfirmed: false, inReference: true, retryable: true, description: "Rate limited; retry more slowly." },
  BANK_ERROR: { status: 500, statusConfirmed: false, inReference: false, retryable: true, description: "The bank's system failed; retry the same request." },
  PARAM_ERROR: { status: 400, statusConfirmed: true, inReference: true, retryable: false, description: "A parameter is wrong or undefined for this API; detail names it." },
  INVALID_REQUEST: {
    status: 400,
    statusConfirmed: false,
    inReference: true,
    retryable: false,
    description: "The request is not allowed in this state (e.g. a domestic path on apihk: 暂不支持境外支付).",
  },
  SIGN_ERROR: { status: 401, statusConfirmed: true, inReference: true, retryable: false, description: "Bad Authorization: serial, key, timestamp or signed message." },
  NOT_ENOUGH: { status: 403, statusConfirmed: true, inReference: true, retryable: false, description: "Insufficient merchant balance for the refund; retry once funds are added." },
  USER_ACCOUNT_ABNORMAL: { status: 403, statusConfirmed: false, inReference: true, retryable: false, description: "The user's account is abnormal or closed; refund offline." },
  NO_AUTH: { status: 403, statusConfirmed: false, inReference: true, retryable: false, description: "The merchant has no permission for this API." },
  RESOURCE_NOT_EXISTS: {
    status: 404,
    statusConfirmed: true,
    inReference: true,
    retryable: false,
    description: "No such resource (refund, or platform certificates for a public-key merchant).",
  },
  ORDER_NOT_EXIST: { status: 404, statusConfirmed: false, inReference: true, retryable: false, description: "No such order; right after ordering, query again later." },
  MCH_NOT_EXISTS: { status: 400, statusConfirmed: false, inReference: true, retryable: false, description: "The merchant id does not exist." },
  ORDERPAID: { status: 403, statusConfirmed: false, inReference: false, retryable: false, description: "The order is already paid; treat it as paid and confirm by query." },
  ORDER_CLOSED: { status: 400, statusConfirmed: false, inReference: false, retryable: false, description: "The order is closed; order again with a new out_trade_no." },
  APPID_MCHID_NOT_MATCH: { status: 400, statusConfirmed: false, inReference: false, retryable: false, description: "The appid is not bound to the mchid." },
} as const satisfies Record<string, V3ErrorCodeInfo>;

export type V3ErrorCode = keyof typeof V3_ERROR_CODES;

/** True when `code` is in V3_ERROR_CODES. */
export function isV3ErrorCode(code: unknown): code is V3ErrorCode {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(V3_ERROR_CODES, code);
}

/** Retry decision by HTTP status alone, for codes not in the table: 5xx and 429 may succeed later, other statuses will not. */
export function isRetryableV3Status(status: number): boolean {
  return status >= 500 || status === 429;
}

/** True when repeating the same request may succeed: the table for a known code, the status otherwise. */
export function isRetryableV3Error(code: string | undefined, status: number): boolean {
  return isV3ErrorCode(code) ? V3_ERROR_CODES[code].retryable : isRetryableV3Status(status);
}

/** The v3 error envelope `{code, message, detail?}` on the wire. */
export const V3ErrorEnvelopeWireSchema = z.object({ code: z.string().min(1).max(64), message: z.string().max(2048), detail: z.unknown().optional() });

/** A non-2xx v3 answer, kept as data: the gateway's code (when the body carried one), its message, detail, status and the retry decision. */
export interface V3ApiError {
  readonly status: number;
  /** The envelope's code; undefined when the body was not an envelope (an HTML 502, an empty 500). */
  readonly code: string | undefined;
  readonly message: string;
  readonly detail?: unknown;
  readonly retryable: boolean;
}

/**
 * Reads a non-2xx answer (check the status first: error answers are often unsigned). Never fails:
 * a body that is not an envelope still yields a V3ApiError decided by its status.
 */
export function parseV3Error(status: number, body: string): V3ApiError {
  let json: unknown;
  try {
    json = body.length > 64 * 1024 ? undefined : JSON.parse(body);
  } catch {
    json = undefined;
  }
  const envelope = V3ErrorEnvelopeWireSchema.safeParse(json);
  if (!envelope.success) return { status, code: undefined, message: `HTTP ${status} without an error envelope.`, retryable: isRetryableV3Status(status) };
  const { code, message, detail } = envelope.data;
  return { status, code, message, ...(detail === undefined ? {} : { detail }), retryable: isRetryableV3Error(code, status) };
}
