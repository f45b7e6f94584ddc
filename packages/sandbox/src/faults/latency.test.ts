import { describe, expect, it } from "vitest";
import { SandboxControlError } from "../control/client.js";
import { callGateway, controlOf, DIRECT, orderFields, placeOrder, startReceiver, waitFor, withSandbox } from "../../test/support/harness.js";

const LATENCY_MS = 300;
/** Timers may fire a little early by the wall clock; an undelayed local answer takes a few milliseconds. */
const EARLY_MS = 10;
const FAST_MS = 200;

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

describe("gateway-wide latency (a slow WeChat Pay for a whole run)", () => {
  it("delays every v2 gateway answer by latencyMs: order, query and close", async () => {
    await withSandbox({ latencyMs: LATENCY_MS }, async (sandbox) => {
      const fields = orderFields();
      const order = await timed(() => callGateway(sandbox, "/pay/unifiedorder", fields, { key: DIRECT.key }));
      expect(order.value.fields?.result_code).toBe("SUCCESS");
      expect(order.ms).toBeGreaterThanOrEqual(LATENCY_MS - EARLY_MS);
      const ids = { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: fields.out_trade_no };
      const query = await timed(() => callGateway(sandbox, "/pay/orderquery", ids, { key: DIRECT.key }));
      expect(query.value.fields?.trade_state).toBe("NOTPAY");
      expect(query.ms).toBeGreaterThanOrEqual(LATENCY_MS - EARLY_MS);
      const close = await timed(() => callGateway(sandbox, "/pay/closeorder", ids, { key: DIRECT.key }));
      expect(close.value.fields?.result_code).toBe("SUCCESS");
      expect(close.ms).toBeGreaterThanOrEqual(LATENCY_MS - EARLY_MS);
    });
  });

  it("delays v3 answers too, refusals included", async () => {
    await withSandbox({ latencyMs: LATENCY_MS }, async (sandbox) => {
      const answer = await timed(() => fetch(`${sandbox.url}/v3/pay/transactions/out-trade-no/NOPE?mchid=${DIRECT.mchId}`));
      expect(answer.value.status).toBeGreaterThanOrEqual(400);
      expect(answer.ms).toBeGreaterThanOrEqual(LATENCY_MS - EARLY_MS);
    });
  });

  it("never delays the control API, the WeChat login or the notifier", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({ latencyMs: 1_000 }, async (sandbox) => {
        const control = controlOf(sandbox);
        const login = await timed(() => control.createLoginCode({ appid: DIRECT.appId, user: "latency" }));
        expect(login.ms).toBeLessThan(FAST_MS);
        const session = await timed(() =>
          fetch(
            `${sandbox.url}/sns/jscode2session?appid=${DIRECT.appId}&secret=${Object.values(DIRECT.appSecrets)[0] ?? ""}&js_code=${login.value.code}&grant_type=authorization_code`,
          ),
        );
        expect(session.value.status).toBe(200);
        expect(session.ms).toBeLessThan(FAST_MS);
        const prepayId = await placeOrder(sandbox, orderFields({ notify_url: receiver.url }));
        const paid = await timed(async () => {
          await control.pay({ prepay_id: prepayId, outcome: "success" });
          // The notify reaches the receiver without the gateway's latency.
          return waitFor(() => receiver.bodies.length > 0, FAST_MS);
        });
        expect(paid.ms).toBeLessThan(FAST_MS);
        expect((await timed(() => control.getLatency())).ms).toBeLessThan(FAST_MS);
      });
    } finally {
      await receiver.close();
    }
  });

  it("is read and changed over the control API while running; 0 turns it off", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = controlOf(sandbox);
      expect(await control.getLatency()).toEqual({ latency_ms: 0 });
      const ids = { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: "NO_SUCH_ORDER" };
      expect((await timed(() => callGateway(sandbox, "/pay/orderquery", ids, { key: DIRECT.key }))).ms).toBeLessThan(FAST_MS);
      expect(await control.setLatency({ latency_ms: LATENCY_MS })).toEqual({ latency_ms: LATENCY_MS });
      expect(await control.getLatency()).toEqual({ latency_ms: LATENCY_MS });
      const slow = await timed(() => callGateway(sandbox, "/pay/orderquery", ids, { key: DIRECT.key }));
      expect(slow.value.fields?.err_code).toBe("ORDERNOTEXIST");
      expect(slow.ms).toBeGreaterThanOrEqual(LATENCY_MS - EARLY_MS);
      await control.setLatency({ latency_ms: 0 });
      expect((await timed(() => callGateway(sandbox, "/pay/orderquery", ids, { key: DIRECT.key }))).ms).toBeLessThan(FAST_MS);
    });
  });

  it.each([{ latency_ms: -1 }, { latency_ms: 120_001 }, { latency_ms: 1.5 }, { latency_ms: "300" }, {}, { latency_ms: 10, extra: true }])(
    "refuses %j with BAD_REQUEST",
    async (body) => {
      await withSandbox({ latencyMs: 50 }, async (sandbox) => {
        const answer = await fetch(`${sandbox.url}/sandbox/latency`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        expect(answer.status).toBe(400);
        expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
        expect(await controlOf(sandbox).getLatency()).toEqual({ latency_ms: 50 });
      });
    },
  );

  it("the typed client throws the sandbox's BAD_REQUEST for a bad value", async () => {
    await withSandbox({}, async (sandbox) => {
      await expect(controlOf(sandbox).setLatency({ latency_ms: -5 })).rejects.toSatisfy((error) => error instanceof SandboxControlError && error.code === "BAD_REQUEST");
    });
  });

  it.each([-1, 120_001, 0.5])("refuses the option latencyMs %s up front", async (latencyMs) => {
    await expect(withSandbox({ latencyMs }, () => Promise.resolve())).rejects.toThrow(/latencyMs/);
  });
});
