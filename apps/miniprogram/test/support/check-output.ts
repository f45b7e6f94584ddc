import { existsSync, readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { compileWxml, compileWxss } from "./compilers.js";

/**
 * Checks a build output folder the way WeChat DevTools and the WeChat runtime would meet it, and for
 * what must never ship in a client. Returns one line per problem ("<file>: <problem>"); none means the
 * folder is fit to open. The checks:
 * - project.config.json and app.json parse; every page app.json lists has .js, .wxml, .wxss and .json;
 * - every .json parses; the WXML and WXSS compile with the official wcc and wcsc;
 * - every require() in the JavaScript names a file of the output by relative path: no Node built-in,
 *   no npm package (the WeChat runtime resolves neither), no dynamic require, no ES module syntax,
 *   no use of Node's globals;
 * - no file holds a private key, a v2 API key-shaped token, a server secret's name or signing code:
 *   the client passes the server's paySign through and signs nothing itself.
 */
export function checkBuildOutput(dir: string, expect: { readonly apiBaseUrl?: string } = {}): string[] {
  const root = resolve(dir);
  const problems: string[] = [];
  const report = (file: string, problem: string): void => void problems.push(`${file}: ${problem}`);
  const files = existsSync(root)
    ? readdirSync(root, { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"))
        .sort()
    : [];
  if (files.length === 0) return [`${dir}: no build output`];
  const has = (file: string): boolean => files.includes(file);
  const read = (file: string): string => readFileSync(join(root, file), "utf8");

  const json = new Map<string, unknown>();
  for (const file of files.filter((f) => extname(f) === ".json")) {
    try {
      json.set(file, JSON.parse(read(file)));
    } catch (error) {
      report(file, `is not valid JSON (${(error as Error).message})`);
    }
  }

  const project = json.get("project.config.json") as { compileType?: unknown; appid?: unknown; miniprogramRoot?: unknown } | undefined;
  if (!has("project.config.json")) report("project.config.json", "missing: WeChat DevTools needs it to open the folder");
  else if (project !== undefined) {
    if (project.compileType !== "miniprogram") report("project.config.json", 'compileType must be "miniprogram"');
    if (typeof project.appid !== "string" || project.appid === "") report("project.config.json", "appid is missing");
    const miniprogramRoot = project.miniprogramRoot ?? "./";
    if (typeof miniprogramRoot !== "string" || resolve(root, miniprogramRoot) !== root) report("project.config.json", "miniprogramRoot must be the output folder itself");
  }

  const app = json.get("app.json") as { pages?: unknown; sitemapLocation?: unknown } | undefined;
  const pages = Array.isArray(app?.pages) && app.pages.every((p): p is string => typeof p === "string") ? app.pages : [];
  if (!has("app.json")) report("app.json", "missing");
  else if (app !== undefined && pages.length === 0) report("app.json", "lists no pages");
  if (!has("app.js")) report("app.js", "missing");
  if (typeof app?.sitemapLocation === "string" && !has(app.sitemapLocation)) report("app.json", `sitemapLocation ${app.sitemapLocation} does not exist`);
  for (const page of pages) {
    for (const ext of [".js", ".wxml", ".wxss", ".json"]) if (!has(`${page}${ext}`)) report(`${page}${ext}`, `missing for the page app.json lists`);
  }

  const wxml = files.filter((f) => extname(f) === ".wxml");
  const wxss = files.filter((f) => extname(f) === ".wxss");
  if (wxml.length > 0) {
    const compiled = compileWxml(root, wxml);
    if (!compiled.ok) report("WXML", compiled.message);
  }
  if (wxss.length > 0) {
    const compiled = compileWxss(root, wxss);
    if (!compiled.ok) report("WXSS", compiled.message);
    else for (const file of wxss) if (!compiled.output.includes(`=${file}=`)) report(file, "wcsc produced nothing for it");
  }

  for (const file of files.filter((f) => extname(f) === ".js")) checkScript(file, read(file), (target) => has(target), report);
  for (const file of files) checkSecrets(file, read(file), report);

  if (expect.apiBaseUrl !== undefined) {
    const config = has("config.js") ? read("config.js") : "";
    if (!config.includes(`exports.API_BASE_URL = ${JSON.stringify(expect.apiBaseUrl)};`)) report("config.js", `does not set API_BASE_URL to ${expect.apiBaseUrl}`);
  }
  return problems;
}

const REQUIRE = /\brequire\s*\(\s*([^)]*)\)/g;
const STRING_LITERAL = /^(["'])(.*)\1$/;
const ESM_SYNTAX = /^\s*(?:import\s[^(]|export\s|import\s*\{)|\bimport\s*\(/m;
const NODE_GLOBALS = /\b(?:process\s*\.|Buffer\s*\.|__dirname\b|__filename\b|global\s*\.|setImmediate\s*\()/;

function checkScript(file: string, code: string, exists: (file: string) => boolean, report: (file: string, problem: string) => void): void {
  for (const match of code.matchAll(REQUIRE)) {
    const argument = (match[1] ?? "").trim();
    const literal = STRING_LITERAL.exec(argument);
    if (literal === null) {
      report(file, `require(${argument}) is dynamic; only relative paths the build can check are allowed`);
      continue;
    }
    const specifier = literal[2] ?? "";
    if (specifier.startsWith("./") || specifier.startsWith("../")) {
      const target = join(dirname(file), specifier.endsWith(".js") ? specifier : `${specifier}.js`)
        .split(sep)
        .join("/");
      if (target.startsWith("../") || !exists(target)) report(file, `require("${specifier}") names no file of the output`);
    } else if (isBuiltin(specifier)) {
      report(file, `require("${specifier}") loads a Node built-in, which the WeChat runtime does not have`);
    } else {
      report(file, `require("${specifier}") loads an npm package, which the WeChat runtime cannot resolve`);
    }
  }
  if (ESM_SYNTAX.test(code)) report(file, "uses ES module syntax; the build must emit CommonJS");
  const nodeGlobal = NODE_GLOBALS.exec(code);
  if (nodeGlobal !== null) report(file, `uses Node's ${nodeGlobal[0].replace(/[\s.(]+$/, "")}, which the WeChat runtime does not have`);
}

/** What must never be in a client: key material, secrets' names, and the means to sign. */
const SECRET_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [/-----BEGIN [A-Z ]*(?:PRIVATE KEY|CERTIFICATE)-----/, "a PEM key or certificate"],
  [/(?<![0-9A-Za-z])(?=[0-9A-Za-z]*[0-9])(?=[0-9A-Za-z]*[A-Za-z])[0-9A-Za-z]{32}(?![0-9A-Za-z])/, "a 32-character token shaped like a WeChat Pay v2 API key"],
  [/\b(?:WXPAY_KEY|WX_APPSECRET|SESSION_SECRET|ADMIN_TOKEN|appSecret|app_secret|apiKey|api_key|session_key|sessionKey)\b/, "a server secret's name"],
  [
    /\b(?:createHash|createHmac|hex_md5|md5|sha1|sha256|hmac\w*|CryptoJS|stringToSign|signMessage)\b|&key=|subtle\s*\.\s*sign/i,
    "signing code (the server signs; the client only passes paySign on)",
  ],
];

/**
 * The two sign types' names as quoted strings: the contract's enum for `signType` (bundled into
 * lib/pay-core.js) names them, and the client passes the server's choice on. Data, not a means to
 * sign, so they alone are blanked before the search; `md5(`, `HmacSHA256` and the like still count.
 */
const SIGN_TYPE_NAMES = /(["'`])(?:MD5|HMAC-SHA256)\1/g;

function checkSecrets(file: string, text: string, report: (file: string, problem: string) => void): void {
  const scanned = text.replace(SIGN_TYPE_NAMES, '""');
  for (const [pattern, what] of SECRET_PATTERNS) {
    const match = pattern.exec(scanned);
    if (match !== null) report(file, `contains ${what}: "${match[0].slice(0, 40)}"`);
  }
}
