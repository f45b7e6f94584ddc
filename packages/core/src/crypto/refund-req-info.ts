import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { PayCoreError } from "../errors.js";
import { err, ok, type Result } from "../result.js";

export type ReqInfoErrorCode = "MALFORMED_REQ_INFO" | "DECRYPT_FAILED";

/** The refund notify AES key: the lowercase hex MD5 of the v2 API key, used as 32 ASCII bytes. */
export function refundNotifyAesKey(apiKey: string): Buffer {
  if (typeof apiKey !== "string" || apiKey === "") throw new PayCoreError("INVALID_OPTION", "The API key is missing.");
  return Buffer.from(createHash("md5").update(apiKey, "utf8").digest("hex"), "ascii");
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decrypts a refund notify's `req_info` (base64, AES-256-ECB, PKCS#7) to its `<root>` XML text. */
export function decryptRefundReqInfo(reqInfo: string, apiKey: string): Result<string, ReqInfoErrorCode> {
  const compact = reqInfo.replace(/\s+/g, "");
  if (compact === "" || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    return err("MALFORMED_REQ_INFO", "req_info is not base64.");
  }
  const data = Buffer.from(compact, "base64");
  if (data.length === 0 || data.length % 16 !== 0) {
    return err("MALFORMED_REQ_INFO", "req_info is not a whole number of AES blocks.");
  }
  try {
    const decipher = createDecipheriv("aes-256-ecb", refundNotifyAesKey(apiKey), null);
    const plain = Buffer.concat([decipher.update(data), decipher.final()]);
    return ok(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    // Wrong key or tampered data shows up as bad padding or bad UTF-8; both mean "not from the gateway".
    return err("DECRYPT_FAILED", "req_info does not decrypt with this merchant's key.");
  }
}

/** Encrypts a `<root>` payload the way the gateway does (the sandbox uses this). */
export function encryptRefundReqInfo(plaintext: string, apiKey: string): string {
  const cipher = createCipheriv("aes-256-ecb", refundNotifyAesKey(apiKey), null);
  return Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]).toString("base64");
}
