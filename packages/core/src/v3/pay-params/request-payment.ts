import type { KeyObject } from "node:crypto";
import type { RequestPaymentParams } from "../../contract/payment.js";
import { PayCoreError } from "../../errors.js";
import { err, ok, type Result } from "../../result.js";
import { loadV3MerchantPrivateKey, loadV3MerchantPublicKey } from "../sign/keys.js";
import { isV3SignatureBase64, signV3Message, verifyV3Message } from "../sign/rsa.js";
import { generateV3Nonce } from "../sign/signer.js";
import { unixSeconds, type Instant } from "../../time.js";

/**
 * Which Mini Program appId paySign covers; the caller must say, because WeChat checks it against the order.
 * - direct: the Mini Program's appid used in the order.
 * - partner: `sub_appid` when the payer was given as `payer.sub_openid`, else `sp_appid` (payer.sp_openid).
 */
export type V3PayApp =
  | { readonly mode: "direct"; readonly appId: string }
  | { readonly mode: "partner"; readonly payer: "sub_openid"; readonly spAppId: string; readonly subAppId: string }
  | { readonly mode: "partner"; readonly payer: "sp_openid"; readonly spAppId: string; readonly subAppId?: string | undefined };

/** What the server needs to build the v3 `wx.requestPayment` fields. */
export interface V3RequestPaymentInput {
  readonly app: V3PayApp;
  /** The prepay_id from the v3 JSAPI order. */
  readonly prepayId: string;
  /** The merchant API private key that signed the order (the service provider's in partner mode). */
  readonly privateKey: string | KeyObject;
  /** The current time: a Date or epoch milliseconds (whole seconds are used). */
  readonly now: Instant;
  /** Fixed nonce for known-answer tests; by default 32 CSPRNG alphanumerics. */
  readonly nonceStr?: string;
}

/** The v3 `wx.requestPayment` fields: signType is always RSA. */
export type V3RequestPaymentParams = RequestPaymentParams & { readonly signType: "RSA" };

const APP_ID = /^[\x21-\x7e]{1,32}$/;
const PREPAY_ID = /^[\x21-\x7e]{1,64}$/;
const NONCE_STR = /^[\x21-\x7e]{1,32}$/;
const TIME_STAMP = /^[0-9]{1,32}$/;
const PACKAGE = /^prepay_id=[\x21-\x7e]{1,64}$/;

/** The appId paySign covers for this app choice (see V3PayApp). */
export function v3PayAppId(app: V3PayApp): string {
  const appId = app.mode === "direct" ? app.appId : app.payer === "sub_openid" ? app.subAppId : app.spAppId;
  if (typeof appId !== "string" || !APP_ID.test(appId)) {
    const field = app.mode === "direct" ? "appId" : app.payer === "sub_openid" ? "subAppId (the payer is a sub_openid)" : "spAppId";
    throw new PayCoreError("INVALID_OPTION", `${field} is missing or not an appid.`);
  }
  return appId;
}

/** `appId\ntimeStamp\nnonceStr\npackage\n`: what paySign covers (signType is not signed). */
export function buildV3PaySignMessage(parts: { readonly appId: string; readonly timeStamp: string; readonly nonceStr: string; readonly package: string }): string {
  return `${parts.appId}\n${parts.timeStamp}\n${parts.nonceStr}\n${parts.package}\n`;
}

/**
 * The exact object to pass to `wx.requestPayment` for a v3 order: `package` is always `prepay_id=<id>` (never the APP
 * form, which signs the bare prepay_id) and paySign is base64 SHA256withRSA over buildV3PaySignMessage.
 */
export function buildV3RequestPaymentParams(input: V3RequestPaymentInput): V3RequestPaymentParams {
  const appId = v3PayAppId(input.app);
  if (typeof input.prepayId !== "string" || !PREPAY_ID.test(input.prepayId) || input.prepayId.startsWith("prepay_id=")) {
    throw new PayCoreError("INVALID_OPTION", "prepayId must be the bare prepay_id (1-64 printable ASCII characters).");
  }
  const timeStamp = String(unixSeconds(input.now));
  const nonceStr = input.nonceStr ?? generateV3Nonce();
  if (typeof nonceStr !== "string" || !NONCE_STR.test(nonceStr)) throw new PayCoreError("INVALID_OPTION", "nonceStr must be 1-32 printable ASCII characters.");
  const key = loadV3MerchantPrivateKey(input.privateKey);

  const pkg = `prepay_id=${input.prepayId}`;
  const paySign = signV3Message(buildV3PaySignMessage({ appId, timeStamp, nonceStr, package: pkg }), key);
  return { timeStamp, nonceStr, package: pkg, signType: "RSA", paySign };
}

/** Why a v3 paySign was refused. */
export const V3_PAY_SIGN_ERROR_CODES = ["PAY_SIGN_WRONG_SIGN_TYPE", "PAY_SIGN_BAD_FIELD", "PAY_SIGN_BAD_SIGNATURE", "PAY_SIGN_MISMATCH"] as const;

export type V3PaySignErrorCode = (typeof V3_PAY_SIGN_ERROR_CODES)[number];

/** What the payer side receives: the five fields plus the appId the client runs as. */
export interface V3PaySignCheck {
  /** The Mini Program appid the payment is requested from. */
  readonly appId: string;
  readonly params: { readonly timeStamp: unknown; readonly nonceStr: unknown; readonly package: unknown; readonly signType: unknown; readonly paySign: unknown };
  /** The merchant's public key: SPKI / PKCS#1 PEM, its API certificate, or a KeyObject. */
  readonly publicKey: string | KeyObject;
}

/**
 * Checks v3 `wx.requestPayment` fields as WeChat does before the payment sheet opens: signType RSA, the
 * `prepay_id=` package (the APP form is refused), and paySign over `appId\ntimeStamp\nnonceStr\npackage\n`
 * with the merchant's public key. Untrusted fields give a coded refusal, never a throw.
 */
export function verifyV3PaySign(check: V3PaySignCheck): Result<V3RequestPaymentParams, V3PaySignErrorCode> {
  const key = loadV3MerchantPublicKey(check.publicKey);
  const { timeStamp, nonceStr, package: pkg, signType, paySign } = check.params;
  if (signType !== "RSA") return err("PAY_SIGN_WRONG_SIGN_TYPE", 'signType must be "RSA" for a v3 payment.');
  if (typeof timeStamp !== "string" || !TIME_STAMP.test(timeStamp)) return err("PAY_SIGN_BAD_FIELD", "timeStamp must be Unix seconds as a string.");
  if (typeof nonceStr !== "string" || !NONCE_STR.test(nonceStr)) return err("PAY_SIGN_BAD_FIELD", "nonceStr must be 1-32 printable ASCII characters.");
  if (typeof pkg !== "string" || !PACKAGE.test(pkg)) return err("PAY_SIGN_BAD_FIELD", 'package must be "prepay_id=<id>" (the bare prepay_id is the APP form).');
  if (typeof check.appId !== "string" || !APP_ID.test(check.appId)) return err("PAY_SIGN_BAD_FIELD", "appId must be the Mini Program appid.");
  if (typeof paySign !== "string" || !isV3SignatureBase64(paySign)) return err("PAY_SIGN_BAD_SIGNATURE", "paySign must be standard base64.");
  const message = buildV3PaySignMessage({ appId: check.appId, timeStamp, nonceStr, package: pkg });
  if (!verifyV3Message(message, paySign, key)) return err("PAY_SIGN_MISMATCH", "paySign does not verify with the merchant's public key for this appId.");
  return ok({ timeStamp, nonceStr, package: pkg, signType: "RSA", paySign });
}
