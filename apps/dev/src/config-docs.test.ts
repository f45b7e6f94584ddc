import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { EnvSchema, loadConfig } from "@pay/api";
import { describe, expect, it } from "vitest";
import { buildDevConfig, randomAlphanumeric, STACK_OWNED_KEYS } from "./env-file.js";
import { DEV_MODES, MODE_PROFILES, modeOfMerchant, V2_DEV_MODES } from "./modes.js";
import { REPO_ROOT } from "./paths.js";

const ENV_KEYS = Object.keys(EnvSchema.shape).sort();
const CONFIGURATION_MD = readFileSync(join(REPO_ROOT, "docs", "configuration.md"), "utf8");

/** The rows of the "## Variables" table: variable name -> default cell. */
function documentedVariables(): Map<string, string> {
  const section = CONFIGURATION_MD.split(/^## /m).find((part) => part.startsWith("Variables"));
  if (section === undefined) throw new Error("docs/configuration.md has no '## Variables' section");
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const match = /^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    if (rows.has(match[1])) throw new Error(`${match[1]} is documented twice`);
    rows.set(match[1], match[2].trim());
  }
  return rows;
}

/** What the default column must say, read from the schema itself: parsing "unset" gives the default. */
function expectedDefaultCell(key: string): string {
  const field = EnvSchema.shape[key as keyof typeof EnvSchema.shape];
  const unset = field.safeParse(undefined);
  if (!unset.success) return "required";
  return unset.data === undefined ? "—" : `\`${String(unset.data)}\``;
}

/** Test values for the <placeholders> of the example files, by variable. */
const PLACEHOLDER_VALUES: Readonly<Record<string, () => string>> = {
  WXPAY_APPID: () => "wx1234567890abcdef",
  WXPAY_MCHID: () => "1900000109",
  WXPAY_SUB_APPID: () => "wxabcdef1234567890",
  WXPAY_SUB_MCHID: () => "1900000110",
  WXPAY_KEY: () => randomAlphanumeric(32),
  WXPAY_SPBILL_CREATE_IP: () => "203.0.113.10",
  WX_APPSECRET: () => "0123456789abcdef0123456789abcdef",
  SESSION_SECRET: () => randomAlphanumeric(48),
  ADMIN_TOKEN: () => randomAlphanumeric(40),
};

describe("docs/configuration.md", () => {
  it("documents exactly the variables of EnvSchema", () => {
    expect([...documentedVariables().keys()].sort()).toEqual(ENV_KEYS);
  });

  it.each(ENV_KEYS)("gives %s the default the schema has", (key) => {
    expect(documentedVariables().get(key)).toBe(expectedDefaultCell(key));
  });
});

describe.each(V2_DEV_MODES)("config/%s.env.example", (mode) => {
  const text = readFileSync(join(REPO_ROOT, "config", `${mode}.env.example`), "utf8");

  it("mentions every variable, set or commented out", () => {
    const mentioned = new Set([...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    expect(ENV_KEYS.filter((key) => !mentioned.has(key))).toEqual([]);
    expect([...mentioned].filter((key) => key !== undefined && !ENV_KEYS.includes(key))).toEqual([]);
  });

  it(`loads with loadConfig once its placeholders are filled, as a ${mode} merchant`, () => {
    const values = parseEnv(text);
    const filled = Object.fromEntries(
      Object.entries(values).map(([key, value]) => {
        if (value === undefined || !value.startsWith("<")) return [key, value];
        const fill = PLACEHOLDER_VALUES[key];
        if (fill === undefined) throw new Error(`${key} has a placeholder the test cannot fill: ${value}`);
        return [key, fill()];
      }),
    );
    expect(Object.values(filled).filter((value) => value?.includes("<") === true)).toEqual([]);
    const config = loadConfig(filled);
    expect(modeOfMerchant(config.merchant)).toBe(mode);
    expect(config.merchant.notifyUrl.startsWith("https://")).toBe(true);
    expect(config.gateway.clientCert).toBeDefined();
  });
});

describe.each(DEV_MODES)("the generated dev config of --mode %s", (mode) => {
  const text = buildDevConfig(mode);
  const values = Object.fromEntries(Object.entries(parseEnv(text)).filter((entry): entry is [string, string] => entry[1] !== undefined));

  it("sets only variables of EnvSchema and none the stack owns", () => {
    expect(Object.keys(values).filter((key) => !ENV_KEYS.includes(key))).toEqual([]);
    expect(Object.keys(values).filter((key) => (STACK_OWNED_KEYS as readonly string[]).includes(key))).toEqual([]);
  });

  it("loads with loadConfig once the stack's own variables are added, as a merchant of this mode", () => {
    const profile = MODE_PROFILES[mode];
    const v3 = profile.v3;
    const config = loadConfig({
      ...values,
      WXPAY_BASE_URL: "https://127.0.0.1:8791",
      WX_API_BASE_URL: "http://127.0.0.1:8790",
      WXPAY_NOTIFY_URL: `http://127.0.0.1:3000/wxpay/${v3 === undefined ? "" : "v3/"}notify`,
      ...(v3 === undefined
        ? {}
        : {
            WXPAY_CERT_PATH: "/keys/apiclient_cert.pem",
            WXPAY_CERT_KEY_PATH: "/keys/apiclient_key.pem",
            ...(v3.keyMode === "public-key" ? { WXPAY_PUBLIC_KEY_ID: "PUB_KEY_ID_0100000000000000000000000000000001", WXPAY_PUBLIC_KEY_PATH: "/keys/wxp_pub.pem" } : {}),
          }),
    });
    expect(config.apiVersion).toBe(v3 === undefined ? "v2" : "v3");
    expect(modeOfMerchant(config.merchant, config.apiVersion === "v3" ? config.v3 : undefined)).toBe(mode);
    expect(config.merchant).toMatchObject({ appId: profile.appId, mchId: profile.mchId, subMchId: profile.subMchId, feeType: profile.feeType });
    if (v3 === undefined) expect(config.v2?.key).toMatch(/^[0-9A-Za-z]{32}$/);
    else {
      expect(config.v2).toBeUndefined();
      expect(config.v3).toMatchObject({ account: v3.account, mode: v3.keyMode, merchantCategoryCode: v3.merchantCategoryCode });
      expect(config.v3?.apiV3Key).toMatch(/^[0-9A-Za-z]{32}$/);
    }
  });
});
