import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Session tokens: `<payload>.<mac>`, payload = base64url JSON {u: userId, e: expiry ms}, mac = HMAC-SHA256
 * with SESSION_SECRET. Stateless, so any API process verifies any token; they expire and cannot be forged.
 */
export interface SessionTokens {
  issue(userId: string, now: number): { token: string; expiresAt: number };
  /** The user id of a valid, unexpired token, else undefined. */
  verify(token: string, now: number): string | undefined;
}

export function createSessionTokens(secret: string, ttlSeconds: number): SessionTokens {
  if (secret.length < 32) throw new Error("SESSION_SECRET must be at least 32 characters.");
  const mac = (payload: string): Buffer => createHmac("sha256", secret).update(payload).digest();
  return {
    issue(userId, now) {
      const expiresAt = now + ttlSeconds * 1000;
      const payload = Buffer.from(JSON.stringify({ u: userId, e: expiresAt })).toString("base64url");
      return { token: `${payload}.${mac(payload).toString("base64url")}`, expiresAt };
    },
    verify(token, now) {
      if (token.length > 512) return undefined;
      const [payload, signature, extra] = token.split(".");
      if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
      const given = Buffer.from(signature, "base64url");
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { u?: unknown; e?: unknown };
        if (typeof claims.u !== "string" || typeof claims.e !== "number" || claims.e <= now) return undefined;
        return claims.u;
      } catch {
        return undefined;
      }
    },
  };
}
