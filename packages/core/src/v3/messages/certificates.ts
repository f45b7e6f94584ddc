import { z } from "zod";
import { V3_HOSTS, type V3Request } from "./request.js";
import { wireText, WireTimeSchema } from "./wire.js";

/** Builds `GET /v3/certificates` (or Global's `/v3/global/certificates`). Merchants in public-key mode get 404 RESOURCE_NOT_EXISTS. */
export function buildV3Certificates(options: { readonly global?: boolean } = {}): V3Request {
  return options.global === true
    ? { method: "GET", host: V3_HOSTS.global, path: "/v3/global/certificates", body: "" }
    : { method: "GET", host: V3_HOSTS.domestic, path: "/v3/certificates", body: "" };
}

const EncryptCertificateWireSchema = z.object({
  algorithm: wireText(32),
  nonce: wireText(64),
  associated_data: wireText(64),
  ciphertext: z.string().min(1, "must not be empty").max(16384, "must be at most 16384 characters"),
});

const CertificateWireSchema = z.object({
  serial_no: z.string().regex(/^[0-9A-Fa-f]{1,64}$/, "expected a hex serial number"),
  effective_time: WireTimeSchema,
  expire_time: WireTimeSchema,
  encrypt_certificate: EncryptCertificateWireSchema,
});

/**
 * The `GET /v3/certificates` answer: each platform certificate still encrypted (AES-256-GCM with the
 * APIv3 key, AAD `certificate`). Only the shape; decryption and validity checks are the key store's.
 */
export const V3CertificatesAnswerSchema = z.object({ data: z.array(CertificateWireSchema).max(64, "lists at most 64 certificates") }).transform((w) => ({
  data: w.data.map((c) => ({
    serialNo: c.serial_no,
    effectiveTime: c.effective_time,
    expireTime: c.expire_time,
    encryptCertificate: {
      algorithm: c.encrypt_certificate.algorithm,
      nonce: c.encrypt_certificate.nonce,
      associatedData: c.encrypt_certificate.associated_data,
      ciphertext: c.encrypt_certificate.ciphertext,
    },
  })),
}));
export type V3CertificatesAnswer = z.output<typeof V3CertificatesAnswerSchema>;
export type V3EncryptedCertificate = V3CertificatesAnswer["data"][number];
