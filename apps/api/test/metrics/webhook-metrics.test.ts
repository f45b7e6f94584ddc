// The webhook metrics: attempts by outcome, the lag from an event's creation to its delivery (the test's clock),
// and the backlog gauges read from the database when scraped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceContext } from "../../src/services/context.js";
import { createWebhookDispatcher } from "../../src/services/webhooks/dispatcher.js";
import { createWebhookSender, type WebhookSender } from "../../src/services/webhooks/sender.js";
import { DATABASES } from "../support/databases.js";
import { ANSWER_OK, startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { addEndpoint, addEvents, createDeliveryWorld, SECRET, START, type DeliveryWorld } from "../webhooks/delivery-fixtures.js";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

describe.each(DATABASES)("webhook metrics (%s)", (dialect) => {
  let world: DeliveryWorld;
  let ctx: ServiceContext;
  let receiver: WebhookReceiver;
  let sender: WebhookSender;

  beforeAll(async () => {
    world = await createDeliveryWorld(dialect);
    ctx = world.context();
    receiver = await startWebhookReceiver({ secrets: [SECRET] });
    sender = createWebhookSender({ timeoutMs: 400 });
  });
  afterAll(async () => {
    await sender.close();
    await receiver.close();
    await world.close();
  });

  const samples = async () => parsePrometheusText(await ctx.metrics.text());

  it("counts deliveries and retries, observes the lag of each delivered event, and shows the pending backlog and its age", async () => {
    await addEndpoint(world.database, { id: `we_metrics_${dialect}`, url: receiver.url });
    // Two events made at START; the dispatcher runs 90 s later.
    await addEvents(world.database, `metrics-${dialect}-1`, ["order.paid"], new Date(START).toISOString());
    await addEvents(world.database, `metrics-${dialect}-2`, ["order.paid"], new Date(START).toISOString());
    world.now = START + 90_000;
    const dispatcher = createWebhookDispatcher(ctx, { sender, random: () => 0.5, ownerId: `metrics-${dialect}` });
    try {
      receiver.answerWith({ kind: "status", status: 500 });
      expect(await dispatcher.runOnce()).toMatchObject({ claimed: 2, retrying: 2 });
      let scraped = await samples();
      expect(sampleValue(scraped, "pay_webhook_deliveries_total", { outcome: "retrying" })).toBe(2);
      expect(sampleValue(scraped, "pay_webhook_pending_deliveries")).toBe(2);
      // The deliveries were made (fanned out) at START + 90 s; scraped an hour later they are an hour old.
      world.now = START + 90_000 + 3_600_000;
      scraped = await samples();
      expect(sampleValue(scraped, "pay_webhook_oldest_pending_age_seconds")).toBe(3600);

      receiver.answerWith(ANSWER_OK);
      expect(await dispatcher.runOnce()).toMatchObject({ claimed: 2, delivered: 2 });
      scraped = await samples();
      expect(sampleValue(scraped, "pay_webhook_deliveries_total", { outcome: "delivered" })).toBe(2);
      expect(sampleValue(scraped, "pay_webhook_delivery_lag_seconds_count")).toBe(2);
      expect(sampleValue(scraped, "pay_webhook_delivery_lag_seconds_sum")).toBe(2 * (90 + 3600));
      expect(sampleValue(scraped, "pay_webhook_delivery_lag_seconds_bucket", { le: "3600" })).toBe(0);
      expect(sampleValue(scraped, "pay_webhook_delivery_lag_seconds_bucket", { le: "21600" })).toBe(2);
      expect(sampleValue(scraped, "pay_webhook_pending_deliveries")).toBe(0);
      expect(sampleValue(scraped, "pay_webhook_oldest_pending_age_seconds")).toBe(0);
    } finally {
      await dispatcher.stop();
    }
  });
});
