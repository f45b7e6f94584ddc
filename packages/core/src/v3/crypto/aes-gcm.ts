import { createCipheriv, createDecipheriv, type CipherGCMTypes } from "node:crypto";
import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import { decodeBase64Strict } from "./base64.js";

export type AesGcmErrorCode = "INVALID_KEY_LENGTH" | "INVALID_NONCE" | "MALFORMED_CIPHERTEXT" | "DECRYPT_FAILED";

/** An encrypted v3 resource: a notify's `resource` or a certificate's `encrypt_certificate`, camelCased. */
export interface V3EncryptedResource {
  /** base64 of ciphertext ‖ 16-byte tag. */
  readonly ciphertext: string;
  /** 12 ASCII characters, used as the GCM IV bytes. */
  readonly nonce: string;
  /** The AAD text (`transaction`, `refund`, `certificate`; may be empty). */
  readonly associatedData: string;
}

const TAG_BYTES = 16;
// One decoder for every call: constructing a TextDecoder costs more than decoding a notify with it.
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const NONCE_BYTES = 12;

/**
 * The cipher for a key: its byte length selects it, like Go's aes.NewCipher. Production APIv3 keys are
 * 32 ASCII bytes (AES-256-GCM, as the resource's `AEAD_AES_256_GCM` label says); a 16-byte key gives
 * AES-128-GCM, which is what the wechatpay-go notify vector really is (`testMchAPIv3Key0`). The label is
 * not used to choose: it says 256 in that vector too.
 */
function cipherFor(key: Buffer): CipherGCMTypes | undefined {
  if (key.length === 32) return "aes-256-gcm";
  if (key.length === 16) return "aes-128-gcm";
  if (key.length === 24) return "aes-192-gcm";
  return undefined;
}

function keyBytes(key: string | Uint8Array): Buffer {
  return typeof key === "string" ? Buffer.from(key, "utf8") : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/**
 * Decrypts an AEAD_AES_256_GCM resource with the APIv3 key (UTF-8 bytes). The tag is always checked:
 * a wrong tag, AAD, key or nonce is a DECRYPT_FAILED result, never a throw and never unauthenticated text.
 */
export function decryptV3Resource(resource: V3EncryptedResource, apiV3Key: string | Uint8Array): Result<Buffer, AesGcmErrorCode> {
  const key = keyBytes(apiV3Key);
  const algorithm = cipherFor(key);
  if (algorithm === undefined) return err("INVALID_KEY_LENGTH", `The APIv3 key is ${key.length} bytes; it must be 32 (16 and 24 also decrypt).`);
  const nonce = Buffer.from(resource.nonce, "utf8");
  // Node accepts other IV lengths; the gateway always sends 12 bytes, so anything else is not from it.
  if (nonce.length !== NONCE_BYTES) return err("INVALID_NONCE", `The nonce is ${nonce.length} bytes; AES-GCM resources use ${NONCE_BYTES}.`);
  const data = decodeBase64Strict(resource.ciphertext);
  if (data === undefined || data.length < TAG_BYTES) return err("MALFORMED_CIPHERTEXT", "The ciphertext is not base64 of at least a 16-byte tag.");
  try {
    const decipher = createDecipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    decipher.setAAD(Buffer.from(resource.associatedData, "utf8"));
    const head = decipher.update(data.subarray(0, data.length - TAG_BYTES));
    // final() checks the tag; GCM holds nothing back, so its output is empty and head is the whole text (no copy).
    const tail = decipher.final();
    return ok(tail.length === 0 ? head : Buffer.concat([head, tail]));
  } catch {
    return err("DECRYPT_FAILED", "The resource does not authenticate: wrong APIv3 key, nonce, associated data or tag.");
  }
}

/** Decrypts a resource and decodes it as UTF-8 text (invalid UTF-8 is DECRYPT_FAILED). */
export function decryptV3ResourceText(resource: V3EncryptedResource, apiV3Key: string | Uint8Array): Result<string, AesGcmErrorCode> {
  const plain = decryptV3Resource(resource, apiV3Key);
  if (!plain.ok) return plain;
  try {
    return ok(UTF8.decode(plain.value));
  } catch {
    return err("DECRYPT_FAILED", "The decrypted resource is not UTF-8 text.");
  }
}

/**
 * Encrypts a resource the way the gateway does (the sandbox and the test builders use it).
 * The caller chooses the nonce: 12 ASCII characters, never reused with the same key.
 */
export function encryptV3Resource(
  plaintext: string | Uint8Array,
  options: { readonly apiV3Key: string | Uint8Array; readonly nonce: string; readonly associatedData: string },
): V3EncryptedResource {
  const key = keyBytes(options.apiV3Key);
  const algorithm = cipherFor(key);
  if (algorithm === undefined) throw new PayCoreError("INVALID_KEY", `The APIv3 key is ${key.length} bytes; it must be 32.`);
  const nonce = Buffer.from(options.nonce, "utf8");
  if (nonce.length !== NONCE_BYTES) throw new PayCoreError("INVALID_OPTION", `The nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}.`);
  const cipher = createCipheriv(algorithm, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(options.associatedData, "utf8"));
  const input = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
  const body = Buffer.concat([cipher.update(input), cipher.final(), cipher.getAuthTag()]);
  return { ciphertext: body.toString("base64"), nonce: options.nonce, associatedData: options.associatedData };
}
