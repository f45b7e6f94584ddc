import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import vm from "node:vm";
import { API_ROUTES as CORE_ROUTES, CONTRACT_VERSION as CORE_CONTRACT_VERSION } from "@pay/core/contract";
import { CURRENCIES, currencyExponent, currencySymbol } from "@pay/core/money";
import { describe, expect, inject, it } from "vitest";
import { CORE_BUNDLE } from "../scripts/build.mjs";
import type * as PayCore from "../src/lib/pay-core.js";

// lib/pay-core.js is the one file of the build that is not the app's own code: @pay/core's contract
// and money module with zod, bundled by scripts/build.mjs. These tests load it the way a phone does
// and pin what the app relies on; build-output.test.ts runs the require, ES-module and secret checks
// over it as over every other file.

const buildDir = inject("buildDir");
const bundleFile = join(buildDir, CORE_BUNDLE);
const code = readFileSync(bundleFile, "utf8");

/** WeChat's limit for the main package (the code package without subpackages). */
const MAIN_PACKAGE_LIMIT = 2 * 1024 * 1024;
/** What the bundle may weigh before someone has to look (docs/miniprogram.md records the size). */
const BUNDLE_BUDGET = 512 * 1024;
/** DevTools' own settings: in the output folder, but not part of the code package. */
const NOT_UPLOADED = new Set(["project.config.json", "project.private.config.json"]);

/**
 * Runs the bundle as CommonJS with a `require` that refuses everything and a `Function` that throws,
 * as WeChat runs no eval or new Function; records what it asked for.
 */
function loadBundle(): { readonly core: typeof PayCore; readonly requires: string[]; readonly functionCalls: unknown[][] } {
  const requires: string[] = [];
  const functionCalls: unknown[][] = [];
  // A function, not an arrow, so that `new` reaches it and the call is recorded.
  function noFunction(...args: unknown[]): never {
    functionCalls.push(args);
    throw new Error("new Function is not available in the WeChat runtime");
  }
  const module = { exports: {} as unknown };
  const run = vm.compileFunction(code, ["require", "module", "exports", "Function", "process", "Buffer", "global"], { filename: bundleFile }) as (...args: unknown[]) => void;
  const refuse = (specifier: string): never => {
    requires.push(specifier);
    throw new Error(`require("${specifier}"): the WeChat runtime resolves no package`);
  };
  run(refuse, module, module.exports, noFunction, undefined, undefined, undefined);
  return { core: module.exports as typeof PayCore, requires, functionCalls };
}

const { core, requires, functionCalls } = loadBundle();

const GOOD_ORDER = {
  order: {
    id: "P20260101000001",
    status: "pending",
    totalFee: 4800,
    refundedFee: 0,
    feeType: "CNY",
    items: [{ productId: "coffee-beans", name: "Coffee beans", quantity: 1, unitPrice: 4800 }],
    createdAt: "2026-01-01T00:00:01.000Z",
    paidAt: null,
    transactionId: null,
  },
  payment: { timeStamp: "1700000000", nonceStr: "n0nce", package: "prepay_id=wx201410272009395522657a690389285100", signType: "HMAC-SHA256", paySign: "A".repeat(64) },
};

describe("lib/pay-core.js, the bundled contract and money module", () => {
  it("is one CommonJS file that requires nothing, no Node built-in and no package, and never calls eval", () => {
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/\beval\s*\(/);
    expect(requires).toEqual([]);
    expect(Object.keys(core).sort()).toEqual(["API_ROUTES", "ApiErrorBodySchema", "CONTRACT_VERSION", "CONTRACT_VERSION_HEADER", "MAX_LINE_QUANTITY", "formatMoney"]);
  });

  it("validates without new Function (zod runs jitless, as it must on a phone)", () => {
    expect(core.API_ROUTES.createOrder.response.safeParse(GOOD_ORDER).success).toBe(true);
    expect(core.API_ROUTES.createOrder.response.safeParse({ ...GOOD_ORDER, payment: { ...GOOD_ORDER.payment, appId: "wx1" } }).success).toBe(false);
    expect(core.ApiErrorBodySchema.safeParse({ error: { code: "NOT_FOUND", message: "No order." } }).success).toBe(true);
    expect(functionCalls).toEqual([]);
  });

  it("is built from this @pay/core: its contract version, header, limits and every route's method, path, auth and status", () => {
    expect(core.CONTRACT_VERSION).toBe(CORE_CONTRACT_VERSION);
    expect(core.CONTRACT_VERSION_HEADER).toBe("X-Pay-Contract");
    expect(core.MAX_LINE_QUANTITY).toBe(99);
    const plain = (routes: typeof CORE_ROUTES) => Object.entries(routes).map(([name, r]) => `${name} ${r.method} ${r.path} ${r.auth} ${r.status}`);
    expect(plain(core.API_ROUTES)).toEqual(plain(CORE_ROUTES));
  });

  it.each([
    [1234, "CNY", "¥12.34"],
    [5, "CNY", "¥0.05"],
    [0, "USD", "US$0.00"],
    [100_000, "HKD", "HK$1,000.00"],
    [1750, "JPY", "¥1,750"],
    [1250, "KWD", "KWD 1.250"],
    [123_456_789, "KRW", "₩123,456,789"],
    [-4800, "CNY", "-¥48.00"],
  ] as const)("formats %d %s as %s", (amount, currency, text) => {
    expect(core.formatMoney({ amount, currency })).toBe(text);
  });

  it("refuses amounts that are not whole minor units", () => {
    expect(() => core.formatMoney({ amount: 12.5, currency: "CNY" })).toThrow(/not a whole number of minor units/);
  });

  it.each(CURRENCIES)("accepts a %s price and shows it with its minor-unit exponent", (currency) => {
    const body = { products: [{ id: "p", name: "P", price: 123_456, currency }] };
    expect(core.API_ROUTES.listProducts.response.safeParse(body).success).toBe(true);
    const exponent = currencyExponent(currency);
    const major = exponent === 0 ? "123,456" : exponent === 2 ? "1,234.56" : "123.456";
    expect(core.formatMoney({ amount: 123_456, currency })).toBe(`${currencySymbol(currency) ?? `${currency} `}${major}`);
  });

  it.each(["XAU", "cny", "", "toString"])("refuses the currency %j", (currency) => {
    const parsed = core.API_ROUTES.listProducts.response.safeParse({ products: [{ id: "p", name: "P", price: 1, currency }] });
    expect(parsed.success).toBe(false);
    // The wording is @pay/core's; the field at fault is what the client reports.
    expect(parsed.error?.issues.map((issue) => issue.path.join("."))).toEqual(["products.0.currency"]);
  });
});

/** Every file of the build output with its size, as paths relative to it. */
function sizes(dir: string): { readonly file: string; readonly bytes: number }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ file: relative(dir, path), bytes: statSync(path).size }));
}

describe("the main package", () => {
  it("stays under WeChat's 2 MB limit, the bundle included", () => {
    const uploaded = sizes(buildDir).filter((entry) => !NOT_UPLOADED.has(entry.file));
    const total = uploaded.reduce((sum, entry) => sum + entry.bytes, 0);
    expect(uploaded.map((entry) => entry.file)).toContain(CORE_BUNDLE);
    expect(total).toBeLessThan(MAIN_PACKAGE_LIMIT);
  });

  it("keeps the bundle within its budget of 512 KiB", () => {
    expect(statSync(bundleFile).size).toBeLessThan(BUNDLE_BUDGET);
  });
});
