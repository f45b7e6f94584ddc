import { z } from "zod";
import { err, ok, type Result } from "../../result.js";
import { decryptV3ResourceText, type AesGcmErrorCode } from "../crypto/aes-gcm.js";
import { parseStrictJson, type StrictJsonErrorCode } from "../notify/strict-json.js";
import { certificateStanding, parseV3PlatformCertificate, type V3PlatformCertificate } from "./key-store.js";
import { epochMs, type Instant } from "../../time.js";

export type V3CertificatesErrorCode = StrictJsonErrorCode | AesGcmErrorCode | "INVALID_ANSWER" | "INVALID_CERTIFICATE" | "SERIAL_MISMATCH" | "NO_VALID_CERTIFICATE";

const CertificatesAnswerSchema = z.object({
  data: z
    .array(
      z.object({
        serial_no: z.string().regex(/^[0-9A-Fa-f]{1,64}$/),
        effective_time: z.string().max(64),
        expire_time: z.string().max(64),
        encrypt_certificate: z.object({
          algorithm: z.literal("AEAD_AES_256_GCM"),
          nonce: z.string().max(64),
          associated_data: z.string().max(64),
          ciphertext: z.string().max(16384),
        }),
      }),
    )
    .min(1)
    .max(32),
});

/** The decrypted `GET /v3/certificates` answer: every certificate, and which are usable at `now`. */
export interface V3CertificateList {
  /** Every certificate received, newest expiry first: keep them all for verification during rotation. */
  readonly certificates: readonly V3PlatformCertificate[];
  /** Valid at `now`, newest expiry first; the first is the one to encrypt with. */
  readonly valid: readonly V3PlatformCertificate[];
}

export interface DecryptV3CertificatesOptions {
  /** The merchant's APIv3 key (32 ASCII bytes). */
  readonly apiV3Key: string;
  readonly now: Instant;
}

/**
 * Decrypts the `GET /v3/certificates` answer (each certificate AES-256-GCM with the APIv3 key, AAD
 * `certificate`), checks that each decrypted certificate carries the serial the list claims, and sorts
 * them by validity at `now`. Verify the answer's signature separately, with the result (the AES-GCM tag
 * already proves the certificates came from someone who knows the APIv3 key).
 */
export function decryptV3Certificates(answer: string | Uint8Array | object, options: DecryptV3CertificatesOptions): Result<V3CertificateList, V3CertificatesErrorCode> {
  const nowMs = epochMs(options.now);
  let json: unknown = answer;
  if (typeof answer === "string" || answer instanceof Uint8Array) {
    const parsed = parseStrictJson(answer);
    if (!parsed.ok) return parsed;
    json = parsed.value;
  }
  const typed = CertificatesAnswerSchema.safeParse(json);
  if (!typed.success) return err("INVALID_ANSWER", `The certificates answer is malformed at ${typed.error.issues[0]?.path.join(".") ?? "the top level"}.`);
  const certificates: V3PlatformCertificate[] = [];
  for (const entry of typed.data.data) {
    const resource = { ciphertext: entry.encrypt_certificate.ciphertext, nonce: entry.encrypt_certificate.nonce, associatedData: entry.encrypt_certificate.associated_data };
    if (resource.associatedData !== "certificate")
      return err("INVALID_ANSWER", `Certificate ${entry.serial_no} has associated_data "${resource.associatedData}", not "certificate".`);
    const pem = decryptV3ResourceText(resource, options.apiV3Key);
    if (!pem.ok) return pem;
    let certificate: V3PlatformCertificate;
    try {
      certificate = parseV3PlatformCertificate(pem.value);
    } catch {
      return err("INVALID_CERTIFICATE", `Certificate ${entry.serial_no} does not decrypt to an X.509 certificate.`);
    }
    if (certificate.serial !== entry.serial_no.toUpperCase()) {
      return err("SERIAL_MISMATCH", `The list says ${entry.serial_no} but the certificate's serial is ${certificate.serial}.`);
    }
    certificates.push(certificate);
  }
  certificates.sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
  const valid = certificates.filter((c) => certificateStanding(c, options.now) === "valid");
  if (valid.length === 0) return err("NO_VALID_CERTIFICATE", `None of the ${certificates.length} platform certificates is valid at ${new Date(nowMs).toISOString()}.`);
  return ok({ certificates, valid });
}
