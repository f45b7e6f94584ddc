import type { Currency, SignType } from "@pay/core";
import type { DeliveryAttemptView, SandboxRefundStatus, SandboxTradeState } from "../control/schemas.js";

export type { SandboxTradeState };

/** An order as the gateway keeps it. */
export interface SandboxOrder {
  readonly mchId: string;
  readonly subMchId: string | undefined;
  readonly appId: string;
  readonly subAppId: string | undefined;
  readonly outTradeNo: string;
  readonly body: string;
  readonly attach: string | undefined;
  readonly totalFee: number;
  readonly feeType: Currency;
  readonly signType: SignType;
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
