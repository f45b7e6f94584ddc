import { constants, publicEncrypt, type KeyObject } from "node:crypto";

/** The key that encrypts sensitive fields: a platform certificate's or the WeChat Pay public key, with its serial. */
export interface V3EncryptionKey {
  /** 40-hex platform certificate serial or `PUB_KEY_ID_...`: send it as the `Wechatpay-Serial` request header. */
  readonly serial: string;
  readonly publicKey: KeyObject;
}

/** A sensitive field encrypted for the gateway, and the serial to send with it. */
export interface V3EncryptedField {
  /** base64 RSA-OAEP (SHA-1, MGF1-SHA-1) ciphertext. */
  readonly ciphertext: string;
  /** Send as `Wechatpay-Serial`: the gateway decrypts with the key it names. */
  readonly wechatpaySerial: string;
}

/**
 * Encrypts a sensitive field (a name, an ID number) with RSA/ECB/OAEPWithSHA-1AndMGF1Padding, as the
 * official SDKs do. OAEP is randomised: two calls give different ciphertexts for the same text.
 */
export function encryptV3SensitiveField(plaintext: string, key: V3EncryptionKey): V3EncryptedField {
  const ciphertext = publicEncrypt({ key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, Buffer.from(plaintext, "utf8"));
  return { ciphertext: ciphertext.toString("base64"), wechatpaySerial: key.serial };
}
