// PLACEHOLDER: replaced by the orders work (helper): verifies the v3 paySign as the WeChat client does.
import type { SandboxContext } from "../context.js";
import type { RequestPaymentFields } from "../control/schemas.js";
import type { SandboxOrder } from "../state/types.js";

export type V3PaymentCheck = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly errMsg: string };

export function checkV3Payment(_sandbox: SandboxContext, _order: SandboxOrder, payment: RequestPaymentFields | undefined): V3PaymentCheck {
  if (payment === undefined) return { ok: false, message: "A v3 order needs the wx.requestPayment fields.", errMsg: "requestPayment:fail 支付验证签名失败" };
  return { ok: false, message: "not implemented yet", errMsg: "requestPayment:fail 支付验证签名失败" };
}
