import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import vm from "node:vm";

// The official WXML/WXSS compilers (wcc, wcsc) ship inside the miniprogram-compiler npm package as
// Linux x64 binaries without the execute bit. Its Node wrapper chmods them in place (that would
// change pnpm's shared store) and returns, rather than throws, WXSS errors; so the tests copy the
// binaries out, make the copies executable and run them with the wrapper's arguments themselves.

const require = createRequire(import.meta.url);

let copied: { wcc: string; wcsc: string } | undefined;

/** Executable copies of wcc and wcsc, made once per machine (per package version) in the temp folder. */
export function officialCompilers(): { wcc: string; wcsc: string } {
  if (copied !== undefined) return copied;
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new Error(`miniprogram-compiler's binaries are used on Linux x64 here, not ${process.platform}/${process.arch}`);
  const packageJson = require.resolve("miniprogram-compiler/package.json");
  const { version } = JSON.parse(readFileSync(packageJson, "utf8")) as { version: string };
  const target = join(tmpdir(), `pay-miniprogram-compiler-${version}`);
  mkdirSync(target, { recursive: true });
  const result = { wcc: join(target, "wcc"), wcsc: join(target, "wcsc") };
  for (const name of ["wcc", "wcsc"] as const) {
    const source = join(dirname(packageJson), "bin", "linux", name);
    if (existsSync(result[name]) && statSync(result[name]).size === statSync(source).size) continue;
    // Copy, chmod, then rename: test workers running at once never see a half-written binary.
    const partial = `${result[name]}.${process.pid}.partial`;
    copyFileSync(source, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, result[name]);
  }
  copied = result;
  return copied;
}

export type CompileResult = { readonly ok: true; readonly output: string } | { readonly ok: false; readonly message: string };

function run(binary: string, args: readonly string[], cwd: string): CompileResult {
  const result = spawnSync(binary, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
  if (result.error !== undefined) return { ok: false, message: `${binary} could not run: ${result.error.message}` };
  if (result.status !== 0) return { ok: false, message: `${binary} exited with ${result.status ?? result.signal}: ${result.stderr.toString()}${result.stdout.toString()}`.trim() };
  return { ok: true, output: result.stdout.toString() };
}

function usingComponents(dir: string, file: string): string[] | undefined {
  const json = join(dir, file.replace(/\.(wxml|wxss)$/, ".json"));
  if (!existsSync(json)) return undefined;
  let parsed: { usingComponents?: Record<string, string> };
  try {
    parsed = JSON.parse(readFileSync(json, "utf8")) as typeof parsed;
  } catch {
    // Reported by the JSON check; the compiler then sees the file as using no components.
    return undefined;
  }
  return parsed.usingComponents === undefined ? undefined : Object.keys(parsed.usingComponents);
}

/** Compiles every given .wxml (paths relative to `dir`) in one wcc run, as DevTools does; the output defines `$gwx`. */
export function compileWxml(dir: string, files: readonly string[]): CompileResult {
  // wcc's -cc argument: how many files use components, then per file its path, count and tag names.
  const componentArgs: string[] = [];
  let count = 0;
  for (const file of files) {
    const tags = usingComponents(dir, file);
    if (tags === undefined) continue;
    componentArgs.push(file, String(tags.length), ...tags);
    count += 1;
  }
  return run(officialCompilers().wcc, ["-d", "-cc", [String(count), ...componentArgs].join(" "), ...files, "-gn", "$gwx"], dir);
}

/** Compiles every given .wxss in one wcsc run; the output names each file it compiled. */
export function compileWxss(dir: string, files: readonly string[]): CompileResult {
  // Page and component sheets (those with a .json beside them) come first, and wcsc is told how many.
  const withJson = files.filter((file) => existsSync(join(dir, file.replace(/\.wxss$/, ".json"))));
  const rest = files.filter((file) => !withJson.includes(file));
  return run(officialCompilers().wcsc, ["-db", "-pc", String(withJson.length), ...withJson, ...rest], dir);
}

/** A node of the tree wcc's generated code renders: elements with `attr`, and text as plain strings. */
export interface WxmlElement {
  readonly tag: string;
  readonly attr?: Readonly<Record<string, unknown>>;
  readonly children: readonly WxmlNode[];
}
export type WxmlNode = WxmlElement | string;

/** Renders a page's WXML with its data through the compiled template, as the view layer would. */
export type WxmlRenderer = (file: string, data: Readonly<Record<string, unknown>>) => WxmlElement;

/** Compiles the WXML of `files` and returns a renderer; throws when wcc refuses them. */
export function createWxmlRenderer(dir: string, files: readonly string[]): WxmlRenderer {
  const compiled = compileWxml(dir, files);
  if (!compiled.ok) throw new Error(compiled.message);
  // wcc's output is sloppy browser code for the view layer: it reads `window` and assigns globals of its
  // own, so it runs in a context of its own where nothing leaks into the test process.
  const context = vm.createContext({ window: {}, console, __wxAppCode__: {} });
  const gwx = vm.runInContext(`${compiled.output}\n;$gwx`, context, { filename: "wcc-output.js" }) as (file: string) => unknown;
  return (file, data) => {
    const generate = gwx(file);
    if (typeof generate !== "function") throw new Error(`wcc compiled no template for ${file}`);
    return (generate as (data: unknown, env: object, global: object) => WxmlElement)(data, {}, {});
  };
}
