import { describe, expect, it } from "vitest";
import { createFakePlatform, fakeWx } from "../../test/support/fake-platform.js";
import { createSessionStore } from "./session.js";

const NOW = Date.parse("2026-01-01T00:00:00Z");

describe("createSessionStore", () => {
  it.each([
    ["nothing stored (WeChat reads a missing key as '')", undefined],
    ["a token that expired", { token: "t", expiresAt: "2025-12-31T23:00:00Z" }],
    ["a token expiring within the minute", { token: "t", expiresAt: "2026-01-01T00:00:30Z" }],
    ["a malformed entry", { token: 42, expiresAt: "2099-01-01T00:00:00Z" }],
    ["an unreadable date", { token: "t", expiresAt: "soon" }],
  ])("reads no token from %s", (_case, stored) => {
    const wx = fakeWx(createFakePlatform());
    if (stored !== undefined) wx.storage.set("pay.session", stored);
    expect(createSessionStore(wx).read(NOW)).toBeUndefined();
  });

  it("saves to storage, reads back, and clears", () => {
    const wx = fakeWx(createFakePlatform());
    const store = createSessionStore(wx);
    store.save({ token: "t1", expiresAt: "2026-01-08T00:00:00.000Z" });
    expect(createSessionStore(wx).read(NOW)).toBe("t1");
    store.clear();
    expect(wx.storage.has("pay.session")).toBe(false);
    expect(store.read(NOW)).toBeUndefined();
  });

  it("keeps the token in memory when storage fails", () => {
    const wx = fakeWx(createFakePlatform());
    const broken = {
      ...wx,
      setStorageSync: () => {
        throw new Error("setStorageSync:fail exceed storage max size 10Mb");
      },
    };
    const store = createSessionStore(broken);
    store.save({ token: "t1", expiresAt: "2026-01-08T00:00:00.000Z" });
    expect(store.read(NOW)).toBe("t1");
  });
});
