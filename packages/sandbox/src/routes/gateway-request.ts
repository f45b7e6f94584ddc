import { isSignType, parseXml, verifySign, type ParseRequestErrorCode, type Result, type SignType, type XmlFields } from "@pay/core";
import type { Context } from "koa";
import type { SandboxContext } from "../context.js";
import { readRawBody, replyBusinessFail, replyProtocolFail } from "../http.js";
import type { V2Merchant } from "../options.js";

/** A request that passed the gateway's protocol checks: POST, safe XML, known merchant, valid signature. */
export interface GatewayRequest {
  readonly ctx: Context;
  readonly merchant: V2Merchant;
  readonly signType: SignType;
  readonly raw: Readonly<XmlFields>;
}

/**
 * Runs the checks every v2 endpoint makes, in the real gateway's order, answering FAIL itself when one
 * fails; returns the verified request otherwise. An injected `systemerror` fault answers SYSTEMERROR here.
 */
export async function acceptGatewayRequest(sandbox: SandboxContext, ctx: Context): Promise<GatewayRequest | undefined> {
  if (ctx.method !== "POST") {
    replyProtocolFail(ctx, "请使用post方法");
    return undefined;
  }
  const body = await readRawBody(ctx, sandbox.options.maxBodyBytes);
  if (!body.ok) {
    if (body.reason === "too-large") replyProtocolFail(ctx, "XML格式错误: 请求过大");
    else ctx.req.socket.destroy();
    return undefined;
  }
  if (body.body.length === 0) {
    replyProtocolFail(ctx, "post数据为空");
    return undefined;
  }
  const xml = parseXml(body.body, { maxBytes: sandbox.options.maxBodyBytes });
  if (!xml.ok) {
    replyProtocolFail(ctx, xml.error.code === "INVALID_UTF8" ? "编码格式错误，请使用UTF-8编码" : "XML格式错误");
    return undefined;
  }
  const raw = xml.value;
  const merchant = sandbox.findV2Merchant(raw.mch_id, raw.sub_mch_id || undefined);
  if (raw.mch_id === undefined || raw.mch_id === "") {
    replyProtocolFail(ctx, "缺少参数mch_id");
    return undefined;
  }
  if (merchant === undefined) {
    replyProtocolFail(ctx, raw.sub_mch_id ? "子商户号sub_mch_id与商户号mch_id不匹配" : "商户号mch_id不存在");
    return undefined;
  }
  const declared = raw.sign_type;
  if (declared !== undefined && declared !== "" && !isSignType(declared)) {
    replyProtocolFail(ctx, "sign_type参数格式错误");
    return undefined;
  }
  const signType: SignType = declared === "HMAC-SHA256" ? "HMAC-SHA256" : "MD5";
  if (raw.sign === undefined || raw.sign === "") {
    replyProtocolFail(ctx, "缺少参数sign");
    return undefined;
  }
  // The gateway checks with the request's own sign type (MD5 when absent), never by the sign's length.
  const verified = verifySign(raw, { key: merchant.key, signType });
  if (!verified.ok) {
    replyProtocolFail(ctx, "签名错误，请检查后再试");
    return undefined;
  }
  if ((raw.appid ?? "") === "") {
    replyProtocolFail(ctx, "缺少参数appid");
    return undefined;
  }
  if (raw.appid !== merchant.appId) {
    replyBusinessFail(ctx, merchant, signType, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配");
    return undefined;
  }
  if (merchant.subAppId !== undefined && raw.sub_appid !== undefined && raw.sub_appid !== "" && raw.sub_appid !== merchant.subAppId) {
    replyBusinessFail(ctx, merchant, signType, "PARAM_ERROR", "sub_appid与sub_mch_id不匹配");
    return undefined;
  }
  if (ctx.state.fault === "systemerror") {
    replyBusinessFail(ctx, merchant, signType, "SYSTEMERROR", "系统超时");
    return undefined;
  }
  return { ctx, merchant, signType, raw };
}

/** Answers a failed request parse the gateway's way: a missing field is a protocol FAIL, a bad one a PARAM_ERROR. */
export function replyParseFailure(request: GatewayRequest, error: Extract<Result<unknown, ParseRequestErrorCode>, { ok: false }>["error"]): void {
  if (error.code === "MISSING_FIELD") replyProtocolFail(request.ctx, `缺少参数: ${error.message}`);
  else replyBusinessFail(request.ctx, request.merchant, request.signType, "PARAM_ERROR", error.message);
}
