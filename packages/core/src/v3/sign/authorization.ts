import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import { isV3SignatureBase64 } from "./rsa.js";

/** The only v3 scheme: `WECHATPAY2-` + `SHA256-RSA2048`. */
export const V3_AUTHORIZATION_SCHEME = "WECHATPAY2-SHA256-RSA2048";

/** Longest Authorization header accepted (a 4096-bit signature and generous ids fit in well under half). */
export const MAX_V3_AUTHORIZATION_LENGTH = 2048;

/** Why an Authorization header was refused. */
export const V3_AUTHORIZATION_ERROR_CODES = [
  "AUTHORIZATION_MISSING",
  "AUTHORIZATION_OVERSIZE",
  "AUTHORIZATION_WRONG_SCHEME",
  "AUTHORIZATION_MALFORMED",
  "AUTHORIZATION_UNKNOWN_PAIR",
  "AUTHORIZATION_DUPLICATE_PAIR",
  "AUTHORIZATION_MISSING_PAIR",
  "AUTHORIZATION_BAD_VALUE",
  "AUTHORIZATION_BAD_TIMESTAMP",
  "AUTHORIZATION_BAD_SIGNATURE",
] as const;

export type V3AuthorizationErrorCode = (typeof V3_AUTHORIZATION_ERROR_CODES)[number];

/** The five pairs of a v3 Authorization header, camelCase. */
export interface V3Authorization {
  readonly mchId: string;
  readonly nonce: string;
  /** Unix seconds. */
  readonly timestamp: number;
  /** Serial of the merchant API certificate (hex). */
  readonly serialNo: string;
  /** Base64 SHA256withRSA signature. */
  readonly signature: string;
}

const PAIR_NAMES = { mchid: "mchId", nonce_str: "nonce", timestamp: "timestamp", serial_no: "serialNo", signature: "signature" } as const;
type PairName = keyof typeof PAIR_NAMES;

// Printable ASCII without the quote and backslash, which the quoted form cannot carry.
const MCHID = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;
const NONCE = MCHID;
const SERIAL = /^[0-9A-Fa-f]{1,64}$/;
// No leading zeros, so the number prints back as the very string that was signed.
const TIMESTAMP = /^(?:0|[1-9][0-9]{0,11})$/;
// key="value": the value is quoted printable ASCII with no quote or backslash inside (WeChat never escapes).
const PAIR = /([A-Za-z0-9_-]+)="([\x20\x21\x23-\x5b\x5d-\x7e]*)"/y;
const SEPARATOR = /[ \t]*,[ \t]*/y;

function isPairName(name: string): name is PairName {
  return Object.hasOwn(PAIR_NAMES, name);
}

function needs(value: string, pattern: RegExp, name: string): void {
  if (typeof value !== "string" || !pattern.test(value)) throw new PayCoreError("INVALID_OPTION", `${name} cannot go into an Authorization header.`);
}

/**
 * `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`: pairs in the order of
 * the official documentation example (the order is free; the gateway parses any). Throws INVALID_OPTION for values
 * that could not be parsed back.
 */
export function buildV3Authorization(auth: V3Authorization): string {
  needs(auth.mchId, MCHID, "mchId");
  needs(auth.nonce, NONCE, "nonce");
  needs(String(auth.timestamp), TIMESTAMP, "timestamp");
  needs(auth.serialNo, SERIAL, "serialNo");
  if (!isV3SignatureBase64(auth.signature)) throw new PayCoreError("INVALID_OPTION", "signature must be standard base64.");
  return `${V3_AUTHORIZATION_SCHEME} mchid="${auth.mchId}",nonce_str="${auth.nonce}",signature="${auth.signature}",timestamp="${auth.timestamp}",serial_no="${auth.serialNo}"`;
}

/**
 * Parses an untrusted `Authorization` header (what the gateway does first): the scheme, one space, then exactly the
 * five quoted pairs in any order, separated by commas (spaces around a comma tolerated). Anything else is a coded
 * refusal, never a throw. It checks form only: the signature is verified by whoever holds the merchant's key.
 */
export function parseV3Authorization(header: string | undefined | null): Result<V3Authorization, V3AuthorizationErrorCode> {
  if (header === undefined || header === null || header === "") return err("AUTHORIZATION_MISSING", "The Authorization header is missing.");
  if (typeof header !== "string") return err("AUTHORIZATION_MALFORMED", "The Authorization header is not a string.");
  if (header.length > MAX_V3_AUTHORIZATION_LENGTH) return err("AUTHORIZATION_OVERSIZE", `The Authorization header is longer than ${MAX_V3_AUTHORIZATION_LENGTH} characters.`);
  const space = header.indexOf(" ");
  const scheme = space === -1 ? header : header.slice(0, space);
  if (scheme !== V3_AUTHORIZATION_SCHEME) return err("AUTHORIZATION_WRONG_SCHEME", `The Authorization scheme must be ${V3_AUTHORIZATION_SCHEME}.`);
  if (space === -1) return err("AUTHORIZATION_MALFORMED", "The Authorization header has no parameters.");

  const seen = new Map<PairName, string>();
  let at = space + 1;
  for (;;) {
    PAIR.lastIndex = at;
    const pair = PAIR.exec(header);
    if (pair === null) return err("AUTHORIZATION_MALFORMED", `The Authorization header is not key="value" pairs at character ${at}.`);
    const name = pair[1] ?? "";
    const value = pair[2] ?? "";
    if (!isPairName(name)) return err("AUTHORIZATION_UNKNOWN_PAIR", `The Authorization header has an unknown pair "${name.slice(0, 32)}".`);
    if (seen.has(name)) return err("AUTHORIZATION_DUPLICATE_PAIR", `The Authorization header has "${name}" twice.`);
    seen.set(name, value);
    at = PAIR.lastIndex;
    if (at === header.length) break;
    SEPARATOR.lastIndex = at;
    if (SEPARATOR.exec(header) === null) return err("AUTHORIZATION_MALFORMED", `The Authorization header has no comma between pairs at character ${at}.`);
    at = SEPARATOR.lastIndex;
  }

  for (const name of Object.keys(PAIR_NAMES) as PairName[]) {
    if (!seen.has(name)) return err("AUTHORIZATION_MISSING_PAIR", `The Authorization header has no ${name}.`);
  }
  const mchId = seen.get("mchid") ?? "";
  const nonce = seen.get("nonce_str") ?? "";
  const timestamp = seen.get("timestamp") ?? "";
  const serialNo = seen.get("serial_no") ?? "";
  const signature = seen.get("signature") ?? "";
  if (!MCHID.test(mchId)) return err("AUTHORIZATION_BAD_VALUE", "mchid must be 1-64 printable ASCII characters.");
  if (!NONCE.test(nonce)) return err("AUTHORIZATION_BAD_VALUE", "nonce_str must be 1-64 printable ASCII characters.");
  if (!SERIAL.test(serialNo)) return err("AUTHORIZATION_BAD_VALUE", "serial_no must be the certificate serial in hex.");
  if (!TIMESTAMP.test(timestamp)) return err("AUTHORIZATION_BAD_TIMESTAMP", "timestamp must be Unix seconds (digits, no leading zero).");
  if (!isV3SignatureBase64(signature)) return err("AUTHORIZATION_BAD_SIGNATURE", "signature must be standard padded base64 of at most 512 bytes.");
  return ok({ mchId, nonce, timestamp: Number(timestamp), serialNo, signature });
}
