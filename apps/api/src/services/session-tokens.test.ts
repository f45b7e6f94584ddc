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

  it("refuses a short secret at construction", () => {
    expect(() => createSessionTokens("short", 60)).toThrow(/32/);
  });
});
