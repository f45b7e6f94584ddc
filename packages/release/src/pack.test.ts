import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packPackage } from "./pack.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Every file an `exports` / `bin` entry points at, which a consumer's import or command needs. */
function entryPoints(manifest: Record<string, unknown>): string[] {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") targets.push(value.replace(/^\.\//, ""));
    else if (value !== null && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  walk(manifest.bin);
  return targets.filter((t) => t !== "package.json");
}

/** Names of the workspace's private packages (the apps, the bench, the test kit): never a published package's runtime dependency. */
function privateWorkspacePackages(): string[] {
  return ["apps", "packages"]
    .flatMap((group) => readdirSync(join(root, group)).map((dir) => join(root, group, dir, "package.json")))
    .filter(existsSync)
    .map((path) => JSON.parse(readFileSync(path, "utf8")) as { name: string; private?: boolean })
    .filter((manifest) => manifest.private === true)
    .map((manifest) => manifest.name);
}

describe.each([
  ["@pay/core", "packages/core"],
  ["@pay/sandbox", "packages/sandbox"],
])("the %s tarball", (name, dir) => {
  const packed = packPackage(join(root, dir));

  it("contains every entry point, with its types", () => {
    for (const target of entryPoints(packed.manifest)) expect(packed.files, target).toContain(target);
    const types = packed.files.filter((f) => f.endsWith(".d.ts"));
    expect(types.length).toBeGreaterThan(0);
    expect(packed.manifest.name).toBe(name);
  });

  it("contains nothing else: no sources, tests, source maps, test support or reports", () => {
    for (const file of packed.files) {
      expect(file, file).toMatch(/^(package\.json|README\.md|LICENSE|bin\/[\w.-]+\.js|dist\/.+\.(js|d\.ts))$/);
      expect(file, file).not.toMatch(/\.test\.|test-support|\.map$|^src\//);
    }
  });

  it("names real versions for its dependencies (no workspace: or catalog: ranges)", () => {
    const text = JSON.stringify(packed.manifest);
    expect(text).not.toContain("workspace:");
    expect(text).not.toContain("catalog:");
    expect(packed.manifest.private).not.toBe(true);
  });

  it("depends at run time on no private workspace package (the test kit is a devDependency at most)", () => {
    const privates = privateWorkspacePackages();
    expect(privates).toContain("@pay/test-kit");
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      const names = Object.keys(packed.manifest[field] ?? {});
      expect(
        names.filter((name) => privates.includes(name)),
        field,
      ).toEqual([]);
    }
  });
});

describe("the fixed release line", () => {
  it("versions @pay/core, @pay/sandbox, @pay/api and @pay/miniprogram together", () => {
    const config = JSON.parse(readFileSync(join(root, ".changeset", "config.json"), "utf8")) as { fixed: string[][] };
    const group = config.fixed[0] ?? [];
    expect(group).toEqual(expect.arrayContaining(["@pay/core", "@pay/sandbox", "@pay/api", "@pay/miniprogram"]));
    const versions = group
      .map((pkg) => join(root, pkg === "@pay/api" ? "apps/api" : pkg === "@pay/miniprogram" ? "apps/miniprogram" : `packages/${pkg.slice(5)}`, "package.json"))
      .filter(existsSync)
      .map((path) => (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version);
    expect(new Set(versions).size).toBe(1);
  });
});
