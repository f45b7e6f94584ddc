import { describe, expect, it } from "vitest";
import { en } from "./en.js";
import { DICTIONARIES, initialLanguage, translate } from "./index.js";
import { zhCN } from "./zh-cn.js";

const placeholders = (text: string): string[] => [...text.matchAll(/\{([a-zA-Z]+)\}/g)].map((match) => match[1] ?? "").sort();

describe("the dictionaries", () => {
  it("en and zh-CN have exactly the same keys, none empty", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    for (const dictionary of Object.values(DICTIONARIES)) for (const text of Object.values(dictionary)) expect(text.trim()).not.toBe("");
  });

  it("each message names the same {placeholders} in both languages", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) expect([key, placeholders(zhCN[key])]).toEqual([key, placeholders(en[key])]);
  });

  it("the language switch is named in the other language", () => {
    expect(en["lang.switch"]).toBe("中文");
    expect(zhCN["lang.switch"]).toBe("English");
  });

  it("translate fills placeholders with text and leaves unknown ones", () => {
    expect(translate(en, "order.heading", { id: "<b>X</b>" })).toBe("Order <b>X</b>");
    expect(translate(en, "refund.confirmText", { amount: "¥1.50" })).toBe("Refund ¥1.50 of order {id}?");
  });

  it("starts with the stored language, else the browser's (zh… is zh-CN), else English", () => {
    expect(initialLanguage("en", "zh-CN")).toBe("en");
    expect(initialLanguage("zh-CN", "en-US")).toBe("zh-CN");
    expect(initialLanguage(null, "zh-TW")).toBe("zh-CN");
    expect(initialLanguage("fr", "zh")).toBe("zh-CN");
    expect(initialLanguage(null, "en-GB")).toBe("en");
    expect(initialLanguage(null, undefined)).toBe("en");
  });
});
