import { formatDashedBeijingTime, formatMoney, type Currency } from "@pay/core";
import type { SandboxContext } from "../context.js";
import type { RequestPaymentFields } from "../control/schemas.js";
import { expireIfDue } from "../state/payments.js";
import type { SandboxOrder } from "../state/types.js";

/** What the payer can do on the sheet: only `open` shows Pay and Cancel. */
export type CashierStatus = "open" | "paid" | "refunded" | "closed" | "expired" | "failed";

/** Everything the payment sheet shows, already formatted for display (not yet HTML-escaped). */
export interface CashierView {
  readonly prepayId: string;
  readonly status: CashierStatus;
  readonly appId: string;
  readonly subAppId: string | undefined;
  readonly mchId: string;
  readonly subMchId: string | undefined;
  readonly goods: string;
  readonly outTradeNo: string;
  /** The order amount through formatMoney, e.g. "¥12.34" or "¥1,750" (JPY). */
  readonly amount: string;
  readonly currency: Currency;
  readonly transactionId: string | undefined;
  /** Beijing time, `yyyy-MM-dd HH:mm:ss`. */
  readonly paidAt: string | undefined;
  /** Global: what the payer's CNY balance was charged, when that differs from the order currency. */
  readonly charged: string | undefined;
  /**
   * Present for a v3 order: the wx.requestPayment fields from the page's URL, which Pay and Cancel send, as the
   * WeChat client checks the merchant's paySign before the sheet opens; undefined when the link carries none.
   */
  readonly v3?: { readonly payment: RequestPaymentFields | undefined };
}

function statusOf(sandbox: SandboxContext, order: SandboxOrder): CashierStatus {
  // The same lazy expiry the gateway applies on every read, so the sheet agrees with orderquery.
  if (expireIfDue(sandbox, order)) return "closed";
  switch (order.tradeState) {
    case "NOTPAY":
      return sandbox.clock.now() >= order.prepayExpiresAt ? "expired" : "open";
    case "SUCCESS":
      return "paid";
    case "REFUND":
      return "refunded";
    case "CLOSED":
      return "closed";
    case "PAYERROR":
      return "failed";
  }
}

/** The sheet's view of the order behind a prepay_id, as of the sandbox clock's now; `payment` is a v3 order's signed fields. */
export function cashierViewOf(sandbox: SandboxContext, order: SandboxOrder, payment?: RequestPaymentFields): CashierView {
  const charged =
    order.cashFee !== undefined && order.cashFeeType !== undefined && order.cashFeeType !== order.feeType
      ? `${formatMoney({ amount: order.cashFee, currency: order.cashFeeType })} ${order.cashFeeType}`
      : undefined;
  return {
    prepayId: order.prepayId,
    status: statusOf(sandbox, order),
    appId: order.appId,
    subAppId: order.subAppId,
    mchId: order.mchId,
    subMchId: order.subMchId,
    goods: order.body,
    outTradeNo: order.outTradeNo,
    amount: formatMoney({ amount: order.totalFee, currency: order.feeType }),
    currency: order.feeType,
    transactionId: order.transactionId,
    paidAt: order.paidAt === undefined ? undefined : formatDashedBeijingTime(order.paidAt),
    charged,
    ...(order.protocol === "v3" ? { v3: { payment } } : {}),
  };
}
