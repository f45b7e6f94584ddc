import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatMoney } from "@pay/core";
import { SANDBOX_CONTROL_PATHS } from "@pay/sandbox/control";
import { describe, expect, it } from "vitest";
import { formatRate, runDemo } from "./demo.js";
import { DEV_MODES, MODE_PROFILES } from "./modes.js";

/** Collects what the demo prints, as a CI log would (no TTY). */
function capture(): { write(text: string): void; readonly isTTY: false; text(): string } {
  const chunks: string[] = [];
  return { write: (text) => void chunks.push(text), isTTY: false, text: () => chunks.join("") };
}

describe("pnpm demo (the smoke test CI runs)", () => {
  it.each(DEV_MODES)("walks one purchase through the real HTTP API in %s mode", async (mode) => {
    const output = capture();
    const result = await runDemo({ mode, output });
    const text = output.text();
    expect(result, text).toMatchObject({ mode, ok: true, exitCode: 0, failure: undefined });
    const { paid, refunded } = result;
    if (paid === undefined || refunded === undefined) throw new Error(text);
    expect(refunded.amount).toBeGreaterThan(0);
    expect(refunded.amount).toBeLessThan(paid.amount);
    const profile = MODE_PROFILES[mode];
    expect(paid.currency).toBe(profile.feeType);
    for (const step of [SANDBOX_CONTROL_PATHS.loginCodes, "POST /api/session", "GET /api/products", "POST /api/orders", `POST ${SANDBOX_CONTROL_PATHS.pay}`, "/refunds"])
      expect(text).toContain(step);
    expect(text).toContain("requestPayment:ok");
    // v2 modes are notified at /wxpay/..., v3 modes at /wxpay/v3/..., and their paySign is RSA.
    const notifies = profile.v3 === undefined ? "\\/wxpay" : "\\/wxpay\\/v3";
    expect(text).toMatch(new RegExp(`pay notify: attempt \\d+ to ${notifies}\\/notify acknowledged`));
    expect(text).toMatch(new RegExp(`refund notify: attempt \\d+ to ${notifies}\\/refund-notify acknowledged`));
    expect(text).toContain(`signType: "${profile.v3 === undefined ? "HMAC-SHA256" : "RSA"}"`);
    // The order's events reach the stack's fulfilment receiver as signed webhooks, verified there.
    expect(text).toContain(`fulfilment: order.paid ${result.orderId ?? "?"} (paid) verified (evt_`);
    expect(text).toMatch(new RegExp(`fulfilment: refund\\.succeeded \\S+ for order ${result.orderId ?? "?"} \\(succeeded\\) verified \\(evt_`));
    expect(text).toContain(`order.paid and refund.succeeded for ${result.orderId ?? "?"} arrived, verified`);
    if (profile.v3 !== undefined) expect(text).toContain(`APIv3, ${profile.v3.keyMode} mode`);
    expect(text).toContain(`paid, total ${formatMoney(paid)}, refunded ${formatMoney(refunded)}`);
    expect(text).toContain(`✓ Demo passed (${mode}): paid ${formatMoney(paid)}, refunded ${formatMoney(refunded)}`);
    if (profile.feeType !== "CNY") expect(text).toMatch(/the payer paid cash_fee ¥[\d,]+\.\d\d \(CNY\) at rate \d+\.\d{8}/);
    if (profile.subMchId !== undefined) expect(text).toMatch(/sub_mch_id \d+, sub_appid \w+, sub_openid \S+ \(no openid\)/);
  });

  it("reports the failed step and exit code 1 when the stack cannot start", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "pay-demo-test-"));
    try {
      await writeFile(join(dataDir, "dev.domestic.env"), "WXPAY_APPID=wx1\nWXPAY_MCHID=1\nWXPAY_KEY=short\n");
      const output = capture();
      const result = await runDemo({ mode: "domestic", output, dataDir });
      expect(result).toMatchObject({ ok: false, exitCode: 1 });
      expect(result.failure).toContain("WXPAY_KEY");
      expect(output.text()).toContain("✗ Demo failed (domestic)");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("formatRate", () => {
  it.each([
    [91_000_000, "0.91000000"],
    [650_000_000, "6.50000000"],
    [1, "0.00000001"],
    [100_000_000, "1.00000000"],
  ])("shows %i as %s", (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });
});
