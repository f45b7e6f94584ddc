import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findSecretPatterns, findSecrets, scanDirectoryForSecrets } from "./secret-scan.js";

const KEY = "Kq3vTz8PwX2mN7bR4cY6dF9gH1jL5sA0";

describe("the secret scanner", () => {
  it("finds a value as is and URL-encoded, and says where without quoting it", () => {
    const findings = findSecrets(
      [
        { where: "log", text: `{"msg":"x","key":"${KEY}"}` },
        { where: "url", text: `GET /x?k=${encodeURIComponent("a+b/c=d&secret")}` },
        { where: "clean", text: "nothing here" },
      ],
      [
        { name: "the key", value: KEY },
        { name: "a token", value: "a+b/c=d&secret" },
      ],
    );
    expect(findings.map((f) => [f.secret, f.where])).toEqual([
      ["the key", "log"],
      ["a token", "url"],
    ]);
    expect(JSON.stringify(findings)).not.toContain(KEY);
  });

  it("refuses values short enough to match by chance", () => {
    expect(() => findSecrets([{ where: "x", text: "abc" }], [{ name: "short", value: "abc" }])).toThrow(/shorter/);
  });

  it.each([
    ["a PEM private key", "-----BEGIN PRIVATE KEY-----\nMIIE"],
    ["a PEM private key", "-----BEGIN RSA PRIVATE KEY-----"],
    ["a PEM certificate", "-----BEGIN CERTIFICATE-----"],
    ["a v2 string-to-sign with its key", `appid=wx1&total_fee=1&key=${KEY}`],
    ["a secret setting with a value", `WXPAY_KEY=${KEY}`],
    ["a secret setting with a value", 'ADMIN_TOKEN: "admin-token-for-tests-0123456789"'],
  ])("recognises %s", (name, text) => {
    expect(findSecretPatterns([{ where: "t", text }]).map((f) => f.secret)).toEqual([name]);
  });

  it.each([["WXPAY_KEY=<32-letter-and-digit-api-key>"], ["SESSION_SECRET=${SESSION_SECRET}"], ["ADMIN_TOKEN="], ["the key=value pairs"]])(
    "leaves a placeholder alone: %s",
    (text) => {
      expect(findSecretPatterns([{ where: "t", text }])).toEqual([]);
    },
  );

  it("scans a build folder, with the client-build shapes on request", () => {
    const dir = mkdtempSync(join(tmpdir(), "pay-scan-"));
    try {
      mkdirSync(join(dir, "pages"));
      writeFileSync(join(dir, "app.js"), 'const config = { api: "https://pay.example.com" };');
      writeFileSync(join(dir, "pages", "pay.js"), "wx.request({ data: { session_key: s } });");
      expect(scanDirectoryForSecrets(dir)).toEqual([]);
      expect(scanDirectoryForSecrets(dir, { clientBuild: true }).map((f) => [f.secret, f.where])).toEqual([["a session_key", join("pages", "pay.js")]]);
      writeFileSync(join(dir, "config.js"), `exports.KEY = "${KEY}";`);
      expect(scanDirectoryForSecrets(dir, { secrets: [{ name: "the key", value: KEY }] }).map((f) => f.where)).toEqual(["config.js"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
