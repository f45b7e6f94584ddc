import { createHash, timingSafeEqual } from "node:crypto";
import { CSRF_HEADER, STAFF_SESSION_COOKIE, type AdminActor } from "@pay/core/contract";
import type { Context } from "koa";
import type { Clock } from "../clock.js";
import { ApiError } from "../errors.js";
import type { SessionTokens } from "../services/session-tokens.js";
import { csrfMatches, type StaffSessionInfo } from "../services/staff/sessions.js";

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

/** ADMIN_TOKEN: automation, which may do what an operator may. */
export const TOKEN_ACTOR: AdminActor = { kind: "token", role: "operator" };

/** Who calls a back-office route: ADMIN_TOKEN, or a staff member with the session their cookie names. */
export type BackOfficeIdentity =
  { readonly actor: AdminActor; readonly session: undefined } | { readonly actor: AdminActor & { kind: "staff" }; readonly session: StaffSessionInfo };

/**
 * Identifies a back-office caller: an Authorization header means ADMIN_TOKEN (it wins over a cookie, for
 * automation); else the console session cookie. A missing, forged, expired, idle, revoked or disabled
 * account's cookie is a 401.
 */
export async function identifyBackOffice(ctx: Context, adminToken: string, authenticate: (token: string) => Promise<StaffSessionInfo | undefined>): Promise<BackOfficeIdentity> {
  if (ctx.get("authorization") !== "") {
    requireAdmin(ctx, adminToken);
    return { actor: TOKEN_ACTOR, session: undefined };
  }
  const cookie = ctx.cookies.get(STAFF_SESSION_COOKIE, { signed: false });
  if (cookie === undefined || cookie === "") {
    throw new ApiError("UNAUTHORIZED", "Admin endpoints need Authorization: Bearer <ADMIN_TOKEN>, or a console session (POST /api/admin/session).");
  }
  const session = await authenticate(cookie);
  if (session === undefined) throw new ApiError("UNAUTHORIZED", "The console session is invalid, has expired or was ended; sign in again.");
  return { actor: session.actor, session };
}

/** An operator route: ADMIN_TOKEN or a staff member with the operator role; a viewer gets a 403. */
export function requireOperator(actor: AdminActor): void {
  if (actor.role !== "operator") throw new ApiError("FORBIDDEN", "Your role (viewer) may read the back office but not act in it; an operator may.");
}

/** True when a request comes from another site: Sec-Fetch-Site says so, or an Origin header names another host than the request's. */
export function isCrossSite(ctx: Context): boolean {
  if (ctx.get("sec-fetch-site").toLowerCase() === "cross-site") return true;
  const origin = ctx.get("origin");
  if (origin === "") return false;
  try {
    return new URL(origin).host !== ctx.host.toLowerCase();
  } catch {
    // "null" (a sandboxed frame, a redirect) or garbage: not this site.
    return true;
  }
}

/**
 * A staff member's state-changing call: refused (CSRF_FAILED) when it comes from another site, or without the
 * session's current x-csrf-token (missing, or one replaced since by GET /api/admin/session).
 */
export function requireCsrf(ctx: Context, session: StaffSessionInfo): void {
  if (isCrossSite(ctx)) throw new ApiError("CSRF_FAILED", "Cross-site requests may not change anything in the back office.");
  const given = ctx.get(CSRF_HEADER);
  if (given === "") throw new ApiError("CSRF_FAILED", `A console call that changes something needs the ${CSRF_HEADER} header from the session.`);
  if (!csrfMatches(session, given))
    throw new ApiError("CSRF_FAILED", `The ${CSRF_HEADER} header is not this session's current token; reload the session (GET /api/admin/session).`);
}
