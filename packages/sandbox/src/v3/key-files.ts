import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { writePublic, writeSecret } from "../files.js";
import type { V3Identities, V3Identity } from "./identity.js";
import { rfc3339Beijing } from "./views.js";

/** Where one v3 merchant's files went: `<dir>/<mchid>/`, named like the real downloads. */
export interface V3MerchantKeyFiles {
  readonly mchId: string;
  readonly dir: string;
  /** `apiclient_key.pem` (mode 0600): only when the sandbox generated the merchant key. */
  readonly merchantKey: string | undefined;
  /** `apiclient_cert.pem`: when the sandbox has the certificate (generated, or configured as a certificate PEM). */
  readonly merchantCertificate: string | undefined;
  /** `wxp_pub.pem`, the WeChat Pay public key (public-key and migration modes). */
  readonly publicKey: string | undefined;
  /** `pub_key_id.txt`, the public key's `PUB_KEY_ID_...` (public-key and migration modes). */
  readonly publicKeyId: string | undefined;
  /** `wechatpay_<serial>.pem`, the platform certificates in use (platform-certificate and migration modes), oldest first. */
  readonly platformCertificates: readonly string[];
  /** `README.txt`: what each file is for. */
  readonly readme: string;
  /** `merchant.json`: mchid, key mode, serials, public key ID, file names; never a key. */
  readonly summary: string;
}

/** Every v3 merchant's files, by mchid. */
export interface V3KeyFilePaths {
  readonly dir: string;
  readonly merchants: Record<string, V3MerchantKeyFiles>;
}

/** Also a directory name, so nothing that could escape the keys folder. */
const MCH_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
/** Platform certificate serials are upper-case hex; checked again because they become file names. */
const SERIAL_PATTERN = /^[0-9A-F]{1,64}$/;
/** Names this module writes; only these are removed when stale (a key file from an earlier start would mislead). */
const FIXED_NAMES = ["apiclient_key.pem", "apiclient_cert.pem", "wxp_pub.pem", "pub_key_id.txt", "README.txt", "merchant.json"] as const;
const PLATFORM_FILE = /^wechatpay_[0-9A-F]{1,64}\.pem$/;

/**
 * Writes each v3 merchant's files into `<dir>/<mchid>/` like the files a merchant downloads from the merchant
 * platform, plus a README.txt and merchant.json. Private keys get mode 0600, folders 0700. Files of an earlier
 * run that no longer apply (a rotated-out certificate, a key now configured) are removed. `now` picks the live platform certificates.
 */
export async function writeV3KeyFiles(identities: V3Identities, dir: string, now: number): Promise<V3KeyFilePaths> {
  const all = identities.all();
  for (const identity of all) checkMchId(identity.mchId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const merchants: Record<string, V3MerchantKeyFiles> = {};
  for (const identity of all) merchants[identity.mchId] = await writeV3MerchantKeyFiles(identities, identity, dir, now);
  return { dir, merchants };
}

/** Writes (or rewrites, after a rotation) one merchant's folder under `dir`. */
export async function writeV3MerchantKeyFiles(identities: V3Identities, identity: V3Identity, dir: string, now: number): Promise<V3MerchantKeyFiles> {
  checkMchId(identity.mchId);
  const merchantDir = join(dir, identity.mchId);
  await mkdir(merchantDir, { recursive: true, mode: 0o700 });
  const at = (name: string): string => join(merchantDir, name);
  const written = new Set<string>();

  const { privateKeyPem, certificatePem, serial } = identity.merchantCertificate;
  if (privateKeyPem !== undefined) await writeSecret(at("apiclient_key.pem"), privateKeyPem);
  if (certificatePem !== undefined) await writePublic(at("apiclient_cert.pem"), certificatePem);
  if (identity.publicKey !== undefined) {
    await writePublic(at("wxp_pub.pem"), identity.publicKey.publicKeyPem);
    await writePublic(at("pub_key_id.txt"), `${identity.publicKey.id}\n`);
  }
  const live = identities.liveCertificates(identity, now);
  const platformFiles: string[] = [];
  for (const certificate of live) {
    if (!SERIAL_PATTERN.test(certificate.serial)) throw new Error(`writeV3KeyFiles: platform certificate serial ${JSON.stringify(certificate.serial)} is not upper-case hex.`);
    const name = `wechatpay_${certificate.serial}.pem`;
    await writePublic(at(name), certificate.certificatePem);
    platformFiles.push(name);
    written.add(name);
  }

  const files = {
    merchantKey: privateKeyPem === undefined ? undefined : "apiclient_key.pem",
    merchantCertificate: certificatePem === undefined ? undefined : "apiclient_cert.pem",
    publicKey: identity.publicKey === undefined ? undefined : "wxp_pub.pem",
    publicKeyId: identity.publicKey === undefined ? undefined : "pub_key_id.txt",
  };
  const summary = {
    mchid: identity.mchId,
    key_mode: identity.keyMode,
    merchant_serial_no: serial,
    merchant_private_key_file: files.merchantKey ?? null,
    merchant_certificate_file: files.merchantCertificate ?? null,
    public_key_id: identity.publicKey?.id ?? null,
    public_key_file: files.publicKey ?? null,
    platform_certificates: live.map((c, i) => ({
      serial_no: c.serial,
      effective_time: rfc3339Beijing(c.effectiveAt),
      expire_time: rfc3339Beijing(c.expiresAt),
      file: platformFiles[i],
    })),
    written_at: rfc3339Beijing(now),
  };
  await writePublic(at("merchant.json"), `${JSON.stringify(summary, null, 2)}\n`);
  await writePublic(at("README.txt"), readmeText(identity, live, now));
  for (const name of [...Object.values(files), "merchant.json", "README.txt"]) if (name !== undefined) written.add(name);

  for (const name of await readdir(merchantDir)) {
    const ours = (FIXED_NAMES as readonly string[]).includes(name) || PLATFORM_FILE.test(name);
    if (ours && !written.has(name)) await rm(at(name), { force: true });
  }
  return {
    mchId: identity.mchId,
    dir: merchantDir,
    merchantKey: files.merchantKey === undefined ? undefined : at(files.merchantKey),
    merchantCertificate: files.merchantCertificate === undefined ? undefined : at(files.merchantCertificate),
    publicKey: files.publicKey === undefined ? undefined : at(files.publicKey),
    publicKeyId: files.publicKeyId === undefined ? undefined : at(files.publicKeyId),
    platformCertificates: platformFiles.map(at),
    readme: at("README.txt"),
    summary: at("merchant.json"),
  };
}

function checkMchId(mchId: string): void {
  if (!MCH_ID_PATTERN.test(mchId)) throw new Error(`writeV3KeyFiles: mchid ${JSON.stringify(mchId)} is not a safe folder name (1-32 letters, digits, "_" or "-").`);
}

function readmeText(identity: V3Identity, live: ReturnType<V3Identities["liveCertificates"]>, now: number): string {
  const lines = [
    `APIv3 keys of merchant ${identity.mchId} at the WeChat Pay sandbox (key mode: ${identity.keyMode}), written ${rfc3339Beijing(now)}.`,
    "Test keys only: the sandbox generates the ones not configured anew on every start. Never use them with the real gateway.",
    "",
  ];
  if (identity.merchantCertificate.privateKeyPem !== undefined) {
    lines.push("apiclient_key.pem    The merchant API private key (PKCS#8). Signs your requests. Secret: mode 0600.");
  }
  if (identity.merchantCertificate.certificatePem !== undefined) {
    lines.push(
      `apiclient_cert.pem   The merchant API certificate; its serial is the Authorization header's serial_no:`,
      `                     ${identity.merchantCertificate.serial}`,
    );
  } else {
    lines.push(`Merchant serial_no    ${identity.merchantCertificate.serial} (the certificate was configured as a public key, so no apiclient_cert.pem).`);
  }
  if (identity.publicKey !== undefined) {
    lines.push(
      "wxp_pub.pem          The WeChat Pay public key: verifies answers and notifies whose Wechatpay-Serial is its ID.",
      `pub_key_id.txt       Its ID: ${identity.publicKey.id}`,
    );
  }
  for (const certificate of live) {
    lines.push(`wechatpay_${certificate.serial}.pem  A platform certificate: verifies answers and notifies whose Wechatpay-Serial is its serial.`);
  }
  if (live.length > 0) lines.push("                     GET /v3/certificates serves the same certificates, encrypted with the APIv3 key.");
  lines.push("merchant.json        The same facts for programs.", "", "The APIv3 key is not written here: it is in the sandbox's configuration (the startup banner shows it).", "");
  return lines.join("\n");
}
