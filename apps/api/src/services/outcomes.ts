import type { GatewayCallError } from "../gateway/port.js";

/**
 * Why a service did not do what it was asked, in the domain's words. Services return these as values;
 * the route layer turns each kind into the API's coded error in one place (routes/outcomes.ts).
 */
export type Failure =
  | { readonly kind: "not-found"; readonly message: string }
  | { readonly kind: "invalid"; readonly field: string; readonly message: string }
  /** The session names a user that no longer exists. */
  | { readonly kind: "unknown-user"; readonly message: string }
  /** An Idempotency-Key reused for a different request. */
  | { readonly kind: "idempotency-conflict"; readonly message: string }
  | { readonly kind: "not-payable"; readonly message: string }
  | { readonly kind: "not-closable"; readonly message: string }
  | { readonly kind: "not-refundable"; readonly message: string }
  | { readonly kind: "refund-exceeds-paid"; readonly field: string; readonly message: string }
  /** A gateway call produced no usable answer. */
  | { readonly kind: "gateway-failed"; readonly operation: GatewayOperation; readonly error: GatewayCallError }
  /** The order was placed with a protocol this process has no gateway for (a v2 order in a v3-only process, or the reverse). */
  | { readonly kind: "protocol-unavailable"; readonly message: string }
  /** The gateway answered, but not with something the API can use (a refusal, a prepay id about to expire). */
  | { readonly kind: "gateway-refused"; readonly message: string }
  | { readonly kind: "login-rejected"; readonly message: string }
  | { readonly kind: "login-unavailable"; readonly message: string };

export type FailureKind = Failure["kind"];

/** The gateway calls a client request can fail on. */
export type GatewayOperation = "place-order" | "close-order" | "refund";

/** A service's result: the value, or why not. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: Failure };

/** The outcome of a service that did what it was asked. */
export function succeeded<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** The outcome of a service that did not, and why. */
export function failed(failure: Failure): { readonly ok: false; readonly failure: Failure } {
  return { ok: false, failure };
}
