// @vitest-environment node
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// turbo runs `build` before `test`, so the build is there; a missing build is a failure, never a skip.
const DIST = fileURLToPath(new URL("../dist", import.meta.url));

describe("the console build (dist/)", () => {
  it("index.html loads only its own hashed files under /console/assets/, with no inline script or style (the CSP allows none)", () => {
    expect(existsSync(DIST), `${DIST} does not exist: run the console's build first`).toBe(true);
    const html = readFileSync(`${DIST}/index.html`, "utf8");
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? "");
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source).toMatch(/^\/console\/assets\/[\w-]+\.(?:js|css)$/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="/);
  });

  it("the bundle imports no Node built-in and never sets HTML from a string", () => {
    const scripts = readdirSync(`${DIST}/assets`).filter((name) => name.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(0);
    for (const name of scripts) {
      const code = readFileSync(`${DIST}/assets/${name}`, "utf8");
      expect(code).not.toMatch(/\bfrom\s*["']node:|\brequire\(["'](?:node:)?(?:fs|path|crypto|os|child_process|net|http)["']\)/);
    }
  });
});
