import { describe, expect, it } from "vitest";
import { jsonText } from "./json-text.js";

describe("jsonText", () => {
  it("is undefined where JSON has no text for the value", () => {
    expect(jsonText(undefined)).toBeUndefined();
    expect(jsonText(() => 1)).toBeUndefined();
    expect(jsonText(Symbol("s"))).toBeUndefined();
  });

  it("is JSON.stringify's text otherwise", () => {
    expect(jsonText({ code: "NOT_FOUND", amount: 100 })).toBe('{"code":"NOT_FOUND","amount":100}');
    expect(jsonText(null)).toBe("null");
    expect(jsonText("")).toBe('""');
  });
});
