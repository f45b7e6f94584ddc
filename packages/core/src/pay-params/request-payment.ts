import type { RequestPaymentParams } from "../contract/payment.js";
import { generateNonceStr } from "../crypto/nonce.js";
import { PayCoreError } from "../errors.js";
import { signParams } from "../sign/sign.js";
import type { SignType } from "../sign/sign-type.js";
import { unixSeconds, type Instant } from "../time.js";

/** What the server needs to sign the five `wx.requestPayment` fields. */
export interface RequestPaymentInput {
  /** The appid used for unifiedorder (direct mode: the Mini Program's appid). */
  readonly appId: string;
  /** Institutional / service-provider mode: the Mini Program's appid. When set, it is the signed appId. */
  readonly subAppId?: string | undefined;
  /** The prepay_id from unifiedorder. */
  readonly prepayId: string;
  /** Must equal the sign_type the order was placed with. */
  readonly signType: SignType;
  /** The v2 API key (the institution's key in institutional mode). */
  readonly key: string;
  /** The current time; only whole seconds are used. */
  readonly now: Instant;
  /** Fixed nonce for known-answer tests; by default a fresh CSPRNG nonce. */
  readonly nonceStr?: string;
}

const PREPAY_ID = /^[\x21-\x7e]{1,64}$/;

/**
 * The exact object to pass to `wx.requestPayment`: five strings, with `paySign` computed afresh
 * over appId, timeStamp, nonceStr, package and signType (never the unifiedorder `sign`).
 */
export function buildRequestPaymentParams(input: RequestPaymentInput): RequestPaymentParams {
  const appId = input.subAppId !== undefined && input.subAppId !== "" ? input.subAppId : input.appId;
  if (typeof appId !== "string" || appId === "") throw new PayCoreError("INVALID_OPTION", "appId is missing.");
  if (typeof input.prepayId !== "string" || !PREPAY_ID.test(input.prepayId)) {
    throw new PayCoreError("INVALID_OPTION", "prepayId must be 1-64 printable ASCII characters.");
  }
  const timeStamp = String(unixSeconds(input.now));
  const nonceStr = input.nonceStr ?? generateNonceStr();
  if (nonceStr === "" || nonceStr.length > 32) throw new PayCoreError("INVALID_OPTION", "nonceStr must be 1-32 characters.");

  const pkg = `prepay_id=${input.prepayId}`;
  const paySign = signParams(
    [
      ["appId", appId],
      ["nonceStr", nonceStr],
      ["package", pkg],
      ["signType", input.signType],
      ["timeStamp", timeStamp],
    ],
    { key: input.key, signType: input.signType },
  );
  return { timeStamp, nonceStr, package: pkg, signType: input.signType, paySign };
}
