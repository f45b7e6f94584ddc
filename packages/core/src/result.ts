/** Outcome of handling untrusted input: a value, or a coded error that names the problem. */
export type Result<T, C extends string = string> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ResultError<C> };

/** A coded, human-readable failure. `code` is for programs, `message` for people. */
export interface ResultError<C extends string = string> {
  readonly code: C;
  readonly message: string;
}

/** Wraps a value as a successful result. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** Wraps a coded error as a failed result. */
export function err<C extends string>(code: C, message: string): { readonly ok: false; readonly error: ResultError<C> } {
  return { ok: false, error: { code, message } };
}
