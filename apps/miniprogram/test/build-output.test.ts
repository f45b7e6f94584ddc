import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { parseApiBaseUrl } from "../scripts/build.mjs";
import { checkBuildOutput } from "./support/check-output.js";
import { createFakePlatform } from "./support/fake-platform.js";
import { createMiniRuntime } from "./support/mini-runtime.js";

const buildDir = inject("buildDir");
const scratch = mkdtempSync(join(tmpdir(), "pay-miniprogram-output-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let copies = 0;
/** A copy of the build with one thing changed. */
function tampered(change: (dir: string) => void): string {
  copies += 1;
  const dir = join(scratch, `copy-${copies}`);
  cpSync(buildDir, dir, { recursive: true });
  change(dir);
  return dir;
}

function append(dir: string, file: string, text: string): void {
  writeFileSync(join(dir, file), `${readFileSync(join(dir, file), "utf8")}\n${text}\n`);
}

const PAGES = (JSON.parse(readFileSync(join(buildDir, "app.json"), "utf8")) as { pages: string[] }).pages;

describe("the build output", () => {
  it("passes every check: files, JSON, official WXML/WXSS compilers, no Node or npm requires, no secrets or signing", () => {
    expect(checkBuildOutput(buildDir, { apiBaseUrl: inject("buildApiBaseUrl") })).toEqual([]);
  });

  it("has the four pages, each with .js, .wxml, .wxss and .json", () => {
    expect(PAGES).toEqual(["pages/products/index", "pages/checkout/index", "pages/result/index", "pages/orders/index"]);
  });

  it("opens in DevTools as it is: tourist appid, URL check off for a local API, the folder itself as the root", () => {
    const project = JSON.parse(readFileSync(join(buildDir, "project.config.json"), "utf8")) as Record<string, unknown>;
    expect(project).toMatchObject({ compileType: "miniprogram", appid: "touristappid", miniprogramRoot: "./", setting: { urlCheck: false } });
  });

  it.each(PAGES)("%s defines every handler its WXML binds", (route) => {
    const wxml = readFileSync(join(buildDir, `${route}.wxml`), "utf8");
    const handlers = [...wxml.matchAll(/\b(?:bind|catch):?\w+="(\w+)"/g)].map((m) => m[1] ?? "");
    expect(handlers.length).toBeGreaterThan(0);
    const platform = createFakePlatform();
    const rt = createMiniRuntime({ dir: buildDir, platform });
    const page = rt.launch(`/${route}`);
    for (const handler of handlers) expect(typeof page[handler], `${route} ${handler}`).toBe("function");
    rt.close();
  });
});

describe("checkBuildOutput finds", () => {
  it.each([
    ["an npm package", "pages/checkout/index.js", 'const z = require("zod");', 'require("zod") loads an npm package, which the WeChat runtime cannot resolve'],
    ["a Node built-in", "api/client.js", 'const crypto = require("crypto");', 'require("crypto") loads a Node built-in'],
    ["a node: built-in", "app.js", 'require("node:fs");', 'require("node:fs") loads a Node built-in'],
    ["a dynamic require", "app.js", "const name = 'x'; require(name);", "require(name) is dynamic"],
    ["a relative require of a missing file", "app.js", 'require("./missing.js");', 'require("./missing.js") names no file of the output'],
    ["ES module syntax", "utils/format.js", 'import { z } from "zod";', "uses ES module syntax"],
    ["Node's process", "config.js", "exports.KEY = process.env.WXPAY_KEY;", "uses Node's process"],
    ["a v2 API key", "config.js", 'exports.K = "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0";', "a 32-character token shaped like a WeChat Pay v2 API key"],
    ["a PEM private key", "utils/ids.js", "// -----BEGIN PRIVATE KEY-----", "a PEM key or certificate"],
    ["signing code", "services/payment.js", 'function sign(s) { return hex_md5(s + "&key=" + k); }', "signing code"],
    ["an HMAC", "services/payment.js", "const mac = CryptoJS.HmacSHA256(text, key);", "signing code"],
    ["a secret's name", "config.js", 'exports.appSecret = "x";', "a server secret's name"],
    ["a Node built-in in the bundle", "lib/pay-core.js", 'var c = require("crypto");', 'require("crypto") loads a Node built-in'],
    ["an npm package in the bundle", "lib/pay-core.js", 'var z = require("zod");', 'require("zod") loads an npm package'],
    ["signing code in the bundle", "lib/pay-core.js", "function s(t) { return md5(t); }", "signing code"],
    ["a v2 API key in the bundle", "lib/pay-core.js", 'var k = "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0";', "a 32-character token shaped like a WeChat Pay v2 API key"],
    ["a sign type's name outside a string", "utils/ids.js", "var t = MD5;", "signing code"],
  ])("%s", (_case, file, code, problem) => {
    const problems = checkBuildOutput(tampered((dir) => append(dir, file, code)));
    expect(problems.join("\n")).toContain(`${file}: `);
    expect(problems.join("\n")).toContain(problem);
  });

  it.each([
    ["a page file missing", (dir: string) => rmSync(join(dir, "pages/result/index.wxss")), "pages/result/index.wxss: missing for the page app.json lists"],
    ["broken JSON", (dir: string) => writeFileSync(join(dir, "pages/orders/index.json"), "{ navigationBarTitleText: 'x' }"), "pages/orders/index.json: is not valid JSON"],
    ["WXML wcc refuses", (dir: string) => append(dir, "pages/products/index.wxml", "<view>{{unclosed</view>"), "WXML: "],
    ["WXSS wcsc refuses", (dir: string) => append(dir, "app.wxss", ".broken { color: red;"), "WXSS: "],
    ["no project.config.json", (dir: string) => rmSync(join(dir, "project.config.json")), "project.config.json: missing"],
  ])("%s", (_case, change, problem) => {
    expect(checkBuildOutput(tampered(change)).join("\n")).toContain(problem);
  });

  it("nothing in the sign types' names as the contract's signType enum carries them (data the client passes on)", () => {
    expect(checkBuildOutput(tampered((dir) => append(dir, "utils/ids.js", "var signTypes = [\"MD5\", 'HMAC-SHA256'];")))).toEqual([]);
  });

  it("a build for another API than expected", () => {
    expect(checkBuildOutput(buildDir, { apiBaseUrl: "https://elsewhere.example" })).toEqual(["config.js: does not set API_BASE_URL to https://elsewhere.example"]);
  });
});

describe("the test runtime loads code the way WeChat does", () => {
  it("refuses an npm require at run time too", () => {
    const dir = tampered((d) => append(d, "utils/format.js", 'require("zod");'));
    const rt = createMiniRuntime({ dir, platform: createFakePlatform() });
    expect(() => rt.launch("/pages/orders/index")).toThrow('require("zod") in utils/format.js: the WeChat runtime loads only the mini-program\'s own files, by relative path');
  });

  it("hides Node's globals from the app", () => {
    const probe = 'if (typeof process !== "undefined" || typeof Buffer !== "undefined") throw new Error("Node globals are visible");';
    const dir = tampered((d) => append(d, "app.js", probe));
    const rt = createMiniRuntime({ dir, platform: createFakePlatform() });
    expect(() => rt.launch()).not.toThrow();
    rt.close();
  });
});

describe("PAY_API_BASE_URL", () => {
  it.each([
    ["https://pay.example.com", "https://pay.example.com"],
    ["https://pay.example.com/", "https://pay.example.com"],
    ["http://127.0.0.1:3000", "http://127.0.0.1:3000"],
  ])("accepts %s as %s", (value, origin) => {
    expect(parseApiBaseUrl(value)).toBe(origin);
  });

  it.each([["pay.example.com"], ["ftp://pay.example.com"], ["https://pay.example.com/api"], ["https://pay.example.com?x=1"], ["https://user:pw@pay.example.com"]])(
    "refuses %s",
    (value) => {
      expect(() => parseApiBaseUrl(value)).toThrow(/PAY_API_BASE_URL/);
    },
  );
});
