import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TextSink } from "./log-format.js";

/** The package and the command the issue names; the build reads PAY_API_BASE_URL. */
export const MINIPROGRAM_PACKAGE = "@pay/miniprogram";
export const MINIPROGRAM_DIR = join("apps", "miniprogram");
export const MINIPROGRAM_BUILD_COMMAND = ["npx", "-y", "pnpm@10.34.9", "--filter", MINIPROGRAM_PACKAGE, "build"] as const;

/** What became of the mini-program: built (and where to open it), not in this checkout, failed, or skipped. */
export interface MiniProgramBuild {
  readonly status: "built" | "missing" | "failed" | "skipped";
  /** The folder to open in WeChat DevTools, when there is one. */
  readonly folder: string | undefined;
  /** One sentence for the banner. */
  readonly detail: string;
}

export interface BuildMiniProgramOptions {
  readonly repoRoot: string;
  /** The API the mini-program will call (PAY_API_BASE_URL). */
  readonly apiUrl: string;
  /** The environment the build inherits (PATH and friends). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Build output, prefixed line by line. */
  readonly output: TextSink;
  /** Called with the build process, so that Ctrl+C can end it. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** The package's folder when the workspace has @pay/miniprogram with a build script. */
export function findMiniProgramPackage(repoRoot: string): string | undefined {
  const dir = join(repoRoot, MINIPROGRAM_DIR);
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; scripts?: Record<string, unknown> };
    return manifest.name === MINIPROGRAM_PACKAGE && typeof manifest.scripts?.build === "string" ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** The project's miniprogramRoot when the package's own project.config.json names one other than itself. */
function rootOutsidePackage(packageDir: string): boolean {
  try {
    const project = JSON.parse(readFileSync(join(packageDir, "project.config.json"), "utf8")) as { miniprogramRoot?: unknown };
    const root = typeof project.miniprogramRoot === "string" ? project.miniprogramRoot.replace(/^\.\/?/, "").replace(/\/$/, "") : "";
    return root !== "";
  } catch {
    return false;
  }
}

/**
 * The folder WeChat DevTools opens: the build output when it holds a project.config.json, the package itself
 * when its project.config.json points into the output (miniprogramRoot), else the output folder if it exists.
 */
export function findDevToolsFolder(packageDir: string): string | undefined {
  const dist = join(packageDir, "dist");
  if (existsSync(join(dist, "project.config.json"))) return dist;
  if (rootOutsidePackage(packageDir)) return packageDir;
  return existsSync(dist) ? dist : undefined;
}

/** npx inside `pnpm start` inherits pnpm's npm_config_* variables and warns about each; the warnings say nothing here. */
const NOISE = /^npm warn Unknown env config /;

function prefixLines(output: TextSink): (chunk: Buffer) => void {
  let partial = "";
  return (chunk) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (!NOISE.test(line)) output.write(`  miniprogram | ${line}\n`);
  };
}

/** Builds the mini-program against the local API when the package exists; never throws for a failed build. */
export async function buildMiniProgram(options: BuildMiniProgramOptions): Promise<MiniProgramBuild> {
  const packageDir = findMiniProgramPackage(options.repoRoot);
  if (packageDir === undefined) {
    return {
      status: "missing",
      folder: undefined,
      detail: `${MINIPROGRAM_DIR} (${MINIPROGRAM_PACKAGE}) is not in this checkout yet, so there is nothing to build; the API and the sandbox run without it.`,
    };
  }
  const [command, ...args] = MINIPROGRAM_BUILD_COMMAND;
  options.output.write(`Building the mini-program against ${options.apiUrl}: ${MINIPROGRAM_BUILD_COMMAND.join(" ")}\n`);
  const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    const child = spawn(command, args, {
      cwd: options.repoRoot,
      env: { ...options.env, PAY_API_BASE_URL: options.apiUrl },
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
    });
    options.onSpawn?.(child);
    child.stdout.on("data", prefixLines(options.output));
    child.stderr.on("data", prefixLines(options.output));
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("close", (code) => resolve({ code }));
  });
  if (exit.code !== 0) {
    const why = exit.error === undefined ? `exited with ${exit.code ?? "a signal"}` : `could not run (${exit.error.message})`;
    return { status: "failed", folder: findDevToolsFolder(packageDir), detail: `The mini-program build ${why} (output above); the API and the sandbox run anyway.` };
  }
  const folder = findDevToolsFolder(packageDir);
  return folder === undefined
    ? { status: "failed", folder: undefined, detail: `The build succeeded but left no folder to open in ${MINIPROGRAM_DIR} (no dist/ or project.config.json).` }
    : { status: "built", folder, detail: `Built against ${options.apiUrl}.` };
}
