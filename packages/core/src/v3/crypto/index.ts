export { decryptV3Resource, decryptV3ResourceText, encryptV3Resource, type AesGcmErrorCode, type V3EncryptedResource } from "./aes-gcm.js";
export { encryptV3SensitiveField, type V3EncryptedField, type V3EncryptionKey } from "./rsa-oaep.js";
