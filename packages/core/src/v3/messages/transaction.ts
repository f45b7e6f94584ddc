import { z } from "zod";
import type { Currency } from "../../money/currency.js";
import { err, ok, type Result } from "../../result.js";
import type { Money } from "../../money/money.js";
import { checkV3Request, jsonBody, v3PathSegment, v3QueryString, V3_HOSTS, v3Id, V3OutTradeNoSchema, V3TransactionIdSchema, type V3Request } from "./request.js";
import { moneyOf, WireCurrencySchema, WireExchangeRateSchema, WireMinorUnitsSchema, wireText, WireTimeSchema, type V3ExchangeRate } from "./wire.js";

/** Who asks: a direct merchant (`mchid`) or a service provider / institution for a sub-merchant (`spMchid` + `subMchid`). */
const MERCHANT_SHAPE = {
  mchid: v3Id(32).optional(),
  spMchid: v3Id(32).optional(),
  subMchid: v3Id(32).optional(),
  /** WeChat Pay Global (`/v3/global/...` on apihk) instead of mainland. */
  global: z.boolean().optional(),
};

function checkMerchant(value: { mchid?: string | undefined; spMchid?: string | undefined; subMchid?: string | undefined }, ctx: z.RefinementCtx): void {
  const partner = value.spMchid !== undefined || value.subMchid !== undefined;
  if (value.mchid !== undefined && partner) {
    ctx.addIssue({ code: "custom", path: ["mchid"], message: "must not be given with sp_mchid / sub_mchid" });
  } else if (value.mchid === undefined && !partner) {
    ctx.addIssue({ code: "custom", path: ["mchid"], message: "is required (or sp_mchid and sub_mchid in partner mode)" });
  } else if (partner && value.spMchid === undefined) {
    ctx.addIssue({ code: "custom", path: ["spMchid"], message: "is required with sub_mchid" });
  } else if (partner && value.subMchid === undefined) {
    ctx.addIssue({ code: "custom", path: ["subMchid"], message: "is required with sp_mchid" });
  }
}

/** A query by the WeChat order number or by the merchant's, exactly one of them. */
export const V3QueryOrderSchema = z
  .object({ ...MERCHANT_SHAPE, transactionId: V3TransactionIdSchema.optional(), outTradeNo: V3OutTradeNoSchema.optional() })
  .superRefine((value, ctx) => {
    checkMerchant(value, ctx);
    if ((value.transactionId === undefined) === (value.outTradeNo === undefined)) {
      ctx.addIssue({ code: "custom", path: ["transactionId"], message: "exactly one of transaction_id and out_trade_no is required" });
    }
  });
export type V3QueryOrder = z.input<typeof V3QueryOrderSchema>;

/** Closes an unpaid order by out_trade_no. */
export const V3CloseOrderSchema = z.object({ ...MERCHANT_SHAPE, outTradeNo: V3OutTradeNoSchema }).superRefine(checkMerchant);
export type V3CloseOrder = z.input<typeof V3CloseOrderSchema>;

function transactionsBase(global: boolean | undefined, partner: boolean): string {
  if (global === true) return "/v3/global/transactions";
  return partner ? "/v3/pay/partner/transactions" : "/v3/pay/transactions";
}

/**
 * Builds the order query: `GET …/id/{transaction_id}` or `…/out-trade-no/{out_trade_no}` with
 * `?mchid=` or `?sp_mchid=&sub_mchid=` (throws INVALID_FIELD). Global uses `/v3/global/transactions`.
 */
export function buildV3QueryOrder(request: V3QueryOrder): V3Request {
  const q = checkV3Request(V3QueryOrderSchema, request);
  const partner = q.mchid === undefined;
  const target = q.transactionId !== undefined ? `id/${v3PathSegment(q.transactionId)}` : `out-trade-no/${v3PathSegment(q.outTradeNo ?? "")}`;
  const query = partner
    ? v3QueryString([
        ["sp_mchid", q.spMchid],
        ["sub_mchid", q.subMchid],
      ])
    : v3QueryString([["mchid", q.mchid]]);
  return { method: "GET", host: q.global === true ? V3_HOSTS.global : V3_HOSTS.domestic, path: `${transactionsBase(q.global, partner)}/${target}${query}`, body: "" };
}

/** Builds `POST …/out-trade-no/{out_trade_no}/close` with `{"mchid"}` or `{"sp_mchid","sub_mchid"}`; the answer is an empty 204 (throws INVALID_FIELD). */
export function buildV3CloseOrder(request: V3CloseOrder): V3Request {
  const c = checkV3Request(V3CloseOrderSchema, request);
  const partner = c.mchid === undefined;
  const body = partner ? { sp_mchid: c.spMchid, sub_mchid: c.subMchid } : { mchid: c.mchid };
  return {
    method: "POST",
    host: c.global === true ? V3_HOSTS.global : V3_HOSTS.domestic,
    path: `${transactionsBase(c.global, partner)}/out-trade-no/${v3PathSegment(c.outTradeNo)}/close`,
    body: jsonBody(body),
  };
}

/** Every trade_state of a v3 transaction (JAVA's enum; ACCEPT is in JAVA, not in OAPI). */
export const V3_TRADE_STATES = ["SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR", "ACCEPT"] as const;
export type V3TradeState = (typeof V3_TRADE_STATES)[number];
export const V3TradeStateSchema = z.enum(V3_TRADE_STATES);

/** The amount block: what the order was for, and what the payer paid in their currency. */
export interface V3TransactionAmount {
  readonly total: Money;
  /** What the payer actually paid after discounts, in payer_currency; absent before payment. */
  readonly payerTotal?: Money;
  /** Global only: the rate between currency and payer_currency. */
  readonly exchangeRate?: V3ExchangeRate;
}

const AmountWireSchema = z.object({
  total: WireMinorUnitsSchema,
  payer_total: WireMinorUnitsSchema.optional(),
  currency: WireCurrencySchema.optional(),
  payer_currency: WireCurrencySchema.optional(),
  exchange_rate: WireExchangeRateSchema.optional(),
});

function readAmount(wire: z.output<typeof AmountWireSchema>, currency: Currency): V3TransactionAmount {
  const payerCurrency = wire.payer_currency ?? currency;
  return {
    total: moneyOf(wire.total, currency),
    ...(wire.payer_total === undefined ? {} : { payerTotal: moneyOf(wire.payer_total, payerCurrency) }),
    ...(wire.exchange_rate === undefined ? {} : { exchangeRate: { type: wire.exchange_rate.type, rate: wire.exchange_rate.rate } }),
  };
}

const PayerWireSchema = z.object({ openid: wireText(128).optional(), sp_openid: wireText(128).optional(), sub_openid: wireText(128).optional() });

/** The transaction answer's wire fields, direct and partner alike (partner ones replace appid/mchid/openid). */
export const V3TransactionWireSchema = z.object({
  appid: wireText(32).optional(),
  mchid: wireText(32).optional(),
  sp_appid: wireText(32).optional(),
  sp_mchid: wireText(32).optional(),
  sub_appid: wireText(32).optional(),
  sub_mchid: wireText(32).optional(),
  out_trade_no: wireText(32),
  transaction_id: wireText(32).optional(),
  // Global's query answer names the WeChat order number `id` (OAPI); its notify says transaction_id.
  id: wireText(32).optional(),
  trade_type: wireText(16).optional(),
  trade_state: V3TradeStateSchema,
  trade_state_desc: wireText(256).optional(),
  bank_type: wireText(32).optional(),
  attach: wireText(128).optional(),
  success_time: WireTimeSchema.optional(),
  payer: PayerWireSchema.optional(),
  amount: AmountWireSchema,
});

/** A transaction as the query (and the decrypted TRANSACTION.SUCCESS notify) describes it. */
export interface V3Transaction {
  readonly appid?: string;
  readonly mchid?: string;
  readonly spAppid?: string;
  readonly spMchid?: string;
  readonly subAppid?: string;
  readonly subMchid?: string;
  readonly outTradeNo: string;
  /** The WeChat order number; absent before payment (NOTPAY). */
  readonly transactionId?: string;
  readonly tradeType?: string;
  readonly tradeState: V3TradeState;
  readonly tradeStateDesc?: string;
  readonly bankType?: string;
  readonly attach?: string;
  readonly successTime?: string;
  readonly payer?: { readonly openid?: string; readonly spOpenid?: string; readonly subOpenid?: string };
  readonly amount: V3TransactionAmount;
}

function defined<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

function transactionSchema(global: boolean) {
  return V3TransactionWireSchema.transform((w, ctx): V3Transaction => {
    if (w.amount.currency === undefined && global) {
      // Global settles in many currencies: guessing one would misstate the amount.
      ctx.addIssue({ code: "custom", path: ["amount", "currency"], message: "is required for WeChat Pay Global" });
      return z.NEVER;
    }
    if (w.transaction_id !== undefined && w.id !== undefined && w.transaction_id !== w.id) {
      ctx.addIssue({ code: "custom", path: ["id"], message: "differs from transaction_id" });
      return z.NEVER;
    }
    const payer = w.payer === undefined ? undefined : defined({ openid: w.payer.openid, spOpenid: w.payer.sp_openid, subOpenid: w.payer.sub_openid });
    return {
      ...defined({
        appid: w.appid,
        mchid: w.mchid,
        spAppid: w.sp_appid,
        spMchid: w.sp_mchid,
        subAppid: w.sub_appid,
        subMchid: w.sub_mchid,
        transactionId: w.transaction_id ?? w.id,
        tradeType: w.trade_type,
        tradeStateDesc: w.trade_state_desc,
        bankType: w.bank_type,
        attach: w.attach,
        successTime: w.success_time,
        payer,
      }),
      outTradeNo: w.out_trade_no,
      tradeState: w.trade_state,
      // Mainland merchants deal only in CNY; the NOTPAY answer leaves currency out.
      amount: readAmount(w.amount, w.amount.currency ?? "CNY"),
    };
  });
}

/** A mainland transaction answer (direct or partner); an absent currency means CNY. */
export const V3TransactionSchema = transactionSchema(false);
/** A WeChat Pay Global transaction answer: currency required, exchange_rate read. */
export const V3GlobalTransactionSchema = transactionSchema(true);

/** The prepay answer of every JSAPI order: `{"prepay_id": "wx…"}`. */
export const V3PrepayAnswerSchema = z
  .object({ prepay_id: z.string().min(1, "must not be empty").max(64, "must be at most 64 characters") })
  .transform((w) => ({ prepayId: w.prepay_id }));
export type V3PrepayAnswer = z.output<typeof V3PrepayAnswerSchema>;

/**
 * The close answer: `204 No Content` with an empty body (still signed; verify it with an empty third
 * line). Any other 2xx, or a body, is UNEXPECTED_ANSWER; non-2xx answers go to parseV3Error.
 */
export function parseV3CloseAnswer(status: number, body: string): Result<null, "UNEXPECTED_ANSWER"> {
  if (status === 204 && body === "") return ok(null);
  return err("UNEXPECTED_ANSWER", `Expected 204 with an empty body, got ${status} with ${body.length} characters.`);
}
