// The console in headless Chromium against the real API and the sandbox: signing in, finding an order paid
// through the sandbox, refunding it (once, however often Confirm is clicked), what a viewer may not do, the two
// languages, markup shown as text, the audit log, and axe-core on each of these pages.
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, navigate, openTab, seriousAxeViolations, signIn, visible, type AxeProblem, type ConsoleTab } from "./support/browser.js";
import { fillRefundForm, openOrder, recordRefundCalls, statusMessage, timelineItems, unexpectedProblems } from "./support/browser-checks.js";
import { adminOrder, eventually, placePaidOrder, refundRows, type PaidOrder } from "./support/data.js";
import { HOSTILE_NAME, startConsoleStack, type ConsoleStack } from "./support/stack.js";
import { createStaffAccount, OPERATOR, VIEWER } from "./support/staff.js";

// One Chromium for the file; the suite runs on each database the API supports (a fresh stack each).
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await (browser as Browser | undefined)?.close();
});

describe.each(["sqlite", "postgres"] as const)("console: orders, refunds, roles, languages (Chromium, %s)", (database) => {
  let stack: ConsoleStack;
  const tabs: ConsoleTab[] = [];
  /** One paid order per test, each a shopper of its own: [find + refund, double click, viewer + axe, markup, audit]. */
  let orders: Record<"found" | "doubleClick" | "viewed" | "hostile" | "audited", PaidOrder>;

  beforeAll(async () => {
    stack = await startConsoleStack({ database });
    await createStaffAccount(stack, OPERATOR);
    await createStaffAccount(stack, VIEWER);
    const [found, doubleClick, viewed, hostile, audited] = await Promise.all([
      placePaidOrder(stack, "shopper-found", "coffee-beans"),
      placePaidOrder(stack, "shopper-double", "coffee-beans"),
      placePaidOrder(stack, "shopper-viewed", "mug"),
      placePaidOrder(stack, "shopper-hostile", "hostile"),
      placePaidOrder(stack, "shopper-audited", "mug"),
    ]);
    orders = { found, doubleClick, viewed, hostile, audited };
  });

  afterEach(async () => {
    for (const tab of tabs.splice(0)) {
      await tab.close();
      expect(unexpectedProblems(tab.problems).join("\n")).toBe("");
    }
  });

  afterAll(async () => {
    // Unassigned when beforeAll failed before it.
    await (stack as ConsoleStack | undefined)?.stop();
    // The API logged no error while the console drove it.
    const logs = (stack as ConsoleStack | undefined)?.logs ?? [];
    expect(logs.filter((line) => line.includes('"level":50') || line.includes('"level":60'))).toEqual([]);
  });

  async function tab(locale: "en-US" | "zh-CN" = "en-US"): Promise<ConsoleTab> {
    const opened = await openTab(browser, stack, locale);
    tabs.push(opened);
    return opened;
  }

  it("signs in, finds an order paid through the sandbox by its id, and opens it", async () => {
    const { page } = await tab();
    const { order } = orders.found;
    await signIn(page, OPERATOR);
    await navigate(page, "Orders");
    const search = page.getByRole("search");
    await search.getByLabel("Search", { exact: true }).fill(order.id);
    await search.getByRole("button", { name: "Search" }).click();
    const table = page.getByRole("table");
    await visible(table.getByRole("link", { name: order.id, exact: true }));
    // Only that order matches its id.
    await expect.poll(() => table.locator("tbody tr").count()).toBe(1);
    await table.getByRole("link", { name: order.id, exact: true }).click();
    await visible(page.getByRole("heading", { level: 1, name: `Order ${order.id}` }));
    for (const section of ["Items", "Refunds", "Timeline"]) await visible(page.getByRole("heading", { name: section, exact: true }));
    await visible(page.getByRole("main").getByText("Coffee beans 250 g").first());
    // What the sandbox did, as the API recorded it: the order made, the notify accepted, the order paid.
    await visible(timelineItems(page, /\bCreated\b/).first());
    await visible(timelineItems(page, /Notify received/).first());
    await visible(timelineItems(page, /\bPaid\b/).first());
    expect(new URL(page.url()).pathname).toBe(`/console/orders/${order.id}`);
  });

  it("refunds part of an order; the refund notify arrives on its timeline", async () => {
    const { page } = await tab();
    const { order } = orders.found;
    const calls = recordRefundCalls(page);
    await signIn(page, OPERATOR);
    await openOrder(page, order.id);
    await page.getByRole("button", { name: "Refund", exact: true }).click();
    await visible(page.getByText("Refundable: ¥68.00"));
    await page.getByLabel("Amount").fill("12.50");
    await page.getByLabel("Reason").fill("Damaged in transit");
    await page.getByRole("button", { name: "Continue" }).click();
    await visible(page.getByText(`Refund ¥12.50 of order ${order.id}?`));
    await page.getByRole("button", { name: "Confirm refund" }).click();
    await visible(statusMessage(page, "Refund requested"));
    await visible(timelineItems(page, /Refund requested/).first());
    // The sandbox settles the refund and notifies the API; the page refetches while the refund is processing.
    await visible(timelineItems(page, /Refund notify/).first(), 15_000);

    expect(calls).toHaveLength(1);
    const rows = await eventually("the refund succeeded", async () => {
      const found = await refundRows(stack, order.id);
      return found.every((r) => r.status === "succeeded") ? found : undefined;
    });
    expect(rows.map((r) => r.refund_fee)).toEqual([1250]);
    const detail = await adminOrder(stack, order.id);
    expect(detail.refunds.map((r) => [r.refundFee, r.status, r.reason])).toEqual([[1250, "succeeded", "Damaged in transit"]]);
    expect(detail.order.refundableFee).toBe(6800 - 1250);
    expect(detail.timeline.filter((e) => e.kind === "refund_notify").map((e) => e.outcome)).toEqual(["accepted"]);
  });

  it("a double click on Confirm refund refunds once", async () => {
    const { page } = await tab();
    const { order } = orders.doubleClick;
    const calls = recordRefundCalls(page);
    await signIn(page, OPERATOR);
    await openOrder(page, order.id);
    await fillRefundForm(page, order.id, "5.00", "¥5.00");
    await page.getByRole("button", { name: "Confirm refund" }).dblclick();
    await visible(statusMessage(page, "Refund requested"));
    await visible(timelineItems(page, /Refund notify/).first(), 15_000);

    // However many requests the two clicks made, they carried the form's one Idempotency-Key.
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(new Set(calls.map((c) => c.idempotencyKey)).size).toBe(1);
    expect(calls[0]?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    const rows = await eventually("the refund succeeded", async () => {
      const found = await refundRows(stack, order.id);
      return found.length > 0 && found.every((r) => r.status === "succeeded") ? found : undefined;
    });
    expect(rows.map((r) => r.refund_fee)).toEqual([500]);
    const detail = await adminOrder(stack, order.id);
    expect(detail.refunds.map((r) => r.refundFee)).toEqual([500]);
    expect(detail.order.refundedFee).toBe(500);
    // The page lists the one refund too.
    await page.reload();
    await visible(page.getByRole("heading", { level: 1, name: `Order ${order.id}` }));
    await visible(timelineItems(page, /Refund notify/).first());
    expect(await timelineItems(page, /Refund requested/).count()).toBe(1);
  });

  it("a viewer sees no Refund button, and the API refuses the viewer's refund call with 403", async () => {
    const { page } = await tab();
    const { order } = orders.viewed;
    await signIn(page, VIEWER);
    await openOrder(page, order.id);
    await visible(page.getByRole("heading", { name: "Timeline", exact: true }));
    await visible(timelineItems(page, /\bPaid\b/).first());
    expect(await page.getByRole("button", { name: "Refund", exact: true }).count()).toBe(0);

    // The same call the form would make, from the viewer's page with the viewer's own CSRF token: refused for the role.
    const answer = await page.evaluate(async (orderId) => {
      const session = (await (await fetch("/api/admin/session", { credentials: "same-origin" })).json()) as { csrfToken: string | null };
      const response = await fetch(`/api/admin/orders/${encodeURIComponent(orderId)}/refunds`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json", "x-csrf-token": session.csrfToken ?? "", "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ refundFee: 100 }),
      });
      return { csrf: session.csrfToken, status: response.status, body: (await response.json()) as { error?: { code?: string } } };
    }, order.id);
    expect(answer.csrf).toEqual(expect.any(String));
    expect(answer.status).toBe(403);
    expect(answer.body.error?.code).toBe("FORBIDDEN");
    expect(await refundRows(stack, order.id)).toEqual([]);
    expect((await adminOrder(stack, order.id)).order.refundableFee).toBe(order.totalFee);
  });

  it("switches between Chinese and English: <html lang> changes, headings translate, the choice is kept", async () => {
    const { page } = await tab("zh-CN");
    const html = page.locator("html");
    // navigator.language zh-CN: the sign-in page starts in Chinese.
    await page.goto("/console/");
    await visible(page.getByRole("button", { name: "English", exact: true }));
    expect(await html.getAttribute("lang")).toBe("zh-CN");
    const chineseHeading = (await page.getByRole("heading", { level: 1 }).textContent()) ?? "";
    expect(chineseHeading).not.toBe("Sign in");
    expect(chineseHeading).toMatch(/\p{Script=Han}/u);

    await page.getByRole("button", { name: "English", exact: true }).click();
    await visible(page.getByRole("heading", { level: 1, name: "Sign in" }));
    expect(await html.getAttribute("lang")).toBe("en");
    await visible(page.getByRole("button", { name: "中文", exact: true }));

    await signIn(page, OPERATOR);
    await visible(page.getByRole("heading", { level: 1, name: "Overview" }));
    await page.getByRole("button", { name: "中文", exact: true }).click();
    await visible(page.getByRole("button", { name: "English", exact: true }));
    expect(await html.getAttribute("lang")).toBe("zh-CN");
    const overview = (await page.getByRole("heading", { level: 1 }).textContent()) ?? "";
    expect(overview).toMatch(/\p{Script=Han}/u);
    expect(await page.getByRole("navigation").getByRole("link", { name: "Orders", exact: true }).count()).toBe(0);

    // Kept across a reload (localStorage console.lang), whatever the browser's language.
    await page.reload();
    await visible(page.getByRole("button", { name: "English", exact: true }));
    expect(await html.getAttribute("lang")).toBe("zh-CN");
    await page.getByRole("button", { name: "English", exact: true }).click();
    await visible(page.getByRole("heading", { level: 1, name: "Overview" }));
    expect(await html.getAttribute("lang")).toBe("en");
  });

  it("markup in a product name and in a refund reason renders as text; no element is injected", async () => {
    const { page } = await tab();
    const { order } = orders.hostile;
    const reason = `<img src=y onerror="window.__injected=2"><i id="injected-reason">r</i>`;
    await signIn(page, OPERATOR);
    await openOrder(page, order.id);
    await visible(page.getByText(HOSTILE_NAME, { exact: true }).first());
    await fillRefundForm(page, order.id, "1.00", "¥1.00", reason);
    await page.getByRole("button", { name: "Confirm refund" }).click();
    await visible(statusMessage(page, "Refund requested"));
    await visible(page.getByText(reason, { exact: true }).first());

    await navigate(page, "Orders");
    await visible(page.getByRole("table").getByRole("link", { name: order.id, exact: true }));
    await openOrder(page, order.id);
    await visible(page.getByText(HOSTILE_NAME, { exact: true }).first());
    expect(await page.locator("#injected, #injected-reason, img[src='x'], img[src='y']").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __injected?: unknown }).__injected)).toBeUndefined();
  });

  it("the audit log shows the refund: who, the order, and the form's idempotency key", async () => {
    const { page } = await tab();
    const { order } = orders.audited;
    const calls = recordRefundCalls(page);
    await signIn(page, OPERATOR);
    await openOrder(page, order.id);
    await fillRefundForm(page, order.id, "2.00", "¥2.00");
    await page.getByRole("button", { name: "Confirm refund" }).click();
    await visible(statusMessage(page, "Refund requested"));
    const key = calls[0]?.idempotencyKey ?? "";
    expect(key).not.toBe("");

    await navigate(page, "Audit log");
    const row = page.getByRole("table").locator("tbody tr").filter({ hasText: key });
    await visible(row);
    const text = (await row.textContent()) ?? "";
    expect(text).toContain(OPERATOR.username);
    expect(text).toContain(order.id);
    expect(text).toContain("createRefund");
  });

  it("axe-core: no serious or critical violation on sign-in, overview, orders, order detail, the refund form and the audit log", async () => {
    const { page } = await tab();
    const { order } = orders.viewed;
    const found: Record<string, AxeProblem[]> = {};
    await page.goto("/console/");
    await visible(page.getByRole("heading", { level: 1, name: "Sign in" }));
    found["sign-in"] = await seriousAxeViolations(page);
    await signIn(page, OPERATOR);
    found.overview = await seriousAxeViolations(page);
    await navigate(page, "Orders");
    await visible(page.getByRole("table").getByRole("link", { name: order.id, exact: true }));
    found.orders = await seriousAxeViolations(page);
    await openOrder(page, order.id);
    await visible(timelineItems(page, /\bPaid\b/).first());
    found["order detail"] = await seriousAxeViolations(page);
    await page.getByRole("button", { name: "Refund", exact: true }).click();
    await visible(page.getByLabel("Amount"));
    found["refund form"] = await seriousAxeViolations(page);
    await navigate(page, "Audit log");
    found["audit log"] = await seriousAxeViolations(page);
    expect(found).toEqual({ "sign-in": [], overview: [], orders: [], "order detail": [], "refund form": [], "audit log": [] });
  });
});
