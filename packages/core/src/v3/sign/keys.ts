import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "node:crypto";
import { PayCoreError } from "../../errors.js";

// PEM text -> KeyObject, so a key is parsed once per process, never once per signature. Keys are few (one or two per
// merchant), so a small bound only guards against a caller that builds a fresh PEM string for every call.
const CACHE_LIMIT = 64;
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();

function remember(cache: Map<string, KeyObject>, pem: string, key: KeyObject): KeyObject {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(pem, key);
  return key;
}

function requireRsa(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "rsa") throw new PayCoreError("INVALID_KEY", `${what} must be an RSA key (SHA256withRSA), not ${key.asymmetricKeyType ?? "unknown"}.`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new PayCoreError("INVALID_KEY", `${what} must be at least 2048 bits (WECHATPAY2-SHA256-RSA2048), got ${bits}.`);
  return key;
}

/**
 * The merchant's API private key (`apiclient_key.pem`) as a cached KeyObject. Accepts PKCS#8
 * (`BEGIN PRIVATE KEY`, what the merchant platform issues) and PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM, or a KeyObject.
 * Throws PayCoreError INVALID_KEY for anything else: a key is configuration, never untrusted input.
 */
export function loadV3MerchantPrivateKey(key: string | KeyObject): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== "private") throw new PayCoreError("INVALID_KEY", "The merchant key must be a private key.");
    return requireRsa(key, "The merchant private key");
  }
  if (typeof key !== "string") throw new PayCoreError("INVALID_KEY", "The merchant private key must be a PEM string or a KeyObject.");
  const cached = privateKeys.get(key);
  if (cached !== undefined) return cached;
  if (!/-----BEGIN (?:RSA )?PRIVATE KEY-----/.test(key)) {
    throw new PayCoreError("INVALID_KEY", "The merchant private key must be PEM: PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 (BEGIN RSA PRIVATE KEY).");
  }
  let parsed: KeyObject;
  try {
    parsed = createPrivateKey({ key, format: "pem" });
  } catch {
    // The parser's message may quote key material; say only what is wrong.
    throw new PayCoreError("INVALID_KEY", "The merchant private key PEM could not be parsed (an encrypted key needs decrypting first).");
  }
  return remember(privateKeys, key, requireRsa(parsed, "The merchant private key"));
}

/**
 * The public half of a merchant key as a cached KeyObject, for checking what the merchant signed (the sandbox's side).
 * Accepts an SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM, the merchant API certificate
 * (`BEGIN CERTIFICATE`, apiclient_cert.pem), or a KeyObject (a private one gives its public half).
 */
export function loadV3MerchantPublicKey(key: string | KeyObject): KeyObject {
  if (key instanceof KeyObject) return requireRsa(key.type === "private" ? createPublicKey(key) : key, "The merchant public key");
  if (typeof key !== "string") throw new PayCoreError("INVALID_KEY", "The merchant public key must be a PEM string or a KeyObject.");
  const cached = publicKeys.get(key);
  if (cached !== undefined) return cached;
  // createPublicKey would quietly derive the public half of a private PEM; a private key does not belong here.
  if (key.includes("PRIVATE KEY-----")) throw new PayCoreError("INVALID_KEY", "Pass the merchant's public key or certificate, not its private key.");
  let parsed: KeyObject;
  try {
    parsed = key.includes("-----BEGIN CERTIFICATE-----") ? new X509Certificate(key).publicKey : createPublicKey({ key, format: "pem" });
  } catch {
    throw new PayCoreError("INVALID_KEY", "The merchant public key must be a PEM public key (SPKI or PKCS#1) or an X.509 certificate.");
  }
  return remember(publicKeys, key, requireRsa(parsed, "The merchant public key"));
}
