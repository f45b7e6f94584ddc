import { PayCoreError } from "../../errors.js";

/** The parts of a v3 request that its signature covers, exactly as they go on the wire. */
export interface V3RequestMessageParts {
  /** Upper-case HTTP verb. */
  readonly method: string;
  /** Path plus `?` and the raw query when there is one, as sent (percent-encoding kept; no scheme or host). */
  readonly urlPath: string;
  /** Unix seconds, the same value as the header's timestamp. */
  readonly timestamp: number | string;
  /** The same nonce as the header's nonce_str. */
  readonly nonce: string;
  /** The exact body sent; "" (or omitted) for GET and for requests without a body. */
  readonly body?: string | undefined;
}

const METHOD = /^[A-Z]{1,16}$/;
// Printable ASCII only: a request target on the wire is already percent-encoded, so anything else was not "as sent".
const URL_PATH = /^\/[\x21-\x7e]*$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const NONCE = /^[\x21-\x7e]{1,64}$/;

/**
 * `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`: the string a v3 request signature covers, trailing line feed always.
 * Nothing is re-encoded; throws PayCoreError INVALID_OPTION for parts that could never be on the wire.
 */
export function buildV3RequestMessage(parts: V3RequestMessageParts): string {
  const { method, urlPath, nonce } = parts;
  const body = parts.body ?? "";
  const timestamp = typeof parts.timestamp === "number" ? String(parts.timestamp) : parts.timestamp;
  if (typeof method !== "string" || !METHOD.test(method)) throw new PayCoreError("INVALID_OPTION", "method must be an upper-case HTTP verb.");
  if (typeof urlPath !== "string" || !URL_PATH.test(urlPath)) {
    throw new PayCoreError("INVALID_OPTION", "urlPath must be the path and query as sent: start with '/', printable ASCII, no scheme or host.");
  }
  if (!TIMESTAMP.test(timestamp)) throw new PayCoreError("INVALID_OPTION", "timestamp must be whole Unix seconds.");
  if (typeof nonce !== "string" || !NONCE.test(nonce)) throw new PayCoreError("INVALID_OPTION", "nonce must be 1-64 printable ASCII characters.");
  if (typeof body !== "string") throw new PayCoreError("INVALID_OPTION", "body must be the exact string sent.");
  if (method === "GET" && body !== "") throw new PayCoreError("INVALID_OPTION", "A GET request has no body; its signed body line is empty.");
  return `${method}\n${urlPath}\n${timestamp}\n${nonce}\n${body}\n`;
}
