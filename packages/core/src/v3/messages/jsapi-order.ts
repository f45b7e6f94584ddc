import { z } from "zod";
import type { Money } from "../../money/money.js";
import {
  checkV3RequestWithNotifyUrl,
  jsonBody,
  V3_HOSTS,
  V3CnyMoneySchema,
  V3DescriptionSchema,
  v3Id,
  V3NotifyUrlSchema,
  V3OutTradeNoSchema,
  V3PositiveMoneySchema,
  v3Text,
  V3TimeSchema,
  wireOrderAmount,
  type V3BuildOptions,
  type V3Request,
} from "./request.js";

const IP = z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" });

/** `scene_info`: the payer's IP (required when the block is sent) and the merchant's device. */
const SceneInfoSchema = z.object({ payerClientIp: IP, deviceId: v3Id(32).optional() });

/** Fields every JSAPI order carries, whoever places it. */
const ORDER_SHAPE = {
  description: V3DescriptionSchema,
  outTradeNo: V3OutTradeNoSchema,
  timeExpire: V3TimeSchema.optional(),
  attach: v3Text(128).optional(),
  notifyUrl: V3NotifyUrlSchema,
  goodsTag: v3Id(32).optional(),
  supportFapiao: z.boolean().optional(),
  sceneInfo: SceneInfoSchema.optional(),
  settleInfo: z.object({ profitSharing: z.boolean() }).optional(),
};

/** A JSAPI / Mini Program order by a direct merchant (`POST /v3/pay/transactions/jsapi`); amounts in CNY fen. */
export const V3JsapiOrderSchema = z.object({
  appid: v3Id(32),
  mchid: v3Id(32),
  ...ORDER_SHAPE,
  amount: z.object({ total: V3CnyMoneySchema }),
  payer: z.object({ openid: v3Id(128) }),
});
export type V3JsapiOrder = z.input<typeof V3JsapiOrderSchema>;

/** Exactly one of sp_openid / sub_openid; sub_openid needs sub_appid (the appid it belongs to). */
function checkPartnerPayer(order: { subAppid?: string | undefined; payer: { spOpenid?: string | undefined; subOpenid?: string | undefined } }, ctx: z.RefinementCtx): void {
  const { spOpenid, subOpenid } = order.payer;
  if ((spOpenid === undefined) === (subOpenid === undefined)) {
    ctx.addIssue({ code: "custom", path: ["payer"], message: "must carry exactly one of sp_openid and sub_openid" });
  } else if (subOpenid !== undefined && order.subAppid === undefined) {
    ctx.addIssue({ code: "custom", path: ["subAppid"], message: "is required when payer.sub_openid is given" });
  }
}

const PartnerPayerSchema = z.strictObject(
  { spOpenid: v3Id(128).optional(), subOpenid: v3Id(128).optional() },
  { error: "only sp_openid or sub_openid (payer.openid is refused in partner mode)" },
);

/** A JSAPI order by a service provider for a sub-merchant (`POST /v3/pay/partner/transactions/jsapi`). */
export const V3PartnerJsapiOrderSchema = z
  .object({
    spAppid: v3Id(32),
    spMchid: v3Id(32),
    subAppid: v3Id(32).optional(),
    subMchid: v3Id(32),
    ...ORDER_SHAPE,
    amount: z.object({ total: V3CnyMoneySchema }),
    payer: PartnerPayerSchema,
  })
  .superRefine(checkPartnerPayer);
export type V3PartnerJsapiOrder = z.input<typeof V3PartnerJsapiOrderSchema>;

/** A merchant category code (ISO 18245 MCC): four digits. */
export const MerchantCategoryCodeSchema = z.string().regex(/^[0-9]{4}$/, "must be a four-digit merchant category code");

const GLOBAL_SHAPE = {
  description: V3DescriptionSchema,
  outTradeNo: V3OutTradeNoSchema,
  timeStart: V3TimeSchema.optional(),
  timeExpire: V3TimeSchema.optional(),
  attach: v3Text(128).optional(),
  notifyUrl: V3NotifyUrlSchema,
  tradeType: z.literal("JSAPI"),
  merchantCategoryCode: MerchantCategoryCodeSchema,
  // Any known currency, but it must be stated: Global has no default.
  amount: z.object({ total: V3PositiveMoneySchema }),
  sceneInfo: SceneInfoSchema.optional(),
};

/** A WeChat Pay Global JSAPI order by a direct merchant (`POST /v3/global/transactions/jsapi` on apihk). */
export const V3GlobalJsapiOrderSchema = z.object({
  appid: v3Id(32),
  mchid: v3Id(32),
  ...GLOBAL_SHAPE,
  payer: z.object({ openid: v3Id(128) }),
});
export type V3GlobalJsapiOrder = z.input<typeof V3GlobalJsapiOrderSchema>;

/** A WeChat Pay Global JSAPI order by an institution for a sub-merchant (same path; sub_mchid always required). */
export const V3GlobalInstitutionJsapiOrderSchema = z
  .object({
    spAppid: v3Id(32),
    spMchid: v3Id(32),
    subAppid: v3Id(32).optional(),
    subMchid: v3Id(32),
    ...GLOBAL_SHAPE,
    payer: PartnerPayerSchema,
  })
  .superRefine(checkPartnerPayer);
export type V3GlobalInstitutionJsapiOrder = z.input<typeof V3GlobalInstitutionJsapiOrderSchema>;

type OrderCommon = z.output<typeof V3JsapiOrderSchema> | z.output<typeof V3PartnerJsapiOrderSchema>;

/** The wire fields after the merchant ids, in the order of the official sample body. */
function wireOrderTail(order: Omit<OrderCommon, "amount" | "payer" | "appid" | "mchid" | "spAppid" | "spMchid" | "subAppid" | "subMchid"> & { amount: { total: Money } }) {
  return {
    description: order.description,
    out_trade_no: order.outTradeNo,
    time_expire: order.timeExpire,
    attach: order.attach,
    notify_url: order.notifyUrl,
    goods_tag: order.goodsTag,
    support_fapiao: order.supportFapiao,
    amount: wireOrderAmount(order.amount.total),
  };
}

function wireScene(order: { sceneInfo?: { payerClientIp: string; deviceId?: string | undefined } | undefined }) {
  return order.sceneInfo === undefined ? undefined : { payer_client_ip: order.sceneInfo.payerClientIp, device_id: order.sceneInfo.deviceId };
}

function wirePartnerPayer(payer: { spOpenid?: string | undefined; subOpenid?: string | undefined }) {
  return payer.spOpenid !== undefined ? { sp_openid: payer.spOpenid } : { sub_openid: payer.subOpenid };
}

/** Builds `POST /v3/pay/transactions/jsapi` (throws PayCoreError INVALID_FIELD on a request the gateway would refuse). */
export function buildV3JsapiOrder(request: V3JsapiOrder, options?: V3BuildOptions): V3Request {
  const o = checkV3RequestWithNotifyUrl(V3JsapiOrderSchema, request, options);
  const body = {
    appid: o.appid,
    mchid: o.mchid,
    ...wireOrderTail(o),
    payer: { openid: o.payer.openid },
    scene_info: wireScene(o),
    settle_info: o.settleInfo === undefined ? undefined : { profit_sharing: o.settleInfo.profitSharing },
  };
  return { method: "POST", host: V3_HOSTS.domestic, path: "/v3/pay/transactions/jsapi", body: jsonBody(body) };
}

/** Builds `POST /v3/pay/partner/transactions/jsapi` (service provider; throws INVALID_FIELD). */
export function buildV3PartnerJsapiOrder(request: V3PartnerJsapiOrder, options?: V3BuildOptions): V3Request {
  const o = checkV3RequestWithNotifyUrl(V3PartnerJsapiOrderSchema, request, options);
  const body = {
    sp_appid: o.spAppid,
    sp_mchid: o.spMchid,
    sub_appid: o.subAppid,
    sub_mchid: o.subMchid,
    ...wireOrderTail(o),
    payer: wirePartnerPayer(o.payer),
    scene_info: wireScene(o),
    settle_info: o.settleInfo === undefined ? undefined : { profit_sharing: o.settleInfo.profitSharing },
  };
  return { method: "POST", host: V3_HOSTS.domestic, path: "/v3/pay/partner/transactions/jsapi", body: jsonBody(body) };
}

function wireGlobalTail(o: z.output<typeof V3GlobalJsapiOrderSchema> | z.output<typeof V3GlobalInstitutionJsapiOrderSchema>) {
  return {
    description: o.description,
    out_trade_no: o.outTradeNo,
    time_start: o.timeStart,
    time_expire: o.timeExpire,
    attach: o.attach,
    notify_url: o.notifyUrl,
    trade_type: o.tradeType,
    merchant_category_code: o.merchantCategoryCode,
    amount: wireOrderAmount(o.amount.total),
  };
}

/** Builds a WeChat Pay Global `POST /v3/global/transactions/jsapi` for a direct merchant (throws INVALID_FIELD). */
export function buildV3GlobalJsapiOrder(request: V3GlobalJsapiOrder, options?: V3BuildOptions): V3Request {
  const o = checkV3RequestWithNotifyUrl(V3GlobalJsapiOrderSchema, request, options);
  const body = { appid: o.appid, mchid: o.mchid, ...wireGlobalTail(o), payer: { openid: o.payer.openid }, scene_info: wireScene(o) };
  return { method: "POST", host: V3_HOSTS.global, path: "/v3/global/transactions/jsapi", body: jsonBody(body) };
}

/** Builds a WeChat Pay Global `POST /v3/global/transactions/jsapi` for an institution (throws INVALID_FIELD). */
export function buildV3GlobalInstitutionJsapiOrder(request: V3GlobalInstitutionJsapiOrder, options?: V3BuildOptions): V3Request {
  const o = checkV3RequestWithNotifyUrl(V3GlobalInstitutionJsapiOrderSchema, request, options);
  const body = {
    sp_appid: o.spAppid,
    sp_mchid: o.spMchid,
    sub_appid: o.subAppid,
    sub_mchid: o.subMchid,
    ...wireGlobalTail(o),
    payer: wirePartnerPayer(o.payer),
    scene_info: wireScene(o),
  };
  return { method: "POST", host: V3_HOSTS.global, path: "/v3/global/transactions/jsapi", body: jsonBody(body) };
}
