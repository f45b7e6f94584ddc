/** JSON.stringify with its real result: undefined for undefined, a function or a symbol, which its typings leave out. */
export function jsonText(value: unknown): string | undefined {
  return JSON.stringify(value);
}
