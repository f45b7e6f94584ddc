import { z } from "zod";
import type { Currency } from "../../money/currency.js";
import type { Money } from "../../money/money.js";
import {
  checkV3Request,
  checkV3RequestWithNotifyUrl,
  jsonBody,
  v3PathSegment,
  v3QueryString,
  V3_HOSTS,
  V3CnyMoneySchema,
  v3Id,
  V3NotifyUrlSchema,
  V3OutRefundNoSchema,
  V3OutTradeNoSchema,
  V3PositiveMoneySchema,
  v3Text,
  V3TransactionIdSchema,
  type V3BuildOptions,
  type V3Request,
} from "./request.js";
import { moneyOf, WireCurrencySchema, WireExchangeRateSchema, WireMinorUnitsSchema, wireText, WireTimeSchema, type V3ExchangeRate } from "./wire.js";

function checkRefund(
  value: {
    transactionId?: string | undefined;
    outTradeNo?: string | undefined;
    amount: { refund: Money; total: Money };
  },
  ctx: z.RefinementCtx,
): void {
  if ((value.transactionId === undefined) === (value.outTradeNo === undefined)) {
    ctx.addIssue({ code: "custom", path: ["transactionId"], message: "exactly one of transaction_id and out_trade_no is required" });
  }
  const { refund, total } = value.amount;
  if (refund.currency !== total.currency) {
    ctx.addIssue({ code: "custom", path: ["amount", "refund"], message: "must be in the currency of the total" });
  } else if (refund.amount > total.amount) {
    ctx.addIssue({ code: "custom", path: ["amount", "refund"], message: "must not exceed the total" });
  }
}

const REFUND_SHAPE = {
  transactionId: V3TransactionIdSchema.optional(),
  outTradeNo: V3OutTradeNoSchema.optional(),
  outRefundNo: V3OutRefundNoSchema,
  reason: v3Text(80).optional(),
  notifyUrl: V3NotifyUrlSchema.optional(),
};

/** A mainland refund (`POST /v3/refund/domestic/refunds`); `subMchid` in partner mode. Amounts in CNY fen. */
export const V3RefundSchema = z
  .object({
    subMchid: v3Id(32).optional(),
    ...REFUND_SHAPE,
    fundsAccount: z.literal("AVAILABLE").optional(),
    amount: z.object({ refund: V3CnyMoneySchema, total: V3CnyMoneySchema }),
  })
  .superRefine(checkRefund);
export type V3Refund = z.input<typeof V3RefundSchema>;

/** A WeChat Pay Global refund (`POST /v3/global/refunds` on apihk): `mchid`, or `spMchid` + `subMchid`. */
export const V3GlobalRefundSchema = z
  .object({
    mchid: v3Id(32).optional(),
    spMchid: v3Id(32).optional(),
    subMchid: v3Id(32).optional(),
    ...REFUND_SHAPE,
    amount: z.object({ refund: V3PositiveMoneySchema, total: V3PositiveMoneySchema }),
  })
  .superRefine((value, ctx) => {
    const partner = value.spMchid !== undefined || value.subMchid !== undefined;
    if (value.mchid !== undefined && partner) ctx.addIssue({ code: "custom", path: ["mchid"], message: "must not be given with sp_mchid / sub_mchid" });
    else if (value.mchid === undefined && (value.spMchid === undefined || value.subMchid === undefined)) {
      ctx.addIssue({ code: "custom", path: ["mchid"], message: "is required (or sp_mchid and sub_mchid for an institution)" });
    }
    checkRefund(value, ctx);
  });
export type V3GlobalRefund = z.input<typeof V3GlobalRefundSchema>;

function wireRefundAmount(amount: { refund: Money; total: Money }) {
  return { refund: amount.refund.amount, total: amount.total.amount, currency: amount.total.currency };
}

/** Builds `POST /v3/refund/domestic/refunds` (throws INVALID_FIELD). Repeating the same out_refund_no refunds once. */
export function buildV3Refund(request: V3Refund, options?: V3BuildOptions): V3Request {
  const r = checkV3RequestWithNotifyUrl(V3RefundSchema, request, options);
  const body = {
    sub_mchid: r.subMchid,
    transaction_id: r.transactionId,
    out_trade_no: r.outTradeNo,
    out_refund_no: r.outRefundNo,
    reason: r.reason,
    notify_url: r.notifyUrl,
    funds_account: r.fundsAccount,
    amount: wireRefundAmount(r.amount),
  };
  return { method: "POST", host: V3_HOSTS.domestic, path: "/v3/refund/domestic/refunds", body: jsonBody(body) };
}

/** Builds WeChat Pay Global `POST /v3/global/refunds` (throws INVALID_FIELD). */
export function buildV3GlobalRefund(request: V3GlobalRefund, options?: V3BuildOptions): V3Request {
  const r = checkV3RequestWithNotifyUrl(V3GlobalRefundSchema, request, options);
  const body = {
    mchid: r.mchid,
    sp_mchid: r.spMchid,
    sub_mchid: r.subMchid,
    transaction_id: r.transactionId,
    out_trade_no: r.outTradeNo,
    out_refund_no: r.outRefundNo,
    reason: r.reason,
    notify_url: r.notifyUrl,
    amount: wireRefundAmount(r.amount),
  };
  return { method: "POST", host: V3_HOSTS.global, path: "/v3/global/refunds", body: jsonBody(body) };
}

/** A refund query by out_refund_no (mainland, `?sub_mchid=` in partner mode). */
export const V3QueryRefundSchema = z.object({ outRefundNo: V3OutRefundNoSchema, subMchid: v3Id(32).optional() });
export type V3QueryRefund = z.input<typeof V3QueryRefundSchema>;

/** Builds `GET /v3/refund/domestic/refunds/{out_refund_no}[?sub_mchid=]` (throws INVALID_FIELD). */
export function buildV3QueryRefund(request: V3QueryRefund): V3Request {
  const q = checkV3Request(V3QueryRefundSchema, request);
  return { method: "GET", host: V3_HOSTS.domestic, path: `/v3/refund/domestic/refunds/${v3PathSegment(q.outRefundNo)}${v3QueryString([["sub_mchid", q.subMchid]])}`, body: "" };
}

/** A Global refund query by out_refund_no or refund id, exactly one; `mchid` or `spMchid` + `subMchid`. */
export const V3GlobalQueryRefundSchema = z
  .object({
    mchid: v3Id(32).optional(),
    spMchid: v3Id(32).optional(),
    subMchid: v3Id(32).optional(),
    outRefundNo: V3OutRefundNoSchema.optional(),
    refundId: z
      .string()
      .regex(/^[0-9]{1,32}$/, "must be 1-32 digits")
      .optional(),
  })
  .superRefine((value, ctx) => {
    const partner = value.spMchid !== undefined || value.subMchid !== undefined;
    if (value.mchid !== undefined && partner) ctx.addIssue({ code: "custom", path: ["mchid"], message: "must not be given with sp_mchid / sub_mchid" });
    else if (value.mchid === undefined && (value.spMchid === undefined || value.subMchid === undefined)) {
      ctx.addIssue({ code: "custom", path: ["mchid"], message: "is required (or sp_mchid and sub_mchid for an institution)" });
    }
    if ((value.outRefundNo === undefined) === (value.refundId === undefined)) {
      ctx.addIssue({ code: "custom", path: ["outRefundNo"], message: "exactly one of out_refund_no and refund_id is required" });
    }
  });
export type V3GlobalQueryRefund = z.input<typeof V3GlobalQueryRefundSchema>;

/** Builds Global `GET /v3/global/refunds/out-refund-no/{no}` or `/id/{refund_id}` with the merchant query (throws INVALID_FIELD). */
export function buildV3GlobalQueryRefund(request: V3GlobalQueryRefund): V3Request {
  const q = checkV3Request(V3GlobalQueryRefundSchema, request);
  const target = q.refundId !== undefined ? `id/${v3PathSegment(q.refundId)}` : `out-refund-no/${v3PathSegment(q.outRefundNo ?? "")}`;
  const query =
    q.mchid !== undefined
      ? v3QueryString([["mchid", q.mchid]])
      : v3QueryString([
          ["sp_mchid", q.spMchid],
          ["sub_mchid", q.subMchid],
        ]);
  return { method: "GET", host: V3_HOSTS.global, path: `/v3/global/refunds/${target}${query}`, body: "" };
}

/** Every refund status. PROCESSING is not final; the others are. */
export const V3_REFUND_STATUSES = ["SUCCESS", "CLOSED", "PROCESSING", "ABNORMAL"] as const;
export type V3RefundStatus = (typeof V3_REFUND_STATUSES)[number];
export const V3RefundStatusSchema = z.enum(V3_REFUND_STATUSES);

const RefundAmountWireSchema = z.object({
  total: WireMinorUnitsSchema,
  refund: WireMinorUnitsSchema,
  payer_total: WireMinorUnitsSchema.optional(),
  payer_refund: WireMinorUnitsSchema.optional(),
  settlement_total: WireMinorUnitsSchema.optional(),
  settlement_refund: WireMinorUnitsSchema.optional(),
  discount_refund: WireMinorUnitsSchema.optional(),
  currency: WireCurrencySchema.optional(),
  payer_currency: WireCurrencySchema.optional(),
  exchange_rate: WireExchangeRateSchema.optional(),
});

/** A refund's amounts, each with its currency (payer_* in payer_currency). */
export interface V3RefundAmount {
  readonly total: Money;
  readonly refund: Money;
  readonly payerTotal?: Money;
  readonly payerRefund?: Money;
  readonly settlementTotal?: Money;
  readonly settlementRefund?: Money;
  readonly discountRefund?: Money;
  readonly exchangeRate?: V3ExchangeRate;
}

/** A refund as the create and query answers describe it. */
export interface V3RefundAnswer {
  readonly refundId: string;
  readonly outRefundNo: string;
  readonly transactionId?: string;
  readonly outTradeNo?: string;
  readonly channel?: string;
  readonly userReceivedAccount?: string;
  readonly successTime?: string;
  readonly createTime?: string;
  readonly status: V3RefundStatus;
  readonly fundsAccount?: string;
  readonly amount: V3RefundAmount;
}

/** The refund answer's wire fields; Global names the refund number `id` (OAPI). */
export const V3RefundWireSchema = z.object({
  refund_id: wireText(32).optional(),
  id: wireText(32).optional(),
  out_refund_no: wireText(64),
  transaction_id: wireText(32).optional(),
  out_trade_no: wireText(32).optional(),
  channel: wireText(32).optional(),
  user_received_account: wireText(64).optional(),
  success_time: WireTimeSchema.optional(),
  create_time: WireTimeSchema.optional(),
  status: V3RefundStatusSchema,
  funds_account: wireText(32).optional(),
  amount: RefundAmountWireSchema,
});

function optionalMoney<K extends string>(key: K, amount: number | undefined, currency: Currency): { [P in K]?: Money } {
  return (amount === undefined ? {} : { [key]: moneyOf(amount, currency) }) as { [P in K]?: Money };
}

function refundSchema(global: boolean) {
  return V3RefundWireSchema.transform((w, ctx): V3RefundAnswer => {
    const refundId = w.refund_id ?? w.id;
    if (refundId === undefined) {
      ctx.addIssue({ code: "custom", path: ["refund_id"], message: "is required" });
      return z.NEVER;
    }
    if (w.amount.currency === undefined && global) {
      ctx.addIssue({ code: "custom", path: ["amount", "currency"], message: "is required for WeChat Pay Global" });
      return z.NEVER;
    }
    const a = w.amount;
    const currency = a.currency ?? "CNY";
    const payerCurrency = a.payer_currency ?? currency;
    const amount: V3RefundAmount = {
      total: moneyOf(a.total, currency),
      refund: moneyOf(a.refund, currency),
      ...optionalMoney("payerTotal", a.payer_total, payerCurrency),
      ...optionalMoney("payerRefund", a.payer_refund, payerCurrency),
      ...optionalMoney("settlementTotal", a.settlement_total, currency),
      ...optionalMoney("settlementRefund", a.settlement_refund, currency),
      ...optionalMoney("discountRefund", a.discount_refund, currency),
      ...(a.exchange_rate === undefined ? {} : { exchangeRate: { type: a.exchange_rate.type, rate: a.exchange_rate.rate } }),
    };
    const optional = {
      transactionId: w.transaction_id,
      outTradeNo: w.out_trade_no,
      channel: w.channel,
      userReceivedAccount: w.user_received_account,
      successTime: w.success_time,
      createTime: w.create_time,
      fundsAccount: w.funds_account,
    };
    return {
      ...(Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<Record<keyof typeof optional, string>>),
      refundId,
      outRefundNo: w.out_refund_no,
      status: w.status,
      amount,
    };
  });
}

/** A mainland refund answer (create or query); an absent currency means CNY. */
export const V3RefundAnswerSchema = refundSchema(false);
/** A WeChat Pay Global refund answer: currency required. */
export const V3GlobalRefundAnswerSchema = refundSchema(true);
