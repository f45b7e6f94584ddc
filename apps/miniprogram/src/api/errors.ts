import type { ApiErrorCode } from "@pay/core/contract";
import { ApiErrorBodySchema } from "../lib/pay-core.js";
import { formatWait } from "../utils/format.js";

/**
 * Everything a call can go wrong with, as a value. Pages branch on `kind` and `code`, never on text;
 * `message` is written for the person holding the phone.
 */
export type ClientError =
  /**
   * The API answered with one of the contract's error codes. `retryAfterSeconds`: how long the server
   * asked to be left alone (the body's `retryAfterSeconds`, else the Retry-After header), when it said.
   */
  | { readonly kind: "api"; readonly status: number; readonly code: ApiErrorCode; readonly message: string; readonly retryAfterSeconds?: number }
  /**
   * Something answered, but not the API's JSON (a proxy's error page, a truncated body), or, with code
   * INVALID_RESPONSE, a success body the route's response schema refuses (a server on another contract).
   * A proxy's 429 or 503 may still name a wait in Retry-After.
   */
  | { readonly kind: "http"; readonly status: number; readonly message: string; readonly code?: "INVALID_RESPONSE"; readonly retryAfterSeconds?: number }
  /** No answer at all: offline, refused, timed out, or a domain the mini-program may not call. */
  | { readonly kind: "network"; readonly message: string }
  /** wx.login itself failed, so there is no code to sign in with. */
  | { readonly kind: "login"; readonly message: string };

/** What every API call answers: the route's (validated) success body, or what went wrong. */
export type CallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ClientError };

/**
 * The longest wait the app honours. A larger Retry-After (a misconfigured proxy, a garbled date) is
 * read as this much, so that no button stays disabled for days; the server refuses again if it must.
 */
export const MAX_RETRY_AFTER_SECONDS = 3_600;

/**
 * Reads a Retry-After header value as whole seconds from `now`: delta-seconds, or an HTTP-date (both
 * are allowed by RFC 9110). Undefined when absent, unreadable, or not in the future.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const seconds = /^\d+$/.test(text) ? Number(text) : Math.ceil((Date.parse(text) - now) / 1000);
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}

/** A response header by name, whatever its case (wx.request passes names as the server or proxy wrote them). */
export function headerValue(header: unknown, name: string): string | undefined {
  if (typeof header !== "object" || header === null) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) if (key.toLowerCase() === wanted && typeof value === "string") return value;
  return undefined;
}

/**
 * Reads the contract's `{ error: { code, message } }` body; undefined when the body is anything else (an
 * unknown code too). The body's `retryAfterSeconds` wins; `headerWait` (the Retry-After header, read by
 * parseRetryAfter) stands in when the body has none.
 */
export function parseApiErrorBody(status: number, data: unknown, headerWait?: number): ClientError | undefined {
  const parsed = ApiErrorBodySchema.safeParse(data);
  if (!parsed.success) return undefined;
  const { code, message, retryAfterSeconds } = parsed.data.error;
  const wait = retryAfterSeconds === undefined ? headerWait : Math.min(retryAfterSeconds, MAX_RETRY_AFTER_SECONDS);
  return { kind: "api", status, code, message: message === "" ? code : message, ...(wait === undefined ? {} : { retryAfterSeconds: wait }) };
}

/** How long, in seconds, the server asked not to be asked again; undefined when it named no wait. */
export function retryAfterOf(error: ClientError): number | undefined {
  return error.kind === "api" || error.kind === "http" ? error.retryAfterSeconds : undefined;
}

/**
 * Turns what a route's response schema refused into one line for a developer: where and what, for
 * the first few issues. (The payer sees describeError's sentence instead.)
 */
export function describeMismatch(route: string, issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[]): string {
  const parts = issues.slice(0, 3).map((issue) => `${issue.path.map(String).join(".") || "(body)"}: ${issue.message}`);
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : "";
  return `${route} answered a body the contract does not allow (${parts.join("; ")}${more})`;
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
      return (
        error.code === "GATEWAY_ERROR" ||
        error.code === "GATEWAY_UNAVAILABLE" ||
        error.code === "GATEWAY_TIMEOUT" ||
        error.code === "RATE_LIMITED" ||
        error.code === "OVERLOADED" ||
        error.code === "INTERNAL"
      );
  }
}

/**
 * The sentence for a refusal that named its wait: too many attempts (429), or a server or WeChat Pay
 * too busy to take the request now (503). Undefined for anything else, which keeps its own text.
 */
function waitSentence(error: ClientError): string | undefined {
  const seconds = retryAfterOf(error);
  if (seconds === undefined || (error.kind !== "api" && error.kind !== "http")) return undefined;
  const wait = formatWait(seconds);
  if (error.kind === "http") {
    if (error.status === 429) return `Too many attempts. Try again in ${wait}.`;
    return error.status >= 500 ? `The server is busy. Try again in ${wait}.` : undefined;
  }
  switch (error.code) {
    case "RATE_LIMITED":
      return `Too many attempts. Try again in ${wait}.`;
    case "OVERLOADED":
      return `The server is busy. Try again in ${wait}.`;
    case "GATEWAY_UNAVAILABLE":
      return `WeChat Pay is busy. Try again in ${wait}.`;
    default:
      return undefined;
  }
}

/** One line for the screen: what happened, in words a payer can act on. */
export function describeError(error: ClientError): string {
  const waiting = waitSentence(error);
  if (waiting !== undefined) return waiting;
  switch (error.kind) {
    case "network":
      return `The server could not be reached (${error.message}). Check the connection and try again.`;
    case "http":
      if (error.code === "INVALID_RESPONSE") return "The server's answer does not match what this version of the app understands. Try again later, or update the app.";
      return `The server answered HTTP ${error.status} instead of the app's data. Try again in a moment.`;
    case "login":
      return `WeChat sign-in failed (${error.message}).`;
    case "api":
      return error.message;
  }
}
