import type { Currency } from "@pay/core";

/** The ways a merchant can take WeChat Pay, each one flag away: three on APIv2, three on APIv3. */
export const DEV_MODES = ["domestic", "global", "institutional", "v3", "v3-partner", "v3-global"] as const;
export type DevMode = (typeof DEV_MODES)[number];

/** The APIv2 modes (each has a config/<mode>.env.example). */
export const V2_DEV_MODES = ["domestic", "global", "institutional"] as const satisfies readonly DevMode[];

/** How WeChat Pay's answers and notifies are verified in a v3 mode: its public key, or the platform certificates. */
export type DevV3KeyMode = "public-key" | "platform-certificate";

/** The APIv3 side of a mode: the path family and the key mode the sandbox signs with. */
export interface ModeV3Profile {
  readonly account: "domestic" | "global";
  readonly keyMode: DevV3KeyMode;
  /** Global: the merchant_category_code every order carries. */
  readonly merchantCategoryCode?: string;
}

/** The merchant identity a generated development config starts from (the secrets are random). */
export interface ModeProfile {
  readonly title: string;
  /** The merchant's appid: the Mini Program's own (direct) or the service provider's (institutional, partner). */
  readonly appId: string;
  readonly mchId: string;
  /** Institutional and partner modes: the sub-merchant's Mini Program and merchant number. */
  readonly subAppId?: string;
  readonly subMchId?: string;
  readonly feeType: Currency;
  /** Present for the APIv3 modes (WXPAY_API_VERSION=v3). */
  readonly v3?: ModeV3Profile;
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
  v3: {
    title: "APIv3 domestic direct merchant, CNY, WeChat Pay public-key mode",
    appId: "wxdev0v3direct0001",
    mchId: "1900000105",
    feeType: "CNY",
    v3: { account: "domestic", keyMode: "public-key" },
  },
  "v3-partner": {
    title: "APIv3 domestic service provider + sub-merchant, CNY, platform-certificate mode",
    appId: "wxdev0v3partner001",
    mchId: "1900000106",
    subAppId: "wxdev0v3submini001",
    subMchId: "1900000107",
    feeType: "CNY",
    v3: { account: "domestic", keyMode: "platform-certificate" },
  },
  "v3-global": {
    title: "APIv3 WeChat Pay Global institution + sub-merchant, HKD (the payer pays CNY), platform-certificate mode",
    appId: "wxdev0v3global0001",
    mchId: "1900000108",
    subAppId: "wxdev0v3globalmini",
    subMchId: "1900000109",
    feeType: "HKD",
    v3: { account: "global", keyMode: "platform-certificate", merchantCategoryCode: "5812" },
  },
};

export function isDevMode(value: string): value is DevMode {
  return (DEV_MODES as readonly string[]).includes(value);
}

/**
 * The mode a configuration describes. APIv2: sub ids make it institutional, a non-CNY currency Global.
 * APIv3 (`v3` given: WXPAY_API_VERSION=v3): the Global path family makes it v3-global, sub ids v3-partner.
 */
export function modeOfMerchant(merchant: { readonly subMchId: string | undefined; readonly feeType: Currency }, v3?: { readonly account: "domestic" | "global" }): DevMode {
  if (v3 !== undefined) {
    if (v3.account === "global") return "v3-global";
    return merchant.subMchId === undefined ? "v3" : "v3-partner";
  }
  if (merchant.subMchId !== undefined) return "institutional";
  return merchant.feeType === "CNY" ? "domestic" : "global";
}
