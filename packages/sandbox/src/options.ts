import { CURRENCIES, type Currency } from "@pay/core";
import { z } from "zod";
import { systemClock, type Clock } from "./clock.js";

/** One simulated merchant. Institutional (service-provider) mode is a merchant with sub ids. */
export const MerchantSchema = z
  .object({
    appId: z.string().min(1).max(32),
    mchId: z.string().min(1).max(32),
    /** The v2 API key (32 characters on the real platform). */
    key: z.string().min(1),
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
  .refine((m) => m.subAppId === undefined || m.subMchId !== undefined, { message: "subAppId needs subMchId", path: ["subMchId"] });
export type MerchantInput = z.input<typeof MerchantSchema>;
export type Merchant = z.output<typeof MerchantSchema>;

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
});
export type NotifyBehaviour = z.output<typeof NotifyBehaviourSchema>;

export const SandboxOptionsSchema = z.object({
  merchants: z.array(MerchantSchema).min(1),
  notify: NotifyBehaviourSchema.default({ retryScale: 1, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 5000 }),
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
  for (const merchant of parsed.data.merchants) {
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
