import { CURRENCIES, type Currency } from "@pay/core";
import { z } from "zod";
import { systemClock, type Clock } from "./clock.js";

/**
 * How the sandbox signs a v3 merchant's answers and notifies: with platform certificates (served by
 * `GET /v3/certificates`), with a WeChat Pay public key (`PUB_KEY_ID_...`; `/v3/certificates` answers 404,
 * as for merchants onboarded since late 2024), or both while a merchant migrates from one to the other.
 */
export const V3_KEY_MODES = ["platform-certificate", "public-key", "migration"] as const;
export type V3KeyMode = (typeof V3_KEY_MODES)[number];

const PrivateKeyPemSchema = z
  .string()
  .max(16_384)
  .regex(/-----BEGIN (?:RSA )?PRIVATE KEY-----/, "must be a PEM private key");

/** A merchant's APIv3 settings. Entries sharing a mchid (a service provider's sub-merchants) share one v3 identity. */
export const MerchantV3Schema = z
  .object({
    /** The APIv3 key set in the merchant platform: 32 bytes, the AES-256-GCM key of notifies and certificates. */
    apiV3Key: z.string().refine((k) => Buffer.byteLength(k, "utf8") === 32, "must be 32 bytes (the APIv3 key is an AES-256 key)"),
    keyMode: z.enum(V3_KEY_MODES).default("public-key"),
    /**
     * The merchant API certificate the requests are signed for: its serial (upper-case hex, as `openssl x509
     * -serial` prints it) and public key (SPKI PEM or the certificate PEM). Generated with its private key when absent.
     */
    merchantCertificate: z
      .object({
        serial: z.string().regex(/^[0-9A-F]{8,64}$/, "must be the certificate serial in upper-case hex"),
        publicKeyPem: z
          .string()
          .max(16_384)
          .regex(/-----BEGIN (?:PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----/, "must be a PEM public key or certificate"),
      })
      .strict()
      .optional(),
    /** AppIDs bound to the mchid besides `appId` (and `subAppId`). */
    appIds: z.array(z.string().min(1).max(32)).default([]),
    /** Seeds the WeChat Pay public key pair (public-key and migration modes); a fresh pair and ID otherwise. */
    publicKey: z
      .object({ id: z.string().regex(/^PUB_KEY_ID_\d{1,64}$/, "must be PUB_KEY_ID_ followed by digits"), privateKeyPem: PrivateKeyPemSchema })
      .strict()
      .optional(),
    /** Seeds the first platform certificate's key (platform-certificate and migration modes); a fresh one otherwise. */
    platformCertificate: z
      .object({
        serial: z
          .string()
          .regex(/^[1-7][0-9A-F](?:[0-9A-F]{2}){0,19}$/, "must be 2 to 40 upper-case hex digits (whole bytes) starting 1-7")
          .optional(),
        privateKeyPem: PrivateKeyPemSchema,
      })
      .strict()
      .optional(),
  })
  .strict();
export type MerchantV3Input = z.input<typeof MerchantV3Schema>;
export type MerchantV3 = z.output<typeof MerchantV3Schema>;

/** One simulated merchant. Institutional (service-provider) mode is a merchant with sub ids. */
export const MerchantSchema = z
  .object({
    appId: z.string().min(1).max(32),
    mchId: z.string().min(1).max(32),
    /** The v2 API key (32 characters on the real platform). Absent for a merchant that uses APIv3 only. */
    key: z.string().min(1).optional(),
    /** APIv3: present for a merchant that uses v3 (with `key` too while it migrates from v2). */
    v3: MerchantV3Schema.optional(),
    subAppId: z.string().min(1).max(32).optional(),
    subMchId: z.string().min(1).max(32).optional(),
    /** `domestic`: CNY only, fee_type optional. `global`: fee_type required, any supported currency. */
    profile: z.enum(["domestic", "global"]).default("domestic"),
    /** Mini Program app secrets by appid, for /sns/jscode2session. */
    appSecrets: z.record(z.string(), z.string()).default({}),
    /** Global: exchange rate to the payer's CNY, x 10^8, by order currency (HKD 0.91 -> 91000000). */
    rates: z.record(z.string(), z.number().int().positive()).default({}),
    /** Funds available for refunds, in minor units; a larger refund answers NOTENOUGH. Unlimited when absent. */
    refundableBalance: z.number().int().min(0).optional(),
    /** Refund notify URL used when a refund request carries none. */
    refundNotifyUrl: z.string().url().optional(),
  })
  .refine((m) => m.subAppId === undefined || m.subMchId !== undefined, { message: "subAppId needs subMchId", path: ["subMchId"] })
  .refine((m) => m.key !== undefined || m.v3 !== undefined, { message: "a merchant needs a v2 key, v3 settings, or both", path: ["key"] });
export type MerchantInput = z.input<typeof MerchantSchema>;
export type Merchant = z.output<typeof MerchantSchema>;
/** A merchant configured for v2: the only kind the v2 endpoints see. */
export type V2Merchant = Merchant & { readonly key: string };

/** True when the merchant has a v2 API key. */
export function isV2Merchant(merchant: Merchant): merchant is V2Merchant {
  return merchant.key !== undefined;
}

export const NotifyBehaviourSchema = z.object({
  /** Multiplies the official retry schedule (15s … 6h); 0.001 runs 24 hours in about 86 seconds. */
  retryScale: z.number().positive().default(1),
  /** Leave sign_type out of HMAC-SHA256 pay notifies, as the real gateway does. */
  omitSignTypeForHmac: z.boolean().default(true),
  /** Extra copies of each notify sent after the first acknowledged one (duplicates happen for real). */
  duplicates: z.number().int().min(0).max(50).default(0),
  /** Copies sent at the same moment for the first attempt (notifies come from several servers). */
  concurrent: z.number().int().min(1).max(500).default(1),
  /** How long a receiver may take before the attempt counts as failed. */
  timeoutMs: z.number().int().positive().default(5000),
  /** v3: send each notify first with a `WECHATPAY/SIGNTEST/...` signature, which a correct receiver refuses. */
  signatureProbe: z.boolean().default(false),
});
export type NotifyBehaviour = z.output<typeof NotifyBehaviourSchema>;

export const SandboxOptionsSchema = z.object({
  merchants: z.array(MerchantSchema).min(1),
  notify: NotifyBehaviourSchema.default({ retryScale: 1, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 5000, signatureProbe: false }),
  /** Refund requests need a client certificate (over HTTPS); false accepts them without one. */
  requireClientCert: z.boolean().default(true),
  /** prepay_id lifetime; the real gateway's is 2 hours. */
  prepayTtlMs: z
    .number()
    .int()
    .positive()
    .default(2 * 3600 * 1000),
  /** Lifetime of an unpaid order without time_expire. The real default is unconfirmed (2 h or 7 d are reported). */
  orderTtlMs: z
    .number()
    .int()
    .positive()
    .default(24 * 3600 * 1000),
  /** Delay before a PROCESSING refund settles to SUCCESS by itself; null leaves it to POST /sandbox/refunds/settle. */
  refundSettleMs: z.number().int().min(0).nullable().default(1000),
  /** Global's rule that closeorder waits 5 minutes after ordering; 0 turns it off. */
  minCloseAgeMs: z.number().int().min(0).default(0),
  /** Login codes live this long and work once. */
  loginCodeTtlMs: z
    .number()
    .int()
    .positive()
    .default(5 * 60 * 1000),
  /**
   * Seed for openids: each (appid, user) pair maps to the same openid for the same seed, so a sandbox
   * restarted with a kept seed knows its users again. A random seed per process when absent.
   */
  openidSeed: z.string().min(16).optional(),
  /**
   * v3: where generated merchant keys are written, one folder per mchid (apiclient_key.pem, apiclient_cert.pem,
   * and the WeChat Pay public key or platform certificates), like the files a merchant downloads. Nothing is written when absent.
   */
  v3KeysDir: z.string().min(1).optional(),
  /**
   * v3: accept `http://` notify URLs (local receivers in development and tests). The real gateway demands
   * https, which stays the default: a v3 order or refund with an http notify_url answers 400 PARAM_ERROR.
   */
  allowHttpNotifyUrl: z.boolean().default(false),
  /** v3: how long a rotated-out platform certificate stays valid beside its successor. */
  v3RotationOverlapMs: z
    .number()
    .int()
    .min(0)
    .default(24 * 3600 * 1000),
  /**
   * A delay before every WeChat Pay gateway answer (v2 `/pay/*`, `/secapi/*`, v3 `/v3/*`), for a whole run: a slow gateway.
   * Never applied to the control API, the cashier, `/sns/jscode2session` (a WeChat login, not WeChat Pay) or the notifier.
   * Changed while running with `POST /sandbox/latency`.
   */
  latencyMs: z.number().int().min(0).max(120_000).default(0),
  /** Largest accepted request body. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
});
export type SandboxOptionsInput = z.input<typeof SandboxOptionsSchema> & { readonly clock?: Clock };
export type SandboxOptions = z.output<typeof SandboxOptionsSchema> & { readonly clock: Clock };

/** Validates options once, up front: bad configuration throws here, never mid-request. */
export function resolveOptions(input: SandboxOptionsInput): SandboxOptions {
  const parsed = SandboxOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid sandbox options at ${issue?.path.join(".") ?? "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const v3ByMchId = new Map<string, string>();
  for (const merchant of parsed.data.merchants) {
    if (merchant.v3 !== undefined) {
      const settings = JSON.stringify(merchant.v3);
      const seen = v3ByMchId.get(merchant.mchId);
      if (seen !== undefined && seen !== settings)
        throw new Error(`Merchant ${merchant.mchId}: entries sharing a mchid share one v3 identity; give them the same v3 settings (or give them to one entry).`);
      v3ByMchId.set(merchant.mchId, settings);
    }
    for (const currency of Object.keys(merchant.rates)) {
      if (!(CURRENCIES as readonly string[]).includes(currency)) throw new Error(`Merchant ${merchant.mchId}: unknown currency ${currency} in rates.`);
    }
  }
  return { ...parsed.data, clock: input.clock ?? systemClock };
}

/** Default exchange rates (x 10^8 to CNY) for a Global merchant that configures none. */
export const DEFAULT_RATES: Readonly<Partial<Record<Currency, number>>> = {
  HKD: 91_000_000,
  USD: 710_000_000,
  EUR: 780_000_000,
  GBP: 910_000_000,
  JPY: 4_800_000,
  KRW: 520_000,
  SGD: 530_000_000,
  AUD: 470_000_000,
  MOP: 88_000_000,
  CNY: 100_000_000,
};
