import { describe, expect, it } from "vitest";
import { createSessionTokens } from "./session-tokens.js";

describe("session tokens", () => {
  const tokens = createSessionTokens("x".repeat(40), 60);

  it("verifies its own tokens until they expire", () => {
    const { token, expiresAt } = tokens.issue("u_1", 1_000_000);
    expect(expiresAt).toBe(1_060_000);
    expect(tokens.verify(token, 1_059_999)).toBe("u_1");
    expect(tokens.verify(token, 1_060_000)).toBeUndefined();
  });

  it("refuses tampered, foreign and malformed tokens", () => {
    const { token } = tokens.issue("u_1", 0);
    const [payload, mac] = token.split(".") as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ u: "u_2", e: 9e15 })).toString("base64url");
    expect(tokens.verify(`${forgedPayload}.${mac}`, 0)).toBeUndefined();
    expect(tokens.verify(createSessionTokens("y".repeat(40), 60).issue("u_1", 0).token, 0)).toBeUndefined();
    for (const bad of ["", "abc", `${payload}.`, `${payload}.${mac}.x`, "a".repeat(600)]) expect(tokens.verify(bad, 0)).toBeUndefined();
  });

  it("answers a remembered token exactly as a fresh check would: the expiry against each call's clock", () => {
    const remembering = createSessionTokens("x".repeat(40), 60, { verifiedCacheSize: 2 });
    const fresh = createSessionTokens("x".repeat(40), 60, { verifiedCacheSize: 0 });
    const { token } = remembering.issue("u_1", 1_000_000);
    for (const now of [1_000_000, 1_059_999, 1_060_000, 2_000_000, 1_000_001, 1_059_999, 1_060_001]) {
      expect(remembering.verify(token, now)).toBe(fresh.verify(token, now));
    }
    expect(remembering.verify(token, 1_059_999)).toBe("u_1");
    expect(remembering.verify(token, 1_060_000)).toBeUndefined();
  });

  it("never remembers a forged token, and stays bounded (the oldest leaves first)", () => {
    const remembering = createSessionTokens("x".repeat(40), 60, { verifiedCacheSize: 2 });
    const issued = ["u_1", "u_2", "u_3"].map((user) => remembering.issue(user, 0).token);
    const [payload, mac] = (issued[0] ?? "").split(".") as [string, string];
    const forged = `${Buffer.from(JSON.stringify({ u: "u_9", e: 9e15 })).toString("base64url")}.${mac}`;
    for (let round = 0; round < 3; round++) {
      expect(remembering.verify(forged, 0)).toBeUndefined();
      expect(remembering.verify(`${payload}.${mac.slice(0, -2)}AA`, 0)).toBeUndefined();
    }
    // Three genuine tokens through a memory of two: each still answers its own user, whichever was evicted.
    for (let round = 0; round < 2; round++) issued.forEach((token, n) => expect(remembering.verify(token, 0)).toBe(`u_${n + 1}`));
    // A token signed with another secret is refused even right after the genuine ones were remembered.
    expect(remembering.verify(createSessionTokens("y".repeat(40), 60).issue("u_1", 0).token, 0)).toBeUndefined();
  });

  it("refuses a short secret at construction", () => {
    expect(() => createSessionTokens("short", 60)).toThrow(/32/);
  });
});
