/** What can stop the dev stack or the demo before anything runs; the CLIs print the message without a stack. */
export const DEV_ERROR_CODES = ["USAGE", "PORT_IN_USE", "INVALID_CONFIG", "ENV_FILE"] as const;
export type DevErrorCode = (typeof DEV_ERROR_CODES)[number];

/** A problem the user can fix: a bad flag, a busy port, a bad env file. The message says how. */
export class DevError extends Error {
  override readonly name = "DevError";
  constructor(
    readonly code: DevErrorCode,
    message: string,
  ) {
    super(message);
  }
}
