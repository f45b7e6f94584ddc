import { API_ERROR_STATUS, type ApiErrorBody, type ApiErrorCode } from "@pay/core/contract";
import type { GatewayCallError } from "./gateway/port.js";

/** The API's one error class: a closed set of codes, each with its HTTP status from the contract. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: ApiErrorCode, message: string, options: { field?: string | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = API_ERROR_STATUS[code];
    this.field = options.field;
  }

  /** The JSON body clients receive. */
  toBody(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

/** Maps a failed gateway call to what the client is told: 504 for a timeout, 503 when unreachable, 502 otherwise. */
export function gatewayFailure(operation: string, error: GatewayCallError): ApiError {
  switch (error.kind) {
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
