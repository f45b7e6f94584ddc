import { z } from "zod";
import { isCurrency, type Currency } from "../../money/currency.js";
import type { ResultError } from "../../result.js";
import type { Money } from "../../money/money.js";
import { V3_REFUND_STATUSES, type V3RefundStatus } from "../messages/refund.js";
import { V3_TRADE_STATES, type V3TradeState } from "../messages/transaction.js";
import type { V3ExchangeRate } from "../messages/wire.js";
import {
  readChoice,
  invalidField,
  readMinor,
  readOptionalCurrency,
  readOptionalMinor,
  readOptionalRecord,
  readOptionalText,
  readOptionalTime,
  readRecord,
  readText,
  parseV3Time,
  refuseField,
  RFC3339,
  type FieldRecord,
} from "./read-fields.js";

const text = (max: number) => z.string().max(max);
/** An RFC 3339 time with its offset (`2018-06-08T10:34:56+08:00`), read to a Date. */
export const V3TimeSchema = z
  .string()
  .regex(RFC3339, "expected an RFC 3339 time with offset")
  .transform((value, ctx) => {
    const at = parseV3Time(value);
    if (at !== undefined) return at;
    ctx.issues.push({ code: "custom", message: "is not a real instant", input: value });
    return z.NEVER;
  });

const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const currency = z
  .string()
  .refine(isCurrency, "unknown currency")
  .transform((c): Currency => c);

const ExchangeRateSchema = z.object({ type: text(32), rate: minor });

/** Global's exchange rate: `rate` is the rate x 10^8 (80000000 = 0.8), as sent. */

const TransactionWireSchema = z.object({
  appid: text(32).optional(),
  mchid: text(32).optional(),
  sp_appid: text(32).optional(),
  sp_mchid: text(32).optional(),
  sub_appid: text(32).optional(),
  sub_mchid: text(32).optional(),
  out_trade_no: text(64),
  transaction_id: text(64).optional(),
  // Global: OAPI names the WeChat order number `id`; GSKILLS' notify plaintext says `transaction_id`.
  id: text(64).optional(),
  trade_type: text(32),
  trade_state: z.enum(V3_TRADE_STATES),
  trade_state_desc: text(256).optional(),
  bank_type: text(64).optional(),
  attach: text(256).optional(),
  success_time: V3TimeSchema.optional(),
  payer: z.object({ openid: text(128).optional(), sp_openid: text(128).optional(), sub_openid: text(128).optional() }).optional(),
  amount: z.object({
    total: minor,
    payer_total: minor.optional(),
    currency: currency.optional(),
    payer_currency: currency.optional(),
    exchange_rate: ExchangeRateSchema.optional(),
  }),
});

/** Who was paid: a direct merchant, or a service provider (or Global institution) for a sub-merchant. */
export type V3Merchant =
  | { readonly mode: "direct"; readonly mchId: string; readonly appId: string }
  | { readonly mode: "partner"; readonly spMchId: string; readonly subMchId: string; readonly spAppId: string | undefined; readonly subAppId: string | undefined };

/** A `TRANSACTION.SUCCESS` resource, camelCased; amounts in minor units with their currency. */
export interface V3TransactionNotify {
  readonly merchant: V3Merchant;
  readonly outTradeNo: string;
  readonly transactionId: string;
  readonly tradeType: string;
  readonly tradeState: V3TradeState;
  readonly tradeStateDesc: string | undefined;
  readonly bankType: string | undefined;
  readonly attach: string | undefined;
  readonly successTime: Date | undefined;
  readonly payer: { readonly openId: string | undefined; readonly spOpenId: string | undefined; readonly subOpenId: string | undefined };
  /** The order amount. */
  readonly total: Money;
  /** What the payer paid after discounts, in the payer's currency (Global: may differ from the order's). */
  readonly payerTotal: Money | undefined;
  /** Global only. */
  readonly exchangeRate: V3ExchangeRate | undefined;
}

function merchantOf(
  wire: {
    appid?: string | undefined;
    mchid?: string | undefined;
    sp_appid?: string | undefined;
    sp_mchid?: string | undefined;
    sub_appid?: string | undefined;
    sub_mchid?: string | undefined;
  },
  ctx: z.RefinementCtx,
): V3Merchant | undefined {
  if (wire.sp_mchid !== undefined || wire.sub_mchid !== undefined) {
    if (wire.sp_mchid === undefined || wire.sub_mchid === undefined) {
      ctx.issues.push({ code: "custom", message: "a partner notify needs both sp_mchid and sub_mchid", input: wire, path: ["sp_mchid"] });
      return undefined;
    }
    return { mode: "partner", spMchId: wire.sp_mchid, subMchId: wire.sub_mchid, spAppId: wire.sp_appid, subAppId: wire.sub_appid };
  }
  if (wire.mchid === undefined || wire.appid === undefined) {
    ctx.issues.push({ code: "custom", message: "a direct notify needs mchid and appid", input: wire, path: ["mchid"] });
    return undefined;
  }
  return { mode: "direct", mchId: wire.mchid, appId: wire.appid };
}

/**
 * Domestic amounts may omit `currency` (then it is CNY, the only currency a domestic merchant has);
 * Global always sends it. The payer's currency defaults to the order's.
 */
function amountCurrencies(amount: { currency?: Currency | undefined; payer_currency?: Currency | undefined }): { order: Currency; payer: Currency } {
  const order = amount.currency ?? "CNY";
  return { order, payer: amount.payer_currency ?? order };
}

/** The `TRANSACTION.SUCCESS` plaintext (direct, partner and Global shapes) to a typed value. */
export const V3TransactionNotifySchema = TransactionWireSchema.transform((wire, ctx): V3TransactionNotify => {
  const merchant = merchantOf(wire, ctx);
  const transactionId = wire.transaction_id ?? wire.id;
  if (transactionId === undefined) ctx.issues.push({ code: "custom", message: "missing transaction_id", input: wire, path: ["transaction_id"] });
  if (merchant === undefined || transactionId === undefined) return z.NEVER;
  const currencies = amountCurrencies(wire.amount);
  return {
    merchant,
    outTradeNo: wire.out_trade_no,
    transactionId,
    tradeType: wire.trade_type,
    tradeState: wire.trade_state,
    tradeStateDesc: wire.trade_state_desc,
    bankType: wire.bank_type,
    attach: wire.attach,
    successTime: wire.success_time,
    payer: { openId: wire.payer?.openid, spOpenId: wire.payer?.sp_openid, subOpenId: wire.payer?.sub_openid },
    total: { amount: wire.amount.total, currency: currencies.order },
    payerTotal: wire.amount.payer_total === undefined ? undefined : { amount: wire.amount.payer_total, currency: currencies.payer },
    exchangeRate: wire.amount.exchange_rate,
  };
});

const RefundWireSchema = z.object({
  mchid: text(32).optional(),
  sp_mchid: text(32).optional(),
  sub_mchid: text(32).optional(),
  transaction_id: text(64),
  out_trade_no: text(64),
  refund_id: text(64).optional(),
  // Global: OAPI names the refund number `id`.
  id: text(64).optional(),
  out_refund_no: text(64),
  refund_status: z.enum(V3_REFUND_STATUSES),
  success_time: V3TimeSchema.optional(),
  create_time: V3TimeSchema.optional(),
  user_received_account: text(256).optional(),
  channel: text(32).optional(),
  funds_account: text(32).optional(),
  amount: z.object({
    total: minor.optional(),
    refund: minor,
    payer_total: minor.optional(),
    payer_refund: minor.optional(),
    currency: currency.optional(),
    payer_currency: currency.optional(),
    exchange_rate: ExchangeRateSchema.optional(),
  }),
});

/** A `REFUND.*` resource, camelCased (note the wire says `refund_status`, not `status`). */
export interface V3RefundNotify {
  /** The direct merchant's mchid, or undefined in partner mode. */
  readonly mchId: string | undefined;
  readonly spMchId: string | undefined;
  readonly subMchId: string | undefined;
  readonly transactionId: string;
  readonly outTradeNo: string;
  readonly refundId: string;
  readonly outRefundNo: string;
  readonly refundStatus: V3RefundStatus;
  readonly successTime: Date | undefined;
  readonly createTime: Date | undefined;
  readonly userReceivedAccount: string | undefined;
  readonly channel: string | undefined;
  readonly fundsAccount: string | undefined;
  readonly refund: Money;
  readonly total: Money | undefined;
  readonly payerRefund: Money | undefined;
  readonly payerTotal: Money | undefined;
  readonly exchangeRate: V3ExchangeRate | undefined;
}

/** The `REFUND.SUCCESS` / `REFUND.ABNORMAL` / `REFUND.CLOSED` plaintext to a typed value. */
export const V3RefundNotifySchema = RefundWireSchema.transform((wire, ctx): V3RefundNotify => {
  const refundId = wire.refund_id ?? wire.id;
  if (refundId === undefined) {
    ctx.issues.push({ code: "custom", message: "missing refund_id", input: wire, path: ["refund_id"] });
    return z.NEVER;
  }
  if (wire.mchid === undefined && wire.sub_mchid === undefined) {
    ctx.issues.push({ code: "custom", message: "missing mchid (or sp_mchid and sub_mchid)", input: wire, path: ["mchid"] });
    return z.NEVER;
  }
  const c = amountCurrencies(wire.amount);
  const inOrder = (amount: number | undefined): Money | undefined => (amount === undefined ? undefined : { amount, currency: c.order });
  const inPayer = (amount: number | undefined): Money | undefined => (amount === undefined ? undefined : { amount, currency: c.payer });
  return {
    mchId: wire.mchid,
    spMchId: wire.sp_mchid,
    subMchId: wire.sub_mchid,
    transactionId: wire.transaction_id,
    outTradeNo: wire.out_trade_no,
    refundId,
    outRefundNo: wire.out_refund_no,
    refundStatus: wire.refund_status,
    successTime: wire.success_time,
    createTime: wire.create_time,
    userReceivedAccount: wire.user_received_account,
    channel: wire.channel,
    fundsAccount: wire.funds_account,
    refund: { amount: wire.amount.refund, currency: c.order },
    total: inOrder(wire.amount.total),
    payerRefund: inPayer(wire.amount.payer_refund),
    payerTotal: inPayer(wire.amount.payer_total),
    exchangeRate: wire.amount.exchange_rate,
  };
});

// The hand-written readers parseV3Notify uses: the same checks and values as the schemas above
// (read-fields.test.ts compares them on generated inputs), at a fraction of zod's cost per notify.

const TRADE_STATES: ReadonlySet<string> = new Set(V3_TRADE_STATES);
const REFUND_STATUSES: ReadonlySet<string> = new Set(V3_REFUND_STATUSES);

function readExchangeRate(amount: FieldRecord, path: string): V3ExchangeRate | undefined {
  const rate = readOptionalRecord(amount.exchange_rate, path);
  if (rate === undefined) return undefined;
  return { type: readText(rate.type, 32, `${path}.type`), rate: readMinor(rate.rate, `${path}.rate`) };
}

function readTransaction(wire: FieldRecord): V3TransactionNotify {
  const appid = readOptionalText(wire.appid, 32, "appid");
  const mchid = readOptionalText(wire.mchid, 32, "mchid");
  const spAppid = readOptionalText(wire.sp_appid, 32, "sp_appid");
  const spMchid = readOptionalText(wire.sp_mchid, 32, "sp_mchid");
  const subAppid = readOptionalText(wire.sub_appid, 32, "sub_appid");
  const subMchid = readOptionalText(wire.sub_mchid, 32, "sub_mchid");
  const outTradeNo = readText(wire.out_trade_no, 64, "out_trade_no");
  const wireTransactionId = readOptionalText(wire.transaction_id, 64, "transaction_id");
  const id = readOptionalText(wire.id, 64, "id");
  const tradeType = readText(wire.trade_type, 32, "trade_type");
  const tradeState = readChoice<V3TradeState>(wire.trade_state, TRADE_STATES, "trade_state");
  const tradeStateDesc = readOptionalText(wire.trade_state_desc, 256, "trade_state_desc");
  const bankType = readOptionalText(wire.bank_type, 64, "bank_type");
  const attach = readOptionalText(wire.attach, 256, "attach");
  const successTime = readOptionalTime(wire.success_time, "success_time");
  const payer = readOptionalRecord(wire.payer, "payer");
  const openId = payer === undefined ? undefined : readOptionalText(payer.openid, 128, "payer.openid");
  const spOpenId = payer === undefined ? undefined : readOptionalText(payer.sp_openid, 128, "payer.sp_openid");
  const subOpenId = payer === undefined ? undefined : readOptionalText(payer.sub_openid, 128, "payer.sub_openid");
  const amount = readRecord(wire.amount, "amount");
  const total = readMinor(amount.total, "amount.total");
  const payerTotal = readOptionalMinor(amount.payer_total, "amount.payer_total");
  const currency = readOptionalCurrency(amount.currency, "amount.currency");
  const payerCurrency = readOptionalCurrency(amount.payer_currency, "amount.payer_currency");
  const exchangeRate = readExchangeRate(amount, "amount.exchange_rate");

  let merchant: V3Merchant;
  if (spMchid !== undefined || subMchid !== undefined) {
    if (spMchid === undefined || subMchid === undefined) refuseField("sp_mchid", "a partner notify needs both sp_mchid and sub_mchid");
    merchant = { mode: "partner", spMchId: spMchid, subMchId: subMchid, spAppId: spAppid, subAppId: subAppid };
  } else {
    if (mchid === undefined || appid === undefined) refuseField("mchid", "a direct notify needs mchid and appid");
    merchant = { mode: "direct", mchId: mchid, appId: appid };
  }
  const transactionId = wireTransactionId ?? id;
  if (transactionId === undefined) refuseField("transaction_id", "missing transaction_id");
  const c = amountCurrencies({ currency, payer_currency: payerCurrency });
  return {
    merchant,
    outTradeNo,
    transactionId,
    tradeType,
    tradeState,
    tradeStateDesc,
    bankType,
    attach,
    successTime,
    payer: { openId, spOpenId, subOpenId },
    total: { amount: total, currency: c.order },
    payerTotal: payerTotal === undefined ? undefined : { amount: payerTotal, currency: c.payer },
    exchangeRate,
  };
}

/** A `TRANSACTION.SUCCESS` plaintext to a typed value: what V3TransactionNotifySchema does, hand-written. */
export function readV3TransactionNotify(
  raw: FieldRecord,
): { readonly ok: true; readonly value: V3TransactionNotify } | { readonly ok: false; readonly error: ResultError<"INVALID_FIELD"> } {
  try {
    return { ok: true, value: readTransaction(raw) };
  } catch (error) {
    return invalidField("Transaction", error);
  }
}

function readRefund(wire: FieldRecord): V3RefundNotify {
  const mchId = readOptionalText(wire.mchid, 32, "mchid");
  const spMchId = readOptionalText(wire.sp_mchid, 32, "sp_mchid");
  const subMchId = readOptionalText(wire.sub_mchid, 32, "sub_mchid");
  const transactionId = readText(wire.transaction_id, 64, "transaction_id");
  const outTradeNo = readText(wire.out_trade_no, 64, "out_trade_no");
  const wireRefundId = readOptionalText(wire.refund_id, 64, "refund_id");
  const id = readOptionalText(wire.id, 64, "id");
  const outRefundNo = readText(wire.out_refund_no, 64, "out_refund_no");
  const refundStatus = readChoice<V3RefundStatus>(wire.refund_status, REFUND_STATUSES, "refund_status");
  const successTime = readOptionalTime(wire.success_time, "success_time");
  const createTime = readOptionalTime(wire.create_time, "create_time");
  const userReceivedAccount = readOptionalText(wire.user_received_account, 256, "user_received_account");
  const channel = readOptionalText(wire.channel, 32, "channel");
  const fundsAccount = readOptionalText(wire.funds_account, 32, "funds_account");
  const amount = readRecord(wire.amount, "amount");
  const total = readOptionalMinor(amount.total, "amount.total");
  const refund = readMinor(amount.refund, "amount.refund");
  const payerTotal = readOptionalMinor(amount.payer_total, "amount.payer_total");
  const payerRefund = readOptionalMinor(amount.payer_refund, "amount.payer_refund");
  const currency = readOptionalCurrency(amount.currency, "amount.currency");
  const payerCurrency = readOptionalCurrency(amount.payer_currency, "amount.payer_currency");
  const exchangeRate = readExchangeRate(amount, "amount.exchange_rate");

  const refundId = wireRefundId ?? id;
  if (refundId === undefined) refuseField("refund_id", "missing refund_id");
  if (mchId === undefined && subMchId === undefined) refuseField("mchid", "missing mchid (or sp_mchid and sub_mchid)");
  const c = amountCurrencies({ currency, payer_currency: payerCurrency });
  return {
    mchId,
    spMchId,
    subMchId,
    transactionId,
    outTradeNo,
    refundId,
    outRefundNo,
    refundStatus,
    successTime,
    createTime,
    userReceivedAccount,
    channel,
    fundsAccount,
    refund: { amount: refund, currency: c.order },
    total: total === undefined ? undefined : { amount: total, currency: c.order },
    payerRefund: payerRefund === undefined ? undefined : { amount: payerRefund, currency: c.payer },
    payerTotal: payerTotal === undefined ? undefined : { amount: payerTotal, currency: c.payer },
    exchangeRate,
  };
}

/** A `REFUND.*` plaintext to a typed value: what V3RefundNotifySchema does, hand-written. */
export function readV3RefundNotify(raw: FieldRecord): { readonly ok: true; readonly value: V3RefundNotify } | { readonly ok: false; readonly error: ResultError<"INVALID_FIELD"> } {
  try {
    return { ok: true, value: readRefund(raw) };
  } catch (error) {
    return invalidField("Refund", error);
  }
}
