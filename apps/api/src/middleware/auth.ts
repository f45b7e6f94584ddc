import { createHash, timingSafeEqual } from "node:crypto";
import type { Context } from "koa";
import type { Clock } from "../clock.js";
import { ApiError } from "../errors.js";
import type { SessionTokens } from "../services/session-tokens.js";

function bearer(ctx: Context): string | undefined {
  const header = ctx.get("authorization");
  const match = /^Bearer ([\x21-\x7e]{1,600})$/.exec(header);
  return match?.[1];
}

/** The signed-in user's id, or a 401. */
export function requireUser(ctx: Context, tokens: SessionTokens, clock: Clock): string {
  const token = bearer(ctx);
  if (token === undefined) throw new ApiError("UNAUTHORIZED", "Sign in first: send Authorization: Bearer <token> from POST /api/session.");
  const userId = tokens.verify(token, clock());
  if (userId === undefined) throw new ApiError("UNAUTHORIZED", "The session token is invalid or has expired; sign in again.");
  return userId;
}

/** Checks the admin token in constant time (hashing first so lengths never leak); 401/403 otherwise. */
export function requireAdmin(ctx: Context, adminToken: string): void {
  const token = bearer(ctx);
  if (token === undefined) throw new ApiError("UNAUTHORIZED", "Admin endpoints need Authorization: Bearer <ADMIN_TOKEN>.");
  const given = createHash("sha256").update(token).digest();
  const expected = createHash("sha256").update(adminToken).digest();
  if (!timingSafeEqual(given, expected)) throw new ApiError("FORBIDDEN", "This token may not use admin endpoints.");
}
