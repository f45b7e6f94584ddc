import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSandboxPki, writeSandboxPki, type SandboxTls } from "@pay/sandbox";

/** The sandbox's TLS material and the files the API reads (WXPAY_CA_PATH, WXPAY_CERT_PATH, WXPAY_CERT_KEY_PATH). */
export interface DevPki {
  readonly tls: SandboxTls;
  readonly dir: string;
  readonly caPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
  /** True when this run issued new certificates; false when the ones on disk were reused. */
  readonly created: boolean;
}

/** Reused certificates must stay valid at least this long. */
const MIN_REMAINING_MS = 7 * 24 * 3600 * 1000;

/** The file layout writeSandboxPki uses. */
function layout(dir: string, mchId: string): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string } {
  return {
    ca: join(dir, "ca.pem"),
    serverCert: join(dir, "server-cert.pem"),
    serverKey: join(dir, "server-key.pem"),
    clientCert: join(dir, mchId, "apiclient_cert.pem"),
    clientKey: join(dir, mchId, "apiclient_key.pem"),
  };
}

/** The PKI on disk if it is complete, issued by its own CA and not about to expire; undefined otherwise. */
async function reuse(dir: string, mchId: string, now: number): Promise<DevPki | undefined> {
  const files = layout(dir, mchId);
  try {
    const [ca, serverCert, serverKey, clientCert] = await Promise.all([
      readFile(files.ca, "utf8"),
      readFile(files.serverCert, "utf8"),
      readFile(files.serverKey, "utf8"),
      readFile(files.clientCert, "utf8"),
      readFile(files.clientKey),
    ]);
    const caCert = new X509Certificate(ca);
    const leaves = [new X509Certificate(serverCert), new X509Certificate(clientCert)];
    const fresh = [caCert, ...leaves].every((cert) => Date.parse(cert.validTo) - now > MIN_REMAINING_MS);
    if (!fresh || !leaves.every((cert) => cert.verify(caCert.publicKey))) return undefined;
    return { tls: { key: serverKey, cert: serverCert, ca }, dir, caPath: files.ca, clientCertPath: files.clientCert, clientKeyPath: files.clientKey, created: false };
  } catch {
    return undefined;
  }
}

/**
 * The sandbox CA, its HTTPS certificate and the merchant's client certificate under `dir`: reused when
 * still good, issued and written (keys 0600) otherwise, so refunds really travel over mutual TLS.
 */
export async function ensureDevPki(dir: string, mchId: string, now: number = Date.now()): Promise<DevPki> {
  const existing = await reuse(dir, mchId, now);
  if (existing !== undefined) return existing;
  const pki = createSandboxPki({ mchIds: [mchId], now });
  const paths = await writeSandboxPki(pki, dir);
  const client = paths.clients[mchId];
  if (client === undefined) throw new Error(`ensureDevPki: no client certificate was written for ${mchId}.`);
  return { tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert }, dir, caPath: paths.ca, clientCertPath: client.cert, clientKeyPath: client.key, created: true };
}
