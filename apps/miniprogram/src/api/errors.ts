import type { ApiErrorCode } from "@pay/core/contract";
import { ApiErrorBodySchema } from "../lib/pay-core.js";

/**
 * Everything a call can go wrong with, as a value. Pages branch on `kind` and `code`, never on text;
 * `message` is written for the person holding the phone.
 */
export type ClientError =
  /** The API answered with one of the contract's error codes. */
  | { readonly kind: "api"; readonly status: number; readonly code: ApiErrorCode; readonly message: string }
  /**
   * Something answered, but not the API's JSON (a proxy's error page, a truncated body), or, with code
   * INVALID_RESPONSE, a success body the route's response schema refuses (a server on another contract).
   */
  | { readonly kind: "http"; readonly status: number; readonly message: string; readonly code?: "INVALID_RESPONSE" }
  /** No answer at all: offline, refused, timed out, or a domain the mini-program may not call. */
  | { readonly kind: "network"; readonly message: string }
  /** wx.login itself failed, so there is no code to sign in with. */
  | { readonly kind: "login"; readonly message: string };

/** What every API call answers: the route's (validated) success body, or what went wrong. */
export type CallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ClientError };

/** Reads the contract's `{ error: { code, message } }` body; undefined when the body is anything else (an unknown code too). */
export function parseApiErrorBody(status: number, data: unknown): ClientError | undefined {
  const parsed = ApiErrorBodySchema.safeParse(data);
  if (!parsed.success) return undefined;
  const { code, message } = parsed.data.error;
  return { kind: "api", status, code, message: message === "" ? code : message };
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
        error.code === "GATEWAY_ERROR" || error.code === "GATEWAY_UNAVAILABLE" || error.code === "GATEWAY_TIMEOUT" || error.code === "RATE_LIMITED" || error.code === "INTERNAL"
      );
  }
}

/** One line for the screen: what happened, in words a payer can act on. */
export function describeError(error: ClientError): string {
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
