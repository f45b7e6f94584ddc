import type { SessionResponse } from "@pay/core/contract";
import { isoAt } from "../clock.js";
import { ensureUser } from "../db/users.js";
import type { ServiceContext } from "./context.js";
import { newUserId } from "./order-ids.js";
import { failed, succeeded, type Outcome } from "./outcomes.js";

/** POST /api/session: trades a wx.login code for a session token. The openid and session_key stay here. */
export async function signIn(ctx: ServiceContext, code: string): Promise<Outcome<SessionResponse>> {
  const result = await ctx.login.code2Session(code);
  if (!result.ok) {
    if (result.error.kind === "rejected")
      return failed({ kind: "login-rejected", message: `WeChat refused the login code (${result.error.errcode ?? "error"}); call wx.login again.` });
    return failed({ kind: "login-unavailable", message: "WeChat login is unavailable right now; retrying is safe." });
  }
  const userId = await ensureUser(ctx.db, result.openid, newUserId(), isoAt(ctx.clock()));
  const { token, expiresAt } = ctx.tokens.issue(userId, ctx.clock());
  return succeeded({ token, expiresAt: isoAt(expiresAt) });
}
