import { sign, verify, type KeyObject } from "node:crypto";

// Standard base64 with padding, as every SDK emits it; anything else is not a signature.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Largest signature accepted (RSA-4096 is 512 bytes); bounds the work an untrusted header can ask for. */
export const MAX_V3_SIGNATURE_BYTES = 512;
const MAX_SIGNATURE_BASE64 = Math.ceil(MAX_V3_SIGNATURE_BYTES / 3) * 4;

/** SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes of `message`, as standard base64. */
export function signV3Message(message: string, privateKey: KeyObject): string {
  return sign("sha256", Buffer.from(message, "utf8"), privateKey).toString("base64");
}

/** True when `signature` is strict, padded standard base64 of 1..512 bytes. */
export function isV3SignatureBase64(signature: string): boolean {
  return signature.length > 0 && signature.length <= MAX_SIGNATURE_BASE64 && BASE64.test(signature);
}

/** Checks a base64 SHA256withRSA signature over `message`; a malformed signature is simply false, never a throw. */
export function verifyV3Message(message: string, signature: string, publicKey: KeyObject): boolean {
  if (!isV3SignatureBase64(signature)) return false;
  return verify("sha256", Buffer.from(message, "utf8"), publicKey, Buffer.from(signature, "base64"));
}
