import { encryptRefundReqInfo } from "../crypto/refund-req-info.js";
import { generateNonceStr } from "../crypto/nonce.js";
import { signParams } from "../sign/sign.js";
import type { SignType } from "../sign/sign-type.js";
import { buildXml, type XmlValue } from "../xml/build.js";

export interface SignedNotifyOptions {
  readonly key: string;
  readonly signType: SignType;
  /** Leave `sign_type` out of the message, as the real gateway does for HMAC-SHA256 orders. */
  readonly omitSignType?: boolean;
}

/**
 * A signed pay notify body, built the way the gateway builds one. It ships beside the verifier so the
 * two cannot drift; use it in tests and in the sandbox, never to accept money.
 */
export function buildSignedPayNotify(fields: Readonly<Record<string, XmlValue>>, options: SignedNotifyOptions): string {
  const message: Record<string, XmlValue> = { ...fields };
  if (options.omitSignType === true) delete message.sign_type;
  else message.sign_type = options.signType;
  message.nonce_str ??= generateNonceStr();
  message.sign = signParams(message, { key: options.key, signType: options.signType });
  return buildXml(message);
}

/** A refund notify body: the `<root>` payload AES-encrypted into req_info, inside an unsigned `<xml>` envelope. */
export function buildRefundNotify(envelope: Readonly<Record<string, XmlValue>>, payload: Readonly<Record<string, XmlValue>>, key: string): string {
  const reqInfo = encryptRefundReqInfo(buildXml(payload, "root"), key);
  return buildXml({ return_code: "SUCCESS", nonce_str: generateNonceStr(), ...envelope, req_info: reqInfo });
}
