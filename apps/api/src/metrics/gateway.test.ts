import { describe, expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "../../test/metrics/prometheus-text.js";
import { openTestDatabase } from "../../test/support/databases.js";
import { createFakeGateway } from "../gateway/fake.js";
import { instrumentGateway } from "./gateway.js";
import { codeLabel, createMetrics } from "./registry.js";

const MERCHANT = { appId: "wxfakegateway0001", mchId: "1900000109", subAppId: undefined, subMchId: undefined };

describe("the gateway timing decorator", () => {
  it("times each call by PaymentGateway method and outcome (ok, timeout, a verified refusal's code, the failure's kind) and passes answers through unchanged", async () => {
    const database = await openTestDatabase("sqlite");
    try {
      const metrics = createMetrics({ db: database.db, clock: () => 0, processMetrics: false });
      const fake = createFakeGateway({ merchant: MERCHANT, protocol: "v2" });
      // A timer that moves 250 ms per reading: each call takes 0.25 s.
      let ms = 0;
      const gateway = instrumentGateway(fake, "v2", metrics, () => (ms += 250));
      const input = {
        orderId: "order-1",
        description: "Tote",
        amount: 100,
        currency: "CNY" as const,
        payer: undefined,
        clientIp: "127.0.0.1",
        startsAt: 0,
        expiresAt: 3_600_000,
        notifyUrl: "https://shop.example.com/wxpay/notify",
      };
      const placed = await gateway.placeOrder(input);
      expect(placed.ok && typeof placed.value.prepayId).toBe("string");
      fake.failNext("queryOrder", { kind: "timeout", retryable: true });
      expect(await gateway.queryOrder("order-1")).toMatchObject({ ok: false, error: { kind: "timeout" } });
      fake.failNext("closeOrder", { kind: "business", code: "SYSTEMERROR", retryable: true });
      expect(await gateway.closeOrder("order-1")).toMatchObject({ ok: false, error: { code: "SYSTEMERROR" } });
      fake.failNext("queryRefund", { kind: "invalid", code: "<b>forged text</b>" });
      await gateway.queryRefund("refund-1");
      expect(gateway.notifyContentTypes).toEqual(fake.notifyContentTypes);
      expect(fake.calls.map((call) => call.method)).toEqual(["placeOrder", "queryOrder", "closeOrder", "queryRefund"]);

      const samples = parsePrometheusText(await metrics.text());
      const count = (call: string, outcome: string) => sampleValue(samples, "pay_gateway_call_duration_seconds_count", { protocol: "v2", call, outcome });
      expect(count("placeOrder", "ok")).toBe(1);
      expect(sampleValue(samples, "pay_gateway_call_duration_seconds_sum", { call: "placeOrder" })).toBe(0.25);
      expect(count("queryOrder", "timeout")).toBe(1);
      expect(count("closeOrder", "SYSTEMERROR")).toBe(1);
      // An unverified answer's code is not its label: the kind is.
      expect(count("queryRefund", "invalid")).toBe(1);
    } finally {
      await database.close();
    }
  });

  it("keeps label values bounded: a code that is not code-like becomes `other`", () => {
    expect(codeLabel("ORDER_NOT_FOUND")).toBe("ORDER_NOT_FOUND");
    expect(codeLabel(undefined)).toBe("none");
    expect(codeLabel("P20260101 order 123 <script>")).toBe("other");
    expect(codeLabel("x".repeat(80))).toBe("other");
  });

  it("gives every app its own registry: two apps' counters never mix", async () => {
    const database = await openTestDatabase("sqlite");
    try {
      const one = createMetrics({ db: database.db, clock: () => 0, processMetrics: false });
      const two = createMetrics({ db: database.db, clock: () => 0, processMetrics: false });
      one.refund("requested");
      expect(sampleValue(parsePrometheusText(await one.text()), "pay_refunds_total", { status: "requested" })).toBe(1);
      expect(sampleValue(parsePrometheusText(await two.text()), "pay_refunds_total", { status: "requested" })).toBe(0);
    } finally {
      await database.close();
    }
  });
});
