import { decryptRefundReqInfo, type ReqInfoErrorCode } from "../crypto/refund-req-info.js";
import { RefundNotifyEnvelopeWireSchema, RefundNotifyPayloadSchema, type RefundNotifyPayload } from "../messages/refund-notify.js";
import { err, ok, type Result } from "../result.js";
import { parseBeijingTime } from "../wire/time.js";
import { parseXml, type XmlErrorCode, type XmlFields } from "../xml/parse.js";
import { describeIssue } from "./pay-notify.js";

export type RefundNotifyErrorCode = XmlErrorCode | ReqInfoErrorCode | "RETURN_FAIL" | "INVALID_FIELD" | "MERCHANT_MISMATCH";

export interface ParseRefundNotifyOptions {
  /** The v2 API key; req_info is encrypted with its MD5. */
  readonly key: string;
  /** When given, the envelope's appid / mch_id / sub_mch_id must equal these. */
  readonly appId?: string;
  readonly mchId?: string;
  readonly subMchId?: string | undefined;
  readonly maxBytes?: number;
}

export interface DecryptedRefundNotify {
  readonly refund: RefundNotifyPayload;
  /** success_time as an ISO 8601 UTC instant, when the refund succeeded. */
  readonly succeededAt: string | undefined;
  /** The outer envelope and the decrypted payload fields, exactly as received. */
  readonly envelope: Readonly<XmlFields>;
  readonly payload: Readonly<XmlFields>;
}

/**
 * Parses a refund result notify: safe XML envelope, merchant check, AES-256-ECB decryption of
 * req_info with the merchant key, then the `<root>` payload. There is no sign: only a payload that
 * decrypts with our key and parses is accepted.
 */
export function parseRefundNotify(body: string | Uint8Array, options: ParseRefundNotifyOptions): Result<DecryptedRefundNotify, RefundNotifyErrorCode> {
  const xml = parseXml(body, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
  if (!xml.ok) return xml;
  const envelope = RefundNotifyEnvelopeWireSchema.safeParse(xml.value);
  if (!envelope.success) return err("INVALID_FIELD", describeIssue(envelope.error));
  const env = envelope.data;
  if (env.return_code !== "SUCCESS") return err("RETURN_FAIL", `The refund notify has return_code FAIL: ${env.return_msg ?? ""}`.trim());
  if (options.appId !== undefined && env.appid !== options.appId) return err("MERCHANT_MISMATCH", "appid does not match the merchant.");
  if (options.mchId !== undefined && env.mch_id !== options.mchId) return err("MERCHANT_MISMATCH", "mch_id does not match the merchant.");
  if (options.subMchId !== undefined && env.sub_mch_id !== options.subMchId) return err("MERCHANT_MISMATCH", "sub_mch_id does not match the merchant.");
  if (env.req_info === undefined || env.req_info === "") return err("INVALID_FIELD", "Field req_info: missing.");

  const plain = decryptRefundReqInfo(env.req_info, options.key);
  if (!plain.ok) return plain;
  const inner = parseXml(plain.value, { root: "root", maxBytes: 64 * 1024 });
  if (!inner.ok) return inner;
  const payload = RefundNotifyPayloadSchema.safeParse(inner.value);
  if (!payload.success) return err("INVALID_FIELD", describeIssue(payload.error));
  // The schema has checked success_time names a real instant, so this reads it without a second failure path.
  const succeededAt = payload.data.successTime === undefined ? undefined : parseBeijingTime(payload.data.successTime)?.toISOString();
  return ok({ refund: payload.data, succeededAt, envelope: xml.value, payload: inner.value });
}
