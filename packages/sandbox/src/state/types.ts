import type { Currency, SignType } from "@pay/core";
import type { DeliveryAttemptView, SandboxRefundStatus, SandboxTradeState } from "../control/schemas.js";

export type { SandboxTradeState };

/** The API version an order or refund was made with; its notifies follow it (XML for v2, signed JSON for v3). */
export type SandboxProtocol = "v2" | "v3";

/** An order as the gateway keeps it. */
export interface SandboxOrder {
  readonly protocol: SandboxProtocol;
  readonly mchId: string;
  readonly subMchId: string | undefined;
  readonly appId: string;
  readonly subAppId: string | undefined;
  readonly outTradeNo: string;
  readonly body: string;
  readonly attach: string | undefined;
  readonly totalFee: number;
  readonly feeType: Currency;
  /** v2: the order request's sign type (its notify is signed the same way); undefined for a v3 order. */
  readonly signType: SignType | undefined;
  /**
   * v3: the AppID the wx.requestPayment paySign is over: `sub_appid` when the payer is a `sub_openid`,
   * the order's `appid` / `sp_appid` otherwise. The v2 order's appid for v2.
   */
  readonly payAppId: string;
  /** v3 Global: the merchant category code of the order. */
  readonly merchantCategoryCode?: string | undefined;
  readonly notifyUrl: string;
  readonly openid: string | undefined;
  readonly subOpenid: string | undefined;
  /** Every business field of the first request, for the re-entry rule (identical parameters only). */
  readonly fingerprint: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  prepayId: string;
  prepayExpiresAt: number;
  tradeState: SandboxTradeState;
  tradeStateDesc: string;
  transactionId: string | undefined;
  timeEnd: string | undefined;
  paidAt: number | undefined;
  cashFee: number | undefined;
  cashFeeType: Currency | undefined;
  rate: number | undefined;
  readonly refunds: SandboxRefund[];
}

/** A refund as the gateway keeps it. */
export interface SandboxRefund {
  readonly protocol: SandboxProtocol;
  readonly mchId: string;
  readonly subMchId: string | undefined;
  readonly outTradeNo: string;
  readonly outRefundNo: string;
  readonly refundId: string;
  readonly refundFee: number;
  readonly totalFee: number;
  readonly feeType: Currency;
  readonly cashRefundFee: number | undefined;
  readonly notifyUrl: string | undefined;
  readonly refundDesc: string | undefined;
  readonly refundAccount: string;
  readonly createdAt: number;
  status: SandboxRefundStatus;
  successAt: number | undefined;
  settleTimer: unknown;
}

/** One attempt to deliver a notify, as the store keeps it and the control API shows it. */
export type DeliveryAttempt = Readonly<DeliveryAttemptView>;

/** A wx.login code issued for one user of one Mini Program. */
export interface LoginCode {
  readonly code: string;
  readonly appId: string;
  readonly openid: string;
  readonly expiresAt: number;
  used: boolean;
}

/** What a new order is made of: everything but its payment state, which starts unpaid. */
export type NewOrderFields = Omit<SandboxOrder, "tradeState" | "tradeStateDesc" | "transactionId" | "timeEnd" | "paidAt" | "cashFee" | "cashFeeType" | "rate" | "refunds">;

/** A new, unpaid order (NOTPAY, nothing paid, no refunds), whichever API version placed it. */
export function newUnpaidOrder(fields: NewOrderFields): SandboxOrder {
  return {
    ...fields,
    tradeState: "NOTPAY",
    tradeStateDesc: "订单未支付",
    transactionId: undefined,
    timeEnd: undefined,
    paidAt: undefined,
    cashFee: undefined,
    cashFeeType: undefined,
    rate: undefined,
    refunds: [],
  };
}
