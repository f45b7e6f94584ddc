import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };

// The receiving side runs in the shop's own services (any Node 20 server, Bun, Deno, edge runtimes with node:crypto):
// @pay/core/webhooks imports node:crypto and nothing else from Node, and uses no Node-only global.
describe("the webhooks folder", () => {
  const folder = new URL("./", import.meta.url);
  const sources = readdirSync(folder).filter((file) => file.endsWith(".ts") && !/\.test(-d)?\.ts$/.test(file));

  it("imports no Node built-in but node:crypto outside its tests", () => {
    expect(sources).toEqual(expect.arrayContaining(["index.ts", "sign.ts", "verify.ts"]));
    for (const file of sources) {
      const text = readFileSync(new URL(file, folder), "utf8");
      const imports = [...text.matchAll(/from "([^"]+)"/g)].map((match) => match[1] ?? "");
      for (const specifier of imports) expect(specifier, file).toMatch(/^(node:crypto|zod|\.\.?\/.+)$/);
      expect(text, file).not.toMatch(/\b(Buffer|process)\./);
    }
  });

  it("is exported as @pay/core/webhooks", () => {
    expect(packageJson.exports["./webhooks"]).toEqual({ types: "./dist/webhooks/index.d.ts", default: "./dist/webhooks/index.js" });
  });
});
