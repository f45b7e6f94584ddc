import { describe, expect, it } from "vitest";
import { DEFAULT_HOST, DEFAULT_PKI_DIR, DEFAULT_PORT, DEMO_MERCHANT, parseCliArgs, randomSecret, type CliParseResult, type CliStart } from "./cli-options.js";

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
});
