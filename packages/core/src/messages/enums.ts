import { z } from "zod";

/** orderquery `trade_state`. Terminal: SUCCESS, REFUND, CLOSED, REVOKED, PAYERROR. */
export const TRADE_STATES = ["SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR", "ACCEPT"] as const;
export const TradeStateSchema = z.enum(TRADE_STATES);
export type TradeState = z.infer<typeof TradeStateSchema>;

/** Trade states after which the order can no longer be paid. */
export const TERMINAL_TRADE_STATES: ReadonlySet<TradeState> = new Set(["SUCCESS", "REFUND", "CLOSED", "REVOKED", "PAYERROR"]);

/** v2 `refund_status`. CHANGE needs a person (card cancelled or frozen); NOTSURE is an old Global value. */
export const REFUND_STATUSES_V2 = ["SUCCESS", "REFUNDCLOSE", "PROCESSING", "CHANGE", "NOTSURE"] as const;
export const RefundStatusV2Schema = z.enum(REFUND_STATUSES_V2);
export type RefundStatusV2 = z.infer<typeof RefundStatusV2Schema>;

export const TRADE_TYPES = ["JSAPI", "NATIVE", "APP", "MWEB", "MICROPAY"] as const;
export const TradeTypeSchema = z.enum(TRADE_TYPES);
export type TradeType = z.infer<typeof TradeTypeSchema>;
