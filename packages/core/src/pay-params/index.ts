export { buildRequestPaymentParams, type RequestPaymentInput } from "./request-payment.js";
