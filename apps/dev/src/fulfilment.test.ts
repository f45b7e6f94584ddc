// The demo's fulfilment receiver against deliveries signed as the API signs them (@pay/core/testing's signer):
// verified events are handled once each, anything else is refused with a 4xx and never handled.
import { buildTestWebhookEvent, signWebhookForTest } from "@pay/core/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FULFILMENT_PATH, startFulfilmentReceiver, type FulfilmentReceiver } from "./fulfilment.js";

const SECRET = "fulfilment-test-secret-0123456789";
const NOW = new Date("2024-12-03T08:00:00.000Z");
const T = Math.floor(NOW.getTime() / 1000);

describe("the fulfilment receiver", () => {
  let receiver: FulfilmentReceiver;
  let lines: string[];

  beforeEach(async () => {
    lines = [];
    receiver = await startFulfilmentReceiver({
      secret: SECRET,
      host: "127.0.0.1",
      port: { port: 0, role: "the fulfilment receiver", flag: "--fulfilment-port" },
      output: (line) => void lines.push(line),
      now: () => NOW,
    });
  });

  afterEach(async () => {
    await receiver.stop();
  });

  const post = async (body: string, headers: Record<string, string>, url = receiver.url): Promise<{ status: number; json: unknown }> => {
    const answer = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    return { status: answer.status, json: await answer.json() };
  };

  it("listens on the webhook path and handles a verified order.paid and refund.succeeded once each", async () => {
    expect(receiver.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${FULFILMENT_PATH}$`));
    const paid = buildTestWebhookEvent("order.paid");
    const refund = buildTestWebhookEvent("refund.succeeded");
    const signedPaid = signWebhookForTest(paid, SECRET, { timestamp: T });
    expect(await post(signedPaid.body, signedPaid.headers)).toEqual({ status: 200, json: { received: paid.id } });
    const signedRefund = signWebhookForTest(refund, SECRET, { timestamp: T });
    expect(await post(signedRefund.body, signedRefund.headers)).toEqual({ status: 200, json: { received: refund.id } });
    // At least once: the same delivery again is acknowledged and not handled twice.
    expect(await post(signedPaid.body, signedPaid.headers)).toEqual({ status: 200, json: { received: paid.id } });
    expect(receiver.events().map((e) => e.id)).toEqual([paid.id, refund.id]);
    expect(receiver.refusals()).toEqual([]);
    expect(lines).toEqual([
      `fulfilment: order.paid ${paid.data.order.id} (paid) verified (${paid.id})`,
      `fulfilment: refund.succeeded ${refund.data.refund.id} for order ${refund.data.refund.orderId} (succeeded) verified (${refund.id})`,
      `fulfilment: order.paid ${paid.id} again, already handled`,
    ]);
  });

  it("refuses a wrong secret, a changed body, a stale signature, no signature and an oversized body, handling none", async () => {
    const event = buildTestWebhookEvent("order.paid");
    const wrong = signWebhookForTest(event, "another-secret-0123456789abcdef", { timestamp: T });
    expect((await post(wrong.body, wrong.headers)).status).toBe(400);
    const signed = signWebhookForTest(event, SECRET, { timestamp: T });
    expect((await post(signed.body.replace('"paid"', '"PAID"'), signed.headers)).status).toBe(400);
    const stale = signWebhookForTest(event, SECRET, { timestamp: T - 301 });
    expect((await post(stale.body, stale.headers)).status).toBe(400);
    expect((await post(signed.body, {})).status).toBe(400);
    expect((await post("x".repeat(70 * 1024), signed.headers)).status).toBe(413);
    expect(receiver.events()).toEqual([]);
    expect(receiver.refusals()).toHaveLength(5);
    expect(receiver.refusals()[4]).toBe("too_large");
    expect(lines.every((line) => line.startsWith("fulfilment: refused"))).toBe(true);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("answers 404 off its path and for other methods", async () => {
    const signed = signWebhookForTest(buildTestWebhookEvent("order.paid"), SECRET, { timestamp: T });
    expect((await post(signed.body, signed.headers, receiver.url.replace(FULFILMENT_PATH, "/other"))).status).toBe(404);
    expect((await fetch(receiver.url)).status).toBe(404);
    expect(receiver.events()).toEqual([]);
  });
});
