#!/usr/bin/env node
// Builds the mini-program into a folder WeChat DevTools opens as it is (dist/ by default): the
// TypeScript compiled to CommonJS, lib/pay-core.js bundling the @pay/core contract and money module
// with zod (the WeChat runtime resolves no npm package), the pages' .wxml/.wxss/.json and app files
// copied beside it, project.config.json, and config.js naming the API this build talks to
// (PAY_API_BASE_URL).
// The tests call buildMiniProgram() too, into a temporary folder, so they never need a prior build.
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import ts from "typescript";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const SOURCE_DIR = join(PACKAGE_DIR, "src");

export const DEFAULT_OUT_DIR = join(PACKAGE_DIR, "dist");
export const DEFAULT_API_BASE_URL = "http://127.0.0.1:3000";

/** The bundle of @pay/core (and zod) inside the output; src/lib/pay-core.ts is its entry. */
export const CORE_BUNDLE = "lib/pay-core.js";

/** Files copied from src/ as they are; .ts files are compiled instead. */
const STATIC_EXTENSIONS = new Set([".json", ".wxml", ".wxss"]);

/**
 * Checks and normalises the API origin the build bakes in: http(s), a host, no path, query or fragment.
 * @param {string} value
 * @returns {string}
 */
export function parseApiBaseUrl(value) {
  let url;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`PAY_API_BASE_URL must be an absolute URL like https://pay.example.com, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`PAY_API_BASE_URL must use https (or http for a local API), got ${url.protocol}`);
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    throw new Error(`PAY_API_BASE_URL must be an origin only (scheme, host, port), got ${JSON.stringify(value)}`);
  }
  return url.origin;
}

/**
 * Compiles src/**\/*.ts (tests excluded) with tsconfig.build.json into `outDir`; throws with the compiler's messages.
 * @param {string} outDir
 */
export function compileTypeScript(outDir) {
  /** @type {ts.FormatDiagnosticsHost} */
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => PACKAGE_DIR, getNewLine: () => "\n" };
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(PACKAGE_DIR, "tsconfig.build.json"),
    { outDir },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.formatDiagnostics([diagnostic], host));
      },
    },
  );
  if (parsed === undefined) throw new Error("tsconfig.build.json could not be read");
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const emitted = program.emit();
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) throw new Error(`TypeScript errors:\n${ts.formatDiagnostics(diagnostics, host)}`);
}

/**
 * Bundles src/lib/pay-core.ts and everything it imports (@pay/core/contract, @pay/core/money, zod)
 * into `outDir`/lib/pay-core.js, in place of tsc's output for src/lib/, which would require npm
 * packages: one minified CommonJS file for ES2017, the language tsconfig.build.json compiles the app
 * to. The platform is neutral, so a Node built-in anywhere in the graph fails the build.
 * @param {string} outDir
 * @returns {Promise<{ file: string, bytes: number }>}
 */
export async function bundleCore(outDir) {
  const file = join(outDir, CORE_BUNDLE);
  rmSync(dirname(file), { recursive: true, force: true });
  await build({
    entryPoints: [join(SOURCE_DIR, "lib", "pay-core.ts")],
    outfile: file,
    tsconfig: join(PACKAGE_DIR, "tsconfig.build.json"),
    bundle: true,
    format: "cjs",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2017",
    minify: true,
    legalComments: "none",
    logLevel: "silent",
  });
  return { file, bytes: statSync(file).size };
}

/**
 * Every file under `dir`, as paths relative to it.
 * @param {string} dir
 * @returns {string[]}
 */
function listFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/**
 * Copies the pages' and the app's .json/.wxml/.wxss from src/ into `outDir`.
 * @param {string} outDir
 */
export function copyStaticFiles(outDir) {
  for (const file of listFiles(SOURCE_DIR)) {
    if (!STATIC_EXTENSIONS.has(extname(file))) continue;
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    copyFileSync(join(SOURCE_DIR, file), join(outDir, file));
  }
  copyFileSync(join(PACKAGE_DIR, "project.config.json"), join(outDir, "project.config.json"));
}

/**
 * Writes config.js, the module src/config.d.ts describes.
 * @param {string} outDir
 * @param {{ apiBaseUrl: string }} config
 */
export function writeConfigModule(outDir, config) {
  const lines = [
    '"use strict";',
    `// Written by scripts/build.mjs. Rebuild with PAY_API_BASE_URL=... to point the app at another API.`,
    'Object.defineProperty(exports, "__esModule", { value: true });',
    `exports.API_BASE_URL = ${JSON.stringify(parseApiBaseUrl(config.apiBaseUrl))};`,
    "",
  ];
  writeFileSync(join(outDir, "config.js"), lines.join("\n"));
}

/**
 * The contract version of the @pay/core this build compiles against (read from its build output).
 * @returns {Promise<string>}
 */
export async function contractVersion() {
  const contract = await import("@pay/core/contract");
  const version = /** @type {{ CONTRACT_VERSION?: unknown }} */ (contract).CONTRACT_VERSION;
  if (typeof version !== "string") throw new Error("@pay/core/contract exports no CONTRACT_VERSION: build @pay/core first");
  return version;
}

/**
 * A complete build into `outDir` (emptied first).
 * @param {{ outDir?: string, apiBaseUrl?: string }} [options]
 * @returns {Promise<{ outDir: string, apiBaseUrl: string, contractVersion: string, coreBundleBytes: number }>}
 */
export async function buildMiniProgram(options = {}) {
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  const apiBaseUrl = parseApiBaseUrl(options.apiBaseUrl ?? DEFAULT_API_BASE_URL);
  const version = await contractVersion();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  compileTypeScript(outDir);
  const bundle = await bundleCore(outDir);
  copyStaticFiles(outDir);
  writeConfigModule(outDir, { apiBaseUrl });
  return { outDir, apiBaseUrl, contractVersion: version, coreBundleBytes: bundle.bytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const built = await buildMiniProgram({ apiBaseUrl: process.env.PAY_API_BASE_URL || DEFAULT_API_BASE_URL });
    console.log(
      `mini-program built in ${relative(process.cwd(), built.outDir) || "."} for ${built.apiBaseUrl} (contract ${built.contractVersion}, ${CORE_BUNDLE} ${(built.coreBundleBytes / 1024).toFixed(0)} KiB); open that folder in WeChat DevTools`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
