export { decryptV3Certificates, type DecryptV3CertificatesOptions, type V3CertificateList, type V3CertificatesErrorCode } from "./certificates.js";
export {
  certificateStanding,
  createV3KeyStore,
  parseV3PlatformCertificate,
  type V3KeyErrorCode,
  type V3KeyLookupErrorCode,
  type V3KeyStore,
  type V3KeyStoreOptions,
  type V3PlatformCertificate,
  type V3VerificationKey,
  type V3WechatPayPublicKey,
} from "./key-store.js";
