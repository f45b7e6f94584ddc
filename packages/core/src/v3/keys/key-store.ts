import { createPublicKey, X509Certificate, type KeyObject } from "node:crypto";
import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import type { V3EncryptionKey } from "../crypto/rsa-oaep.js";
import { epochMs, type Instant } from "../../time.js";

/** Why a `Wechatpay-Serial` names no usable key. */
export type V3KeyLookupErrorCode = "UNKNOWN_SERIAL" | "CERTIFICATE_NOT_YET_VALID" | "CERTIFICATE_EXPIRED";

export type V3KeyErrorCode = V3KeyLookupErrorCode | "NO_ENCRYPTION_KEY";

/** A WeChat Pay platform certificate, parsed once: its serial, validity window and cached public key. */
export interface V3PlatformCertificate {
  readonly kind: "certificate";
  /** Upper-case hex as `Wechatpay-Serial` carries it (40 digits for real certificates). */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly pem: string;
}

/** A WeChat Pay public key (`wxp_pub.pem`) and its ID; it does not expire. */
export interface V3WechatPayPublicKey {
  readonly kind: "publicKey";
  /** `PUB_KEY_ID_` followed by digits, as `Wechatpay-Serial` carries it. */
  readonly serial: string;
  readonly publicKey: KeyObject;
}

export type V3VerificationKey = V3PlatformCertificate | V3WechatPayPublicKey;

export interface V3KeyStoreOptions {
  /** Platform certificates as PEM or parsed (e.g. from decryptV3Certificates). Several may be valid at once. */
  readonly certificates?: readonly (string | V3PlatformCertificate)[];
  /** WeChat Pay public keys by ID. */
  readonly publicKeys?: readonly { readonly id: string; readonly publicKey: string | KeyObject }[];
}

/**
 * The keys that verify WeChat Pay's signatures, in either mode and during migration between them:
 * platform certificates by serial and WeChat Pay public keys by `PUB_KEY_ID_...`. Immutable: refreshing
 * certificates makes a new store. Every KeyObject is built once here, never per verification.
 */
export interface V3KeyStore {
  /** The key named by a `Wechatpay-Serial` header; certificates must be valid at `now`. */
  verificationKey(serial: string, now: Instant): Result<V3VerificationKey, V3KeyLookupErrorCode>;
  /**
   * The key to encrypt sensitive fields with, and the serial to send as `Wechatpay-Serial`: the WeChat
   * Pay public key when there is one (it never expires and is where WeChat Pay is moving merchants),
   * else the valid certificate that expires last (wechatpay-java's choice; wechatpay-go's is the same).
   */
  encryptionKey(now: Instant): Result<V3EncryptionKey, V3KeyErrorCode>;
  /** A new store with these certificates added (a certificate with a known serial replaces the old one). */
  withCertificates(certificates: readonly (string | V3PlatformCertificate)[]): V3KeyStore;
  /** Every serial and key ID held, certificates first. */
  readonly serials: readonly string[];
}

const PUBLIC_KEY_ID = /^PUB_KEY_ID_[0-9A-Za-z]{1,64}$/;
const HEX_SERIAL = /^[0-9A-Fa-f]{1,64}$/;

/** Parses a platform certificate PEM once (throws PayCoreError on a malformed one: it is configuration). */
export function parseV3PlatformCertificate(pem: string): V3PlatformCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pem);
  } catch {
    throw new PayCoreError("INVALID_KEY", "A platform certificate is not a PEM X.509 certificate.");
  }
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new PayCoreError("INVALID_KEY", "A platform certificate has an unreadable validity window.");
  }
  return { kind: "certificate", serial: x509.serialNumber.toUpperCase(), notBefore, notAfter, publicKey: x509.publicKey, pem };
}

function toPublicKey(id: string, key: string | KeyObject): V3WechatPayPublicKey {
  if (!PUBLIC_KEY_ID.test(id)) throw new PayCoreError("INVALID_KEY", `"${id}" is not a WeChat Pay public key ID (PUB_KEY_ID_ followed by digits).`);
  let publicKey: KeyObject;
  try {
    publicKey = typeof key === "string" ? createPublicKey(key) : key;
  } catch {
    throw new PayCoreError("INVALID_KEY", `The WeChat Pay public key ${id} is not a PEM public key.`);
  }
  if (publicKey.type !== "public" || publicKey.asymmetricKeyType !== "rsa") throw new PayCoreError("INVALID_KEY", `The WeChat Pay public key ${id} is not an RSA public key.`);
  return { kind: "publicKey", serial: id, publicKey };
}

/** The certificate's standing at `now`: usable, or why not. */
export function certificateStanding(certificate: V3PlatformCertificate, now: Instant): "valid" | "notYetValid" | "expired" {
  const t = epochMs(now);
  if (t < certificate.notBefore.getTime()) return "notYetValid";
  if (t > certificate.notAfter.getTime()) return "expired";
  return "valid";
}

function build(certificates: ReadonlyMap<string, V3PlatformCertificate>, publicKeys: ReadonlyMap<string, V3WechatPayPublicKey>): V3KeyStore {
  const byNewest = [...certificates.values()].sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime());
  const firstPublicKey = publicKeys.values().next().value;
  return {
    serials: [...certificates.keys(), ...publicKeys.keys()],
    verificationKey(serial, now) {
      const publicKey = publicKeys.get(serial);
      if (publicKey !== undefined) return ok(publicKey);
      const certificate = HEX_SERIAL.test(serial) ? certificates.get(serial.toUpperCase()) : undefined;
      if (certificate === undefined) return err("UNKNOWN_SERIAL", `No platform certificate or WeChat Pay public key has the serial "${serial.slice(0, 80)}".`);
      const standing = certificateStanding(certificate, now);
      if (standing === "notYetValid")
        return err("CERTIFICATE_NOT_YET_VALID", `Platform certificate ${certificate.serial} is valid only from ${certificate.notBefore.toISOString()}.`);
      if (standing === "expired") return err("CERTIFICATE_EXPIRED", `Platform certificate ${certificate.serial} expired at ${certificate.notAfter.toISOString()}.`);
      return ok(certificate);
    },
    encryptionKey(now) {
      if (firstPublicKey !== undefined) return ok({ serial: firstPublicKey.serial, publicKey: firstPublicKey.publicKey });
      const newest = byNewest.find((c) => certificateStanding(c, now) === "valid");
      if (newest === undefined) return err("NO_ENCRYPTION_KEY", "No WeChat Pay public key and no platform certificate valid now.");
      return ok({ serial: newest.serial, publicKey: newest.publicKey });
    },
    withCertificates(added) {
      const next = new Map(certificates);
      for (const c of added) {
        const parsed = typeof c === "string" ? parseV3PlatformCertificate(c) : c;
        next.set(parsed.serial, parsed);
      }
      return build(next, publicKeys);
    },
  };
}

/** Builds a key store; a malformed certificate, key or key ID throws PayCoreError (it is configuration). */
export function createV3KeyStore(options: V3KeyStoreOptions): V3KeyStore {
  const publicKeys = new Map<string, V3WechatPayPublicKey>();
  for (const { id, publicKey } of options.publicKeys ?? []) {
    if (publicKeys.has(id)) throw new PayCoreError("INVALID_KEY", `The WeChat Pay public key ${id} is listed twice.`);
    publicKeys.set(id, toPublicKey(id, publicKey));
  }
  const store = build(new Map(), publicKeys).withCertificates(options.certificates ?? []);
  if (store.serials.length === 0) throw new PayCoreError("INVALID_OPTION", "A key store needs at least one platform certificate or WeChat Pay public key.");
  return store;
}
