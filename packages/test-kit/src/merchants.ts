// The made-up merchants the workspace's tests and bench run against. None of these are real
// credentials: the sandbox accepts them, WeChat Pay never saw them.

/** A direct-mode merchant with its Mini Program's app secret (code2session). */
export interface TestMerchant {
  readonly appId: string;
  readonly mchId: string;
  /** The v2 API key (32 letters and digits). */
  readonly key: string;
  readonly appSecret: string;
}

/**
 * The merchant the API's tests, the mini-program's three-tier tests and the bench configure both the
 * sandbox and the API with.
 */
export const MERCHANT = {
  appId: "wx8888888888888888",
  mchId: "1230000109",
  key: "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0",
  appSecret: "miniprogram-app-secret-0001",
} as const satisfies TestMerchant;

/** The API's admin bearer token in tests and the bench. */
export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
/** The API's SESSION_SECRET in tests and the bench (at least 32 characters). */
export const SESSION_SECRET = "session-secret-for-tests-0123456789abcdef";

// The gateway tests' merchants (the sandbox's own suites and the API's gateway clients), one per
// kind of account the sandbox simulates. DIRECT uses the appid, mch_id and key of WeChat's v2
// signing example.

/** A domestic direct-mode merchant, CNY. */
export const DIRECT = {
  appId: "wxd930ea5d5a258f4f",
  mchId: "10000100",
  key: "192006250b4c09247ec02edce69f6a2d",
  appSecrets: { wxd930ea5d5a258f4f: "secret-direct" },
};

/** A WeChat Pay Global merchant settling in HKD; the payer pays CNY at the rate (HKD per 10^8 CNY). */
export const GLOBAL = {
  appId: "wx2421b1c4370ec43b",
  mchId: "20000200",
  key: "globalkeyglobalkeyglobalkey12345",
  profile: "global" as const,
  rates: { HKD: 91_000_000 },
};

/** A service provider (Global) whose sub-merchant runs the Mini Program `subAppId`. */
export const INSTITUTION = {
  appId: "wxinstitution0001",
  mchId: "30000300",
  subAppId: "wxminiprogram0001",
  subMchId: "1900000109",
  key: "institutionkeyinstitutionkey1234",
  profile: "global" as const,
  rates: { HKD: 91_000_000 },
  appSecrets: { wxminiprogram0001: "secret-mini" },
};

/** `merchant` as the sandbox's `merchants` option takes it: its app secret keyed by its appid. */
export function sandboxMerchant(merchant: TestMerchant): { appId: string; mchId: string; key: string; appSecrets: Record<string, string> } {
  return { appId: merchant.appId, mchId: merchant.mchId, key: merchant.key, appSecrets: { [merchant.appId]: merchant.appSecret } };
}

/** The API's environment settings naming `merchant` (WXPAY_APPID, WXPAY_MCHID, WXPAY_KEY, WX_APPSECRET). */
export function merchantEnv(merchant: TestMerchant): { WXPAY_APPID: string; WXPAY_MCHID: string; WXPAY_KEY: string; WX_APPSECRET: string } {
  return { WXPAY_APPID: merchant.appId, WXPAY_MCHID: merchant.mchId, WXPAY_KEY: merchant.key, WX_APPSECRET: merchant.appSecret };
}
