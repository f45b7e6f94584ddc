import type { ApiErrorCode } from "@pay/core/contract";

/**
 * Everything a call can go wrong with, as a value. Pages branch on `kind` and `code`, never on text;
 * `message` is written for the person holding the phone.
 */
export type ClientError =
  /** The API answered with one of the contract's error codes. */
  | { readonly kind: "api"; readonly status: number; readonly code: ApiErrorCode; readonly message: string }
  /** Something answered, but not the API's JSON (a proxy's error page, a truncated body). */
  | { readonly kind: "http"; readonly status: number; readonly message: string }
  /** No answer at all: offline, refused, timed out, or a domain the mini-program may not call. */
  | { readonly kind: "network"; readonly message: string }
  /** wx.login itself failed, so there is no code to sign in with. */
  | { readonly kind: "login"; readonly message: string };

// Every contract code, so an error body from a newer server with an unknown code is not mistaken for one.
// `satisfies` makes a code added to the contract fail to compile here until the client knows it.
const KNOWN_CODES = {
  VALIDATION_FAILED: true,
  UNAUTHORIZED: true,
  FORBIDDEN: true,
  NOT_FOUND: true,
  METHOD_NOT_ALLOWED: true,
  PAYLOAD_TOO_LARGE: true,
  UNSUPPORTED_MEDIA_TYPE: true,
  ORDER_NOT_PAYABLE: true,
  ORDER_NOT_CLOSABLE: true,
  ORDER_NOT_REFUNDABLE: true,
  REFUND_EXCEEDS_PAID: true,
  IDEMPOTENCY_CONFLICT: true,
  LOGIN_FAILED: true,
  UPGRADE_REQUIRED: true,
  RATE_LIMITED: true,
  GATEWAY_ERROR: true,
  GATEWAY_UNAVAILABLE: true,
  GATEWAY_TIMEOUT: true,
  INTERNAL: true,
} as const satisfies Record<ApiErrorCode, true>;

function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(KNOWN_CODES, value);
}

/** Reads the contract's `{ error: { code, message } }` body; undefined when the body is anything else. */
export function parseApiErrorBody(status: number, data: unknown): ClientError | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const error = (data as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (!isApiErrorCode(code)) return undefined;
  return { kind: "api", status, code, message: typeof message === "string" && message !== "" ? message : code };
}

/** Worth trying again as it is: the failure was on the way or on the other side, not in the request. */
export function isTransient(error: ClientError): boolean {
  switch (error.kind) {
    case "network":
      return true;
    case "http":
      return error.status >= 500 || error.status === 429;
    case "login":
      return false;
    case "api":
      return error.code === "GATEWAY_ERROR" || error.code === "GATEWAY_UNAVAILABLE" || error.code === "GATEWAY_TIMEOUT" || error.code === "RATE_LIMITED" || error.code === "INTERNAL";
  }
}

/** One line for the screen: what happened, in words a payer can act on. */
export function describeError(error: ClientError): string {
  switch (error.kind) {
    case "network":
      return `The server could not be reached (${error.message}). Check the connection and try again.`;
    case "http":
      return `The server answered HTTP ${error.status} instead of the app's data. Try again in a moment.`;
    case "login":
      return `WeChat sign-in failed (${error.message}).`;
    case "api":
      return error.message;
  }
}
