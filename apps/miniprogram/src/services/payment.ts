import type { RequestPaymentParams } from "@pay/core/contract";
import type { WxPort } from "../utils/wx-port.js";

/** What the WeChat client said. `submitted` proves nothing: only the server, told by WeChat Pay, knows an order is paid. */
export type PaymentOutcome = { readonly kind: "submitted" } | { readonly kind: "cancelled" } | { readonly kind: "failed"; readonly message: string; readonly errMsg: string };

const FAIL_PREFIX = "requestPayment:fail";

/** Reads a fail/complete errMsg: the user's cancel, or a failure with WeChat's reason. */
function outcomeOf(errMsg: string): PaymentOutcome {
  if (errMsg === `${FAIL_PREFIX} cancel` || errMsg === "requestPayment:cancel") return { kind: "cancelled" };
  const detail = errMsg.startsWith(FAIL_PREFIX) ? errMsg.slice(FAIL_PREFIX.length).trim() : errMsg.trim();
  return { kind: "failed", errMsg, message: detail === "" ? "WeChat Pay could not complete the payment." : `WeChat Pay could not complete the payment: ${detail}` };
}

/**
 * Opens WeChat's payment sheet with exactly the five fields the server signed, copied one by one so
 * nothing else the server or a proxy added can reach wx.requestPayment.
 */
export function requestPayment(wx: Pick<WxPort, "requestPayment">, payment: RequestPaymentParams): Promise<PaymentOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: PaymentOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    wx.requestPayment({
      timeStamp: payment.timeStamp,
      nonceStr: payment.nonceStr,
      package: payment.package,
      signType: payment.signType,
      paySign: payment.paySign,
      success: () => settle({ kind: "submitted" }),
      fail: (result) => settle(outcomeOf(result.errMsg)),
      // Clients up to 6.5.2 reported a cancel through complete alone; on others this runs after success/fail and changes nothing.
      complete: (result) => settle(result.errMsg === "requestPayment:ok" ? { kind: "submitted" } : outcomeOf(result.errMsg)),
    });
  });
}
