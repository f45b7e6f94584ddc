import type { SessionResponse } from "@pay/core/contract";
import type { WxPort } from "../utils/wx-port.js";

const STORAGE_KEY = "pay.session";
/** A token this close to its expiry is renewed before use rather than sent to be refused. */
const EXPIRY_MARGIN_MS = 60_000;

/** The API session token, kept in wx storage so a relaunch does not sign in again. */
export interface SessionStore {
  /** The stored token, unless it is missing, malformed or about to expire. */
  read(now: number): string | undefined;
  save(session: SessionResponse): void;
  clear(): void;
}

export function createSessionStore(wx: Pick<WxPort, "getStorageSync" | "setStorageSync" | "removeStorageSync">): SessionStore {
  // Storage can throw (quota, a broken file): the token is then held in memory for this run only.
  let memory: SessionResponse | undefined;
  return {
    read(now) {
      let stored: unknown = memory;
      if (stored === undefined) {
        try {
          stored = wx.getStorageSync(STORAGE_KEY);
        } catch {
          stored = undefined;
        }
      }
      if (typeof stored !== "object" || stored === null) return undefined;
      const { token, expiresAt } = stored as { token?: unknown; expiresAt?: unknown };
      if (typeof token !== "string" || token === "" || typeof expiresAt !== "string") return undefined;
      const expires = Date.parse(expiresAt);
      if (Number.isNaN(expires) || expires - EXPIRY_MARGIN_MS <= now) return undefined;
      return token;
    },
    save(session) {
      memory = { token: session.token, expiresAt: session.expiresAt };
      try {
        wx.setStorageSync(STORAGE_KEY, memory);
      } catch {
        // Kept in memory; the next launch signs in again.
      }
    },
    clear() {
      memory = undefined;
      try {
        wx.removeStorageSync(STORAGE_KEY);
      } catch {
        // Nothing stored to lose.
      }
    },
  };
}
