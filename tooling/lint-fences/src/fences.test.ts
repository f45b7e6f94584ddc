// Lints small snippets, as if they lived at the given paths, with the workspace's own eslint.config.js: each fence must
// fire where it stands and stay quiet where it does not.
import { fileURLToPath } from "node:url";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

let eslint: ESLint;

beforeAll(() => {
  // The snippets exist in no TypeScript project, so the type-aware rules are switched off; the fences need no types.
  eslint = new ESLint({ cwd: ROOT, overrideConfig: tseslint.configs.disableTypeChecked });
});

/** The distinct rules that report on `code` placed at `path` (relative to the repo root). */
async function rulesFired(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${path}` });
  if (result === undefined) throw new Error(`ESLint returned no result for ${path}`);
  const fatal = result.messages.find((message) => message.fatal === true);
  if (fatal !== undefined) throw new Error(`${path} did not parse: ${fatal.message}`);
  return [...new Set(result.messages.map((message) => message.ruleId ?? "(none)"))];
}

describe("packages never import apps", () => {
  it.each(["@pay/api", "@pay/api/anything", "@pay/dev", "@pay/miniprogram", "@pay/bench"])("refuses %s in a package", async (name) => {
    expect(await rulesFired("packages/sandbox/src/fence-probe.ts", `import { x } from "${name}";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
  });

  it("refuses a relative path into apps/, also from a test", async () => {
    expect(await rulesFired("packages/core/src/fence-probe.ts", `import { x } from "../../../apps/api/src/env.js";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
    expect(await rulesFired("packages/core/src/sign/fence-probe.test.ts", `export * from "../../../../apps/api/src/env.js";\n`)).toEqual(["no-restricted-imports"]);
  });

  it.each(["@pay/api", "@pay/bench/dist/main.js", "../../../apps/api/src/main.js"])("refuses import(%s) in a package", async (name) => {
    expect(await rulesFired("packages/core/src/fence-probe.ts", `export const load = () => import("${name}");\n`)).toEqual(["no-restricted-syntax"]);
  });

  it("lets packages import packages, and apps import apps", async () => {
    expect(await rulesFired("packages/sandbox/src/fence-probe.ts", `import { x } from "@pay/core/contract";\nimport { y } from "../app.js";\nexport const z = [x, y];\n`)).toEqual(
      [],
    );
    expect(await rulesFired("apps/dev/src/fence-probe.ts", `import { x } from "@pay/api";\nexport const y = x;\n`)).toEqual([]);
    expect(await rulesFired("apps/dev/src/fence-probe.ts", `export const load = () => import("@pay/api");\n`)).toEqual([]);
    expect(await rulesFired("packages/sandbox/src/fence-probe.ts", `export const load = () => [import("@pay/core"), import("@pay/apiary"), import("../apps.js")];\n`)).toEqual([]);
  });
});

describe("@pay/core/contract and @pay/core/money import no Node built-in", () => {
  it.each([
    ["packages/core/src/contract/fence-probe.ts", "node:crypto"],
    ["packages/core/src/contract/fence-probe.ts", "crypto"],
    ["packages/core/src/contract/fence-probe.ts", "fs/promises"],
    ["packages/core/src/contract/nested/fence-probe.ts", "node:test"],
    ["packages/core/src/money/fence-probe.ts", "node:buffer"],
    ["packages/core/src/money/fence-probe.ts", "util"],
  ])("refuses %s importing %s", async (path, name) => {
    expect(await rulesFired(path, `import { x } from "${name}";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
  });

  it("refuses apps there too (the fences add up)", async () => {
    expect(await rulesFired("packages/core/src/contract/fence-probe.ts", `import { x } from "@pay/api";\nexport const y = x;\n`)).toEqual(["no-restricted-imports"]);
  });

  it("lets the rest of core, and the contract's own tests, use Node", async () => {
    expect(await rulesFired("packages/core/src/sign/fence-probe.ts", `import { createHash } from "node:crypto";\nexport const y = createHash;\n`)).toEqual([]);
    expect(await rulesFired("packages/core/src/contract/fence-probe.test.ts", `import { readFileSync } from "node:fs";\nexport const y = readFileSync;\n`)).toEqual([]);
    expect(await rulesFired("packages/core/src/contract/fence-probe.ts", `import { z } from "zod";\nexport const y = z;\n`)).toEqual([]);
  });
});

describe("process.env is read only in env modules", () => {
  it.each([
    ["apps/api/src/routes/fence-probe.ts", "export const port = process.env.PORT;\n", "no-restricted-properties"],
    ["apps/api/src/routes/fence-probe.ts", "const { env } = process;\nexport const port = env.PORT;\n", "no-restricted-properties"],
    ["apps/dev/src/fence-probe.ts", 'import { env } from "node:process";\nexport const port = env.PORT;\n', "no-restricted-imports"],
    ["packages/core/src/fence-probe.ts", "export const port = process.env.PORT;\n", "no-restricted-properties"],
    ["packages/sandbox/src/fence-probe.ts", 'import { env } from "process";\nexport const port = env.PORT;\n', "no-restricted-imports"],
    ["packages/core/src/contract/fence-probe.ts", 'import { env } from "node:process";\nexport const port = env.PORT;\n', "no-restricted-imports"],
  ])("refuses %s: %s", async (path, code, rule) => {
    expect(await rulesFired(path, code)).toEqual([rule]);
  });

  it.each([
    "apps/api/src/env.ts",
    "apps/dev/src/start.ts",
    "apps/api/scripts/fence-probe.mjs",
    "scripts/fence-probe.mjs",
    "apps/api/test/fence-probe.ts",
    "packages/sandbox/test/fence-probe.ts",
    "packages/core/test/support/fence-probe.ts",
  ])("lets %s read it", async (path) => {
    expect(await rulesFired(path, "export const port = process.env.PORT;\n")).toEqual([]);
  });

  it("keeps the apps fence on a package's test support", async () => {
    expect(await rulesFired("packages/core/test/support/fence-probe.ts", `import { x } from "@pay/api";\nexport const port = [x, process.env.PORT];\n`)).toEqual([
      "no-restricted-imports",
    ]);
  });
});
