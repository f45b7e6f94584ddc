import {
  createV3KeyStore,
  decryptV3Certificates,
  err,
  verifyV3Signature,
  type Result,
  type V3Headers,
  type V3KeyStore,
  type V3VerifiedSignature,
  type V3VerifyErrorCode,
} from "@pay/core";
import type { Logger } from "pino";

/**
 * How WeChat Pay's signatures are verified: its public key (`PUB_KEY_ID_...`), platform certificates
 * downloaded from `/v3/certificates`, or both during the migration from certificates to the public key.
 */
export type V3KeyMode = "public-key" | "platform-certificate" | "migration";

/** A WeChat Pay public key (`wxp_pub.pem`) and its ID from the merchant platform. */
export interface V3PublicKeyConfig {
  readonly id: string;
  readonly pem: string;
}

/** A raw 2xx answer of `GET /v3/certificates`, not yet verified (its verification needs the certificates it carries). */
export interface V3RawAnswer {
  readonly headers: V3Headers;
  readonly body: Uint8Array;
}

/** Fetches the certificate list; a failure is a message for the log. */
export type V3CertificateFetcher = () => Promise<{ readonly ok: true; readonly value: V3RawAnswer } | { readonly ok: false; readonly message: string }>;

export interface V3KeysOptions {
  readonly mode: V3KeyMode;
  /** Required in public-key and migration modes. */
  readonly publicKey?: V3PublicKeyConfig | undefined;
  /** The APIv3 key that decrypts the certificate list. Never logged. */
  readonly apiV3Key: string;
  /** Required in platform-certificate and migration modes. */
  readonly fetchCertificates?: V3CertificateFetcher | undefined;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
  /** Scheduled refresh of the certificates. Default 12 hours. */
  readonly refreshIntervalMs?: number | undefined;
  /** No two downloads closer than this, whatever asks for them. Default one minute. */
  readonly minRefreshGapMs?: number | undefined;
}

export type V3AnswerVerifyErrorCode = V3VerifyErrorCode | "NO_KEYS";

/** Verifies answers with the keys in use; the notify parser reads the same store. */
export interface V3AnswerVerifier {
  verify(headers: V3Headers, body: Uint8Array): Promise<Result<V3VerifiedSignature, V3AnswerVerifyErrorCode>>;
}

/** The verification keys of one merchant, kept fresh. */
export interface V3Keys extends V3AnswerVerifier {
  readonly mode: V3KeyMode;
  /** The store in use now; undefined in a certificate mode before the first download succeeded (and no public key). */
  store(): V3KeyStore | undefined;
  /** Downloads the certificates when they were never loaded or are older than the refresh interval (public-key mode: nothing to do). */
  ensureFresh(): Promise<void>;
  /**
   * Asks for a download after an unknown serial (a rotation): at most one a minute, in flight at most once.
   * Resolves true when a new store is in use.
   */
  refreshForUnknownSerial(): Promise<boolean>;
}

const DEFAULTS = { refreshIntervalMs: 12 * 3600 * 1000, minRefreshGapMs: 60 * 1000 } as const;

function fail(message: string): never {
  throw new Error(`createV3Keys: ${message}`);
}

/**
 * The key store behind the v3 adapter. Public-key mode holds the configured key; certificate modes download
 * the list at start (ensureFresh), again every 12 hours and once on an unknown serial, but never twice within
 * a minute. A downloaded list is used only when it decrypts with the APIv3 key and its answer verifies with
 * the certificates (or public key) it yields. A failed download keeps the keys in use.
 */
export function createV3Keys(options: V3KeysOptions): V3Keys {
  const { now, logger } = options;
  const mode: string = options.mode;
  if (mode !== "public-key" && mode !== "platform-certificate" && mode !== "migration") fail(`mode must be public-key, platform-certificate or migration.`);
  if (typeof now !== "function") fail("now is required.");
  const needsPublicKey = mode !== "platform-certificate";
  const needsCertificates = mode !== "public-key";
  if (needsPublicKey && options.publicKey === undefined) fail(`${mode} mode needs publicKey (its ID and PEM).`);
  if (!needsPublicKey && options.publicKey !== undefined) fail("platform-certificate mode takes no publicKey: use migration mode to accept both.");
  if (needsCertificates && typeof options.fetchCertificates !== "function") fail(`${mode} mode needs fetchCertificates.`);
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULTS.refreshIntervalMs;
  const minRefreshGapMs = options.minRefreshGapMs ?? DEFAULTS.minRefreshGapMs;
  for (const [name, value] of [
    ["refreshIntervalMs", refreshIntervalMs],
    ["minRefreshGapMs", minRefreshGapMs],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) fail(`${name} must be a whole number of milliseconds.`);
  }
  const publicKeys = options.publicKey === undefined ? [] : [{ id: options.publicKey.id, publicKey: options.publicKey.pem }];
  // Builds (and so checks) the configured public key now: a bad one is configuration and throws.
  const base = publicKeys.length === 0 ? undefined : createV3KeyStore({ publicKeys });

  let current: V3KeyStore | undefined = base;
  let loadedAt: number | undefined;
  let lastAttemptAt: number | undefined;
  let inFlight: Promise<boolean> | undefined;

  async function download(): Promise<boolean> {
    const at = now();
    lastAttemptAt = at;
    const answer = await (options.fetchCertificates as V3CertificateFetcher)();
    if (!answer.ok) {
      logger.warn({ reason: answer.message }, "platform certificate download failed: keeping the keys in use");
      return false;
    }
    const list = decryptV3Certificates(answer.value.body, { apiV3Key: options.apiV3Key, now: now() });
    if (!list.ok) {
      logger.error({ code: list.error.code, reason: list.error.message }, "platform certificate list refused: keeping the keys in use");
      return false;
    }
    const next = createV3KeyStore({ certificates: list.value.certificates, publicKeys });
    const verified = verifyV3Signature({ headers: answer.value.headers, body: answer.value.body, keys: next, now: now() });
    if (!verified.ok) {
      logger.error({ code: verified.error.code, reason: verified.error.message }, "platform certificate answer failed verification: keeping the keys in use");
      return false;
    }
    current = next;
    loadedAt = at;
    logger.info({ serials: list.value.certificates.map((c) => c.serial) }, "platform certificates loaded");
    return true;
  }

  function refresh(): Promise<boolean> {
    inFlight ??= download()
      .catch((cause: unknown) => {
        logger.error({ reason: cause instanceof Error ? cause.message : String(cause) }, "platform certificate download threw: keeping the keys in use");
        return false;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  const keys: V3Keys = {
    mode: options.mode,
    store: () => current,
    async ensureFresh() {
      if (!needsCertificates) return;
      if (inFlight !== undefined) {
        await inFlight;
        return;
      }
      const t = now();
      const stale = loadedAt === undefined || t - loadedAt >= refreshIntervalMs;
      const tooSoon = lastAttemptAt !== undefined && t - lastAttemptAt < minRefreshGapMs;
      if (stale && !tooSoon) await refresh();
    },
    async refreshForUnknownSerial() {
      if (!needsCertificates) return false;
      if (inFlight !== undefined) return inFlight;
      if (lastAttemptAt !== undefined && now() - lastAttemptAt < minRefreshGapMs) return false;
      return refresh();
    },
    async verify(headers, body) {
      await keys.ensureFresh();
      const attempt = (): Result<V3VerifiedSignature, V3AnswerVerifyErrorCode> => {
        const store = current;
        if (store === undefined) return err("NO_KEYS", "No platform certificate has been loaded yet.");
        return verifyV3Signature({ headers, body, keys: store, now: now() });
      };
      const first = attempt();
      if (first.ok || (first.error.code !== "UNKNOWN_SERIAL" && first.error.code !== "NO_KEYS")) return first;
      return (await keys.refreshForUnknownSerial()) ? attempt() : first;
    },
  };
  return keys;
}
