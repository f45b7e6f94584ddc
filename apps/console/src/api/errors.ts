import type { ApiErrorCode } from "@pay/core/contract";

/** Why a call failed: the API's coded error, another HTTP failure, an answer that breaks the contract, or no answer at all. */
export type ApiClientErrorKind = "api" | "http" | "invalid" | "network";

export interface ApiClientErrorInit {
  readonly kind: ApiClientErrorKind;
  /** The HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** The API's code, or HTTP_ERROR / INVALID_RESPONSE / NETWORK. */
  readonly code: ApiErrorCode | "HTTP_ERROR" | "INVALID_RESPONSE" | "NETWORK";
  readonly message: string;
  /** From Retry-After on a 429. */
  readonly retryAfterSeconds?: number | undefined;
}

/** The one error a console call throws; pages branch on `code`, never on the message. */
export class ApiClientError extends Error {
  readonly kind: ApiClientErrorKind;
  readonly status: number;
  readonly code: ApiClientErrorInit["code"];
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ApiClientErrorInit) {
    super(init.message);
    this.name = "ApiClientError";
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

export function isApiClientError(error: unknown): error is ApiClientError {
  return error instanceof ApiClientError;
}
