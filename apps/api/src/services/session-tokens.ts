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

export interface SessionTokenOptions {
  /** Most verified tokens remembered (default 10,000; 0 turns the memory off). */
  readonly verifiedCacheSize?: number;
}

/** A token whose MAC checked out: who it names and until when (ms). */
interface Verified {
  readonly userId: string;
  readonly expiresAt: number;
}

export const DEFAULT_VERIFIED_TOKEN_CACHE = 10_000;

export function createSessionTokens(secret: string, ttlSeconds: number, options: SessionTokenOptions = {}): SessionTokens {
  if (secret.length < 32) throw new Error("SESSION_SECRET must be at least 32 characters.");
  const mac = (payload: string): Buffer => createHmac("sha256", secret).update(payload).digest();
  const cacheSize = options.verifiedCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE;
  // Tokens whose MAC and claims were checked once: a signed-in client sends the same token on every call,
  // and the HMAC + base64 + JSON.parse were about a tenth of a GET /api/orders/:id (docs/performance/round3-http.md).
  // Only genuine tokens get in (a forged one never passes the MAC), the expiry is still checked against
  // each call's clock, and a token is a pure function of the secret, so every process may keep its own.
  // Bounded: the oldest entry leaves when it is full.
  const verified = new Map<string, Verified>();
  const remember = (token: string, entry: Verified): void => {
    if (cacheSize <= 0) return;
    if (verified.size >= cacheSize) {
      const oldest = verified.keys().next();
      if (oldest.done !== true) verified.delete(oldest.value);
    }
    verified.set(token, entry);
  };
  return {
    issue(userId, now) {
      const expiresAt = now + ttlSeconds * 1000;
      const payload = Buffer.from(JSON.stringify({ u: userId, e: expiresAt })).toString("base64url");
      return { token: `${payload}.${mac(payload).toString("base64url")}`, expiresAt };
    },
    verify(token, now) {
      if (token.length > 512) return undefined;
      const known = verified.get(token);
      if (known !== undefined) {
        if (known.expiresAt > now) return known.userId;
        // Expired now; it is still kept (a moved clock may come back), but answers nothing at this time.
        return undefined;
      }
      const [payload, signature, extra] = token.split(".");
      if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
      const given = Buffer.from(signature, "base64url");
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      } catch {
        return undefined;
      }
      if (typeof claims !== "object" || claims === null) return undefined;
      const { u, e } = claims as { u?: unknown; e?: unknown };
      if (typeof u !== "string" || typeof e !== "number") return undefined;
      remember(token, { userId: u, expiresAt: e });
      return e > now ? u : undefined;
    },
  };
}
