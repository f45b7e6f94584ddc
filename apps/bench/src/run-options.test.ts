// `--contenders`: which API contenders a run keeps.
import { describe, expect, it } from "vitest";
import { keepsContender, parseContenders } from "./run-options.js";

describe("parseContenders", () => {
  it("splits on commas and trims, dropping empty parts", () => {
    expect(parseContenders("SQLite: distinct, APIv3 ,")).toEqual(["SQLite: distinct", "APIv3"]);
  });

  it("refuses a list without a substring", () => {
    expect(() => parseContenders(" , ")).toThrow("--contenders takes comma-separated substrings");
    expect(() => parseContenders("")).toThrow("--contenders takes");
  });
});

describe("keepsContender", () => {
  const name = "@pay/api on SQLite, APIv3: duplicates of one paid order";

  it("keeps everything without a filter", () => {
    expect(keepsContender(undefined, name)).toBe(true);
  });

  it("keeps a name that contains one of the substrings, ignoring case", () => {
    expect(keepsContender(["postgresql", "apiv3: dup"], name)).toBe(true);
    expect(keepsContender(["sqlite: duplicates"], name)).toBe(false);
    expect(keepsContender(["PostgreSQL"], name)).toBe(false);
    expect(keepsContender([], name)).toBe(false);
  });
});
