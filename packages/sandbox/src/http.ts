import { buildXml, signParams, type SignType } from "@pay/core";
import type { Context } from "koa";
import getRawBody from "raw-body";
import { newNonce } from "./ids.js";
import type { V2Merchant } from "./options.js";

export type BodyResult = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: "too-large" | "aborted" };

/** Reads the raw request body up to `limit` bytes. */
export async function readRawBody(ctx: Context, limit: number): Promise<BodyResult> {
  try {
    return { ok: true, body: await getRawBody(ctx.req, { limit }) };
  } catch (cause) {
    const type = (cause as { type?: string }).type;
    return { ok: false, reason: type === "entity.too.large" ? "too-large" : "aborted" };
  }
}

/** Answers with an XML document, as the gateway does (text/xml, HTTP 200). */
export function replyXml(ctx: Context, xml: string): void {
  ctx.status = 200;
  ctx.type = "text/xml; charset=utf-8";
  ctx.body = xml;
}

/** A protocol-level failure: return_code=FAIL with a message and no sign. */
export function replyProtocolFail(ctx: Context, returnMsg: string): void {
  replyXml(ctx, buildXml({ return_code: "FAIL", return_msg: returnMsg }));
}

/** The merchant ids the gateway echoes in every signed answer. */
function merchantEcho(merchant: V2Merchant): Record<string, string | undefined> {
  return { appid: merchant.appId, mch_id: merchant.mchId, sub_appid: merchant.subAppId, sub_mch_id: merchant.subMchId };
}

/** A signed answer (return_code=SUCCESS) with a fresh gateway nonce, signed with the request's sign type. */
export function replySigned(ctx: Context, merchant: V2Merchant, signType: SignType, fields: Record<string, string | number | undefined>): void {
  const message: Record<string, string | number | undefined> = {
    return_code: "SUCCESS",
    return_msg: "OK",
    ...merchantEcho(merchant),
    nonce_str: newNonce(),
    ...fields,
  };
  message.sign = signParams(message, { key: merchant.key, signType });
  replyXml(ctx, buildXml(message));
}

/** A business failure: signed, result_code=FAIL with the documented err_code. */
export function replyBusinessFail(ctx: Context, merchant: V2Merchant, signType: SignType, errCode: string, errCodeDes: string): void {
  replySigned(ctx, merchant, signType, { result_code: "FAIL", err_code: errCode, err_code_des: errCodeDes });
}

/** A JSON answer for the control API and code2session. */
export function replyJson(ctx: Context, status: number, body: unknown): void {
  ctx.status = status;
  ctx.type = "application/json; charset=utf-8";
  ctx.body = JSON.stringify(body);
}
