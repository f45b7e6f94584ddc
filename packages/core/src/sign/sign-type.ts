/** The v2 signature algorithms, by their wire names. */
export const SIGN_TYPES = ["MD5", "HMAC-SHA256"] as const;

export type SignType = (typeof SIGN_TYPES)[number];

/** Hex length of a signature for each algorithm (uppercase hex on the wire). */
export const SIGN_HEX_LENGTH: Readonly<Record<SignType, number>> = { MD5: 32, "HMAC-SHA256": 64 };

/** True when `value` is one of the wire sign types. */
export function isSignType(value: unknown): value is SignType {
  return value === "MD5" || value === "HMAC-SHA256";
}

/** The algorithm a signature's length implies, or undefined when it fits neither. */
export function signTypeFromLength(sign: string): SignType | undefined {
  if (sign.length === 32) return "MD5";
  if (sign.length === 64) return "HMAC-SHA256";
  return undefined;
}
