// The wire shapes of the sandbox's control API (/sandbox/*). snake_case like the protocol it steers,
// except the delivery log and fault rules, which have always been camelCase. No Node built-ins here.
import type { RefundStatusV2 } from "@pay/core";
import { CurrencySchema } from "@pay/core/contract";
import { z } from "zod";

/** Trade states the sandbox moves orders through. */
export const SANDBOX_TRADE_STATES = ["NOTPAY", "SUCCESS", "CLOSED", "REFUND", "PAYERROR"] as const;
export const SandboxTradeStateSchema = z.enum(SANDBOX_TRADE_STATES);
export type SandboxTradeState = z.infer<typeof SandboxTradeStateSchema>;

/** The v2 refund states the sandbox uses (it never reports the old Global NOTSURE). */
export const SANDBOX_REFUND_STATUSES = ["PROCESSING", "SUCCESS", "CHANGE", "REFUNDCLOSE"] as const satisfies readonly RefundStatusV2[];
export const SandboxRefundStatusSchema = z.enum(SANDBOX_REFUND_STATUSES);
export type SandboxRefundStatus = z.infer<typeof SandboxRefundStatusSchema>;

/** What the payer did in the WeChat client. */
export const PAY_OUTCOMES = ["success", "cancel", "fail"] as const;
export const PayOutcomeSchema = z.enum(PAY_OUTCOMES);
export type PayOutcome = z.infer<typeof PayOutcomeSchema>;

/** The codes of the control API's error answers. */
export const SANDBOX_CONTROL_ERROR_CODES = ["BAD_REQUEST", "PREPAY_NOT_FOUND", "PREPAY_EXPIRED", "ORDER_PAID", "ORDER_CLOSED", "REFUND_NOT_FOUND", "REFUND_SETTLED"] as const;
export type SandboxControlErrorCode = (typeof SANDBOX_CONTROL_ERROR_CODES)[number];

/** The HTTP status of each error code; a code without one fails to compile. */
export const SANDBOX_CONTROL_ERROR_STATUS = {
  BAD_REQUEST: 400,
  PREPAY_NOT_FOUND: 404,
  PREPAY_EXPIRED: 409,
  ORDER_PAID: 409,
  ORDER_CLOSED: 409,
  REFUND_NOT_FOUND: 404,
  REFUND_SETTLED: 409,
} as const satisfies Record<SandboxControlErrorCode, number>;

/** Every error answer; a refused payment also carries the errMsg wx.requestPayment would give. */
export const ControlErrorAnswerSchema = z.object({
  error: z.object({ code: z.enum(SANDBOX_CONTROL_ERROR_CODES), message: z.string() }),
  errMsg: z.string().optional(),
});
export type ControlErrorAnswer = z.infer<typeof ControlErrorAnswerSchema>;

// --- requests ---

/** POST /sandbox/pay: play the payer on the payment sheet behind a prepay_id. */
export const PayRequestSchema = z.object({ prepay_id: z.string().min(1).max(64), outcome: PayOutcomeSchema }).strict();
export type PayRequest = z.infer<typeof PayRequestSchema>;

/** POST /sandbox/login-codes: what wx.login would hand `user` of the Mini Program `appid`. */
export const LoginCodeRequestSchema = z.object({ appid: z.string().min(1), user: z.string().min(1).max(64).default("demo-user") }).strict();
export type LoginCodeRequest = z.input<typeof LoginCodeRequestSchema>;

/** POST /sandbox/refunds/settle: settle a PROCESSING refund now. */
export const SettleRefundRequestSchema = z
  .object({
    mch_id: z.string().min(1),
    sub_mch_id: z.string().optional(),
    out_refund_no: z.string().min(1),
    status: SandboxRefundStatusSchema.exclude(["PROCESSING"]),
  })
  .strict();
export type SettleRefundRequest = z.infer<typeof SettleRefundRequestSchema>;

/** GET /sandbox/orders: optional filters. */
export const OrdersQuerySchema = z.object({ out_trade_no: z.string().optional(), mch_id: z.string().optional() });
export type OrdersQuery = z.infer<typeof OrdersQuerySchema>;

export const DELIVERY_KINDS = ["pay", "refund"] as const;
export const DeliveryKindSchema = z.enum(DELIVERY_KINDS);
export type DeliveryKind = z.infer<typeof DeliveryKindSchema>;

/** GET /sandbox/deliveries: optional filters. */
export const DeliveriesQuerySchema = z.object({ out_trade_no: z.string().optional(), kind: DeliveryKindSchema.optional() });
export type DeliveriesQuery = z.infer<typeof DeliveriesQuerySchema>;

/** A fault to inject into one gateway answer. */
export const FaultSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("delay"), ms: z.number().int().min(0).max(120_000) }),
  z.object({ kind: z.literal("timeout") }),
  z.object({ kind: z.literal("http"), status: z.number().int().min(500).max(599) }),
  z.object({ kind: z.literal("garbage") }),
  z.object({ kind: z.literal("systemerror") }),
]);
export type Fault = z.infer<typeof FaultSchema>;

/** POST /sandbox/faults: a rule that applies to the next `times` requests on `path`. */
export const FaultRuleSchema = z.object({
  /** A gateway path such as `/pay/unifiedorder`, or `*` for every gateway path. */
  path: z.string().min(1),
  faults: z.array(FaultSchema).min(1),
  times: z.number().int().min(1).max(10_000).default(1),
});
export type FaultRuleInput = z.input<typeof FaultRuleSchema>;

// --- answers ---

/** A refund as the control API shows it. */
export const SandboxRefundViewSchema = z.object({
  out_refund_no: z.string(),
  refund_id: z.string(),
  refund_fee: z.number().int(),
  refund_status: SandboxRefundStatusSchema,
});
export type SandboxRefundView = z.infer<typeof SandboxRefundViewSchema>;

/** An order as the control API shows it: the gateway's view, snake_case like the protocol. */
export const SandboxOrderViewSchema = z.object({
  mch_id: z.string(),
  sub_mch_id: z.string().nullable(),
  out_trade_no: z.string(),
  body: z.string(),
  openid: z.string().nullable(),
  sub_openid: z.string().nullable(),
  total_fee: z.number().int(),
  fee_type: CurrencySchema,
  trade_state: SandboxTradeStateSchema,
  prepay_id: z.string(),
  transaction_id: z.string().nullable(),
  time_end: z.string().nullable(),
  cash_fee: z.number().int().nullable(),
  cash_fee_type: CurrencySchema.nullable(),
  rate: z.number().int().nullable(),
  refunds: z.array(SandboxRefundViewSchema),
});
export type SandboxOrderView = z.infer<typeof SandboxOrderViewSchema>;

/** GET /sandbox/merchants. */
export const MerchantsAnswerSchema = z.object({
  merchants: z.array(
    z.object({ appid: z.string(), mch_id: z.string(), sub_appid: z.string().nullable(), sub_mch_id: z.string().nullable(), profile: z.enum(["domestic", "global"]) }),
  ),
});
export type MerchantsAnswer = z.infer<typeof MerchantsAnswerSchema>;

/** POST /sandbox/login-codes: the code, the openid behind it, and when the code expires. */
export const LoginCodeAnswerSchema = z.object({ code: z.string().min(1), openid: z.string().min(1), expires_at: z.iso.datetime() });
export type LoginCodeAnswer = z.infer<typeof LoginCodeAnswerSchema>;

/** POST /sandbox/pay: the errMsg wx.requestPayment would give the mini-program, and the order after. */
export const PayAnswerSchema = z.object({ outcome: PayOutcomeSchema, errMsg: z.string(), order: SandboxOrderViewSchema });
export type PayAnswer = z.infer<typeof PayAnswerSchema>;

/** GET /sandbox/orders. */
export const OrdersAnswerSchema = z.object({ orders: z.array(SandboxOrderViewSchema) });
export type OrdersAnswer = z.infer<typeof OrdersAnswerSchema>;

/** One attempt to deliver a notify. */
export const DeliveryAttemptSchema = z.object({
  id: z.number().int(),
  kind: DeliveryKindSchema,
  outTradeNo: z.string(),
  outRefundNo: z.string().optional(),
  url: z.string(),
  /** 1 for the first delivery, counting up through the retries. */
  attempt: z.number().int(),
  /** True for a duplicate or concurrent copy, false for a scheduled attempt. */
  copy: z.boolean(),
  /** Epoch milliseconds on the sandbox's clock. */
  at: z.number(),
  outcome: z.enum(["acknowledged", "rejected", "http-error", "network-error", "timeout"]),
  httpStatus: z.number().int().optional(),
  /** The first 200 characters of the receiver's reply. */
  reply: z.string(),
  durationMs: z.number(),
});
export type DeliveryAttemptView = z.infer<typeof DeliveryAttemptSchema>;

/** GET /sandbox/deliveries. */
export const DeliveriesAnswerSchema = z.object({ deliveries: z.array(DeliveryAttemptSchema) });
export type DeliveriesAnswer = z.infer<typeof DeliveriesAnswerSchema>;

/** POST /sandbox/refunds/settle. */
export const SettleRefundAnswerSchema = z.object({ out_refund_no: z.string(), refund_status: SandboxRefundStatusSchema });
export type SettleRefundAnswer = z.infer<typeof SettleRefundAnswerSchema>;

/** A queued fault rule with the uses it has left. */
export const FaultRuleViewSchema = z.object({ path: z.string(), faults: z.array(FaultSchema), times: z.number().int(), remaining: z.number().int() });
export type FaultRuleView = z.infer<typeof FaultRuleViewSchema>;

/** GET /sandbox/faults. */
export const FaultsAnswerSchema = z.object({ faults: z.array(FaultRuleViewSchema) });
export type FaultsAnswer = z.infer<typeof FaultsAnswerSchema>;

/** POST /sandbox/faults. */
export const FaultAnswerSchema = z.object({ fault: FaultRuleViewSchema });
export type FaultAnswer = z.infer<typeof FaultAnswerSchema>;
