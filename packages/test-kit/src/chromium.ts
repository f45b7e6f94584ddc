import { existsSync } from "node:fs";

/** Where the tests' headless Chromium is: the Debian package `node scripts/setup-test-env.mjs` installs. */
export const CHROMIUM = "/usr/bin/chromium";

/** From shared/reference/toolchain.md: without the background-networking flags Chromium floods the closed network. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** What playwright-core's `chromium.launch` takes to start the tests' headless Chromium. */
export interface ChromiumLaunchOptions {
  readonly executablePath: string;
  readonly args: string[];
}

/**
 * The launch options of the tests' headless Chromium (`chromium.launch(chromiumLaunchOptions())`); throws, naming
 * the setup script, when Chromium is not installed. Each launch gets a fresh profile of its own (a temporary
 * --user-data-dir).
 */
export function chromiumLaunchOptions(): ChromiumLaunchOptions {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`node scripts/setup-test-env.mjs\` from the repo root (it installs Chromium with apt-get).`);
  return { executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] };
}
