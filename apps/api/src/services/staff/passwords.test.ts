import { describe, expect, it } from "vitest";
import { DEFAULT_SCRYPT_COST, MIN_PASSWORD_LENGTH, hashPassword, parsePasswordHash, passwordProblem, verifyAgainstDummy, verifyPassword } from "./passwords.js";

const CHEAP = { N: 1024, r: 8, p: 1 };

describe("staff passwords (scrypt)", () => {
  it("stores the cost, a random salt and the hash in `scrypt$N$r$p$salt$hash`", async () => {
    const first = await hashPassword("correct horse battery", CHEAP);
    const second = await hashPassword("correct horse battery", CHEAP);
    expect(first).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second);
    expect(parsePasswordHash(first)?.cost).toEqual(CHEAP);
    const standard = await hashPassword("correct horse battery");
    expect(standard.startsWith(`scrypt$${DEFAULT_SCRYPT_COST.N}$${DEFAULT_SCRYPT_COST.r}$${DEFAULT_SCRYPT_COST.p}$`)).toBe(true);
  });

  it("verifies the right password only, with the cost the hash names", async () => {
    const stored = await hashPassword("correct horse battery", CHEAP);
    expect(await verifyPassword("correct horse battery", stored)).toBe(true);
    expect(await verifyPassword("correct horse batterY", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
    // Another salt or a changed hash does not match.
    const [, n, r, p, , hash] = stored.split("$");
    expect(await verifyPassword("correct horse battery", `scrypt$${n}$${r}$${p}$${"A".repeat(22)}$${hash}`)).toBe(false);
  });

  it("never matches a hash it did not write, or one with an absurd cost", async () => {
    for (const stored of [
      "",
      "plain",
      "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      `scrypt$${2 ** 24}$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
      "bcrypt$2b$10$abc",
    ]) {
      expect(parsePasswordHash(stored)).toBeUndefined();
      expect(await verifyPassword("anything at all", stored)).toBe(false);
    }
  });

  it("refuses passwords shorter than 12 characters", () => {
    expect(MIN_PASSWORD_LENGTH).toBe(12);
    expect(passwordProblem("a".repeat(11))).toBe("a password needs at least 12 characters");
    expect(passwordProblem("a".repeat(12))).toBeUndefined();
    expect(passwordProblem("a".repeat(1025))).toBe("a password has at most 1024 characters");
  });

  it("spends a real check's time on a dummy hash, and never matches", async () => {
    expect(await verifyAgainstDummy("whatever password")).toBe(false);
  });
});
