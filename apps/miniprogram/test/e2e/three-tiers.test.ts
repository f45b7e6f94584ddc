import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSandboxControlClient, type SandboxOrderView } from "@pay/sandbox/control";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { writeConfigModule } from "../../scripts/build.mjs";
import { checkBuildOutput } from "../support/check-output.js";
import { createMiniRuntime, type MiniRuntime } from "../support/mini-runtime.js";
import { merchantOf, startThreeTiers, type Protocol, type ThreeTiers } from "../support/three-tiers.js";
import { createWeChatShim, type WeChatShim } from "../support/wechat-shim.js";

// The mini-program's compiled pages, driven through their lifecycle and taps in the mini runtime,
// against the real Koa API on SQLite and the sandbox gateway, over real HTTP on ephemeral ports.

interface Phone {
  readonly rt: MiniRuntime;
  readonly wechat: WeChatShim;
}

/** This run's build, pointed at `apiUrl` the way scripts/build.mjs points it (config.js), in a folder of its own. */
function buildFor(apiUrl: string, scratch: string): string {
  const dir = join(scratch, "dist");
  cpSync(inject("buildDir"), dir, { recursive: true });
  writeConfigModule(dir, { apiBaseUrl: apiUrl });
  expect(checkBuildOutput(dir, { apiBaseUrl: apiUrl })).toEqual([]);
  return dir;
}

async function sandboxOrders(tiers: ThreeTiers, outTradeNo: string): Promise<SandboxOrderView[]> {
  return (await createSandboxControlClient({ baseUrl: tiers.sandbox.url }).listOrders({ out_trade_no: outTradeNo })).orders;
}

async function notifyOutcomes(tiers: ThreeTiers, outTradeNo: string): Promise<string[]> {
  const { deliveries } = await createSandboxControlClient({ baseUrl: tiers.sandbox.url }).listDeliveries({ out_trade_no: outTradeNo, kind: "pay" });
  return deliveries.map((d) => d.outcome);
}

/** Waits (real time) until `check` holds. */
async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** From the products page to the checkout page with `productId` in the cart. */
async function toCheckout(rt: MiniRuntime, productId: string): Promise<void> {
  rt.launch();
  await rt.idle();
  await rt.tap(`add-${productId}`);
  await rt.tap("checkout");
  await rt.idle();
  expect(rt.current().route).toBe("pages/checkout/index");
}

function orderIdOnResultPage(rt: MiniRuntime): string {
  expect(rt.current().route).toBe("pages/result/index");
  return rt.current().options.id ?? "";
}

const RUNS: readonly (readonly [Protocol, "delivered" | "lost"])[] = [
  ["v2", "delivered"],
  ["v2", "lost"],
  ["v3", "delivered"],
  ["v3", "lost"],
  ["v3-partner", "delivered"],
];

describe.each(RUNS)("mini-program -> API (%s) -> sandbox, notifies %s", (protocol, notifies) => {
  let tiers: ThreeTiers;
  let scratch: string;
  let dir: string;
  const phones: Phone[] = [];
  let users = 0;

  beforeAll(async () => {
    tiers = await startThreeTiers({ notifies, protocol });
    scratch = mkdtempSync(join(tmpdir(), "pay-miniprogram-e2e-build-"));
    dir = buildFor(tiers.apiUrl, scratch);
  });
  afterEach(() => {
    for (const phone of phones.splice(0)) {
      const errors = phone.rt.errors;
      phone.rt.close();
      expect(errors).toEqual([]);
      expect(phone.wechat.refusals).toEqual([]);
    }
  });
  afterAll(async () => {
    await tiers.stop();
    rmSync(scratch, { recursive: true, force: true });
    expect(tiers.logs.filter((line) => line.includes('"level":50') || line.includes('"level":60'))).toEqual([]);
  });

  /** A phone with a user of its own: the mini runtime running the build, and the WeChat shim. */
  function newPhone(): Phone {
    users += 1;
    const { appId, key } = merchantOf(protocol);
    const wechat = createWeChatShim({ sandboxUrl: tiers.sandbox.url, appId, key, user: `${protocol}-${notifies}-user-${users}` });
    const phone = { rt: createMiniRuntime({ dir, platform: wechat }), wechat };
    phones.push(phone);
    return phone;
  }

  it("pay: the result page shows paid once the API confirms it", async () => {
    const { rt, wechat } = newPhone();
    await toCheckout(rt, "coffee-beans");
    expect(rt.text("total")).toBe("¥68.00");
    await rt.tap("pay");
    const orderId = orderIdOnResultPage(rt);
    await rt.idle();
    expect(rt.text("title")).toBe("Payment received");
    expect(rt.text("total")).toBe("¥68.00");
    expect(rt.text()).toMatch(/WeChat Pay transaction 4200\d{24}/);

    expect(wechat.payments).toHaveLength(1);
    expect(Object.keys(wechat.payments[0] ?? {}).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);
    // The same page code, the five fields passed through: HMAC-SHA256 for a v2 order, RSA for a v3 one.
    expect(wechat.payments[0]?.signType).toBe(protocol === "v2" ? "HMAC-SHA256" : "RSA");
    const [gateway] = await sandboxOrders(tiers, orderId);
    expect(gateway).toMatchObject({ trade_state: "SUCCESS", total_fee: 6800 });
    // A partner's order names the buyer by the sub-merchant's Mini Program only (payer.sub_openid).
    if (protocol === "v3-partner") expect(gateway).toMatchObject({ openid: null, sub_openid: expect.any(String) as unknown, sub_mch_id: "1900300011" });
    expect(rt.storage.get("pay.session")).toMatchObject({ token: expect.any(String) as unknown });
    if (notifies === "lost") {
      // Paid without any notify reaching the API: the result page's polling let the API query the gateway.
      expect(tiers.lostNotifies.count).toBeGreaterThan(0);
      expect(await notifyOutcomes(tiers, orderId)).not.toContain("acknowledged");
    } else {
      await eventually(async () => (await notifyOutcomes(tiers, orderId)).includes("acknowledged"));
    }
  });

  it("cancel: back on checkout with the order pending; re-paid from My orders it ends paid", async () => {
    const { rt, wechat } = newPhone();
    wechat.payer("cancel");
    await toCheckout(rt, "mug");
    await rt.tap("pay");
    expect(rt.current().route).toBe("pages/checkout/index");
    const notice = rt.text("notice") ?? "";
    const orderId = /Order (\S+) is still waiting for payment/.exec(notice)?.[1] ?? "";
    expect(orderId).not.toBe("");
    expect((await sandboxOrders(tiers, orderId))[0]?.trade_state).toBe("NOTPAY");

    await rt.tap("open-orders");
    await rt.idle();
    expect(rt.current().route).toBe("pages/orders/index");
    expect(rt.text(`status-${orderId}`)).toBe("Awaiting payment");
    await rt.tap(`pay-${orderId}`);
    expect(orderIdOnResultPage(rt)).toBe(orderId);
    await rt.idle();
    expect(rt.text("title")).toBe("Payment received");

    // The re-payment re-entered unifiedorder for the same order: same prepay_id, no second order.
    expect(wechat.payments.map((p) => p.package)).toEqual([wechat.payments[0]?.package, wechat.payments[0]?.package]);
    await rt.tap("orders");
    await rt.idle();
    expect(rt.text(`status-${orderId}`)).toBe("Paid");
    expect(rt.text()?.match(/ · P\d+/g)).toHaveLength(1);
  });

  it("a payment WeChat refuses shows its reason; a double tap on retry still makes one order", async () => {
    const { rt, wechat } = newPhone();
    wechat.payer("fail");
    await toCheckout(rt, "tote");
    await rt.tap("pay");
    expect(rt.text("notice")).toBe("WeChat Pay could not complete the payment: 余额不足，请更换支付方式");
    await rt.tap("pay", { times: 2 });
    const orderId = orderIdOnResultPage(rt);
    await rt.idle();
    expect(rt.text("title")).toBe("Payment received");
    expect(wechat.payments).toHaveLength(2);
    expect(wechat.traffic.filter((line) => line.startsWith("POST /api/orders ->"))).toEqual(["POST /api/orders -> 201"]);
    expect(await sandboxOrders(tiers, orderId)).toHaveLength(1);
  });
});

describe("a rate limit reaches the payer: the API's 429 and its wait (RATE_LIMIT_ORDERS=2/60)", () => {
  let tiers: ThreeTiers;
  let scratch: string;
  let phone: Phone | undefined;

  beforeAll(async () => {
    tiers = await startThreeTiers({ notifies: "delivered", protocol: "v2", env: { RATE_LIMIT_ORDERS: "2/60" } });
    scratch = mkdtempSync(join(tmpdir(), "pay-miniprogram-e2e-limit-"));
  });
  afterAll(async () => {
    phone?.rt.close();
    await tiers.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("a third order within the minute shows 'Too many attempts' with the seconds left, Pay waits, and nothing is ordered", async () => {
    const dir = buildFor(tiers.apiUrl, scratch);
    const { appId, key } = merchantOf("v2");
    const wechat = createWeChatShim({ sandboxUrl: tiers.sandbox.url, appId, key, user: "rate-limited-payer" });
    const rt = createMiniRuntime({ dir, platform: wechat });
    phone = { rt, wechat };
    const placed: string[] = [];
    for (const productId of ["mug", "tote"]) {
      // Each payment sheet is cancelled: the orders stay pending, the limit counts them all the same.
      wechat.payer("cancel");
      await toCheckout(rt, productId);
      await rt.tap("pay");
      const id = /Order (\S+) is still waiting for payment/.exec(rt.text("notice") ?? "")?.[1];
      expect(id).toBeDefined();
      placed.push(id ?? "");
    }
    expect(new Set(placed).size).toBe(2);
    await toCheckout(rt, "coffee-beans");
    await rt.tap("pay");
    expect(rt.current().route).toBe("pages/checkout/index");
    const notice = rt.text("notice") ?? "";
    const seconds = Number(/^Too many attempts\. Try again in (\d+) s\.$/.exec(notice)?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(rt.current().data.wait).toMatch(/^\d+ s$/);
    expect(rt.text("pay")).toMatch(/in \d+ s$/);
    // Pay is disabled while the wait runs (the runtime refuses the tap), so nothing more is sent: one refused create.
    await expect(rt.tap("pay")).rejects.toThrow("#pay on pages/checkout/index is disabled");
    const creates = wechat.traffic.filter((line) => line.startsWith("POST /api/orders ->"));
    expect(creates).toEqual(["POST /api/orders -> 201", "POST /api/orders -> 201", "POST /api/orders -> 429"]);
    expect(rt.errors).toEqual([]);
    expect(wechat.refusals).toEqual([]);
  });
});

describe("the WeChat shim with a v3 order (signType RSA)", () => {
  let tiers: ThreeTiers;

  beforeAll(async () => {
    tiers = await startThreeTiers({ notifies: "delivered", protocol: "v3" });
  });
  afterAll(async () => {
    await tiers.stop();
  });

  /** wx.requestPayment through the shim, resolved with the callback WeChat would call and its errMsg. */
  function requestPayment(wechat: WeChatShim, fields: Record<string, string>): Promise<{ callback: "success" | "fail"; errMsg: string }> {
    return new Promise((resolve) => {
      wechat.requestPayment({
        ...(fields as unknown as Pick<Parameters<WeChatShim["requestPayment"]>[0], "timeStamp" | "nonceStr" | "package" | "signType" | "paySign">),
        success: (result) => resolve({ callback: "success", errMsg: result.errMsg }),
        fail: (result) => resolve({ callback: "fail", errMsg: result.errMsg }),
        complete: () => undefined,
      });
    });
  }

  it("hands the sandbox the five fields as `payment`: a forged paySign is refused, the merchant's pays", async () => {
    const { appId, key } = merchantOf("v3");
    const wechat = createWeChatShim({ sandboxUrl: tiers.sandbox.url, appId, key, user: "v3-shim-user" });
    const control = createSandboxControlClient({ baseUrl: tiers.sandbox.url });
    const { code } = await control.createLoginCode({ appid: appId, user: "v3-shim-user" });
    const session = (await (
      await fetch(`${tiers.apiUrl}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code }) })
    ).json()) as {
      token: string;
    };
    const placed = await fetch(`${tiers.apiUrl}/api/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ items: [{ productId: "mug", quantity: 1 }] }),
    });
    expect(placed.status).toBe(201);
    const { order, payment } = (await placed.json()) as { order: { id: string }; payment: Record<string, string> };
    expect(payment.signType).toBe("RSA");

    const forged = await requestPayment(wechat, { ...payment, paySign: `${(payment.paySign ?? "").slice(0, -4)}AAA=` });
    expect(forged).toEqual({ callback: "fail", errMsg: "requestPayment:fail 支付验证签名失败" });
    expect(wechat.refusals).toEqual(["支付验证签名失败"]);
    expect((await sandboxOrders(tiers, order.id))[0]?.trade_state).toBe("NOTPAY");

    expect(await requestPayment(wechat, payment)).toEqual({ callback: "success", errMsg: "requestPayment:ok" });
    expect((await sandboxOrders(tiers, order.id))[0]?.trade_state).toBe("SUCCESS");
    expect(wechat.refusals).toHaveLength(1);
  });
});
