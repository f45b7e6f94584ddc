// The console's operations pages in headless Chromium against the real API and the sandbox: replaying a
// webhook delivery (a new attempt reaches the receiver), a reconciled day's difference linking to its order,
// and axe-core on the reconciliation and webhook pages.
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, navigate, openTab, seriousAxeViolations, signIn, visible, type AxeProblem, type ConsoleTab } from "./support/browser.js";
import { statusMessage, timelineItems, unexpectedProblems } from "./support/browser-checks.js";
import { envEndpointId, placePaidOrder, reconcileDayWithDifference, type PaidOrder, type ReconciledDifference } from "./support/data.js";
import { startConsoleStack, type ConsoleStack } from "./support/stack.js";
import { createStaffAccount, OPERATOR, VIEWER } from "./support/staff.js";

describe("console: webhooks and reconciliation (Chromium, SQLite)", () => {
  let stack: ConsoleStack;
  let browser: Browser;
  const tabs: ConsoleTab[] = [];
  let difference: ReconciledDifference;
  let paid: PaidOrder;
  let endpointId: string;

  beforeAll(async () => {
    stack = await startConsoleStack();
    browser = await launchChromium();
    await createStaffAccount(stack, OPERATOR);
    await createStaffAccount(stack, VIEWER);
    // First, while nothing else uses the sandbox: it pays an order with its clock two days back.
    difference = await reconcileDayWithDifference(stack, "shopper-reconciled");
    paid = await placePaidOrder(stack, "shopper-webhooks");
    endpointId = await envEndpointId(stack);
    // The order.paid event of the order has reached the receiver once.
    await stack.receiver.waitFor(() => stack.receiver.requests.some((r) => r.verified && r.body.includes(paid.order.id)));
  });

  afterEach(async () => {
    for (const tab of tabs.splice(0)) {
      await tab.close();
      expect(unexpectedProblems(tab.problems).join("\n")).toBe("");
    }
  });

  afterAll(async () => {
    await (browser as Browser | undefined)?.close();
    await (stack as ConsoleStack | undefined)?.stop();
    // The API logged no error while the console drove it.
    const logs = (stack as ConsoleStack | undefined)?.logs ?? [];
    expect(logs.filter((line) => line.includes('"level":50') || line.includes('"level":60'))).toEqual([]);
  });

  async function tab(): Promise<ConsoleTab> {
    const opened = await openTab(browser, stack);
    tabs.push(opened);
    return opened;
  }

  /** The order.paid event of the webhooks order, as the receiver got it. */
  function paidEvent() {
    const event = stack.receiver.requests.find((r) => r.verified && r.eventType === "order.paid" && r.body.includes(paid.order.id));
    if (event === undefined) throw new Error(`the receiver has no order.paid event of ${paid.order.id}`);
    return event;
  }

  it("replays a webhook delivery: Replay, Replay queued, and a new attempt reaches the receiver", async () => {
    const { page } = await tab();
    const { eventId } = paidEvent();
    const received = (): number => stack.receiver.requests.filter((r) => r.verified && r.eventId === eventId).length;
    expect(received()).toBe(1);
    await signIn(page, OPERATOR);
    await navigate(page, "Webhooks");
    await page.getByRole("table").getByRole("link", { name: stack.receiver.url, exact: true }).click();
    await visible(page.getByRole("heading", { level: 1, name: `Endpoint ${stack.receiver.url}` }));
    expect(new URL(page.url()).pathname).toBe(`/console/webhooks/${endpointId}`);
    const row = page.getByRole("table").locator("tbody tr").filter({ hasText: eventId });
    await visible(row);
    await row.getByRole("button", { name: "Replay" }).click();
    await visible(statusMessage(page, "Replay queued"));
    await stack.receiver.waitFor(() => received() === 2);
    const [first, again] = stack.receiver.requests.filter((r) => r.eventId === eventId);
    // The same event, signed afresh.
    expect(again?.body).toBe(first?.body);
  });

  it("a viewer is offered no Replay", async () => {
    const { page } = await tab();
    await signIn(page, VIEWER);
    await page.goto(`/console/webhooks/${endpointId}`);
    await visible(page.getByRole("heading", { level: 1, name: `Endpoint ${stack.receiver.url}` }));
    await visible(page.getByRole("table").locator("tbody tr").filter({ hasText: paidEvent().eventId }));
    expect(await page.getByRole("button", { name: "Replay" }).count()).toBe(0);
  });

  it("opens a reconciliation difference and follows its link to the order", async () => {
    const { page } = await tab();
    await signIn(page, OPERATOR);
    await navigate(page, "Reconciliation");
    await page.getByRole("table").getByRole("link", { name: difference.date, exact: true }).click();
    await visible(page.getByRole("heading", { level: 1, name: `Reconciliation ${difference.date}` }));
    const row = page
      .getByRole("table")
      .locator("tbody tr")
      .filter({ has: page.getByRole("link", { name: difference.orderId, exact: true }) });
    await visible(row);
    // What the bill said and what was paid here.
    const text = (await row.textContent()) ?? "";
    expect(text).toContain("39.89");
    expect(text).toContain("39.90");
    await row.getByRole("link", { name: difference.orderId, exact: true }).click();
    await visible(page.getByRole("heading", { level: 1, name: `Order ${difference.orderId}` }));
    expect(new URL(page.url()).pathname).toBe(`/console/orders/${difference.orderId}`);
    await visible(timelineItems(page, /Reconciliation/).first());
  });

  it("axe-core: no serious or critical violation on the reconciliation list and day, the webhooks list and an endpoint", async () => {
    const { page } = await tab();
    const found: Record<string, AxeProblem[]> = {};
    await signIn(page, OPERATOR);
    await navigate(page, "Reconciliation");
    await visible(page.getByRole("table").getByRole("link", { name: difference.date, exact: true }));
    found.reconciliation = await seriousAxeViolations(page);
    await page.getByRole("table").getByRole("link", { name: difference.date, exact: true }).click();
    await visible(page.getByRole("link", { name: difference.orderId, exact: true }));
    found["reconciliation day"] = await seriousAxeViolations(page);
    await navigate(page, "Webhooks");
    await visible(page.getByRole("table").getByRole("link", { name: stack.receiver.url, exact: true }));
    found.webhooks = await seriousAxeViolations(page);
    await page.getByRole("table").getByRole("link", { name: stack.receiver.url, exact: true }).click();
    await visible(page.getByRole("table").locator("tbody tr").first());
    found["webhook endpoint"] = await seriousAxeViolations(page);
    expect(found).toEqual({ reconciliation: [], "reconciliation day": [], webhooks: [], "webhook endpoint": [] });
  });
});
