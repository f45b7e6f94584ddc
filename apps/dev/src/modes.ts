import type { Currency } from "@pay/core";

/** The three ways a merchant can take WeChat Pay, each one flag away. */
export const DEV_MODES = ["domestic", "global", "institutional"] as const;
export type DevMode = (typeof DEV_MODES)[number];

/** The merchant identity a generated development config starts from (the secrets are random). */
export interface ModeProfile {
  readonly title: string;
  /** The merchant's appid: the Mini Program's own (direct) or the service provider's (institutional). */
  readonly appId: string;
  readonly mchId: string;
  /** Institutional mode: the sub-merchant's Mini Program and merchant number. */
  readonly subAppId?: string;
  readonly subMchId?: string;
  readonly feeType: Currency;
}

/** One row per mode; values are sandbox-only identities, never real ones. */
export const MODE_PROFILES: Readonly<Record<DevMode, ModeProfile>> = {
  domestic: { title: "domestic merchant, CNY", appId: "wxdev0domestic0001", mchId: "1900000101", feeType: "CNY" },
  global: { title: "WeChat Pay Global merchant, HKD (the payer pays CNY)", appId: "wxdev00global00001", mchId: "1900000102", feeType: "HKD" },
  institutional: {
    title: "WeChat Pay Global institutional merchant (service provider + sub-merchant), HKD",
    appId: "wxdev0institution1",
    mchId: "1900000103",
    subAppId: "wxdev0miniprogram1",
    subMchId: "1900000104",
    feeType: "HKD",
  },
};

export function isDevMode(value: string): value is DevMode {
  return (DEV_MODES as readonly string[]).includes(value);
}

/** The mode a configuration describes: sub ids make it institutional, a non-CNY currency Global. */
export function modeOfMerchant(merchant: { readonly subMchId: string | undefined; readonly feeType: Currency }): DevMode {
  if (merchant.subMchId !== undefined) return "institutional";
  return merchant.feeType === "CNY" ? "domestic" : "global";
}
