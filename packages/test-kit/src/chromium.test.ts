import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CHROMIUM, CHROMIUM_ARGS, chromiumLaunchOptions } from "./chromium.js";

describe("chromiumLaunchOptions", () => {
  it("launches the Debian package's binary headless, without the sandbox and without background networking", () => {
    expect(CHROMIUM).toBe("/usr/bin/chromium");
    for (const flag of [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ])
      expect(CHROMIUM_ARGS).toContain(flag);
    if (existsSync(CHROMIUM)) {
      const options = chromiumLaunchOptions();
      expect(options).toEqual({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
      // Each call answers its own copy: a caller adding a flag does not change the next launch.
      options.args.push("--lang=zh-CN");
      expect(chromiumLaunchOptions().args).toEqual([...CHROMIUM_ARGS]);
    } else {
      expect(() => chromiumLaunchOptions()).toThrow(`${CHROMIUM} is missing: run \`node scripts/setup-test-env.mjs\``);
    }
  });
});
