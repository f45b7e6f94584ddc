// The payment path does not depend on webhook delivery: while every endpoint hangs, errors or is down,
// pay notifies are committed and answered SUCCESS as promptly as ever (deliveries happen after commit,
// in the background, bounded by their own timeout).
import { buildSignedPayNotify } from "@pay/core/testing";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookDispatcher, type WebhookDispatcher } from "../../src/services/webhooks/dispatcher.js";
import { createWebhookSender, type WebhookSender } from "../../src/services/webhooks/sender.js";
import { createPendingOrder, payNotifyFields } from "../reliability/fixtures.js";
import { MERCHANT, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { addEndpoint, SECRET } from "./delivery-fixtures.js";

const SENDER_TIMEOUT_MS = 3_000;
const NOTIFIES = 8;

describe.each(DATABASES)("the payment path while every webhook endpoint fails (%s)", (dialect) => {
  let h: ApiHarness;
  let hanging: WebhookReceiver;
  let failing: WebhookReceiver;
  let sender: WebhookSender;
  let dispatcher: WebhookDispatcher;

  beforeAll(async () => {
    h = await startApiHarness(dialect);
    hanging = await startWebhookReceiver({ secrets: [SECRET], answer: { kind: "hang" } });
    failing = await startWebhookReceiver({ secrets: [SECRET], answer: { kind: "status", status: 500 } });
    await addEndpoint(h.database, { id: "we_hanging", url: hanging.url });
    await addEndpoint(h.database, { id: "we_failing", url: failing.url });
    await addEndpoint(h.database, { id: "we_down", url: `http://127.0.0.1:${await freePort()}/webhooks` });
    sender = createWebhookSender({ timeoutMs: SENDER_TIMEOUT_MS });
    dispatcher = createWebhookDispatcher(h.services, { sender, pollIntervalMs: 50 });
    dispatcher.start();
  }, 60_000);

  afterAll(async () => {
    await dispatcher.stop();
    await sender.close();
    await hanging.close();
    await failing.close();
    await h.close();
  });

  it("notifies answer SUCCESS well under the delivery timeout, and every payment has its event", async () => {
    const latencies: number[] = [];
    const hangingAtStart: number[] = [];
    const orderIds: string[] = [];
    for (let n = 0; n < NOTIFIES; n++) {
      const { order } = await createPendingOrder(h, `webhook-payer-${n}`);
      orderIds.push(order.id);
      const body = buildSignedPayNotify(payNotifyFields(order, { transaction_id: `42000${dialect === "sqlite" ? 1 : 2}${String(n).padStart(3, "0")}`.padEnd(28, "5") }), {
        key: MERCHANT.key,
        signType: "HMAC-SHA256",
      });
      hangingAtStart.push(hanging.requests.length);
      const started = performance.now();
      const answer = await fetch(`${h.url}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
      const text = await answer.text();
      latencies.push(performance.now() - started);
      expect(answer.status).toBe(200);
      expect(text).toContain("<return_code><![CDATA[SUCCESS]]></return_code>");
      // From the second notify on, deliveries of the earlier payments are hanging at the receiver.
      if (n === 0) await hanging.waitFor(() => hanging.requests.length > 0, 5_000);
    }
    expect(hangingAtStart.slice(1).every((count) => count > 0)).toBe(true);
    expect(Math.max(...latencies)).toBeLessThan(1_000);
    const orders = await h.database.db.selectFrom("orders").select(["id", "status"]).where("id", "in", orderIds).execute();
    expect(orders.every((order) => order.status === "paid")).toBe(true);
    const events = await h.database.db.selectFrom("webhook_events").select(["order_id", "type"]).where("order_id", "in", orderIds).execute();
    expect(events.map((event) => event.type)).toEqual(Array.from({ length: NOTIFIES }, () => "order.paid"));
    // Nothing was delivered, nothing is lost: every delivery still pending, the failing endpoints tried.
    await failing.waitFor(() => failing.requests.length >= NOTIFIES, 10_000);
    const deliveries = await h.database.db.selectFrom("webhook_deliveries").select(["endpoint_id", "state"]).where("order_id", "in", orderIds).execute();
    expect(deliveries).toHaveLength(3 * NOTIFIES);
    expect(deliveries.every((delivery) => delivery.state === "pending")).toBe(true);
  }, 60_000);
});
