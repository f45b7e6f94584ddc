import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import forge from "node-forge";
import { writePublic, writeSecret } from "../files.js";

/** A certificate and its private key, both PEM (keys as PKCS#8, like WeChat's apiclient_key.pem). */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** A merchant's API client certificate, as WeChat hands it out: PEM pair plus apiclient_cert.p12. */
export interface MerchantClientCert extends PemPair {
  /** PKCS#12 of cert + key (key bag 3DES-encrypted, so OpenSSL 3 loads it without the legacy provider). */
  readonly pfx: Buffer;
  /** The p12 password: the mch_id, as on the real platform. */
  readonly passphrase: string;
}

/** A throwaway CA, the sandbox's HTTPS server certificate, and one client certificate per merchant. */
export interface SandboxPki {
  readonly ca: PemPair;
  readonly server: PemPair;
  readonly clients: Readonly<Record<string, MerchantClientCert>>;
}

export interface CreateSandboxPkiOptions {
  /** One client certificate per mch_id (subject CN = mch_id); duplicates are issued once. */
  readonly mchIds: readonly string[];
  /** Extra server names (DNS names or IP addresses) beside 127.0.0.1, ::1 and localhost. */
  readonly hostnames?: readonly string[];
  /** Start of validity in ms since the epoch; defaults to now. */
  readonly now?: number;
  /** Validity of every certificate; defaults to 825 days. */
  readonly validityDays?: number;
}

/** Where writeSandboxPki put each file. */
export interface SandboxPkiPaths {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string; readonly p12: string }>>;
}

const DEFAULT_HOSTNAMES = ["127.0.0.1", "::1", "localhost"] as const;
const DEFAULT_VALIDITY_DAYS = 825;
const DAY_MS = 24 * 3600 * 1000;
/** Also a directory name in writeSandboxPki, so nothing that could escape the PKI folder. */
const MCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const CLIENT_ORGANIZATION = "WeChat Pay sandbox merchant";
const SANDBOX_ORGANIZATION = "@pay/sandbox";

interface Issued {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
  readonly pem: PemPair;
}

interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

interface CertificateSpec {
  readonly subject: forge.pki.CertificateField[];
  readonly extensions: object[];
  readonly validity: Validity;
  /** Absent for the self-signed CA. */
  readonly issuer?: Issued;
}

/** Builds a fresh CA, server certificate and merchant client certificates (RSA 2048, SHA-256). */
export function createSandboxPki(options: CreateSandboxPkiOptions): SandboxPki {
  for (const mchId of options.mchIds) {
    if (!MCH_ID_PATTERN.test(mchId)) throw new Error(`createSandboxPki: mch_id ${JSON.stringify(mchId)} must be 1-32 letters, digits, "_" or "-".`);
  }
  const validityDays = options.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(validityDays) || validityDays < 1) throw new Error("createSandboxPki: validityDays must be a positive integer.");
  const hostnames = [...new Set([...DEFAULT_HOSTNAMES, ...(options.hostnames ?? [])])];
  if (hostnames.some((name) => name.length === 0)) throw new Error("createSandboxPki: hostnames must not be empty strings.");

  const start = options.now ?? Date.now();
  // A minute of slack so a certificate made just now is valid on a clock that is slightly behind.
  const validity: Validity = { notBefore: new Date(start - 60_000), notAfter: new Date(start + validityDays * DAY_MS) };

  const ca = issue({
    subject: [
      { name: "commonName", value: "WeChat Pay sandbox CA" },
      { name: "organizationName", value: SANDBOX_ORGANIZATION },
    ],
    extensions: [{ name: "basicConstraints", cA: true, critical: true }, { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true }, { name: "subjectKeyIdentifier" }],
    validity,
  });
  const server = issue({
    subject: [
      { name: "commonName", value: "localhost" },
      { name: "organizationName", value: SANDBOX_ORGANIZATION },
    ],
    extensions: [
      ...leafExtensions(ca),
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: hostnames.map((name) => (isIP(name) === 0 ? { type: 2, value: name } : { type: 7, ip: name })) },
    ],
    validity,
    issuer: ca,
  });
  const clients: Record<string, MerchantClientCert> = {};
  for (const mchId of new Set(options.mchIds)) {
    const client = issue({
      subject: [
        { name: "commonName", value: mchId },
        { name: "organizationName", value: CLIENT_ORGANIZATION },
      ],
      extensions: [...leafExtensions(ca), { name: "extKeyUsage", clientAuth: true }],
      validity,
      issuer: ca,
    });
    clients[mchId] = { ...client.pem, pfx: buildPkcs12(client, mchId), passphrase: mchId };
  }
  return { ca: ca.pem, server: server.pem, clients };
}

/**
 * Writes the PKI as a merchant and the sandbox would keep it: ca.pem, server-cert.pem, server-key.pem,
 * and `<mchId>/apiclient_cert.pem`, `apiclient_key.pem`, `apiclient_cert.p12`. Keys and p12 files get mode 0600.
 */
export async function writeSandboxPki(pki: SandboxPki, dir: string): Promise<SandboxPkiPaths> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = { dir, ca: join(dir, "ca.pem"), serverCert: join(dir, "server-cert.pem"), serverKey: join(dir, "server-key.pem") };
  await writePublic(paths.ca, pki.ca.cert);
  await writePublic(paths.serverCert, pki.server.cert);
  await writeSecret(paths.serverKey, pki.server.key);
  const clients: Record<string, { cert: string; key: string; p12: string }> = {};
  for (const [mchId, client] of Object.entries(pki.clients)) {
    // The mch_id becomes a directory name; createSandboxPki checks it, but a hand-built PKI may not have been.
    if (!MCH_ID_PATTERN.test(mchId)) throw new Error(`writeSandboxPki: mch_id ${JSON.stringify(mchId)} is not a safe directory name.`);
    const merchantDir = join(dir, mchId);
    await mkdir(merchantDir, { recursive: true, mode: 0o700 });
    const files = { cert: join(merchantDir, "apiclient_cert.pem"), key: join(merchantDir, "apiclient_key.pem"), p12: join(merchantDir, "apiclient_cert.p12") };
    await writePublic(files.cert, client.cert);
    await writeSecret(files.key, client.key);
    await writeSecret(files.p12, client.pfx);
    clients[mchId] = files;
  }
  return { ...paths, clients };
}

function issue(spec: CertificateSpec): Issued {
  // Node generates the key natively (forge's pure-JS RSA key generation takes seconds); forge builds and signs.
  const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: "spki", format: "pem" }).toString());
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = spec.validity.notBefore;
  cert.validity.notAfter = spec.validity.notAfter;
  cert.setSubject(spec.subject);
  cert.setIssuer(spec.issuer?.cert.subject.attributes ?? spec.subject);
  cert.setExtensions(spec.extensions);
  cert.sign(spec.issuer?.key ?? key, forge.md.sha256.create());
  return { cert, key, pem: { cert: forge.pki.certificateToPem(cert), key: keyPem } };
}

function leafExtensions(ca: Issued): object[] {
  return [
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
    // forge's `keyIdentifier: true` would hash the certificate's own key, so pass the CA's.
    { name: "authorityKeyIdentifier", keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ];
}

/** 16 random bytes, first byte 0x40-0x7f: positive and minimally encoded, as DER requires. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString("hex");
}

function buildPkcs12(client: Issued, passphrase: string): Buffer {
  // pbeWithSHAAnd3-KeyTripleDES-CBC: read by every PKCS#12 consumer, OpenSSL 3 without the legacy provider included.
  const asn1 = forge.pkcs12.toPkcs12Asn1(client.key, [client.cert], passphrase, { algorithm: "3des", friendlyName: "apiclient", generateLocalKeyId: true });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}
