import { createPublicKey, randomInt, X509Certificate, type KeyObject } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createV3TestCertificate, generateV3TestKeyPair, v3TestKeyPairFromPem, type V3GatewaySigner, type V3TestKeyPair } from "@pay/core/testing";
import type { Merchant, MerchantV3, SandboxOptions, V3KeyMode } from "../options.js";

/** Platform certificates the sandbox issues live this long (real ones: about five years). */
const PLATFORM_CERTIFICATE_LIFETIME_MS = 5 * 365 * 24 * 3600 * 1000;
/** Merchant API certificates the sandbox issues live this long. */
const MERCHANT_CERTIFICATE_LIFETIME_MS = 5 * 365 * 24 * 3600 * 1000;
/** A minute of slack so a certificate made now is valid on a clock slightly behind. */
const SLACK_MS = 60_000;

/** One platform certificate: its serial, PEM, signing key, and when the sandbox stops signing with and listing it. */
export interface PlatformCertificate {
  readonly serial: string;
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  /** Epoch ms: the certificate's notBefore. */
  readonly effectiveAt: number;
  /** Epoch ms: the certificate's notAfter. */
  readonly expiresAt: number;
  /** Epoch ms after which a rotated-out certificate is no longer listed or used; undefined while it is the newest. */
  retiresAt: number | undefined;
}

/** The WeChat Pay public key pair of a merchant in public-key or migration mode. */
export interface WechatPayPublicKey {
  /** `PUB_KEY_ID_` + digits. */
  readonly id: string;
  readonly privateKey: KeyObject;
  /** SPKI PEM, the `wxp_pub.pem` a merchant downloads. */
  readonly publicKeyPem: string;
}

/** The merchant's API certificate as the sandbox knows it: what verifies its requests, and the generated private key when the sandbox made it. */
export interface MerchantApiCertificate {
  /** Upper-case hex, the `serial_no` of the Authorization header. */
  readonly serial: string;
  readonly publicKey: KeyObject;
  /** PEM of the certificate, when the sandbox issued it or it was configured as a certificate. */
  readonly certificatePem: string | undefined;
  /** PKCS#8 PEM of the private key (`apiclient_key.pem`), only when the sandbox generated it. A test secret. */
  readonly privateKeyPem: string | undefined;
}

/** One mchid's APIv3 identity at the sandbox: keys, certificates and the signing mode. */
export interface V3Identity {
  readonly mchId: string;
  readonly apiV3Key: string;
  readonly keyMode: V3KeyMode;
  readonly merchantCertificate: MerchantApiCertificate;
  /** Present in public-key and migration modes. */
  readonly publicKey: WechatPayPublicKey | undefined;
  /** Platform certificates, oldest first; empty in public-key mode. */
  readonly platformCertificates: PlatformCertificate[];
  /** AppIDs bound to this mchid: every entry's appId and subAppId, plus v3.appIds. */
  readonly appIds: ReadonlySet<string>;
  /** Notifies signed so far, for the migration mode's alternation. */
  notifiesSigned: number;
}

function newPublicKeyId(): string {
  let digits = "";
  for (let i = 0; i < 28; i++) digits += String(randomInt(10));
  return `PUB_KEY_ID_${digits}`;
}

function issuePlatformCertificate(now: number, seed: MerchantV3["platformCertificate"]): PlatformCertificate {
  const keyPair: V3TestKeyPair = seed === undefined ? generateV3TestKeyPair() : v3TestKeyPairFromPem(seed.privateKeyPem);
  const notBefore = new Date(now - SLACK_MS);
  const notAfter = new Date(now + PLATFORM_CERTIFICATE_LIFETIME_MS);
  const cert = createV3TestCertificate({ notBefore, notAfter, keyPair, ...(seed?.serial === undefined ? {} : { serial: seed.serial }) });
  return {
    serial: cert.serial,
    certificatePem: cert.certificatePem,
    privateKey: keyPair.privateKey,
    effectiveAt: notBefore.getTime(),
    expiresAt: notAfter.getTime(),
    retiresAt: undefined,
  };
}

function merchantCertificateOf(mchId: string, settings: MerchantV3, now: number): MerchantApiCertificate {
  const given = settings.merchantCertificate;
  if (given !== undefined) {
    const isCertificate = given.publicKeyPem.includes("-----BEGIN CERTIFICATE-----");
    const publicKey = isCertificate ? new X509Certificate(given.publicKeyPem).publicKey : createPublicKey(given.publicKeyPem);
    return { serial: given.serial, publicKey, certificatePem: isCertificate ? given.publicKeyPem : undefined, privateKeyPem: undefined };
  }
  const cert = createV3TestCertificate({
    notBefore: new Date(now - SLACK_MS),
    notAfter: new Date(now + MERCHANT_CERTIFICATE_LIFETIME_MS),
    commonName: mchId,
  });
  return { serial: cert.serial, publicKey: cert.keyPair.publicKey, certificatePem: cert.certificatePem, privateKeyPem: cert.keyPair.privateKeyPem };
}

function buildIdentity(mchId: string, settings: MerchantV3, entries: readonly Merchant[], now: number): V3Identity {
  const usesCertificates = settings.keyMode !== "public-key";
  const usesPublicKey = settings.keyMode !== "platform-certificate";
  let publicKey: WechatPayPublicKey | undefined;
  if (usesPublicKey) {
    const pair = settings.publicKey === undefined ? generateV3TestKeyPair() : v3TestKeyPairFromPem(settings.publicKey.privateKeyPem);
    publicKey = { id: settings.publicKey?.id ?? newPublicKeyId(), privateKey: pair.privateKey, publicKeyPem: pair.publicKeyPem };
  }
  const appIds = new Set<string>(settings.appIds);
  for (const entry of entries) {
    appIds.add(entry.appId);
    if (entry.subAppId !== undefined) appIds.add(entry.subAppId);
  }
  return {
    mchId,
    apiV3Key: settings.apiV3Key,
    keyMode: settings.keyMode,
    merchantCertificate: merchantCertificateOf(mchId, settings, now),
    publicKey,
    platformCertificates: usesCertificates ? [issuePlatformCertificate(now, settings.platformCertificate)] : [],
    appIds,
    notifiesSigned: 0,
  };
}

/**
 * The v3 identities of every merchant configured for v3, one per mchid (a service provider's
 * sub-merchant entries share the provider's). Keys are generated once, when the sandbox is created.
 */
export class V3Identities {
  private readonly byMchId = new Map<string, V3Identity>();

  constructor(
    private readonly options: SandboxOptions,
    now: number,
  ) {
    const groups = new Map<string, { settings: MerchantV3; entries: Merchant[] }>();
    for (const merchant of options.merchants) {
      const group = groups.get(merchant.mchId);
      if (group !== undefined) group.entries.push(merchant);
      else if (merchant.v3 !== undefined) groups.set(merchant.mchId, { settings: merchant.v3, entries: [merchant] });
    }
    // Entries listed before the one carrying v3 settings still belong to its mchid.
    for (const merchant of options.merchants) {
      const group = groups.get(merchant.mchId);
      if (group !== undefined && !group.entries.includes(merchant)) group.entries.push(merchant);
    }
    for (const [mchId, { settings, entries }] of groups) this.byMchId.set(mchId, buildIdentity(mchId, settings, entries, now));
    if (options.v3KeysDir !== undefined) for (const identity of this.byMchId.values()) writeKeyFiles(options.v3KeysDir, identity);
  }

  /** The identity of a mchid configured for v3. */
  get(mchId: string): V3Identity | undefined {
    return this.byMchId.get(mchId);
  }

  all(): V3Identity[] {
    return [...this.byMchId.values()];
  }

  /** Platform certificates still in use at `now` (listed by `/v3/certificates`), oldest first. */
  liveCertificates(identity: V3Identity, now: number): PlatformCertificate[] {
    return identity.platformCertificates.filter((c) => now < c.expiresAt && (c.retiresAt === undefined || now < c.retiresAt));
  }

  /** The newest live platform certificate; undefined in public-key mode. */
  newestCertificate(identity: V3Identity, now: number): PlatformCertificate | undefined {
    return this.liveCertificates(identity, now).at(-1);
  }

  /**
   * Issues a new platform certificate and starts signing with it; the previous ones stay valid (and
   * listed) for `overlapMs` (the sandbox's v3RotationOverlapMs by default). Refused in public-key mode.
   */
  rotate(
    identity: V3Identity,
    now: number,
    overlapMs: number = this.options.v3RotationOverlapMs,
  ): { readonly current: PlatformCertificate; readonly retiring: readonly PlatformCertificate[] } | undefined {
    if (identity.keyMode === "public-key") return undefined;
    const retiring = this.liveCertificates(identity, now);
    for (const old of retiring) old.retiresAt = Math.min(old.retiresAt ?? Number.POSITIVE_INFINITY, now + overlapMs);
    const current = issuePlatformCertificate(now, undefined);
    identity.platformCertificates.push(current);
    if (this.options.v3KeysDir !== undefined) writeKeyFiles(this.options.v3KeysDir, identity);
    return { current, retiring };
  }

  /**
   * Who signs an API answer: the public key in public-key mode, the newest platform certificate in
   * platform-certificate mode; in migration, the public key only when the request's `Wechatpay-Serial`
   * header names its ID (the merchant's switch), the newest platform certificate otherwise.
   */
  answerSigner(identity: V3Identity, requestSerial: string | undefined, now: number): V3GatewaySigner {
    const usePublicKey = identity.keyMode === "public-key" || (identity.keyMode === "migration" && requestSerial === identity.publicKey?.id);
    return this.signerFor(identity, usePublicKey, now);
  }

  /**
   * Who signs a notify: the mode's key; in migration the two alternate (odd notifies with the platform
   * certificate, even ones with the public key), since the real switch-over of notifies happens over days
   * and a receiver must accept both throughout.
   */
  notifySigner(identity: V3Identity, now: number): V3GatewaySigner {
    identity.notifiesSigned += 1;
    const usePublicKey = identity.keyMode === "public-key" || (identity.keyMode === "migration" && identity.notifiesSigned % 2 === 0);
    return this.signerFor(identity, usePublicKey, now);
  }

  private signerFor(identity: V3Identity, usePublicKey: boolean, now: number): V3GatewaySigner {
    if (usePublicKey && identity.publicKey !== undefined) return { privateKey: identity.publicKey.privateKey, serial: identity.publicKey.id };
    const certificate = this.newestCertificate(identity, now) ?? identity.platformCertificates.at(-1);
    if (certificate === undefined) throw new Error(`Merchant ${identity.mchId} has no platform certificate to sign with.`);
    return { privateKey: certificate.privateKey, serial: certificate.serial };
  }
}

/**
 * Writes what a merchant downloads into `<dir>/<mchid>/`: `apiclient_key.pem` (only a key the sandbox generated;
 * owner-only permissions) and `apiclient_cert.pem`, the WeChat Pay public key as `wxp_pub.pem` with its ID in
 * `wxp_pub_id.txt`, and each platform certificate as `wechatpay_<serial>.pem`.
 */
function writeKeyFiles(dir: string, identity: V3Identity): void {
  const folder = join(dir, identity.mchId);
  mkdirSync(folder, { recursive: true });
  const { merchantCertificate, publicKey } = identity;
  if (merchantCertificate.privateKeyPem !== undefined) writeFileSync(join(folder, "apiclient_key.pem"), merchantCertificate.privateKeyPem, { mode: 0o600 });
  if (merchantCertificate.certificatePem !== undefined) writeFileSync(join(folder, "apiclient_cert.pem"), merchantCertificate.certificatePem);
  if (publicKey !== undefined) {
    writeFileSync(join(folder, "wxp_pub.pem"), publicKey.publicKeyPem);
    writeFileSync(join(folder, "wxp_pub_id.txt"), `${publicKey.id}\n`);
  }
  for (const certificate of identity.platformCertificates) writeFileSync(join(folder, `wechatpay_${certificate.serial}.pem`), certificate.certificatePem);
}

/** Builds the v3 identities for the sandbox's options (generating keys; about 0.1-0.5 s per v3 merchant). */
export function createV3Identities(options: SandboxOptions): V3Identities {
  return new V3Identities(options, options.clock.now());
}
