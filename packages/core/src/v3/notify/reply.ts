import { PayCoreError } from "../../errors.js";
import type { V3NotifyErrorCode } from "./parse-notify.js";

/** What to answer WeChat Pay's notify request: any 2xx within 5 s acknowledges, anything else is retried. */
export interface V3NotifyReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The acknowledgement: 204 with an empty body. Current docs say "200 or 204, no body needed"; older ones
 * showed 200 {"code":"SUCCESS"}; a 2xx satisfies both, and an empty body cannot be misread.
 */
export const V3_NOTIFY_SUCCESS_REPLY: V3NotifyReply = Object.freeze({ status: 204, headers: Object.freeze({}), body: "" });

/** A refusal: 4xx/5xx with `{"code":"FAIL","message":...}`. WeChat Pay will deliver the notify again later. */
export function buildV3NotifyFailReply(message: string, status = 500): V3NotifyReply {
  if (!Number.isInteger(status) || status < 400 || status > 599) throw new PayCoreError("INVALID_OPTION", `A notify refusal needs a 4xx or 5xx status, not ${status}.`);
  return { status, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify({ code: "FAIL", message: message.slice(0, 128) || "FAIL" }) };
}

const UNAUTHENTICATED: ReadonlySet<V3NotifyErrorCode> = new Set<V3NotifyErrorCode>([
  "MISSING_HEADER",
  "MALFORMED_HEADER",
  "INVALID_TIMESTAMP",
  "TIMESTAMP_SKEW",
  "UNSUPPORTED_SIGNATURE_TYPE",
  "SIGNATURE_PROBE",
  "MALFORMED_SIGNATURE",
  "BAD_SIGNATURE",
  "UNKNOWN_SERIAL",
  "CERTIFICATE_EXPIRED",
  "CERTIFICATE_NOT_YET_VALID",
]);

/**
 * The reply for a refused notify: 401 when it is not proven to come from WeChat Pay (probes included: the
 * domestic docs want a 4xx and a retry follows with a good signature), 413 when too large, 400 when
 * malformed, 500 when it does not decrypt (likely our APIv3 key: a retry after fixing it will succeed).
 * The message names the code only; details stay in the server's logs.
 */
export function v3NotifyRefusalReply(code: V3NotifyErrorCode): V3NotifyReply {
  if (UNAUTHENTICATED.has(code)) return buildV3NotifyFailReply(code, 401);
  if (code === "TOO_LARGE") return buildV3NotifyFailReply(code, 413);
  if (code === "DECRYPT_FAILED" || code === "INVALID_KEY_LENGTH") return buildV3NotifyFailReply(code, 500);
  return buildV3NotifyFailReply(code, 400);
}
