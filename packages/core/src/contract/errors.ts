import { z } from "zod";

/** Every error code the API answers with; the client branches on these, never on message text. */
export const API_ERROR_CODES = [
  "VALIDATION_FAILED",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "ORDER_NOT_PAYABLE",
  "ORDER_NOT_CLOSABLE",
  "ORDER_NOT_REFUNDABLE",
  "REFUND_EXCEEDS_PAID",
  "IDEMPOTENCY_CONFLICT",
  "LOGIN_FAILED",
  "SIGN_IN_FAILED",
  "CSRF_FAILED",
  "UPGRADE_REQUIRED",
  "RATE_LIMITED",
  "GATEWAY_ERROR",
  "GATEWAY_UNAVAILABLE",
  "GATEWAY_TIMEOUT",
  "OVERLOADED",
  "INTERNAL",
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** HTTP status for each code. Adding a code without a status fails to compile. */
export const API_ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ORDER_NOT_PAYABLE: 409,
  ORDER_NOT_CLOSABLE: 409,
  ORDER_NOT_REFUNDABLE: 409,
  REFUND_EXCEEDS_PAID: 409,
  IDEMPOTENCY_CONFLICT: 422,
  LOGIN_FAILED: 401,
  SIGN_IN_FAILED: 401,
  CSRF_FAILED: 403,
  UPGRADE_REQUIRED: 426,
  RATE_LIMITED: 429,
  GATEWAY_ERROR: 502,
  GATEWAY_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  OVERLOADED: 503,
  INTERNAL: 500,
} as const satisfies Record<ApiErrorCode, number>;

export const ApiErrorBodySchema = z.object({
  error: z.object({
    code: z.enum(API_ERROR_CODES),
    message: z.string(),
    /** The request field at fault, as a dotted path, when one is. */
    field: z.string().optional(),
    /**
     * With RATE_LIMITED, OVERLOADED and a GATEWAY_UNAVAILABLE the API chose to answer (breaker open, too
     * many calls in flight): whole seconds before trying again is worth it, as the Retry-After header says.
     */
    retryAfterSeconds: z.number().int().positive().optional(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;
