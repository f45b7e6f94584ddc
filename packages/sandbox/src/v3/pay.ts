import { verifyV3PaySign } from "@pay/core";
import type { SandboxContext } from "../context.js";
import type { RequestPaymentFields } from "../control/schemas.js";
import type { SandboxOrder } from "../state/types.js";

export type V3PaymentCheck = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly errMsg: string };

/** What the WeChat client shows when the paySign (or what it covers) does not check out. */
const PAY_SIGN_FAIL = "requestPayment:fail 支付验证签名失败";

function refused(message: string): V3PaymentCheck {
  return { ok: false, message, errMsg: PAY_SIGN_FAIL };
}

/**
 * Checks the `wx.requestPayment` fields of a v3 order as the WeChat client does before the sheet opens:
 * signType RSA, `package` = `prepay_id=<this order's prepay_id>`, the appId the order's payer belongs to
 * (`sub_appid` for a sub_openid, else the order's appid / sp_appid), and paySign over
 * `appId\ntimeStamp\nnonceStr\npackage\n` with the public key of the merchant certificate that signs the
 * mchid's requests. Changes nothing; a refusal carries the message WeChat shows.
 */
export function checkV3Payment(sandbox: SandboxContext, order: SandboxOrder, payment: RequestPaymentFields | undefined): V3PaymentCheck {
  if (payment === undefined) return refused("A v3 order is paid with the merchant's signed wx.requestPayment fields: send them as `payment`.");
  const identity = sandbox.v3.get(order.mchId);
  if (identity === undefined) return refused(`Merchant ${order.mchId} has no v3 settings in this sandbox; its paySign cannot be checked.`);
  const appId = payment.appId ?? order.payAppId;
  const verified = verifyV3PaySign({
    appId,
    params: { timeStamp: payment.timeStamp, nonceStr: payment.nonceStr, package: payment.package, signType: payment.signType, paySign: payment.paySign },
    publicKey: identity.merchantCertificate.publicKey,
  });
  if (!verified.ok) return refused(`${verified.error.code}: ${verified.error.message}`);
  if (payment.package !== `prepay_id=${order.prepayId}`) return refused(`package must be prepay_id=${order.prepayId}, this order's prepay_id.`);
  // WeChat checks that the app that ordered and the app that pays agree.
  if (appId !== order.payAppId) return refused(`The payment is requested from appId ${appId}, but the order was placed for ${order.payAppId}.`);
  return { ok: true };
}
