export { generateNonceStr } from "./nonce.js";
export { decryptRefundReqInfo, encryptRefundReqInfo, refundNotifyAesKey, type ReqInfoErrorCode } from "./refund-req-info.js";
