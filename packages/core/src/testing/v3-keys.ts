import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import type * as Forge from "node-forge";
import { PayCoreError } from "../errors.js";

/** A throwaway RSA-2048 key pair: a merchant's API key, a platform certificate's or a WeChat Pay public key. */
export interface V3TestKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** PKCS#8 `-----BEGIN PRIVATE KEY-----`, like apiclient_key.pem. */
  readonly privateKeyPem: string;
  /** SPKI `-----BEGIN PUBLIC KEY-----`, like wxp_pub.pem. */
  readonly publicKeyPem: string;
}

/** Generates a throwaway RSA-2048 key pair (about 50-200 ms). Never use one outside tests and the sandbox. */
export function generateV3TestKeyPair(): V3TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export interface V3TestCertificateOptions {
  /** Upper-case hex, whole bytes; default: 40 random hex digits like a real platform or merchant certificate serial. */
  readonly serial?: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Default: a fresh key pair. */
  readonly keyPair?: V3TestKeyPair;
  /** Default `Tenpay.com sign` (the CN of real platform certificates). */
  readonly commonName?: string;
}

/** A self-signed test certificate with the serial and validity window asked for, and its key pair. */
export interface V3TestCertificate {
  readonly serial: string;
  readonly certificatePem: string;
  readonly keyPair: V3TestKeyPair;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

let forge: typeof Forge | undefined;

// node:crypto reads certificates but cannot make them, so this one builder needs node-forge: an
// optional peer dependency, loaded on first use so @pay/core/testing imports without it.
function loadForge(): typeof Forge {
  if (forge !== undefined) return forge;
  try {
    forge = createRequire(import.meta.url)("node-forge") as typeof Forge;
    return forge;
  } catch {
    throw new PayCoreError("INVALID_OPTION", "createV3TestCertificate needs node-forge: add node-forge@^1.4.3 to your devDependencies.");
  }
}

function randomSerial(): string {
  // 20 bytes with the top bit clear and a non-zero first digit, so the DER INTEGER stays positive and
  // node's X509Certificate#serialNumber prints all 40 digits back.
  const bytes = randomBytes(20);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString("hex").toUpperCase();
}

/**
 * Creates a self-signed X.509 certificate (SHA256withRSA) for tests: a WeChat Pay platform certificate
 * with a chosen serial and validity window, or a merchant API certificate.
 */
export function createV3TestCertificate(options: V3TestCertificateOptions): V3TestCertificate {
  const serial = options.serial ?? randomSerial();
  if (!/^[1-7][0-9A-F](?:[0-9A-F]{2}){0,19}$/.test(serial)) {
    throw new PayCoreError("INVALID_OPTION", "A test certificate serial is 2 to 40 upper-case hex digits (whole bytes) starting 1-7 (positive, no leading zero).");
  }
  if (!(options.notBefore.getTime() < options.notAfter.getTime())) throw new PayCoreError("INVALID_OPTION", "notBefore must be before notAfter.");
  const keyPair = options.keyPair ?? generateV3TestKeyPair();
  const f = loadForge();
  const cert = f.pki.createCertificate();
  cert.serialNumber = serial;
  cert.validity.notBefore = options.notBefore;
  cert.validity.notAfter = options.notAfter;
  cert.publicKey = f.pki.publicKeyFromPem(keyPair.publicKeyPem);
  const name = [
    { name: "commonName", value: options.commonName ?? "Tenpay.com sign" },
    { name: "organizationName", value: "Tenpay.com" },
    { name: "countryName", value: "CN" },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(f.pki.privateKeyFromPem(keyPair.privateKey.export({ type: "pkcs1", format: "pem" }).toString()), f.md.sha256.create());
  return { serial, certificatePem: f.pki.certificateToPem(cert), keyPair, notBefore: options.notBefore, notAfter: options.notAfter };
}

/** Rebuilds a key pair from a PKCS#8 or PKCS#1 private key PEM (e.g. a vector's sample key). */
export function v3TestKeyPairFromPem(privateKeyPem: string): V3TestKeyPair {
  const privateKey = createPrivateKey(privateKeyPem);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
