import type { SessionResponse } from "@pay/core/contract";
import { isoAt } from "../clock.js";
import { isUniqueViolation } from "../db/errors.js";
import { ApiError } from "../errors.js";
import type { ServiceContext } from "./context.js";
import { newUserId } from "./order-ids.js";

async function userIdFor(ctx: ServiceContext, openid: string): Promise<string> {
  const existing = await ctx.db.selectFrom("users").select("id").where("openid", "=", openid).executeTakeFirst();
  if (existing !== undefined) return existing.id;
  const id = newUserId();
  try {
    await ctx.db.insertInto("users").values({ id, openid, created_at: isoAt(ctx.clock()) }).execute();
    return id;
  } catch (error) {
    // The same user signed in twice at once: the other request created the row.
    if (!isUniqueViolation(error)) throw error;
    const raced = await ctx.db.selectFrom("users").select("id").where("openid", "=", openid).executeTakeFirstOrThrow();
    return raced.id;
  }
}

/** POST /api/session: trades a wx.login code for a session token. The openid and session_key stay here. */
export async function signIn(ctx: ServiceContext, code: string): Promise<SessionResponse> {
  const result = await ctx.login.code2Session(code);
  if (!result.ok) {
    if (result.error.kind === "rejected") throw new ApiError("LOGIN_FAILED", `WeChat refused the login code (${result.error.errcode ?? "error"}); call wx.login again.`);
    throw new ApiError("GATEWAY_UNAVAILABLE", "WeChat login is unavailable right now; retrying is safe.");
  }
  const userId = await userIdFor(ctx, result.openid);
  const { token, expiresAt } = ctx.tokens.issue(userId, ctx.clock());
  return { token, expiresAt: isoAt(expiresAt) };
}
