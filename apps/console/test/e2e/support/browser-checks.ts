// Small page-level checks the suites share: the console's refund form, the requests a page made, and
// which of a tab's problems count.
import type { Page, Request } from "playwright-core";
import { visible } from "./browser.js";

/**
 * A tab's problems less the answers the suites cause on purpose: the signed-out session probe (401 on
 * /api/admin/session), the viewer's refused refund (403), and Chromium's own /favicon.ico request (the console
 * declares no icon).
 */
export function unexpectedProblems(problems: readonly string[]): string[] {
  const expected = [/^HTTP 401 GET \/api\/admin\/session$/, /^HTTP 403 POST \/api\/admin\/orders\/[^/]+\/refunds$/, /^HTTP 404 GET \/favicon\.ico$/];
  return problems.filter((problem) => !expected.some((pattern) => pattern.test(problem)));
}

/** The refund calls (POST /api/admin/orders/:id/refunds) a page makes, with the Idempotency-Key each carried. */
export function recordRefundCalls(page: Page): { orderId: string; idempotencyKey: string | undefined }[] {
  const calls: { orderId: string; idempotencyKey: string | undefined }[] = [];
  page.on("request", (request: Request) => {
    const match = /\/api\/admin\/orders\/([^/]+)\/refunds$/.exec(new URL(request.url()).pathname);
    if (request.method() === "POST" && match !== null) calls.push({ orderId: decodeURIComponent(match[1] ?? ""), idempotencyKey: request.headers()["idempotency-key"] });
  });
  return calls;
}

/** The order detail page of `orderId`, directly by its URL (the session cookie carries the sign-in). */
export async function openOrder(page: Page, orderId: string): Promise<void> {
  await page.goto(`/console/orders/${encodeURIComponent(orderId)}`);
  await visible(page.getByRole("heading", { level: 1, name: `Order ${orderId}` }));
}

/** The timeline's items whose text matches `label` (a kind's English label, case-sensitive). */
export function timelineItems(page: Page, label: RegExp) {
  return page.getByRole("list", { name: "Timeline" }).getByRole("listitem").filter({ hasText: label });
}

/**
 * On an order's page: `Refund`, the amount (major units) and reason, `Continue`, and the confirmation text
 * naming the amount and the order. Leaves the confirmation step open (`Confirm refund` not clicked).
 */
export async function fillRefundForm(page: Page, orderId: string, amount: string, formatted: string, reason?: string): Promise<void> {
  await page.getByRole("button", { name: "Refund", exact: true }).click();
  await visible(page.getByRole("heading", { name: "Refund", exact: true }));
  await page.getByLabel("Amount").fill(amount);
  if (reason !== undefined) await page.getByLabel("Reason").fill(reason);
  await page.getByRole("button", { name: "Continue" }).click();
  await visible(page.getByText(`Refund ${formatted} of order ${orderId}?`));
}

/** The role="status" message `text` (e.g. `Refund requested`). */
export function statusMessage(page: Page, text: string) {
  return page.getByRole("status").filter({ hasText: text });
}
