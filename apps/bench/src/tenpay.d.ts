// tenpay ships no types; this covers only the parts the benchmarks call.
declare module "tenpay" {
  import type { Middleware } from "koa";

  interface TenpayConfig {
    appid: string;
    mchid: string;
    partnerKey: string;
    notify_url?: string;
    spbill_create_ip?: string;
  }

  class Payment {
    constructor(config: TenpayConfig, debug?: boolean);
    /** The endpoint of each call, filled in by the constructor (there is no base URL option). */
    urls: Record<string, string>;
    /** unifiedorder (JSAPI by default), then the signed requestPayment params of its prepay_id. Rejects on any failure. */
    getPayParams(params: Record<string, string | number>): Promise<Payment.PayParams>;
    /** The internal v2 signer every request goes through (`_request` calls it with `params.sign_type`). */
    _getSign(params: Readonly<Record<string, string | number | undefined>>, type?: "MD5" | "HMAC-SHA256"): string;
    /** Parses (xml2js) and checks a message; `middleware_pay` is what its notify middleware runs. Rejects on any failure. */
    _parse(xml: string, type: string, signType?: "MD5" | "HMAC-SHA256"): Promise<Record<string, string>>;
    /** Its Koa notify middleware: reads `ctx.request.body` (a string), sets `ctx.request.weixin` and `ctx.reply(msg?)`. */
    middleware(type?: "pay" | "refund" | "nativePay"): Middleware;
  }

  namespace Payment {
    /** What `getPayParams` hands back: wx.requestPayment's fields (`package` is `prepay_id=...`) and `paySign`. */
    interface PayParams {
      appId: string;
      timeStamp: string;
      nonceStr: string;
      package: string;
      signType: string;
      paySign: string;
      timestamp: string;
    }
  }

  export = Payment;
}
