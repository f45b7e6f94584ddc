import { randomBytes } from "node:crypto";
import type { Context } from "koa";
import type { SandboxContext } from "../context.js";
import { replyJson } from "../http.js";

/** Finds the app secret configured for a Mini Program appid (a merchant's appid or sub_appid). */
function secretFor(sandbox: SandboxContext, appId: string): string | undefined {
  for (const merchant of sandbox.options.merchants) {
    const secret = merchant.appSecrets[appId];
    if (secret !== undefined) return secret;
  }
  return undefined;
}

/**
 * GET /sns/jscode2session: trades a wx.login code for the user's openid under that appid. Codes
 * work once and expire; the errcodes are the real ones (40013, 40125, 40029, 40163, 41008).
 */
export function jscode2session(sandbox: SandboxContext, ctx: Context): void {
  const q = ctx.query;
  const text = (v: unknown): string => (typeof v === "string" ? v : "");
  const appId = text(q.appid);
  const secret = text(q.secret);
  const code = text(q.js_code);
  const fail = (errcode: number, errmsg: string): void => replyJson(ctx, 200, { errcode, errmsg: `${errmsg}, rid: ${randomBytes(4).toString("hex")}` });
  if (ctx.state.fault === "systemerror") return fail(-1, "system error");
  const expected = secretFor(sandbox, appId);
  if (expected === undefined) return fail(40013, "invalid appid");
  if (secret !== expected) return fail(40125, "invalid appsecret");
  if (text(q.grant_type) !== "authorization_code") return fail(40002, "invalid grant_type");
  if (code === "") return fail(41008, "missing code");
  const issued = sandbox.store.findLoginCode(code);
  if (issued === undefined || issued.appId !== appId) return fail(40029, "invalid code");
  if (issued.used) return fail(40163, "code been used");
  if (sandbox.clock.now() >= issued.expiresAt) return fail(40029, "invalid code");
  issued.used = true;
  replyJson(ctx, 200, { openid: issued.openid, session_key: randomBytes(16).toString("base64") });
}
