import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { buildXml, generateNonceStr, parsePayNotify, parseXml, signParams, verifySign, type SignType, type XmlFields } from "@pay/core";
import { chromiumLaunchOptions } from "@pay/test-kit/chromium";
import { chromium, type Browser, type Page, type Response as PageResponse } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createManualClock, type ManualClock } from "../clock.js";
import { cashierUrl as cashierUrlAt, SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import type { MerchantInput } from "../options.js";
import { startSandbox, type RunningSandbox } from "../server.js";
import { renderCashierPage, renderNotFoundPage } from "./cashier-page.js";
import type { CashierView } from "./cashier-view.js";
import { escapeHtml } from "./escape-html.js";

const ACK = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";

interface TestMerchant extends MerchantInput {
  readonly key: string;
  readonly signType: SignType;
}

const DOMESTIC: TestMerchant = { appId: "wxd678efh567hg6787", mchId: "1230000109", key: "192006250b4c09247ec02edce69f6a2d", signType: "HMAC-SHA256" };
const GLOBAL: TestMerchant = {
  appId: "wx2421b1c4370ec43b",
  mchId: "10000100",
  subMchId: "1000010001",
  key: "e10adc3949ba59abbe56e057f20f883e",
  profile: "global",
  signType: "MD5",
};

const VIEW: CashierView = {
  prepayId: "wx20260101120000abcdef0123456789abcd",
  status: "open",
  appId: DOMESTIC.appId,
  subAppId: undefined,
  mchId: DOMESTIC.mchId,
  subMchId: undefined,
  goods: "Sandbox T-shirt",
  outTradeNo: "order_000001",
  amount: "¥12.34",
  currency: "CNY",
  transactionId: undefined,
  paidAt: undefined,
  charged: undefined,
};

describe("cashier page markup", () => {
  it.each([
    ["<script>", "&lt;script&gt;"],
    ['a "quoted" value', "a &quot;quoted&quot; value"],
    ["it's", "it&#39;s"],
    ["&amp;", "&amp;amp;"],
    ["plain 文字 ¥1,750", "plain 文字 ¥1,750"],
  ])("escapeHtml(%j) is %j", (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it("shows goods, order number and prepay_id holding markup as text", () => {
    const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const html = renderCashierPage({ ...VIEW, goods: hostile, outTradeNo: "a<b>c", prepayId: 'wx"><script>' }, "n0nce");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("a&lt;b&gt;c");
    expect(html).toContain('data-prepay-id="wx&quot;&gt;&lt;script&gt;"');
    expect(html).not.toContain("<img");
    // The page's own script is the only one, and it carries the nonce.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('<script nonce="n0nce">');
    expect(html).toContain('<style nonce="n0nce">');
  });

  it("offers Pay and Cancel only while the order can be paid", () => {
    expect(renderCashierPage(VIEW, "n")).toContain('data-outcome="success"');
    for (const status of ["paid", "refunded", "closed", "expired", "failed"] as const) {
      const html = renderCashierPage({ ...VIEW, status, transactionId: "4200000123202601010000000001" }, "n");
      expect(html).not.toContain("data-outcome");
      expect(html).not.toContain("<script");
    }
  });

  it("escapes the prepay_id on the not-found page", () => {
    const html = renderNotFoundPage("<b>wx</b>", "n");
    expect(html).toContain("&lt;b&gt;wx&lt;/b&gt;");
    expect(html).not.toContain("<b>");
  });
});

interface Receiver {
  readonly url: string;
  readonly bodies: string[];
  close(): Promise<void>;
}

/** A merchant notify_url that acknowledges everything and records each body. */
async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, { "content-type": "text/xml; charset=utf-8" });
      res.end(ACK);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/wechat/notify`,
    bodies,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function newOutTradeNo(): string {
  return `cashier_${randomBytes(6).toString("hex")}`;
}

/** POSTs a signed v2 request for `merchant` and returns the verified reply's fields. */
async function callGateway(sandbox: RunningSandbox, path: string, merchant: TestMerchant, fields: Record<string, string | number | undefined>): Promise<XmlFields> {
  const message = { appid: merchant.appId, mch_id: merchant.mchId, sub_mch_id: merchant.subMchId, nonce_str: generateNonceStr(), sign_type: merchant.signType, ...fields };
  const sign = signParams(message, { key: merchant.key, signType: merchant.signType });
  const response = await fetch(`${sandbox.url}${path}`, { method: "POST", headers: { "content-type": "text/xml; charset=utf-8" }, body: buildXml({ ...message, sign }) });
  const reply = parseXml(await response.text());
  if (!reply.ok) throw new Error(`${path} answered unparsable XML: ${reply.error.message}`);
  expect(reply.value.return_code, `${path}: ${reply.value.return_msg ?? ""}`).toBe("SUCCESS");
  // Replies carry no sign_type; an HMAC-SHA256 one is recognised by its length.
  const verified = verifySign(reply.value, { key: merchant.key, signType: merchant.signType, inferSignType: true });
  expect(verified.ok ? "verified" : verified.error.message).toBe("verified");
  return reply.value;
}

interface NewOrder {
  readonly outTradeNo: string;
  readonly prepayId: string;
}

/** Places a JSAPI order through /pay/unifiedorder, as a merchant server would. */
async function placeOrder(sandbox: RunningSandbox, notifyUrl: string, merchant: TestMerchant, order: { body: string; totalFee: number; feeType?: string }): Promise<NewOrder> {
  const outTradeNo = newOutTradeNo();
  const reply = await callGateway(sandbox, "/pay/unifiedorder", merchant, {
    body: order.body,
    out_trade_no: outTradeNo,
    total_fee: order.totalFee,
    fee_type: order.feeType,
    spbill_create_ip: "127.0.0.1",
    notify_url: notifyUrl,
    trade_type: "JSAPI",
    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
  });
  expect(reply.result_code, reply.err_code_des).toBe("SUCCESS");
  const prepayId = reply.prepay_id;
  if (prepayId === undefined) throw new Error("unifiedorder answered without a prepay_id");
  return { outTradeNo, prepayId };
}

async function queryTradeState(sandbox: RunningSandbox, merchant: TestMerchant, outTradeNo: string): Promise<XmlFields> {
  const reply = await callGateway(sandbox, "/pay/orderquery", merchant, { out_trade_no: outTradeNo });
  expect(reply.result_code).toBe("SUCCESS");
  return reply;
}

describe("cashier page in Chromium", () => {
  let receiver: Receiver;
  let sandbox: RunningSandbox;
  let browser: Browser;
  let page: Page;
  /** CSP violations and uncaught page errors of the current test; each test must end with none. */
  let pageProblems: string[];
  /** Every URL the current page requested: the cashier must stay on the origin it was opened from. */
  let requested: string[];
  let origins: Set<string>;

  const cashierUrl = (prepayId: string, base = sandbox.url): string => cashierUrlAt(base, prepayId);
  const notifiesFor = (outTradeNo: string): string[] =>
    receiver.bodies.filter((body) => {
      const fields = parseXml(body);
      return fields.ok && fields.value.out_trade_no === outTradeNo;
    });

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const opened = await context.newPage();
    opened.on("console", (message) => {
      if (/content security policy/i.test(message.text())) pageProblems.push(`console: ${message.text()}`);
    });
    opened.on("pageerror", (error) => pageProblems.push(`pageerror: ${error.message}`));
    opened.on("request", (request) => requested.push(request.url()));
    return opened;
  }

  async function gotoOk(target: Page, url: string): Promise<PageResponse> {
    origins.add(new URL(url).origin);
    const response = await target.goto(url);
    if (response === null) throw new Error(`no response for ${url}`);
    return response;
  }

  beforeAll(async () => {
    // Throws first, naming the setup script, when Chromium is not installed.
    const launchOptions = chromiumLaunchOptions();
    receiver = await startReceiver();
    sandbox = await startSandbox({ merchants: [DOMESTIC, GLOBAL], notify: { retryScale: 0.001, timeoutMs: 2000 } });
    browser = await chromium.launch(launchOptions);
  }, 60_000);

  afterAll(async () => {
    // Each is unassigned when beforeAll failed before it.
    await (browser as Browser | undefined)?.close();
    await (sandbox as RunningSandbox | undefined)?.stop();
    await (receiver as Receiver | undefined)?.close();
  });

  beforeEach(async () => {
    pageProblems = [];
    requested = [];
    origins = new Set();
    page = await openPage();
  });

  afterEach(async () => {
    await page.context().close();
    expect(pageProblems).toEqual([]);
    const foreign = requested.filter((url) => !origins.has(new URL(url).origin));
    expect(foreign).toEqual([]);
  });

  it("pays an order: success panel, SUCCESS in orderquery, a verified notify at notify_url", async () => {
    const order = await placeOrder(sandbox, receiver.url, DOMESTIC, { body: "Sandbox T-shirt", totalFee: 1234 });
    const response = await gotoOk(page, cashierUrl(order.prepayId));
    expect(response.status()).toBe(200);

    const csp = response.headers()["content-security-policy"] ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(nonce).toBeDefined();
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    expect(await response.text()).toContain(`<script nonce="${nonce}">`);

    await expect(page.locator("h1").textContent()).resolves.toBe(`Merchant ${DOMESTIC.mchId}`);
    await expect(page.locator(".merchant-meta").textContent()).resolves.toBe(`AppID ${DOMESTIC.appId}`);
    await expect(page.locator("#cashier-goods").textContent()).resolves.toBe("Sandbox T-shirt");
    await expect(page.locator("#cashier-amount").textContent()).resolves.toBe("¥12.34");
    await expect(page.locator("#cashier-out-trade-no").textContent()).resolves.toBe(order.outTradeNo);
    const pay = page.getByRole("button", { name: "Pay ¥12.34" });
    await expect(pay.isVisible()).resolves.toBe(true);
    await expect(page.getByRole("button", { name: "Cancel" }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: "/tmp/cashier.png", fullPage: true });

    await pay.click();
    await page.getByRole("heading", { name: "Payment successful" }).waitFor();
    const stored = sandbox.context.store.findOrderByPrepayId(order.prepayId);
    expect(stored?.tradeState).toBe("SUCCESS");
    const transactionId = stored?.transactionId ?? "";
    expect(transactionId).toMatch(/^4200\d{24}$/);
    await expect(page.locator("#cashier-transaction-id").textContent()).resolves.toBe(transactionId);
    await expect(page.locator("#cashier-paid-at").textContent()).resolves.toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    await expect(page.locator('[data-panel="paid"]').textContent()).resolves.toContain("You paid ¥12.34");
    await expect(pay.isVisible()).resolves.toBe(false);
    await page.screenshot({ path: "/tmp/cashier-paid.png", fullPage: true });

    const query = await queryTradeState(sandbox, DOMESTIC, order.outTradeNo);
    expect(query.trade_state).toBe("SUCCESS");
    expect(query.transaction_id).toBe(transactionId);

    const [body] = await vi.waitFor(
      () => {
        const bodies = notifiesFor(order.outTradeNo);
        expect(bodies.length).toBeGreaterThan(0);
        return bodies;
      },
      { timeout: 5000, interval: 50 },
    );
    // HMAC-SHA256 notifies arrive without sign_type, as from the real gateway.
    const notify = parsePayNotify(body ?? "", { key: DOMESTIC.key, signType: "HMAC-SHA256", inferSignType: true });
    if (!notify.ok) throw new Error(`notify rejected: ${notify.error.code} ${notify.error.message}`);
    expect(notify.value.paid).toBe(true);
    expect(notify.value.notify.outTradeNo).toBe(order.outTradeNo);
    expect(notify.value.notify.totalFee).toBe(1234);
    expect(notify.value.notify.transactionId).toBe(transactionId);

    // Opened again, the sheet shows the payment instead of the buttons.
    await gotoOk(page, cashierUrl(order.prepayId));
    await page.getByRole("heading", { name: "Payment successful" }).waitFor();
    await expect(page.locator("button").count()).resolves.toBe(0);
    await expect(page.locator("#cashier-transaction-id").textContent()).resolves.toBe(transactionId);
  });

  it("pays once on a double click: both buttons are disabled while the request is in flight", async () => {
    const order = await placeOrder(sandbox, receiver.url, DOMESTIC, { body: "Double click", totalFee: 100 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let payRequests = 0;
    await page.route(`**${SANDBOX_CONTROL_PATHS.pay}`, async (route) => {
      payRequests += 1;
      await held;
      await route.continue();
    });
    await gotoOk(page, cashierUrl(order.prepayId));
    const pay = page.locator('button[data-outcome="success"]');
    const cancel = page.locator('button[data-outcome="cancel"]');

    await pay.dblclick();
    await expect(pay.isDisabled()).resolves.toBe(true);
    await expect(cancel.isDisabled()).resolves.toBe(true);
    await expect(pay.getAttribute("aria-busy")).resolves.toBe("true");
    // Neither a second Pay nor a Cancel gets through while the first request is held.
    await cancel.click({ force: true });
    release();

    await page.getByRole("heading", { name: "Payment successful" }).waitFor();
    expect(payRequests).toBe(1);
    await expect(page.locator("#cashier-message").isVisible()).resolves.toBe(false);
    await vi.waitFor(() => expect(notifiesFor(order.outTradeNo).length).toBeGreaterThan(0), { timeout: 5000, interval: 50 });
    expect(sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo, kind: "pay" })).toHaveLength(1);
  });

  it("cancels: the order stays NOTPAY and no notify is sent", async () => {
    const order = await placeOrder(sandbox, receiver.url, DOMESTIC, { body: "Cancelled order", totalFee: 2500 });
    await gotoOk(page, cashierUrl(order.prepayId));
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: "Payment cancelled" }).waitFor();
    await expect(page.locator('button[data-outcome="success"]').isVisible()).resolves.toBe(false);
    await page.screenshot({ path: "/tmp/cashier-cancelled.png", fullPage: true });

    const query = await queryTradeState(sandbox, DOMESTIC, order.outTradeNo);
    expect(query.trade_state).toBe("NOTPAY");
    expect(query.transaction_id).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notifiesFor(order.outTradeNo)).toEqual([]);
    expect(sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo })).toEqual([]);
  });

  it("shows ORDER_PAID as a message when the order was paid after the sheet opened", async () => {
    const order = await placeOrder(sandbox, receiver.url, DOMESTIC, { body: "Paid elsewhere", totalFee: 990 });
    await gotoOk(page, cashierUrl(order.prepayId));
    const paid = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.pay}`, { method: "POST", body: JSON.stringify({ prepay_id: order.prepayId, outcome: "success" }) });
    expect(paid.status).toBe(200);
    const transactionId = sandbox.context.store.findOrderByPrepayId(order.prepayId)?.transactionId;

    await page.locator('button[data-outcome="success"]').click();
    const message = page.getByRole("alert");
    await message.waitFor();
    await expect(message.textContent()).resolves.toBe("This order has already been paid. Nothing more was charged.");
    await expect(page.locator('button[data-outcome="success"]').isDisabled()).resolves.toBe(true);
    await page.screenshot({ path: "/tmp/cashier-error.png", fullPage: true });
    expect(sandbox.context.store.findOrderByPrepayId(order.prepayId)?.transactionId).toBe(transactionId);
    await vi.waitFor(() => expect(notifiesFor(order.outTradeNo).length).toBeGreaterThan(0), { timeout: 5000, interval: 50 });
    expect(sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo, kind: "pay" })).toHaveLength(1);
  });

  it("shows a closed order as closed, without Pay or Cancel", async () => {
    const order = await placeOrder(sandbox, receiver.url, DOMESTIC, { body: "Closed order", totalFee: 300 });
    const closed = await callGateway(sandbox, "/pay/closeorder", DOMESTIC, { out_trade_no: order.outTradeNo });
    expect(closed.result_code).toBe("SUCCESS");

    const response = await gotoOk(page, cashierUrl(order.prepayId));
    expect(response.status()).toBe(200);
    await page.getByRole("heading", { name: "Order closed" }).waitFor();
    await expect(page.locator("button").count()).resolves.toBe(0);
  });

  it("shows a JPY amount of a Global sub-merchant without decimals, and the CNY charged once paid", async () => {
    const order = await placeOrder(sandbox, receiver.url, GLOBAL, { body: "Matcha set", totalFee: 1750, feeType: "JPY" });
    await gotoOk(page, cashierUrl(order.prepayId));
    await expect(page.locator("h1").textContent()).resolves.toBe(`Sub-merchant ${GLOBAL.subMchId ?? ""}`);
    await expect(page.locator("#cashier-amount").textContent()).resolves.toBe("¥1,750");
    await expect(page.locator(".currency").textContent()).resolves.toBe("JPY");
    await expect(page.getByRole("button", { name: "Pay ¥1,750" }).isVisible()).resolves.toBe(true);
    await expect(page.locator(".details").first().textContent()).resolves.toContain(GLOBAL.mchId);
    await page.screenshot({ path: "/tmp/cashier-jpy.png", fullPage: true });

    await page.getByRole("button", { name: "Pay ¥1,750" }).click();
    await page.getByRole("heading", { name: "Payment successful" }).waitFor();
    await gotoOk(page, cashierUrl(order.prepayId));
    // DEFAULT_RATES: 1 JPY = 0.048 CNY, so ¥1,750 is ¥84.00 of the payer's balance.
    await expect(page.locator('[data-panel="paid"]').textContent()).resolves.toContain("¥84.00 CNY");
    const query = await queryTradeState(sandbox, GLOBAL, order.outTradeNo);
    expect(query.trade_state).toBe("SUCCESS");
    expect(query.fee_type).toBe("JPY");
  });

  it("shows markup in the goods as text and runs none of it", async () => {
    const goods = '<script>window.pwned = true</script><b id="injected">Bold</b>';
    const order = await placeOrder(sandbox, receiver.url, DOMESTIC, { body: goods, totalFee: 1 });
    await gotoOk(page, cashierUrl(order.prepayId));
    await expect(page.locator("#cashier-goods").textContent()).resolves.toBe(goods);
    await expect(page.locator("#injected").count()).resolves.toBe(0);
    await expect(page.evaluate(() => (globalThis as { pwned?: boolean }).pwned)).resolves.toBeUndefined();
    await expect(page.title()).resolves.toBe(`Pay ¥0.01 · Merchant ${DOMESTIC.mchId}`);
  });

  it("answers 404 with a page for an unknown or missing prepay_id", async () => {
    const unknown = await gotoOk(page, cashierUrl("wx20260101000000deadbeefdeadbeefdead"));
    expect(unknown.status()).toBe(404);
    expect(unknown.headers()["content-type"]).toBe("text/html; charset=utf-8");
    expect(unknown.headers()["content-security-policy"]).toContain("default-src 'none'");
    await page.getByRole("heading", { name: "Payment not found" }).waitFor();
    await expect(page.locator("#cashier").textContent()).resolves.toContain("wx20260101000000deadbeefdeadbeefdead");
    await expect(page.locator("button").count()).resolves.toBe(0);
    await page.screenshot({ path: "/tmp/cashier-404.png", fullPage: true });

    const missing = await gotoOk(page, `${sandbox.url}${SANDBOX_CONTROL_PATHS.cashier}`);
    expect(missing.status()).toBe(404);
    await expect(page.locator("#cashier").textContent()).resolves.toContain("The link has no prepay_id.");
  });

  describe("with a manual clock", () => {
    let clock: ManualClock;
    let timed: RunningSandbox;

    beforeAll(async () => {
      clock = createManualClock();
      timed = await startSandbox({ merchants: [DOMESTIC], clock, prepayTtlMs: 2 * 3600 * 1000 });
    });
    afterAll(async () => {
      // Unassigned when beforeAll failed.
      await (timed as RunningSandbox | undefined)?.stop();
    });

    it("shows PREPAY_EXPIRED as a message, and the expired state once reopened", async () => {
      const order = await placeOrder(timed, receiver.url, DOMESTIC, { body: "Slow payer", totalFee: 500 });
      await gotoOk(page, cashierUrl(order.prepayId, timed.url));
      await clock.advance(2 * 3600 * 1000);

      await page.locator('button[data-outcome="success"]').click();
      const message = page.getByRole("alert");
      await message.waitFor();
      await expect(message.textContent()).resolves.toBe("This payment request has expired. Ask the merchant to place the order again.");
      await expect(page.locator('button[data-outcome="success"]').isDisabled()).resolves.toBe(true);
      await expect(page.locator('button[data-outcome="cancel"]').isDisabled()).resolves.toBe(true);

      await gotoOk(page, cashierUrl(order.prepayId, timed.url));
      await page.getByRole("heading", { name: "Payment request expired" }).waitFor();
      await expect(page.locator("button").count()).resolves.toBe(0);
      expect(timed.context.store.findOrderByPrepayId(order.prepayId)?.tradeState).toBe("NOTPAY");
    });
  });
});
