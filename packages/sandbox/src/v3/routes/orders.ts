import {
  parseV3GlobalInstitutionJsapiOrderBody,
  parseV3GlobalJsapiOrderBody,
  parseV3JsapiOrderBody,
  parseV3PartnerJsapiOrderBody,
  V3OutTradeNoSchema,
  V3TransactionIdSchema,
  type Currency,
  type Result,
  type V3RequestParseErrorCode,
} from "@pay/core";
import type { SandboxContext } from "../../context.js";
import { newPrepayId } from "../../ids.js";
import type { Merchant } from "../../options.js";
import { expireIfDue } from "../../state/payments.js";
import { newUnpaidOrder } from "../../state/types.js";
import { merchantFor, replyV3Error, replyV3ParseFailure, replyV3Signed, type V3Call, type V3MerchantIds } from "../http.js";
import { parseWithNotifyUrlAllowance } from "../notify-url.js";
import { transactionJson } from "../views.js";

/** A received JSAPI order of any family, with the merchant ids it names: what the order rules work on. */
interface ReceivedOrder {
  readonly ids: V3MerchantIds;
  /** `appid` (direct) or `sp_appid` (partner / institution). */
  readonly appId: string;
  readonly subAppId: string | undefined;
  readonly openid: string | undefined;
  readonly subOpenid: string | undefined;
  readonly description: string;
  readonly outTradeNo: string;
  readonly timeExpire: string | undefined;
  readonly attach: string | undefined;
  readonly notifyUrl: string;
  readonly total: number;
  readonly currency: Currency;
  readonly merchantCategoryCode: string | undefined;
  /** The parsed order, for the re-entry rule: identical business fields only. */
  readonly fingerprint: string;
}

type Parsed<T> = Result<T, V3RequestParseErrorCode>;

/** JSON with object keys sorted at every depth: the same fields in any order give the same text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Parses a body with `parse` (after the notify_url allowance) and maps it to a ReceivedOrder; answers a parse failure itself. */
function receive<T extends { readonly notifyUrl: string }>(
  sandbox: SandboxContext,
  call: V3Call,
  parse: (text: string) => Parsed<T>,
  map: (order: T) => Omit<ReceivedOrder, "fingerprint" | "notifyUrl">,
): ReceivedOrder | undefined {
  const parsed = parseWithNotifyUrlAllowance(sandbox, call.body, parse);
  if (!parsed.ok) {
    replyV3ParseFailure(sandbox, call, parsed.error);
    return undefined;
  }
  const value = parsed.value;
  return { ...map(value), notifyUrl: value.notifyUrl, fingerprint: stableJson(value) };
}

/** A business refusal, signed like the gateway's business answers (reference §1: the 403 NOT_ENOUGH capture was signed). */
function refuse(sandbox: SandboxContext, call: V3Call, status: number, code: string, message: string): void {
  replyV3Error(sandbox, call.ctx, status, { code, message }, call);
}

/** The AppID checks: `appid` / `sp_appid` bound to the acting mchid, `sub_appid` the sub-merchant's. */
function appIdsMatch(call: V3Call, merchant: Merchant, order: ReceivedOrder): boolean {
  if (order.ids.spMchid === undefined) return call.identity.appIds.has(order.appId);
  if (order.appId !== merchant.appId) return false;
  return order.subAppId === undefined || order.subAppId === merchant.subAppId;
}

/** Creates the order and answers its prepay_id, or re-enters an existing one (identical fields, same or renewed prepay_id). */
function placeOrder(sandbox: SandboxContext, call: V3Call, received: ReceivedOrder | undefined): void {
  if (received === undefined) return;
  const merchant = merchantFor(sandbox, call, received.ids);
  if (merchant === undefined) return;
  if (!appIdsMatch(call, merchant, received)) {
    const field = received.ids.spMchid === undefined ? "appid" : received.appId !== merchant.appId ? "sp_appid" : "sub_appid";
    return replyV3Error(sandbox, call.ctx, 400, { code: "APPID_MCHID_NOT_MATCH", message: "appid和mchid不匹配", detail: { location: "body", value: field } });
  }
  const now = sandbox.clock.now();
  const existing = sandbox.store.findOrder(merchant.mchId, merchant.subMchId, received.outTradeNo);
  if (existing !== undefined) {
    expireIfDue(sandbox, existing);
    if (existing.tradeState === "SUCCESS" || existing.tradeState === "REFUND") return refuse(sandbox, call, 403, "ORDERPAID", "该订单已支付");
    if (existing.tradeState === "CLOSED") return refuse(sandbox, call, 400, "ORDER_CLOSED", "该订单已关闭");
    if (existing.protocol !== "v3" || existing.fingerprint !== received.fingerprint) return refuse(sandbox, call, 400, "INVALID_REQUEST", "请求重入时，参数与首次请求时不一致");
    if (now >= existing.prepayExpiresAt) sandbox.store.replacePrepayId(existing, newPrepayId(now), now + sandbox.options.prepayTtlMs);
    return replyV3Signed(sandbox, call, 200, { prepay_id: existing.prepayId });
  }

  let expiresAt = now + sandbox.options.orderTtlMs;
  if (received.timeExpire !== undefined) {
    // Core's schema has checked the RFC 3339 form, offset included, so Date.parse reads the instant exactly.
    expiresAt = Date.parse(received.timeExpire);
    if (expiresAt - now < 60_000) {
      return replyV3Error(sandbox, call.ctx, 400, {
        code: "PARAM_ERROR",
        message: "time_expire时间过短，最短失效时间间隔必须大于1分钟",
        detail: { location: "body", value: "/body/time_expire" },
      });
    }
  }
  const order = newUnpaidOrder({
    protocol: "v3",
    mchId: merchant.mchId,
    subMchId: merchant.subMchId,
    appId: received.appId,
    subAppId: received.subAppId,
    payAppId: received.subOpenid !== undefined && received.subAppId !== undefined ? received.subAppId : received.appId,
    merchantCategoryCode: received.merchantCategoryCode,
    outTradeNo: received.outTradeNo,
    body: received.description,
    attach: received.attach,
    totalFee: received.total,
    feeType: received.currency,
    signType: undefined,
    notifyUrl: received.notifyUrl,
    openid: received.openid,
    subOpenid: received.subOpenid,
    fingerprint: received.fingerprint,
    createdAt: now,
    expiresAt,
    prepayId: newPrepayId(now),
    prepayExpiresAt: now + sandbox.options.prepayTtlMs,
  });
  sandbox.store.addOrder(order);
  replyV3Signed(sandbox, call, 200, { prepay_id: order.prepayId });
}

/** The fields every JSAPI order family shares, as the order rules read them. */
function sharedFields(o: {
  readonly description: string;
  readonly outTradeNo: string;
  readonly timeExpire?: string | undefined;
  readonly attach?: string | undefined;
  readonly amount: { readonly total: { readonly amount: number; readonly currency: Currency } };
}): Pick<ReceivedOrder, "description" | "outTradeNo" | "timeExpire" | "attach" | "total" | "currency"> {
  return { description: o.description, outTradeNo: o.outTradeNo, timeExpire: o.timeExpire, attach: o.attach, total: o.amount.total.amount, currency: o.amount.total.currency };
}

/** POST /v3/pay/transactions/jsapi: a direct merchant's JSAPI / Mini Program order (CNY). */
export function jsapiOrder(sandbox: SandboxContext, call: V3Call): void {
  const received = receive(sandbox, call, parseV3JsapiOrderBody, (o) => ({
    ids: { mchid: o.mchid },
    appId: o.appid,
    subAppId: undefined,
    openid: o.payer.openid,
    subOpenid: undefined,
    ...sharedFields(o),
    merchantCategoryCode: undefined,
  }));
  placeOrder(sandbox, call, received);
}

/** POST /v3/pay/partner/transactions/jsapi: a service provider's order for a sub-merchant (payer.sp_openid or payer.sub_openid). */
export function partnerJsapiOrder(sandbox: SandboxContext, call: V3Call): void {
  const received = receive(sandbox, call, parseV3PartnerJsapiOrderBody, (o) => ({
    ids: { spMchid: o.spMchid, subMchid: o.subMchid },
    appId: o.spAppid,
    subAppId: o.subAppid,
    openid: o.payer.spOpenid,
    subOpenid: o.payer.subOpenid,
    ...sharedFields(o),
    merchantCategoryCode: undefined,
  }));
  placeOrder(sandbox, call, received);
}

/** True when the body names `sp_mchid`: an institution's order rather than a direct merchant's. */
function namesServiceProvider(text: string): boolean {
  try {
    const json: unknown = JSON.parse(text);
    return typeof json === "object" && json !== null && !Array.isArray(json) && Object.prototype.hasOwnProperty.call(json, "sp_mchid");
  } catch {
    return false;
  }
}

/** POST /v3/global/transactions/jsapi: a WeChat Pay Global order, direct (mchid + appid) or by an institution (sp_mchid + sp_appid + sub_mchid). */
export function globalJsapiOrder(sandbox: SandboxContext, call: V3Call): void {
  const received = namesServiceProvider(call.body)
    ? receive(sandbox, call, parseV3GlobalInstitutionJsapiOrderBody, (o) => ({
        ids: { spMchid: o.spMchid, subMchid: o.subMchid },
        appId: o.spAppid,
        subAppId: o.subAppid,
        openid: o.payer.spOpenid,
        subOpenid: o.payer.subOpenid,
        ...sharedFields(o),
        merchantCategoryCode: o.merchantCategoryCode,
      }))
    : receive(sandbox, call, parseV3GlobalJsapiOrderBody, (o) => ({
        ids: { mchid: o.mchid },
        appId: o.appid,
        subAppId: undefined,
        openid: o.payer.openid,
        subOpenid: undefined,
        ...sharedFields(o),
        merchantCategoryCode: o.merchantCategoryCode,
      }));
  placeOrder(sandbox, call, received);
}

/** Partner paths (and Global ones naming sp_mchid) act for a sub-merchant; the rest for a direct merchant. */
function isPartnerPath(call: V3Call): boolean {
  return call.target.startsWith("/v3/pay/partner/");
}

/** The merchant ids of a query string: `mchid`, or `sp_mchid` + `sub_mchid`. Answers 400 PARAM_ERROR itself when one is missing. */
function queryIds(sandbox: SandboxContext, call: V3Call): V3MerchantIds | undefined {
  const partner = isPartnerPath(call) || (call.global && call.query.has("sp_mchid"));
  const names = partner ? ["sp_mchid", "sub_mchid"] : ["mchid"];
  for (const name of names) {
    const value = call.query.get(name);
    if (value === null || value === "") {
      replyV3Error(sandbox, call.ctx, 400, { code: "PARAM_ERROR", message: `输入源“/query/${name}”映射到值字段“${name}”不能为空`, detail: { location: "query", value: name } });
      return undefined;
    }
  }
  return partner ? { spMchid: call.query.get("sp_mchid") ?? undefined, subMchid: call.query.get("sub_mchid") ?? undefined } : { mchid: call.query.get("mchid") ?? undefined };
}

/** Checks a path parameter with core's schema; answers 400 PARAM_ERROR naming it when it fails. */
function pathParam(sandbox: SandboxContext, call: V3Call, name: "transaction_id" | "out_trade_no"): string | undefined {
  const value = call.params[name] ?? "";
  const parsed = (name === "transaction_id" ? V3TransactionIdSchema : V3OutTradeNoSchema).safeParse(value);
  if (parsed.success) return parsed.data;
  replyV3Error(sandbox, call.ctx, 400, {
    code: "PARAM_ERROR",
    message: `输入源“/path/${name}”校验失败: ${parsed.error.issues[0]?.message ?? "invalid"}`,
    detail: { location: "path", value: name },
  });
  return undefined;
}

/**
 * GET …/transactions/id/{transaction_id} and …/out-trade-no/{out_trade_no} (direct `?mchid=`, partner
 * `?sp_mchid=&sub_mchid=`, Global either): the transaction, signed; 404 ORDER_NOT_EXIST (signed) when there is none.
 * v2 orders of the same merchant are found too: the order space is one.
 */
export function queryOrder(sandbox: SandboxContext, call: V3Call): void {
  const ids = queryIds(sandbox, call);
  if (ids === undefined) return;
  const byId = call.params.transaction_id !== undefined;
  const key = pathParam(sandbox, call, byId ? "transaction_id" : "out_trade_no");
  if (key === undefined) return;
  const merchant = merchantFor(sandbox, call, ids);
  if (merchant === undefined) return;
  const order = byId ? sandbox.store.findOrderByTransactionId(merchant.mchId, merchant.subMchId, key) : sandbox.store.findOrder(merchant.mchId, merchant.subMchId, key);
  if (order === undefined) return refuse(sandbox, call, 404, "ORDER_NOT_EXIST", "订单不存在");
  expireIfDue(sandbox, order);
  replyV3Signed(sandbox, call, 200, transactionJson(sandbox, order, { forQuery: true }));
}

/** The close body's ids: exactly `{mchid}` (direct) or `{sp_mchid, sub_mchid}` (partner; Global either). */
function closeIds(sandbox: SandboxContext, call: V3Call): V3MerchantIds | undefined {
  let json: unknown;
  try {
    json = JSON.parse(call.body);
  } catch {
    replyV3ParseFailure(sandbox, call, { code: "MALFORMED_BODY", message: "The body is not JSON." });
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    replyV3ParseFailure(sandbox, call, { code: "MALFORMED_BODY", message: "The body is not a JSON object." });
    return undefined;
  }
  const body = json as Record<string, unknown>;
  const partner = isPartnerPath(call) || (call.global && Object.prototype.hasOwnProperty.call(body, "sp_mchid"));
  const names = partner ? ["sp_mchid", "sub_mchid"] : ["mchid"];
  const unknown = Object.keys(body).find((k) => !names.includes(k));
  if (unknown !== undefined) {
    replyV3ParseFailure(sandbox, call, { code: "UNKNOWN_FIELD", message: `Field ${unknown}: is not defined for this API.` });
    return undefined;
  }
  for (const name of names) {
    const value = body[name];
    if (value === undefined) {
      replyV3ParseFailure(sandbox, call, { code: "MISSING_FIELD", message: `Field ${name}: is required` });
      return undefined;
    }
    if (typeof value !== "string" || value === "" || value.length > 32) {
      replyV3ParseFailure(sandbox, call, { code: "INVALID_FIELD", message: `Field ${name}: must be a merchant id of 1-32 characters` });
      return undefined;
    }
  }
  return partner ? { spMchid: body.sp_mchid as string, subMchid: body.sub_mchid as string } : { mchid: body.mchid as string };
}

/**
 * POST …/out-trade-no/{out_trade_no}/close: closes an unpaid order and answers a signed empty 204. A paid
 * order is 403 ORDERPAID, a closed one 400 ORDER_CLOSED, one younger than minCloseAgeMs 400 INVALID_REQUEST.
 */
export function closeOrder(sandbox: SandboxContext, call: V3Call): void {
  const outTradeNo = pathParam(sandbox, call, "out_trade_no");
  if (outTradeNo === undefined) return;
  const ids = closeIds(sandbox, call);
  if (ids === undefined) return;
  const merchant = merchantFor(sandbox, call, ids);
  if (merchant === undefined) return;
  const order = sandbox.store.findOrder(merchant.mchId, merchant.subMchId, outTradeNo);
  if (order === undefined) return refuse(sandbox, call, 404, "ORDER_NOT_EXIST", "订单不存在");
  expireIfDue(sandbox, order);
  if (order.tradeState === "SUCCESS" || order.tradeState === "REFUND") return refuse(sandbox, call, 403, "ORDERPAID", "订单已支付，不能发起关单");
  if (order.tradeState === "CLOSED") return refuse(sandbox, call, 400, "ORDER_CLOSED", "订单已关闭，无需重复关闭");
  if (sandbox.clock.now() - order.createdAt < sandbox.options.minCloseAgeMs) {
    return refuse(sandbox, call, 400, "INVALID_REQUEST", "订单生成后不能马上调用关单接口，最短调用时间间隔为5分钟");
  }
  order.tradeState = "CLOSED";
  order.tradeStateDesc = "订单已关闭";
  replyV3Signed(sandbox, call, 204, undefined);
}
