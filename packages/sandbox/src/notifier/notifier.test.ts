import { parsePayNotify } from "@pay/core";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import { controlOf, DIRECT, orderFields, pay, placeOrder, startReceiver, SUCCESS_REPLY, waitFor, withSandbox } from "../../test/support/harness.js";
import { NOTIFY_RETRY_SCHEDULE_MS } from "./notifier.js";

describe("pay notify delivery", () => {
  it("follows the official schedule: 15 retries over 24h4m after the first attempt", () => {
    expect(NOTIFY_RETRY_SCHEDULE_MS).toHaveLength(15);
    expect(NOTIFY_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0)).toBe((24 * 60 + 4) * 60 * 1000);
  });

  it("signs HMAC-SHA256 notifies without sign_type (like the real gateway) and MD5 ones verifiably", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({}, async (sandbox) => {
        await pay(sandbox, await placeOrder(sandbox, orderFields({ notify_url: receiver.url }), DIRECT.key, "HMAC-SHA256"));
        await pay(sandbox, await placeOrder(sandbox, orderFields({ notify_url: receiver.url })));
        await waitFor(() => receiver.bodies.length >= 2);
        const [hmac, md5] = receiver.bodies as [string, string];
        expect(hmac).not.toContain("sign_type");
        expect(parsePayNotify(hmac, { key: DIRECT.key, signType: "HMAC-SHA256", inferSignType: true })).toMatchObject({ ok: true, value: { signType: "HMAC-SHA256", paid: true } });
        expect(parsePayNotify(md5, { key: DIRECT.key, signType: "MD5" })).toMatchObject({ ok: true, value: { signType: "MD5", notify: { totalFee: 100, resultCode: "SUCCESS" } } });
      });
    } finally {
      await receiver.close();
    }
  });

  it("retries on FAIL, HTTP errors and non-SUCCESS replies at 15s, 15s, 30s… until acknowledged", async () => {
    const clock = createManualClock();
    const receiver = await startReceiver();
    const replies = [
      { status: 200, body: "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[busy]]></return_msg></xml>" },
      { status: 500, body: "oops" },
      { status: 200, body: "SUCCESS" },
      { status: 200, body: SUCCESS_REPLY },
    ];
    receiver.reply = (_body, index) => replies[index] ?? { status: 200, body: SUCCESS_REPLY };
    try {
      await withSandbox({ clock }, async (sandbox) => {
        const fields = orderFields({ notify_url: receiver.url });
        await pay(sandbox, await placeOrder(sandbox, fields));
        const log = () => sandbox.context.store.deliveries({ outTradeNo: String(fields.out_trade_no) });
        await waitFor(() => log().length === 1 && clock.pending() === 1);
        await clock.advance(14_999);
        expect(log()).toHaveLength(1);
        for (const [step, wait] of [
          [2, 1],
          [3, 15_000],
          [4, 30_000],
        ] as const) {
          await clock.advance(wait);
          await waitFor(() => log().length === step && (step === 4 || clock.pending() === 1));
        }
        expect(log().map((d) => d.outcome)).toEqual(["rejected", "http-error", "rejected", "acknowledged"]);
        expect(log().map((d) => d.attempt)).toEqual([1, 2, 3, 4]);
        await clock.advance(24 * 3600 * 1000);
        expect(log()).toHaveLength(4);
        // The control API shows the same log.
        const shown = await controlOf(sandbox).listDeliveries({ out_trade_no: String(fields.out_trade_no) });
        expect(shown.deliveries).toHaveLength(4);
      });
    } finally {
      await receiver.close();
    }
  });

  it("gives up after 16 attempts spread over 24h4m, scaled by retryScale", async () => {
    const clock = createManualClock();
    const receiver = await startReceiver();
    receiver.reply = () => ({ status: 503, body: "down" });
    try {
      await withSandbox({ clock, notify: { retryScale: 0.001 } }, async (sandbox) => {
        const fields = orderFields({ notify_url: receiver.url });
        const start = clock.now();
        await pay(sandbox, await placeOrder(sandbox, fields));
        const log = () => sandbox.context.store.deliveries({ outTradeNo: String(fields.out_trade_no) });
        for (let n = 1; n <= 15; n++) {
          // The next attempt is scheduled once this one's outcome is known.
          await waitFor(() => log().length === n && clock.pending() === 1);
          await clock.advance((NOTIFY_RETRY_SCHEDULE_MS[n - 1] ?? 0) * 0.001);
        }
        await waitFor(() => log().length === 16);
        await clock.advance(3600_000);
        expect(log()).toHaveLength(16);
        const last = log().at(-1);
        expect((last?.at ?? 0) - start).toBe(Math.round((24 * 60 + 4) * 60));
      });
    } finally {
      await receiver.close();
    }
  });

  it("counts a receiver slower than the timeout as a failure and retries", async () => {
    const clock = createManualClock();
    const receiver = await startReceiver();
    receiver.reply = (_body, index) => (index === 0 ? { status: 200, body: SUCCESS_REPLY, delayMs: 500 } : { status: 200, body: SUCCESS_REPLY });
    try {
      await withSandbox({ clock, notify: { timeoutMs: 100 } }, async (sandbox) => {
        const fields = orderFields({ notify_url: receiver.url });
        await pay(sandbox, await placeOrder(sandbox, fields));
        const log = () => sandbox.context.store.deliveries({ outTradeNo: String(fields.out_trade_no) });
        await waitFor(() => log().length === 1 && clock.pending() === 1);
        expect(log()[0]?.outcome).toBe("timeout");
        await clock.advance(15_000);
        await waitFor(() => log().length === 2);
        expect(log()[1]?.outcome).toBe("acknowledged");
      });
    } finally {
      await receiver.close();
    }
  });

  it("sends duplicates after the acknowledgement and concurrent copies when asked", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({ notify: { duplicates: 2, concurrent: 3 } }, async (sandbox) => {
        const fields = orderFields({ notify_url: receiver.url });
        await pay(sandbox, await placeOrder(sandbox, fields));
        await waitFor(() => receiver.bodies.length === 5);
        const log = sandbox.context.store.deliveries({ outTradeNo: String(fields.out_trade_no) });
        expect(log.filter((d) => d.copy)).toHaveLength(4);
        expect(new Set(receiver.bodies.map((b) => /<transaction_id>(\d+)</.exec(b)?.[1])).size).toBe(1);
      });
    } finally {
      await receiver.close();
    }
  });

  it("records an unreachable receiver as a network error", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields({ notify_url: "http://127.0.0.1:9/wxpay/notify" });
      await pay(sandbox, await placeOrder(sandbox, fields));
      const log = await waitFor(() => sandbox.context.store.deliveries({ outTradeNo: String(fields.out_trade_no) })[0]);
      expect(log.outcome).toBe("network-error");
    });
  });
});
