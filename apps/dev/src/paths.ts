import { realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository root: this file lives in apps/dev/src (tests) or apps/dev/dist (built). */
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** True when the module at `moduleUrl` is the program node was started with, not an import. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return moduleUrl === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

/** The CLI arguments, without the `--` some ways of running a package script put in front. */
export function cliArgs(argv: readonly string[]): string[] {
  return argv[0] === "--" ? argv.slice(1) : [...argv];
}
