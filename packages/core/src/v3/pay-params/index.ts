export {
  buildV3PaySignMessage,
  buildV3RequestPaymentParams,
  V3_PAY_SIGN_ERROR_CODES,
  v3PayAppId,
  verifyV3PaySign,
  type V3PayApp,
  type V3PaySignCheck,
  type V3PaySignErrorCode,
  type V3RequestPaymentInput,
  type V3RequestPaymentParams,
} from "./request-payment.js";
