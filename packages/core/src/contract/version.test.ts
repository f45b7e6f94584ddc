import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONTRACT_VERSION, contractCompatibility } from "./version.js";

describe("contract version", () => {
  it("is the @pay/core package version (pnpm release:version keeps them equal)", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(CONTRACT_VERSION).toBe(pkg.version);
  });

  it.each([
    ["1.4.2", "1.0.0", "current"],
    ["1.0.0", "1.9.9", "current"],
    ["1.9.0", "2.0.0", "deprecated"],
    ["0.9.0", "2.0.0", "unsupported"],
    ["3.0.0", "2.0.0", "unsupported"],
    ["0.1.5", "0.1.0", "current"],
    ["0.0.9", "0.1.0", "deprecated"],
    ["0.2.0", "0.1.0", "unsupported"],
    ["0.9.0", "1.0.0", "unsupported"],
    ["1.2.3-beta.1", "1.0.0", "current"],
    ["v1.0.0", "1.0.0", "invalid"],
    ["1.0", "1.0.0", "invalid"],
    ["", "1.0.0", "invalid"],
    ["01.0.0", "1.0.0", "invalid"],
  ] as const)("client %s against server %s is %s", (client, server, expected) => {
    expect(contractCompatibility(client, server)).toBe(expected);
  });
});
