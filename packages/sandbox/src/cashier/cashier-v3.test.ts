import { randomBytes } from "node:crypto";
import { buildV3RequestPaymentParams, parseV3Answer, V3PrepayAnswerSchema, V3TransactionSchema, type V3PayApp } from "@pay/core";
import { chromiumLaunchOptions } from "@pay/test-kit/chromium";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cashierUrl, SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import { startSandbox, type RunningSandbox } from "../server.js";
import { startV3Receiver, V3_DIRECT, V3_PARTNER, v3Client, type V3Receiver, type V3TestClient } from "../../test/support/v3.js";
import { renderCashierPage } from "./cashier-page.js";
import type { CashierView } from "./cashier-view.js";

const PAY_SIGN_FAIL = "requestPayment:fail 支付验证签名失败";

const VIEW: CashierView = {
  prepayId: "wx20260101120000abcdef0123456789abcd",
  status: "open",
  appId: V3_DIRECT.appId,
  subAppId: undefined,
  mchId: V3_DIRECT.mchId,
  subMchId: undefined,
  goods: "v3 goods",
  outTradeNo: "order_v3_000001",
  amount: "¥12.34",
  currency: "CNY",
  transactionId: undefined,
  paidAt: undefined,
  charged: undefined,
};

describe("cashier page markup for a v3 order", () => {
  it("embeds the signed fields (escaped) for the script, and says nothing about them when present", () => {
    const payment = { timeStamp: "1767240000", nonceStr: 'n"<&>', package: `prepay_id=${VIEW.prepayId}`, signType: "RSA", paySign: "c2ln" };
    const html = renderCashierPage({ ...VIEW, v3: { payment } }, "n");
    expect(html).toContain('data-payment="{&quot;timeStamp&quot;:&quot;1767240000&quot;,&quot;nonceStr&quot;:&quot;n\\&quot;&lt;&amp;&gt;&quot;');
    expect(html).not.toContain("cashier-v3-notice");
  });

  it("says the merchant's signed fields are needed when a v3 order is opened without them", () => {
    const html = renderCashierPage({ ...VIEW, v3: { payment: undefined } }, "n");
    expect(html).toContain('id="cashier-v3-notice"');
    expect(html).not.toContain("data-payment");
    expect(html).toContain('data-outcome="success"');
  });

  it("leaves a v2 order's sheet without notice or fields", () => {
    const html = renderCashierPage(VIEW, "n");
    expect(html).not.toContain("cashier-v3-notice");
    expect(html).not.toContain("data-payment");
  });
});

describe("cashierUrl with the wx.requestPayment fields", () => {
  it("appends them, encoded, after the prepay_id (appId only when given)", () => {
    const fields = { timeStamp: "1", nonceStr: "a b", package: "prepay_id=wx1", signType: "RSA", paySign: "x+y/z=" };
    expect(cashierUrl("http://h", "wx1", fields)).toBe(
      "http://h/sandbox/cashier?prepay_id=wx1&timeStamp=1&nonceStr=a%20b&package=prepay_id%3Dwx1&signType=RSA&paySign=x%2By%2Fz%3D",
    );
    expect(cashierUrl("http://h", "wx1", { ...fields, appId: "wxapp" })).toContain("?prepay_id=wx1&appId=wxapp&timeStamp=1");
    expect(cashierUrl("http://h", "wx1")).toBe("http://h/sandbox/cashier?prepay_id=wx1");
  });
});

describe("cashier page for v3 orders in Chromium", () => {
  let receiver: V3Receiver;
  let sandbox: RunningSandbox;
  let browser: Browser;
  let page: Page;
  let direct: V3TestClient;
  let partner: V3TestClient;
  let pageProblems: string[];
  let payBodies: unknown[];

  beforeAll(async () => {
    // Throws first, naming the setup script, when Chromium is not installed.
    const launchOptions = chromiumLaunchOptions();
    receiver = await startV3Receiver();
    sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_PARTNER], allowHttpNotifyUrl: true, notify: { retryScale: 0.001, timeoutMs: 2000 } });
    direct = v3Client(sandbox, V3_DIRECT.mchId);
    partner = v3Client(sandbox, V3_PARTNER.mchId);
    browser = await chromium.launch(launchOptions);
  }, 60_000);

  afterAll(async () => {
    await (browser as Browser | undefined)?.close();
    await (sandbox as RunningSandbox | undefined)?.stop();
    await (receiver as V3Receiver | undefined)?.close();
  });

  beforeEach(async () => {
    pageProblems = [];
    payBodies = [];
    const context = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    page = await context.newPage();
    page.on("console", (message) => {
      if (/content security policy/i.test(message.text())) pageProblems.push(`console: ${message.text()}`);
    });
    page.on("pageerror", (error) => pageProblems.push(`pageerror: ${error.message}`));
    page.on("request", (request) => {
      if (request.method() === "POST" && new URL(request.url()).pathname === SANDBOX_CONTROL_PATHS.pay) payBodies.push(request.postDataJSON());
    });
  });

  afterEach(async () => {
    await page.context().close();
    expect(pageProblems).toEqual([]);
  });

  async function placeDirectOrder(total: number): Promise<{ outTradeNo: string; prepayId: string }> {
    const outTradeNo = `v3c_${randomBytes(6).toString("hex")}`;
    const answer = await direct.send({
      target: "/v3/pay/transactions/jsapi",
      body: {
        appid: V3_DIRECT.appId,
        mchid: V3_DIRECT.mchId,
        description: "v3 sheet",
        out_trade_no: outTradeNo,
        notify_url: receiver.url,
        amount: { total },
        payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
      },
    });
    expect(answer.status, answer.text).toBe(200);
    const parsed = parseV3Answer(V3PrepayAnswerSchema, answer.text);
    if (!parsed.ok) throw new Error(parsed.error.message);
    return { outTradeNo, prepayId: parsed.value.prepayId };
  }

  const signedFields = (client: V3TestClient, prepayId: string, app: V3PayApp): ReturnType<typeof buildV3RequestPaymentParams> =>
    buildV3RequestPaymentParams({ app, prepayId, privateKey: client.identity.merchantCertificate.privateKeyPem ?? "", now: sandbox.context.clock.now() });

  it("pays a v3 order with the merchant's signed fields from the link; the query then answers SUCCESS", async () => {
    const order = await placeDirectOrder(1234);
    const fields = signedFields(direct, order.prepayId, { mode: "direct", appId: V3_DIRECT.appId });
    const response = await page.goto(cashierUrl(sandbox.url, order.prepayId, fields));
    expect(response?.status()).toBe(200);
    await expect(page.locator("#cashier-v3-notice").count()).resolves.toBe(0);
    await page.getByRole("button", { name: "Pay ¥12.34" }).click();
    await page.getByRole("heading", { name: "Payment successful" }).waitFor();
    await page.screenshot({ path: "/tmp/cashier-v3-paid.png", fullPage: true });
    expect(payBodies).toEqual([{ prepay_id: order.prepayId, outcome: "success", payment: fields }]);

    const transactionId = sandbox.context.store.findOrderByPrepayId(order.prepayId)?.transactionId ?? "";
    await expect(page.locator("#cashier-transaction-id").textContent()).resolves.toBe(transactionId);
    const query = await direct.send({ target: `/v3/pay/transactions/out-trade-no/${order.outTradeNo}?mchid=${V3_DIRECT.mchId}` });
    expect(direct.verify(query).ok).toBe(true);
    const transaction = parseV3Answer(V3TransactionSchema, query.text);
    expect(transaction.ok && transaction.value.tradeState).toBe("SUCCESS");
    expect(transaction.ok && transaction.value.transactionId).toBe(transactionId);
  });

  it("pays a partner order for a sub_openid with fields signed for the sub-merchant's app", async () => {
    const outTradeNo = `v3c_${randomBytes(6).toString("hex")}`;
    const answer = await partner.send({
      target: "/v3/pay/partner/transactions/jsapi",
      body: {
        sp_appid: V3_PARTNER.appId,
        sp_mchid: V3_PARTNER.mchId,
        sub_appid: V3_PARTNER.subAppId,
        sub_mchid: V3_PARTNER.subMchId,
        description: "Partner sheet",
        out_trade_no: outTradeNo,
        notify_url: receiver.url,
        amount: { total: 800 },
        payer: { sub_openid: "oSubOpenidOfTheSubMerchant00001" },
      },
    });
    const parsed = parseV3Answer(V3PrepayAnswerSchema, answer.text);
    if (!parsed.ok) throw new Error(answer.text);
    const fields = signedFields(partner, parsed.value.prepayId, { mode: "partner", payer: "sub_openid", spAppId: V3_PARTNER.appId, subAppId: V3_PARTNER.subAppId });
    await page.goto(cashierUrl(sandbox.url, parsed.value.prepayId, fields));
    await expect(page.locator("h1").textContent()).resolves.toBe(`Sub-merchant ${V3_PARTNER.subMchId}`);
    await page.getByRole("button", { name: "Pay ¥8.00" }).click();
    await page.getByRole("heading", { name: "Payment successful" }).waitFor();
    expect(sandbox.context.store.findOrderByPrepayId(parsed.value.prepayId)?.tradeState).toBe("SUCCESS");
  });

  it("says the signed fields are needed when opened without them, and Pay is refused with WeChat's message", async () => {
    const order = await placeDirectOrder(500);
    await page.goto(cashierUrl(sandbox.url, order.prepayId));
    const notice = page.locator("#cashier-v3-notice");
    await expect(notice.isVisible()).resolves.toBe(true);
    await expect(notice.textContent()).resolves.toContain("wx.requestPayment fields the merchant server signed");
    await page.screenshot({ path: "/tmp/cashier-v3-unsigned.png", fullPage: true });

    await page.getByRole("button", { name: "Pay ¥5.00" }).click();
    const message = page.getByRole("alert");
    await message.waitFor();
    await expect(message.textContent()).resolves.toContain(PAY_SIGN_FAIL);
    await expect(page.locator('button[data-outcome="success"]').isDisabled()).resolves.toBe(true);
    expect(payBodies).toEqual([{ prepay_id: order.prepayId, outcome: "success" }]);
    expect(sandbox.context.store.findOrderByPrepayId(order.prepayId)?.tradeState).toBe("NOTPAY");
    expect(sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo })).toEqual([]);
  });

  it("refuses a tampered paySign with WeChat's message and leaves the order unpaid", async () => {
    const order = await placeDirectOrder(700);
    const fields = signedFields(direct, order.prepayId, { mode: "direct", appId: V3_DIRECT.appId });
    // Signed for another order's prepay_id, as a server mixing up orders would.
    const other = await placeDirectOrder(700);
    const wrong = { ...fields, paySign: signedFields(direct, other.prepayId, { mode: "direct", appId: V3_DIRECT.appId }).paySign };
    await page.goto(cashierUrl(sandbox.url, order.prepayId, wrong));
    await page.getByRole("button", { name: "Pay ¥7.00" }).click();
    const message = page.getByRole("alert");
    await message.waitFor();
    await expect(message.textContent()).resolves.toContain(PAY_SIGN_FAIL);
    await expect(message.textContent()).resolves.toContain("PAY_SIGN_MISMATCH");
    expect(sandbox.context.store.findOrderByPrepayId(order.prepayId)?.tradeState).toBe("NOTPAY");
  });

  it("cancels a v3 order with its signed fields: the order stays NOTPAY", async () => {
    const order = await placeDirectOrder(300);
    const fields = signedFields(direct, order.prepayId, { mode: "direct", appId: V3_DIRECT.appId });
    await page.goto(cashierUrl(sandbox.url, order.prepayId, fields));
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: "Payment cancelled" }).waitFor();
    expect(sandbox.context.store.findOrderByPrepayId(order.prepayId)?.tradeState).toBe("NOTPAY");
  });
});
