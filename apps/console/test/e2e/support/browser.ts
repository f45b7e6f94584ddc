// Headless Chromium (the Debian package the tests install) driven by playwright-core, with the launch flags of
// shared/reference/toolchain.md (@pay/test-kit/chromium), and the checks every console page gets: no uncaught page error, and axe-core
// finding no serious or critical accessibility violation.
import { chromiumLaunchOptions } from "@pay/test-kit/chromium";
import axe from "axe-core";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import type { ConsoleStack } from "./stack.js";
import type { StaffAccount } from "./staff.js";

/** How long the suites wait for the page to get somewhere (a query, a refetch, a poll). */
export const PAGE_TIMEOUT_MS = 10_000;

/** Waits until `locator` (one element) is visible. */
export async function visible(locator: Locator, timeout = PAGE_TIMEOUT_MS): Promise<Locator> {
  await locator.waitFor({ state: "visible", timeout });
  return locator;
}

export async function launchChromium(): Promise<Browser> {
  // launch() gives every run a fresh profile of its own (a temporary --user-data-dir).
  return chromium.launch(chromiumLaunchOptions());
}

/** A browser tab on the console with what went wrong in it: uncaught errors and console errors. */
export interface ConsoleTab {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors, console errors, and answers of 400 or more (`HTTP 404 GET /path`). */
  readonly problems: string[];
  close(): Promise<void>;
}

/**
 * Opens a fresh context (its own cookies and storage) on the stack's API origin. `locale` is what
 * navigator.language says: `en-US` starts the console in English, `zh-CN` in Chinese.
 */
export async function openTab(browser: Browser, stack: ConsoleStack, locale: "en-US" | "zh-CN" = "en-US"): Promise<ConsoleTab> {
  const context = await browser.newContext({ baseURL: stack.apiUrl, locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // A failed answer is logged without its URL: the response listener below names it instead.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource:")) problems.push(`console.error: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  return { context, page, problems, close: () => context.close() };
}

/** The console URL of `path` (a route of the app, e.g. `/orders/abc`). */
export function consolePath(path: string): string {
  return `/console${path === "/" ? "/" : path}`;
}

/** Signs `account` in through the sign-in page (English names), ending on the overview. */
export async function signIn(page: Page, account: StaffAccount, path = "/"): Promise<void> {
  await page.goto(consolePath(path));
  await visible(page.getByRole("heading", { level: 1, name: "Sign in" }));
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await visible(page.getByText(`Signed in as ${account.username} (${account.role})`));
}

/** Follows a link of the main navigation and waits for the page's heading. */
export async function navigate(page: Page, link: "Overview" | "Orders" | "Reconciliation" | "Webhooks" | "Audit log"): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link, exact: true }).click();
  await visible(page.getByRole("heading", { level: 1, name: link }));
}

/** An axe-core violation as the suite reports it. */
export interface AxeProblem {
  readonly id: string;
  readonly impact: string | null | undefined;
  readonly help: string;
  readonly targets: string[];
}

/**
 * Runs axe-core in the page (its source injected) over the whole document and returns the serious and
 * critical violations, each with the elements it names; an empty list passes.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeProblem[]> {
  // Evaluated through the DevTools protocol: the console's CSP (script-src 'self') rightly refuses an injected inline <script>.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

declare global {
  interface Window {
    axe: typeof axe;
  }
}
