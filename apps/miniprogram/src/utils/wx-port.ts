/** The `errMsg` every wx callback carries: `"<api>:ok"` or `"<api>:fail <reason>"`. */
export interface WxCallbackResult {
  readonly errMsg: string;
}

export interface WxRequestOption {
  readonly url: string;
  readonly method: "GET" | "POST";
  readonly header: Readonly<Record<string, string>>;
  /** Sent as JSON (the header says so); omitted for requests without a body. */
  readonly data?: Readonly<Record<string, unknown>>;
  readonly dataType: "json";
  readonly responseType: "text";
  readonly timeout: number;
  /** Any HTTP answer, whatever its status; `data` is parsed JSON, or the raw text when it is not JSON. */
  success(result: { readonly statusCode: number; readonly data: unknown; readonly header: Readonly<Record<string, string>>; readonly errMsg: string }): void;
  /** No HTTP answer at all: DNS, TLS, refused, timed out, domain not allowed. */
  fail(result: WxCallbackResult): void;
}

/** Exactly the five fields the server signs, plus the callbacks. */
export interface WxRequestPaymentOption {
  readonly timeStamp: string;
  readonly nonceStr: string;
  readonly package: string;
  readonly signType: "MD5" | "HMAC-SHA256" | "RSA";
  readonly paySign: string;
  success(result: WxCallbackResult): void;
  fail(result: WxCallbackResult): void;
  /** Clients up to 6.5.2 reported a cancel only here, as `requestPayment:cancel`. */
  complete(result: WxCallbackResult): void;
}

/**
 * The slice of `wx` the services use, callback style as WeChat documents it. app.ts hands the real
 * `wx` over as a WxPort, so the compiler checks it against miniprogram-api-typings; tests hand fakes.
 */
export interface WxPort {
  login(option: { readonly timeout: number; success(result: { readonly code: string; readonly errMsg: string }): void; fail(result: WxCallbackResult): void }): void;
  request(option: WxRequestOption): void;
  requestPayment(option: WxRequestPaymentOption): void;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}
