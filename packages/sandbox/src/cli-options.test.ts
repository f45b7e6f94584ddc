import { describe, expect, it } from "vitest";
import { V3_CERTIFICATE, V3_DIRECT, V3_MIGRATING } from "@pay/test-kit/merchants";
import {
  DEFAULT_HOST,
  DEFAULT_PKI_DIR,
  DEFAULT_PORT,
  DEFAULT_V3_KEY_MODE,
  DEFAULT_V3_KEYS_DIR,
  DEMO_MERCHANT,
  parseCliArgs,
  randomSecret,
  type CliParseResult,
  type CliStart,
} from "./cli-options.js";

const noFile = (path: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
};
const files =
  (contents: Record<string, string>) =>
  (path: string): string => {
    const text = contents[path];
    return text === undefined ? noFile(path) : text;
  };
let counter = 0;
const fixedSecret = (): string => `secret-${++counter}`;

function started(result: CliParseResult): CliStart {
  if (!result.ok) throw new Error(`expected a start command, got ${result.error.code}: ${result.error.message}`);
  if (result.value.kind !== "start") throw new Error("expected a start command, got help");
  return result.value;
}

function failure(result: CliParseResult): { code: string; message: string } {
  if (result.ok) throw new Error("expected a failure");
  return result.error;
}

const MERCHANT = { appId: "wx1111111111111111", mchId: "1230000109", key: "k".repeat(32) };

describe("parseCliArgs", () => {
  it("defaults to the demo merchant on 127.0.0.1:8790 over HTTP", () => {
    const start = started(parseCliArgs([], noFile, () => "S".repeat(32)));
    expect(start).toMatchObject({ kind: "start", host: DEFAULT_HOST, port: DEFAULT_PORT, https: false, pkiDir: DEFAULT_PKI_DIR, demo: true });
    expect([DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PKI_DIR]).toEqual(["127.0.0.1", 8790, "./data/sandbox-pki"]);
    expect(start.options.merchants).toEqual([
      expect.objectContaining({ appId: "wx0000sandbox0001", mchId: "1900000001", key: "S".repeat(32), profile: "domestic", appSecrets: { wx0000sandbox0001: "S".repeat(32) } }),
    ]);
    expect(start.options.requireClientCert).toBe(true);
    expect(start.options.notify.retryScale).toBe(1);
  });

  it("gives the demo merchant a fresh 32-character key and a distinct app secret", () => {
    const start = started(parseCliArgs([], noFile));
    const [merchant] = start.options.merchants;
    expect(merchant?.key).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(merchant?.appSecrets[DEMO_MERCHANT.appId]).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(merchant?.appSecrets[DEMO_MERCHANT.appId]).not.toBe(merchant?.key);
    expect(randomSecret()).not.toBe(randomSecret());
  });

  it("applies the flags", () => {
    const start = started(parseCliArgs(["--port", "0", "--host", "0.0.0.0", "--https", "--pki-dir=/tmp/pki", "--no-client-cert", "--retry-scale", "0.001"], noFile, fixedSecret));
    expect(start).toMatchObject({ host: "0.0.0.0", port: 0, https: true, pkiDir: "/tmp/pki" });
    expect(start.options.requireClientCert).toBe(false);
    expect(start.options.notify.retryScale).toBe(0.001);
  });

  it.each([["--help"], ["-h"], ["--port", "nope", "--help"]])("answers help for %s", (...argv) => {
    expect(parseCliArgs(argv, noFile)).toEqual({ ok: true, value: { kind: "help" } });
  });

  it.each([
    ["a word", "abc"],
    ["a negative port", "-1"],
    ["a port above 65535", "65536"],
    ["a fraction", "80.5"],
    ["an empty port", ""],
  ])("rejects %s as --port", (_name, port) => {
    const error = failure(parseCliArgs([`--port=${port}`], noFile));
    expect(error.code).toBe("USAGE");
    expect(error.message).toMatch(/--port/);
  });

  it.each([["0"], ["-2"], ["abc"], ["Infinity"]])("rejects %s as --retry-scale", (scale) => {
    const error = failure(parseCliArgs([`--retry-scale=${scale}`], noFile));
    expect(error.code).toBe("USAGE");
    expect(error.message).toMatch(/--retry-scale/);
  });

  it("rejects an unknown flag, naming it", () => {
    const error = failure(parseCliArgs(["--prot", "80"], noFile));
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain("--prot");
  });

  it("rejects positional arguments and a string flag without its value", () => {
    expect(failure(parseCliArgs(["start"], noFile)).code).toBe("USAGE");
    expect(failure(parseCliArgs(["--config"], noFile)).code).toBe("USAGE");
  });

  it("reads merchants and options from the config file, flags winning", () => {
    const config = { merchants: [{ ...MERCHANT, profile: "global", subMchId: "sub1" }], notify: { duplicates: 2, retryScale: 0.5 }, refundSettleMs: null };
    const start = started(parseCliArgs(["--config", "sandbox.json", "--retry-scale", "0.01"], files({ "sandbox.json": JSON.stringify(config) })));
    expect(start.demo).toBe(false);
    expect(start.options.merchants).toEqual([expect.objectContaining({ ...MERCHANT, profile: "global", subMchId: "sub1" })]);
    expect(start.options.notify).toMatchObject({ duplicates: 2, retryScale: 0.01 });
    expect(start.options.refundSettleMs).toBeNull();
  });

  it("simulates the demo merchant when the config file names no merchants", () => {
    const start = started(parseCliArgs(["--config", "c.json"], files({ "c.json": '{"requireClientCert": false}' }), fixedSecret));
    expect(start.demo).toBe(true);
    expect(start.options.merchants.map((m) => m.mchId)).toEqual([DEMO_MERCHANT.mchId]);
    expect(start.options.requireClientCert).toBe(false);
  });

  it("reports a config file that cannot be read", () => {
    const error = failure(parseCliArgs(["--config", "missing.json"], noFile));
    expect(error.code).toBe("CONFIG");
    expect(error.message).toContain("missing.json");
  });

  it.each([
    ["not JSON", "{merchants: []", /not valid JSON/],
    ["an array", "[]", /must hold a JSON object/],
    ["null", "null", /must hold a JSON object/],
  ])("reports a config file that is %s", (_name, text, message) => {
    const error = failure(parseCliArgs(["--config", "c.json"], files({ "c.json": text })));
    expect(error.code).toBe("CONFIG");
    expect(error.message).toMatch(message);
    expect(error.message).toContain("c.json");
  });

  it.each([
    ["a merchant without key", { merchants: [{ appId: "wx1", mchId: "1" }] }, "merchants.0.key"],
    ["an empty merchant list", { merchants: [] }, "merchants"],
    ["an unknown profile", { merchants: [{ ...MERCHANT, profile: "mars" }] }, "merchants.0.profile"],
    ["a bad notify option", { notify: { duplicates: -1 } }, "notify.duplicates"],
    ["a notify that is not an object", { notify: 3 }, "notify"],
  ])("names the field of a config validation error: %s", (_name, config, field) => {
    const error = failure(parseCliArgs(["--config", "c.json", "--retry-scale", "2"], files({ "c.json": JSON.stringify(config) }), fixedSecret));
    expect(error.code).toBe("CONFIG");
    expect(error.message).toContain(`at ${field}:`);
    expect(error.message).toMatch(/^c\.json: /);
  });

  it("names a misspelt top-level option instead of ignoring it", () => {
    const error = failure(parseCliArgs(["--config", "c.json"], files({ "c.json": '{"requireClientCerts": false}' })));
    expect(error.code).toBe("CONFIG");
    expect(error.message).toContain('"requireClientCerts"');
  });

  it("keeps the demo merchant v2-only without --v3, and writes no v3 keys", () => {
    const start = started(parseCliArgs([], noFile));
    expect(start.options.merchants[0]?.v3).toBeUndefined();
    expect(start.options.v3KeysDir).toBeUndefined();
    expect(start.options.allowHttpNotifyUrl).toBe(false);
    expect(start.options.notify.signatureProbe).toBe(false);
  });

  it("makes the demo merchant v2 + v3 with --v3: a fresh 32-character APIv3 key, public-key mode, keys in the default folder", () => {
    const start = started(parseCliArgs(["--v3"], noFile));
    const [merchant] = start.options.merchants;
    expect(merchant?.key).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(merchant?.v3?.apiV3Key).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(merchant?.v3?.apiV3Key).not.toBe(merchant?.key);
    expect(merchant?.v3?.keyMode).toBe("public-key");
    expect(DEFAULT_V3_KEY_MODE).toBe("public-key");
    expect(start.options.v3KeysDir).toBe("./data/sandbox-v3-keys");
    expect(DEFAULT_V3_KEYS_DIR).toBe("./data/sandbox-v3-keys");
    expect(start.demo).toBe(true);
  });

  it.each([["platform-certificate"], ["public-key"], ["migration"]] as const)("sets the demo merchant's key mode with --v3-key-mode %s", (mode) => {
    const start = started(parseCliArgs(["--v3", "--v3-key-mode", mode, "--v3-keys-dir", "/tmp/keys"], noFile));
    expect(start.options.merchants[0]?.v3?.keyMode).toBe(mode);
    expect(start.options.v3KeysDir).toBe("/tmp/keys");
  });

  it("applies --allow-http-notify-url and --signature-probe, keeping the config's other notify options", () => {
    const config = { notify: { duplicates: 1 } };
    const start = started(
      parseCliArgs(["--config", "c.json", "--allow-http-notify-url", "--signature-probe", "--retry-scale", "0.01"], files({ "c.json": JSON.stringify(config) })),
    );
    expect(start.options.allowHttpNotifyUrl).toBe(true);
    expect(start.options.notify).toMatchObject({ signatureProbe: true, duplicates: 1, retryScale: 0.01 });
  });

  it("reads v2-only, v3-only and v2 + v3 merchants from the config file, keys in the default folder", () => {
    const config = { merchants: [MERCHANT, V3_DIRECT, V3_CERTIFICATE, V3_MIGRATING] };
    const start = started(parseCliArgs(["--config", "c.json"], files({ "c.json": JSON.stringify(config) })));
    expect(start.demo).toBe(false);
    expect(start.options.merchants.map((m) => [m.mchId, m.key !== undefined, m.v3?.keyMode])).toEqual([
      [MERCHANT.mchId, true, undefined],
      [V3_DIRECT.mchId, false, "public-key"],
      [V3_CERTIFICATE.mchId, false, "platform-certificate"],
      [V3_MIGRATING.mchId, true, "migration"],
    ]);
    expect(start.options.merchants[1]?.v3).toMatchObject({ apiV3Key: V3_DIRECT.v3.apiV3Key, appIds: [] });
    expect(start.options.v3KeysDir).toBe(DEFAULT_V3_KEYS_DIR);
  });

  it("takes the keys folder from the config file, the flag winning", () => {
    const read = files({ "c.json": JSON.stringify({ merchants: [V3_DIRECT], v3KeysDir: "/srv/keys" }) });
    expect(started(parseCliArgs(["--config", "c.json"], read)).options.v3KeysDir).toBe("/srv/keys");
    expect(started(parseCliArgs(["--config", "c.json", "--v3-keys-dir", "/tmp/other"], read)).options.v3KeysDir).toBe("/tmp/other");
  });

  it("sets no keys folder for a config of v2 merchants only", () => {
    const start = started(parseCliArgs(["--config", "c.json"], files({ "c.json": JSON.stringify({ merchants: [MERCHANT] }) })));
    expect(start.options.v3KeysDir).toBeUndefined();
  });

  it.each([
    ["an unknown key mode", ["--v3", "--v3-key-mode", "certificate"], /--v3-key-mode must be one of platform-certificate, public-key, migration, got "certificate"/],
    ["a key mode without --v3", ["--v3-key-mode", "migration"], /--v3-key-mode .*give --v3 with it/],
    ["an empty keys folder", ["--v3", "--v3-keys-dir="], /--v3-keys-dir must not be empty/],
    ["a keys folder without any v3 merchant", ["--v3-keys-dir", "/tmp/keys"], /--v3-keys-dir is for v3 merchants, and none is configured/],
    ["the keys folder the PKI is written to", ["--v3", "--https", "--pki-dir", "./data/x", "--v3-keys-dir", "data/x/"], /--v3-keys-dir and --pki-dir must be different folders/],
    ["--v3 as a value-taking flag", ["--v3=yes"], /--v3/],
  ])("rejects %s as a USAGE error", (_name, argv, message) => {
    const error = failure(parseCliArgs(argv, noFile));
    expect(error.code).toBe("USAGE");
    expect(error.message).toMatch(message);
  });

  it("rejects --v3 when the config file names the merchants", () => {
    const error = failure(parseCliArgs(["--config", "c.json", "--v3"], files({ "c.json": JSON.stringify({ merchants: [MERCHANT] }) })));
    expect(error).toEqual({ code: "USAGE", message: expect.stringContaining("give them v3 settings there") as unknown });
  });

  it.each([
    ["an APIv3 key that is not 32 bytes", { ...V3_DIRECT, v3: { apiV3Key: "short" } }, "merchants.0.v3.apiV3Key", /32 bytes/],
    ["an unknown key mode", { ...V3_DIRECT, v3: { ...V3_DIRECT.v3, keyMode: "pubkey" } }, "merchants.0.v3.keyMode", /./],
    ["an unknown v3 setting", { ...V3_DIRECT, v3: { ...V3_DIRECT.v3, apiv3key: "x" } }, "merchants.0.v3", /apiv3key/],
    ["a merchant with neither key nor v3", { appId: "wx1", mchId: "1" }, "merchants.0.key", /v2 key, v3 settings, or both/],
  ])("names the field of a v3 config validation error: %s", (_name, merchant, field, message) => {
    const error = failure(parseCliArgs(["--config", "c.json"], files({ "c.json": JSON.stringify({ merchants: [merchant] }) })));
    expect(error.code).toBe("CONFIG");
    expect(error.message).toContain(`at ${field}:`);
    expect(error.message).toMatch(message);
  });
});
