// tenpay ships no types; this covers only the part the benchmark calls.
declare module "tenpay" {
  interface TenpayConfig {
    appid: string;
    mchid: string;
    partnerKey: string;
    notify_url?: string;
    spbill_create_ip?: string;
  }

  class Payment {
    constructor(config: TenpayConfig, debug?: boolean);
    /** The internal v2 signer every request goes through (`_request` calls it with `params.sign_type`). */
    _getSign(params: Readonly<Record<string, string | number | undefined>>, type?: "MD5" | "HMAC-SHA256"): string;
  }

  export = Payment;
}
