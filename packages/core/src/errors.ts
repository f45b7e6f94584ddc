/** Codes for programmer misuse of @pay/core (bad options, unsignable values). Untrusted input never throws. */
export const CORE_ERROR_CODES = ["NESTED_VALUE", "UNSUPPORTED_VALUE", "DUPLICATE_KEY", "INVALID_KEY", "INVALID_OPTION", "INVALID_FIELD"] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

/** Thrown when @pay/core is called with arguments that can never be right. */
export class PayCoreError extends Error {
  override readonly name = "PayCoreError";
  readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
