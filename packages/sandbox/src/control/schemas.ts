// The wire shapes of the sandbox's control API (/sandbox/*). snake_case like the protocol it steers,
// except the delivery log and fault rules, which have always been camelCase. No Node built-ins here.
import type { RefundStatusV2 } from "@pay/core";
import { CurrencySchema, ReconciliationDateSchema } from "@pay/core/contract";
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

/** The API version an order was made with. */
export const SandboxProtocolSchema = z.enum(["v2", "v3"]);

/** The v3 refund states, as v3 answers and notifies name them. */
export const SANDBOX_V3_REFUND_STATUSES = ["PROCESSING", "SUCCESS", "ABNORMAL", "CLOSED"] as const;

/** The codes of the control API's error answers. */
export const SANDBOX_CONTROL_ERROR_CODES = [
  "BAD_REQUEST",
  "PREPAY_NOT_FOUND",
  "PREPAY_EXPIRED",
  "ORDER_PAID",
  "ORDER_CLOSED",
  "REFUND_NOT_FOUND",
  "REFUND_SETTLED",
  "PAY_SIGN_INVALID",
  "MERCHANT_NOT_FOUND",
  "NOT_ROTATABLE",
  "ORDER_NOT_FOUND",
  "ORDER_EXISTS",
  "ORDER_NOT_PAID",
  "REFUND_EXISTS",
] as const;
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
  PAY_SIGN_INVALID: 400,
  MERCHANT_NOT_FOUND: 404,
  NOT_ROTATABLE: 409,
  ORDER_NOT_FOUND: 404,
  ORDER_EXISTS: 409,
  ORDER_NOT_PAID: 409,
  REFUND_EXISTS: 409,
} as const satisfies Record<SandboxControlErrorCode, number>;

/** Every error answer; a refused payment also carries the errMsg wx.requestPayment would give. */
export const ControlErrorAnswerSchema = z.object({
  error: z.object({ code: z.enum(SANDBOX_CONTROL_ERROR_CODES), message: z.string() }),
  errMsg: z.string().optional(),
});
export type ControlErrorAnswer = z.infer<typeof ControlErrorAnswerSchema>;

// --- requests ---

/**
 * The fields the mini-program passes to wx.requestPayment for a v3 order (plus the Mini Program's AppID,
 * which the client knows): the payer side verifies paySign over appId, timeStamp, nonceStr and package
 * with the merchant's public key, as the WeChat client does.
 */
export const RequestPaymentFieldsSchema = z
  .object({
    /** The Mini Program the payer is in; the order's AppID (sub_appid with a sub_openid) when absent. */
    appId: z.string().min(1).max(32).optional(),
    timeStamp: z.string().min(1).max(32),
    nonceStr: z.string().min(1).max(64),
    package: z.string().min(1).max(128),
    signType: z.string().min(1).max(16),
    paySign: z.string().min(1).max(2048),
  })
  .strict();
export type RequestPaymentFields = z.infer<typeof RequestPaymentFieldsSchema>;

/**
 * POST /sandbox/pay: play the payer on the payment sheet behind a prepay_id. A v3 order needs `payment`.
 * `notify: false` pays without ever sending the pay notify (queries and bills still show the payment): a
 * payment the merchant's server never heard of, for reconciliation tests.
 */
export const PayRequestSchema = z
  .object({ prepay_id: z.string().min(1).max(64), outcome: PayOutcomeSchema, payment: RequestPaymentFieldsSchema.optional(), notify: z.boolean().optional() })
  .strict();
export type PayRequest = z.infer<typeof PayRequestSchema>;

/** POST /sandbox/login-codes: what wx.login would hand `user` of the Mini Program `appid`. */
export const LoginCodeRequestSchema = z.object({ appid: z.string().min(1), user: z.string().min(1).max(64).default("demo-user") }).strict();
export type LoginCodeRequest = z.input<typeof LoginCodeRequestSchema>;

/**
 * POST /sandbox/refunds/settle: settle a PROCESSING refund now. v3 names (ABNORMAL, CLOSED) are accepted as
 * CHANGE and REFUNDCLOSE. `notify: false` settles it without ever sending the refund notify.
 */
export const SettleRefundRequestSchema = z
  .object({
    mch_id: z.string().min(1),
    sub_mch_id: z.string().optional(),
    out_refund_no: z.string().min(1),
    status: z
      .enum(["SUCCESS", "CHANGE", "REFUNDCLOSE", "ABNORMAL", "CLOSED"])
      .transform((s): Exclude<SandboxRefundStatus, "PROCESSING"> => (s === "ABNORMAL" ? "CHANGE" : s === "CLOSED" ? "REFUNDCLOSE" : s)),
    notify: z.boolean().optional(),
  })
  .strict();
export type SettleRefundRequest = z.output<typeof SettleRefundRequestSchema>;

/** POST /sandbox/v3/certificates/rotate: issue a new platform certificate; the old ones stay valid for `overlap_ms`. */
export const RotateCertificateRequestSchema = z
  .object({
    mch_id: z.string().min(1),
    overlap_ms: z
      .number()
      .int()
      .min(0)
      .max(365 * 24 * 3600 * 1000)
      .optional(),
  })
  .strict();
export type RotateCertificateRequest = z.input<typeof RotateCertificateRequestSchema>;

/** GET /sandbox/v3/keys: the public keys and certificates of a v3 merchant. */
export const V3KeysQuerySchema = z.object({ mch_id: z.string().min(1) });

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
  // v3 only: a signed answer with a signature that does not verify, an unknown Wechatpay-Serial, a timestamp
  // six minutes ahead, or a WECHATPAY/SIGNTEST/ probe signature; `rotate` rotates the merchant's platform
  // certificate before answering (a rotation in the middle of a run).
  z.object({ kind: z.literal("badsignature") }),
  z.object({ kind: z.literal("unknownserial") }),
  z.object({ kind: z.literal("skew") }),
  z.object({ kind: z.literal("signtest") }),
  z.object({ kind: z.literal("rotate") }),
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

/** POST /sandbox/latency (the request) and GET/POST /sandbox/latency (the answer): the delay before every WeChat Pay gateway answer. */
export const LatencySchema = z.object({ latency_ms: z.number().int().min(0).max(120_000) }).strict();
export type Latency = z.infer<typeof LatencySchema>;

// --- reconciliation: payments the merchant never made, bill overrides, bill-file faults ---

const MchIdSchema = z.string().min(1).max(32);
const SubMchIdSchema = z.string().min(1).max(32).optional();
const OutTradeNoSchema = z.string().min(1).max(32);
const OutRefundNoSchema = z.string().min(1).max(64);
/** An amount in minor units, as the bill writes it. */
const BillAmountSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * POST /sandbox/foreign-payments: a payment at the gateway for an order the merchant's API never placed
 * (someone else's code, a console, a lost database). Paid now on the sandbox's clock, with no notify; its
 * query answers paid and it is in the day's bill. `fee_type` defaults to CNY (a Global merchant must name it).
 */
export const ForeignPaymentRequestSchema = z
  .object({
    mch_id: MchIdSchema,
    sub_mch_id: SubMchIdSchema,
    out_trade_no: OutTradeNoSchema,
    total_fee: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    fee_type: CurrencySchema.optional(),
    openid: z.string().min(1).max(128).optional(),
  })
  .strict();
export type ForeignPaymentRequest = z.infer<typeof ForeignPaymentRequestSchema>;

/**
 * POST /sandbox/foreign-refunds: a refund that succeeded at the gateway without the merchant's API asking
 * for it (a refund from the merchant platform, say): SUCCESS now on the sandbox's clock, no notify, in the
 * day's bill and answered by the refund query. The order must be paid and have `refund_fee` left.
 */
export const ForeignRefundRequestSchema = z
  .object({
    mch_id: MchIdSchema,
    sub_mch_id: SubMchIdSchema,
    out_trade_no: OutTradeNoSchema,
    out_refund_no: OutRefundNoSchema,
    refund_fee: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();
export type ForeignRefundRequest = z.infer<typeof ForeignRefundRequestSchema>;

/** The trade states a bill line can have that a JSAPI payment line never has. */
export const UNEXPECTED_TRADE_STATES = ["REVOKED", "PAYERROR", "CLOSED", "NOTPAY", "USERPAYING"] as const;

/**
 * A difference between the bill and the gateway's own state, for reconciliation tests. Every kind names
 * the merchant (mch_id, sub_mch_id in institutional mode) and the order, refund or bill day it changes;
 * the bill is otherwise built from the gateway's state, so its summary stays the sum of its lines
 * (except with `summary`). One difference per kind and target: posting the same kind for the same
 * target replaces it.
 * - payment_amount: the order's payment line shows `total_fee` (its amounts and fee) instead of the paid amount.
 * - payment_currency: the payment line is in `fee_type` (amounts in that currency's minor units). A bill
 *   cannot mix currencies: on a day with other lines this makes a MIXED_CURRENCIES bill.
 * - payment_transaction: the payment line shows another 微信订单号.
 * - payment_omitted / refund_omitted: the line is left out of the bill (and out of its summary).
 * - unexpected_row: a second line for the order with a trade state a payment never has (REVOKED by default).
 * - refund_amount: the refund's line shows `refund_fee` instead.
 * - summary: the summary row of one bill day says other figures than the sum of the lines.
 */
export const DiscrepancySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("payment_amount"), mch_id: MchIdSchema, sub_mch_id: SubMchIdSchema, out_trade_no: OutTradeNoSchema, total_fee: BillAmountSchema }).strict(),
  z.object({ kind: z.literal("payment_currency"), mch_id: MchIdSchema, sub_mch_id: SubMchIdSchema, out_trade_no: OutTradeNoSchema, fee_type: CurrencySchema }).strict(),
  z
    .object({
      kind: z.literal("payment_transaction"),
      mch_id: MchIdSchema,
      sub_mch_id: SubMchIdSchema,
      out_trade_no: OutTradeNoSchema,
      transaction_id: z.string().regex(/^[0-9]{1,32}$/, "expected up to 32 digits"),
    })
    .strict(),
  z.object({ kind: z.literal("payment_omitted"), mch_id: MchIdSchema, sub_mch_id: SubMchIdSchema, out_trade_no: OutTradeNoSchema }).strict(),
  z
    .object({
      kind: z.literal("unexpected_row"),
      mch_id: MchIdSchema,
      sub_mch_id: SubMchIdSchema,
      out_trade_no: OutTradeNoSchema,
      trade_state: z.enum(UNEXPECTED_TRADE_STATES).default("REVOKED"),
    })
    .strict(),
  z.object({ kind: z.literal("refund_amount"), mch_id: MchIdSchema, sub_mch_id: SubMchIdSchema, out_refund_no: OutRefundNoSchema, refund_fee: BillAmountSchema }).strict(),
  z.object({ kind: z.literal("refund_omitted"), mch_id: MchIdSchema, sub_mch_id: SubMchIdSchema, out_refund_no: OutRefundNoSchema }).strict(),
  z
    .object({
      kind: z.literal("summary"),
      mch_id: MchIdSchema,
      sub_mch_id: SubMchIdSchema,
      bill_date: ReconciliationDateSchema,
      /** 总交易单数. */
      trade_count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
      /** 应结订单总金额 (and 订单总金额), minor units. */
      settlement_total_fee: BillAmountSchema.optional(),
      /** 退款总金额 (and 申请退款总金额), minor units. */
      refund_fee: BillAmountSchema.optional(),
    })
    .strict()
    .refine((s) => s.trade_count !== undefined || s.settlement_total_fee !== undefined || s.refund_fee !== undefined, {
      message: "name at least one of trade_count, settlement_total_fee, refund_fee",
    }),
]);
export type DiscrepancyInput = z.input<typeof DiscrepancySchema>;
export type Discrepancy = z.output<typeof DiscrepancySchema>;
export type DiscrepancyKind = Discrepancy["kind"];

/** POST /sandbox/discrepancies. */
export const DiscrepancyAnswerSchema = z.object({ discrepancy: DiscrepancySchema });
export type DiscrepancyAnswer = z.infer<typeof DiscrepancyAnswerSchema>;
/** GET /sandbox/discrepancies: in the order they were posted. */
export const DiscrepanciesAnswerSchema = z.object({ discrepancies: z.array(DiscrepancySchema) });
export type DiscrepanciesAnswer = z.infer<typeof DiscrepanciesAnswerSchema>;

/**
 * What a bill-file fault does to the file a download serves (v2 downloadbill and v3 tradebill):
 * `truncated` cuts it before the summary; `foreign_merchant` writes another merchant's 商户号 in every
 * line; `other_day` moves every line's 交易时间 one day back; `garbage` serves something that is not a bill;
 * `hash_mismatch` (v3 only; a v2 download leaves it queued) serves a file that differs from the
 * hash_value the tradebill answer gave.
 */
export const BILL_FAULT_KINDS = ["truncated", "foreign_merchant", "other_day", "garbage", "hash_mismatch"] as const;
export const BillFaultKindSchema = z.enum(BILL_FAULT_KINDS);
export type BillFaultKind = z.infer<typeof BillFaultKindSchema>;

/** POST /sandbox/bill-faults: a fault for the next `times` downloads of one merchant's bill of one day that serve a file. */
export const BillFaultRuleSchema = z
  .object({
    mch_id: MchIdSchema,
    sub_mch_id: SubMchIdSchema,
    bill_date: ReconciliationDateSchema,
    fault: BillFaultKindSchema,
    times: z.number().int().min(1).max(1000).default(1),
  })
  .strict();
export type BillFaultRuleInput = z.input<typeof BillFaultRuleSchema>;
export type BillFaultRule = z.output<typeof BillFaultRuleSchema>;

/** A queued bill-file fault with the downloads it has left. */
export const BillFaultViewSchema = z.object({
  mch_id: z.string(),
  sub_mch_id: z.string().optional(),
  bill_date: z.string(),
  fault: BillFaultKindSchema,
  times: z.number().int(),
  remaining: z.number().int(),
});
export type BillFaultView = z.infer<typeof BillFaultViewSchema>;
/** POST /sandbox/bill-faults. */
export const BillFaultAnswerSchema = z.object({ bill_fault: BillFaultViewSchema });
/** GET /sandbox/bill-faults: the queued ones, oldest first. */
export const BillFaultsAnswerSchema = z.object({ bill_faults: z.array(BillFaultViewSchema) });

// --- answers ---

/** A refund as the control API shows it. */
export const SandboxRefundViewSchema = z.object({
  out_refund_no: z.string(),
  refund_id: z.string(),
  refund_fee: z.number().int(),
  refund_status: SandboxRefundStatusSchema,
  /** A v3 refund's status as v3 answers and notifies name it (CHANGE is ABNORMAL, REFUNDCLOSE is CLOSED); absent for a v2 refund. */
  v3_refund_status: z.enum(SANDBOX_V3_REFUND_STATUSES).optional(),
});
export type SandboxRefundView = z.infer<typeof SandboxRefundViewSchema>;

/** An order as the control API shows it: the gateway's view, snake_case like the protocol. */
export const SandboxOrderViewSchema = z.object({
  protocol: SandboxProtocolSchema,
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

export const V3KeyModeSchema = z.enum(["platform-certificate", "public-key", "migration"]);

/** A v3 merchant's identity as the control API shows it: serials and IDs, never a private key. */
export const V3MerchantViewSchema = z.object({
  key_mode: V3KeyModeSchema,
  /** The merchant API certificate's serial: the Authorization header's serial_no. */
  merchant_serial: z.string(),
  /** The WeChat Pay public key's ID (public-key and migration modes). */
  public_key_id: z.string().nullable(),
  /** Serials of the platform certificates in use, oldest first. */
  platform_serials: z.array(z.string()),
});
export type V3MerchantView = z.infer<typeof V3MerchantViewSchema>;

/** GET /sandbox/merchants. */
export const MerchantsAnswerSchema = z.object({
  merchants: z.array(
    z.object({
      appid: z.string(),
      mch_id: z.string(),
      sub_appid: z.string().nullable(),
      sub_mch_id: z.string().nullable(),
      profile: z.enum(["domestic", "global"]),
      /** The API versions the merchant is configured for. */
      protocols: z.array(SandboxProtocolSchema),
      v3: V3MerchantViewSchema.nullable(),
    }),
  ),
});
export type MerchantsAnswer = z.infer<typeof MerchantsAnswerSchema>;

/** POST /sandbox/login-codes: the code, the openid behind it, and when the code expires. */
export const LoginCodeAnswerSchema = z.object({ code: z.string().min(1), openid: z.string().min(1), expires_at: z.iso.datetime() });
export type LoginCodeAnswer = z.infer<typeof LoginCodeAnswerSchema>;

/** POST /sandbox/pay: the errMsg wx.requestPayment would give the mini-program, and the order after. */
export const PayAnswerSchema = z.object({ outcome: PayOutcomeSchema, errMsg: z.string(), order: SandboxOrderViewSchema });
export type PayAnswer = z.infer<typeof PayAnswerSchema>;

/** POST /sandbox/foreign-payments: the paid order. */
export const ForeignPaymentAnswerSchema = z.object({ order: SandboxOrderViewSchema });
export type ForeignPaymentAnswer = z.infer<typeof ForeignPaymentAnswerSchema>;

/** GET /sandbox/orders. */
export const OrdersAnswerSchema = z.object({ orders: z.array(SandboxOrderViewSchema) });
export type OrdersAnswer = z.infer<typeof OrdersAnswerSchema>;

/** One attempt to deliver a notify. */
export const DeliveryAttemptSchema = z.object({
  id: z.number().int(),
  /** The order's API version: v2 XML notifies or v3 signed JSON ones. */
  protocol: z.enum(["v2", "v3"]),
  kind: DeliveryKindSchema,
  /** v3 only: TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED. */
  eventType: z.string().optional(),
  outTradeNo: z.string(),
  outRefundNo: z.string().optional(),
  url: z.string(),
  /** 1 for the first delivery, counting up through the retries; 0 for a v3 signature probe. */
  attempt: z.number().int(),
  /** True for a duplicate or concurrent copy, false for a scheduled attempt. */
  copy: z.boolean(),
  /** Epoch milliseconds on the sandbox's clock. */
  at: z.number(),
  /**
   * `probe-refused`: the receiver refused a `WECHATPAY/SIGNTEST/` probe, as it must; `probe-accepted`: it
   * acknowledged one, so it does not verify signatures.
   */
  outcome: z.enum(["acknowledged", "rejected", "http-error", "network-error", "timeout", "probe-refused", "probe-accepted"]),
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
export const SettleRefundAnswerSchema = z.object({
  out_refund_no: z.string(),
  refund_status: SandboxRefundStatusSchema,
  /** A v3 refund's status in v3 names; absent for a v2 refund. */
  v3_refund_status: z.enum(SANDBOX_V3_REFUND_STATUSES).optional(),
});
export type SettleRefundAnswer = z.infer<typeof SettleRefundAnswerSchema>;

/** POST /sandbox/v3/certificates/rotate: the new certificate and the ones retiring. */
export const RotateCertificateAnswerSchema = z.object({
  mch_id: z.string(),
  serial_no: z.string(),
  retiring: z.array(z.object({ serial_no: z.string(), retires_at: z.iso.datetime() })),
});
export type RotateCertificateAnswer = z.infer<typeof RotateCertificateAnswerSchema>;

/** GET /sandbox/v3/keys: what a merchant downloads from the platform, minus the private key (that one is written to v3KeysDir). */
export const V3KeysAnswerSchema = z.object({
  mch_id: z.string(),
  key_mode: V3KeyModeSchema,
  merchant_serial: z.string(),
  /** The merchant API certificate (apiclient_cert.pem); null when only a public key was configured. */
  merchant_certificate_pem: z.string().nullable(),
  /** The WeChat Pay public key (wxp_pub.pem) and its ID. */
  public_key: z.object({ id: z.string(), pem: z.string() }).nullable(),
  platform_certificates: z.array(z.object({ serial_no: z.string(), pem: z.string(), effective_time: z.iso.datetime(), expire_time: z.iso.datetime() })),
});
export type V3KeysAnswer = z.infer<typeof V3KeysAnswerSchema>;

/** A queued fault rule with the uses it has left. */
export const FaultRuleViewSchema = z.object({ path: z.string(), faults: z.array(FaultSchema), times: z.number().int(), remaining: z.number().int() });
export type FaultRuleView = z.infer<typeof FaultRuleViewSchema>;

/** GET /sandbox/faults. */
export const FaultsAnswerSchema = z.object({ faults: z.array(FaultRuleViewSchema) });
export type FaultsAnswer = z.infer<typeof FaultsAnswerSchema>;

/** POST /sandbox/faults. */
export const FaultAnswerSchema = z.object({ fault: FaultRuleViewSchema });
export type FaultAnswer = z.infer<typeof FaultAnswerSchema>;
