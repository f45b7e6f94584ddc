/** The v2 APIs this package speaks, by their path's last segment. */
export const WXPAY_APIS = ["unifiedorder", "orderquery", "closeorder", "refund", "refundquery", "downloadbill"] as const;
export type WxPayApi = (typeof WXPAY_APIS)[number];

/**
 * How a code reaches the caller: `result` = return_code SUCCESS + result_code FAIL + err_code (signed);
 * `return` = return_code FAIL with a Chinese return_msg and no sign, although the docs list the code
 * as an err_code. The form of some codes is unconfirmed (`formConfirmed: false`).
 */
export type WxPayErrorForm = "result" | "return";

/** One catalogue entry: whether retrying (with identical parameters) can succeed, and where it arrives. */
export interface WxPayErrorCodeInfo {
  readonly retryable: boolean;
  readonly form: WxPayErrorForm;
  readonly formConfirmed: boolean;
  readonly apis: readonly WxPayApi[];
  readonly description: string;
}

const ALL = WXPAY_APIS;
const MOST = ["unifiedorder", "orderquery", "closeorder", "refund", "refundquery"] as const;

/**
 * The v2 error codes (§6.2). Retry decisions branch on these codes, never on err_code_des.
 * A retry always repeats the same parameters: the same out_trade_no, the same out_refund_no.
 */
export const WXPAY_ERROR_CODES = {
  SYSTEMERROR: {
    retryable: true,
    form: "result",
    formConfirmed: true,
    apis: ALL,
    description: "System timeout or exception. Retry with the same parameters; for unifiedorder, query first if in doubt.",
  },
  BIZERR_NEED_RETRY: {
    retryable: true,
    form: "result",
    formConfirmed: true,
    apis: ["refund"],
    description: "Refund rejected by concurrency control. Retry with the same out_refund_no.",
  },
  INVALID_REQ_TOO_MUCH: {
    retryable: true,
    form: "result",
    formConfirmed: true,
    apis: ["refund"],
    description: "Too many invalid requests; briefly blocked. Retry after a minute.",
  },
  FREQUENCY_LIMITED: {
    retryable: true,
    form: "result",
    formConfirmed: true,
    apis: ["refund"],
    description: "Rate limit (refunds of orders over two months old). Retry more slowly.",
  },
  NOAUTH: {
    retryable: false,
    form: "return",
    formConfirmed: true,
    apis: ["unifiedorder"],
    description: "The merchant has no permission for this API (您没有JSAPI支付权限).",
  },
  NOTENOUGH: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["unifiedorder", "refund"],
    description: "Insufficient balance: the user's (unifiedorder) or the merchant's refundable balance (refund; retry once funds are added).",
  },
  ORDERPAID: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["unifiedorder", "closeorder"],
    description: "The order is already paid. Treat it as paid and confirm with orderquery.",
  },
  ORDERCLOSED: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["unifiedorder", "closeorder"],
    description: "The order is closed. Order again with a new out_trade_no; for closeorder it means already closed.",
  },
  OUT_TRADE_NO_USED: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["unifiedorder"],
    description: "Duplicate submission of one out_trade_no (同一笔交易不能多次提交).",
  },
  INVALID_REQUEST: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["unifiedorder"],
    description: "Parameter format wrong, or a re-entry whose parameters differ from the first request.",
  },
  APPID_NOT_EXIST: {
    retryable: false,
    form: "result",
    formConfirmed: false,
    apis: MOST,
    description: "appid missing or wrong.",
  },
  MCHID_NOT_EXIST: {
    retryable: false,
    form: "result",
    formConfirmed: false,
    apis: MOST,
    description: "mch_id missing or wrong.",
  },
  APPID_MCHID_NOT_MATCH: {
    retryable: false,
    form: "result",
    formConfirmed: false,
    apis: ["unifiedorder", "refund", "refundquery"],
    description: "The appid is not bound to the mch_id.",
  },
  LACK_PARAMS: {
    retryable: false,
    form: "return",
    formConfirmed: true,
    apis: ["unifiedorder"],
    description: "A required parameter is missing (缺少参数).",
  },
  SIGNERROR: {
    retryable: false,
    form: "return",
    formConfirmed: true,
    apis: ALL,
    description: "Bad signature (签名错误): fix the key, the algorithm or the signed fields.",
  },
  XML_FORMAT_ERROR: {
    retryable: false,
    form: "return",
    formConfirmed: true,
    apis: ALL,
    description: "The body is not well-formed XML (XML格式错误).",
  },
  REQUIRE_POST_METHOD: {
    retryable: false,
    form: "return",
    formConfirmed: false,
    apis: ALL,
    description: "The request was not a POST.",
  },
  POST_DATA_EMPTY: {
    retryable: false,
    form: "return",
    formConfirmed: false,
    apis: ["unifiedorder"],
    description: "The request body is empty.",
  },
  NOT_UTF8: {
    retryable: false,
    form: "return",
    formConfirmed: false,
    apis: ["unifiedorder"],
    description: "The request is not UTF-8.",
  },
  ORDERNOTEXIST: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["orderquery", "closeorder", "refund"],
    description: "No such order (refund: or it is unpaid). Right after ordering, query again later.",
  },
  TRADE_STATE_ERROR: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["closeorder"],
    description: "The order's state does not allow the operation.",
  },
  TRADE_OVERDUE: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["refund"],
    description: "The order is more than a year old and can no longer be refunded.",
  },
  ERROR: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["refund"],
    description: "Business error; err_code_des says which. Whether a retry helps depends on it.",
  },
  USER_ACCOUNT_ABNORMAL: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["refund"],
    description: "The user's account is cancelled; refund offline.",
  },
  INVALID_TRANSACTIONID: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["refund", "refundquery"],
    description: "The transaction_id is wrong.",
  },
  PARAM_ERROR: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["unifiedorder", "refund", "refundquery"],
    description: "Parameter error, e.g. appid和openid不匹配.",
  },
  REFUNDNOTEXIST: {
    retryable: false,
    form: "result",
    formConfirmed: true,
    apis: ["refundquery"],
    description: "No such refund.",
  },
} as const satisfies Record<string, WxPayErrorCodeInfo>;

export type WxPayErrorCode = keyof typeof WXPAY_ERROR_CODES;

/** True when `code` is in the catalogue. */
export function isWxPayErrorCode(code: unknown): code is WxPayErrorCode {
  return typeof code === "string" && Object.prototype.hasOwnProperty.call(WXPAY_ERROR_CODES, code);
}

/** True when a call that failed with this err_code may succeed if repeated with identical parameters. Unknown codes are not retried. */
export function isRetryableErrorCode(code: string | undefined): boolean {
  return isWxPayErrorCode(code) && WXPAY_ERROR_CODES[code].retryable;
}

/**
 * downloadbill failures come as return_code=FAIL with one of these return_msg texts, which are its
 * only codes. The doc prints "NO Bill Exist"; the gateway sends "No Bill Exist".
 */
export const DOWNLOAD_BILL_RETURN_MSGS = {
  "No Bill Exist": { retryable: false, description: "No bill for that date (no trades, or the date is out of range)." },
  "Bill Creating": { retryable: true, description: "The bill is still being generated; download after about 10:00 the next day." },
  "invalid bill_type": { retryable: false, description: "bill_type is not ALL, SUCCESS, REFUND or RECHARGE_REFUND." },
  "data format error": { retryable: false, description: "A parameter is malformed, e.g. bill_date." },
  "missing parameter": { retryable: false, description: "A required parameter is missing." },
  "SIGN ERROR": { retryable: false, description: "Bad signature." },
  "CompressGZip Error": { retryable: true, description: "Compressing the bill failed; retry, or ask without tar_type." },
  SYSTEMERROR: { retryable: true, description: "Gateway error; retry." },
} as const satisfies Record<string, { readonly retryable: boolean; readonly description: string }>;

export type DownloadBillReturnMsg = keyof typeof DOWNLOAD_BILL_RETURN_MSGS;

/** The catalogued downloadbill return_msg that `text` is, ignoring case and surrounding space ("NO Bill Exist"). */
export function matchDownloadBillReturnMsg(text: string | undefined): DownloadBillReturnMsg | undefined {
  if (text === undefined) return undefined;
  const wanted = text.trim().toLowerCase();
  return (Object.keys(DOWNLOAD_BILL_RETURN_MSGS) as DownloadBillReturnMsg[]).find((msg) => msg.toLowerCase() === wanted);
}
