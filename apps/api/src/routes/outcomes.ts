import type { ApiErrorCode } from "@pay/core/contract";
import { ApiError } from "../errors.js";
import type { GatewayCallError } from "../gateway/port.js";
import type { Failure, FailureKind, GatewayOperation, Outcome } from "../services/outcomes.js";

/** The API error code of each service failure; a new kind does not compile until it has one. */
const FAILURE_CODES: Readonly<Record<Exclude<FailureKind, "gateway-failed">, ApiErrorCode>> = {
  "not-found": "NOT_FOUND",
  invalid: "VALIDATION_FAILED",
  "unknown-user": "UNAUTHORIZED",
  "idempotency-conflict": "IDEMPOTENCY_CONFLICT",
  "not-payable": "ORDER_NOT_PAYABLE",
  "not-closable": "ORDER_NOT_CLOSABLE",
  "not-refundable": "ORDER_NOT_REFUNDABLE",
  "refund-exceeds-paid": "REFUND_EXCEEDS_PAID",
  "gateway-refused": "GATEWAY_ERROR",
  "protocol-unavailable": "GATEWAY_UNAVAILABLE",
  "login-rejected": "LOGIN_FAILED",
  "login-unavailable": "GATEWAY_UNAVAILABLE",
};

/** How messages name each gateway operation (WeChat Pay's own names for them). */
const OPERATION_NAMES: Readonly<Record<GatewayOperation, string>> = {
  "place-order": "unifiedorder",
  "close-order": "closeorder",
  refund: "refund",
};

/**
 * Maps a failed gateway call to what the client is told: 504 for a timeout, 503 when unreachable or when the
 * guard shed the call (with Retry-After), 502 otherwise.
 */
export function gatewayFailure(operation: string, error: GatewayCallError): ApiError {
  switch (error.kind) {
    case "shed": {
      const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterSeconds ?? 1));
      return new ApiError("GATEWAY_UNAVAILABLE", `WeChat Pay ${operation} was not attempted: ${error.message}; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
    }
    case "timeout":
      return new ApiError("GATEWAY_TIMEOUT", `WeChat Pay did not answer ${operation} in time; retrying is safe.`);
    case "network":
      return new ApiError("GATEWAY_UNAVAILABLE", `WeChat Pay could not be reached for ${operation}; retrying is safe.`);
    case "http":
      return (error.httpStatus ?? 500) >= 500
        ? new ApiError("GATEWAY_UNAVAILABLE", `WeChat Pay answered HTTP ${error.httpStatus ?? "error"} to ${operation}; retrying is safe.`)
        : new ApiError("GATEWAY_ERROR", `WeChat Pay refused ${operation} (HTTP ${error.httpStatus ?? "error"}).`);
    case "business":
      return error.retryable
        ? new ApiError("GATEWAY_UNAVAILABLE", `WeChat Pay is busy (${error.code ?? "error"}) for ${operation}; retrying is safe.`)
        : new ApiError("GATEWAY_ERROR", `WeChat Pay refused ${operation}: ${error.code ?? "error"}.`);
    case "protocol":
    case "invalid":
      return new ApiError("GATEWAY_ERROR", `WeChat Pay ${operation} failed (${error.kind}).`);
  }
}

/** The API error a service failure is answered with. */
export function failureError(failure: Failure): ApiError {
  switch (failure.kind) {
    case "gateway-failed":
      return gatewayFailure(OPERATION_NAMES[failure.operation], failure.error);
    case "invalid":
    case "refund-exceeds-paid":
      return new ApiError(FAILURE_CODES[failure.kind], failure.message, { field: failure.field });
    default:
      return new ApiError(FAILURE_CODES[failure.kind], failure.message);
  }
}

/** A service's value, or its failure thrown as the API error the error middleware answers with. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw failureError(outcome.failure);
}
