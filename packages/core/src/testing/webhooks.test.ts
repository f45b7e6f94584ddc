import { describe, expect, expectTypeOf, it } from "vitest";
import { WEBHOOK_EVENT_TYPES, WebhookEventSchema, type WebhookEventOf } from "../contract/webhook.js";
import { webhookSignatureHeader } from "../webhooks/sign.js";
import { verifyWebhook } from "../webhooks/verify.js";
import { buildTestWebhookEvent, signWebhookForTest, testWebhookEventId } from "./webhooks.js";

const SECRET = "whsec_5Qm9xVb2Lr8Tn4Kd7Wz3Hj6Pc1Fy0Ga";
const PREVIOUS = "whsec_prev_8Jd2Nw5Rt9Lx3Qv7Bm1Kc4Zs6Hy";
const T = 1733212800;

describe("buildTestWebhookEvent", () => {
  it.each(WEBHOOK_EVENT_TYPES)("builds a schema-valid %s event", (type) => {
    const event = buildTestWebhookEvent(type);
    expect(WebhookEventSchema.parse(event)).toEqual(event);
    expect(event.type).toBe(type);
  });

  it.each([
    ["order.paid", "paid"],
    ["order.closed", "closed"],
    ["order.refunded", "refunded"],
  ] as const)("puts the order of %s in the state it reports (%s)", (type, status) => {
    const { order } = buildTestWebhookEvent(type).data;
    expect(order.status).toBe(status);
    expect(order.totalFee).toBe(order.items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0));
    if (type === "order.closed") expect(order).toMatchObject({ paidAt: null, transactionId: null, refundedFee: 0 });
    if (type === "order.refunded") expect(order.refundedFee).toBe(order.totalFee);
  });

  it("puts the refund of refund.succeeded and refund.failed in their states", () => {
    expect(buildTestWebhookEvent("refund.succeeded").data.refund).toMatchObject({ status: "succeeded", currency: "CNY", refundFee: 1000 });
    expect(buildTestWebhookEvent("refund.failed").data.refund).toMatchObject({ status: "closed", succeededAt: null });
  });

  it.each(WEBHOOK_EVENT_TYPES)("dates %s no earlier than the times its order or refund carries", (type) => {
    const event = buildTestWebhookEvent(type);
    const subject: { createdAt: string; paidAt?: string | null; succeededAt?: string | null } = "order" in event.data ? event.data.order : event.data.refund;
    for (const time of [subject.createdAt, subject.paidAt, subject.succeededAt])
      if (typeof time === "string") expect(Date.parse(event.createdAt)).toBeGreaterThanOrEqual(Date.parse(time));
  });

  it("gives each event a fresh id", () => {
    const ids = new Set(Array.from({ length: 50 }, () => buildTestWebhookEvent("order.paid").id));
    expect(ids.size).toBe(50);
    expect(testWebhookEventId()).toMatch(/^evt_[0-9A-Za-z]{24}$/);
  });

  it("applies overrides to the id, the time and the order or refund, typed by the event type", () => {
    const paid = buildTestWebhookEvent("order.paid", { id: "evt_000000000000000000000001", createdAt: "2025-01-01T00:00:00.000Z", order: { totalFee: 1, items: [] } });
    expect(paid).toMatchObject({ id: "evt_000000000000000000000001", createdAt: "2025-01-01T00:00:00.000Z", data: { order: { totalFee: 1, items: [], status: "paid" } } });
    expectTypeOf(paid).toEqualTypeOf<WebhookEventOf<"order.paid">>();
    const refund = buildTestWebhookEvent("refund.failed", { refund: { status: "abnormal" } });
    expect(refund.data.refund.status).toBe("abnormal");
    // @ts-expect-error a refund event has no order to override
    buildTestWebhookEvent("refund.succeeded", { order: { totalFee: 1 } });
  });

  it("does not validate overrides, so a test can build an invalid event", () => {
    const event = buildTestWebhookEvent("order.paid", { order: { totalFee: -1 } });
    expect(WebhookEventSchema.safeParse(event).success).toBe(false);
  });
});

describe("signWebhookForTest", () => {
  it("answers the exact body and the three headers the API sends", () => {
    const event = buildTestWebhookEvent("order.paid");
    const delivery = signWebhookForTest(event, SECRET, { timestamp: T });
    expect(delivery.body).toBe(JSON.stringify(event));
    expect(delivery.headers).toEqual({
      "Pay-Signature": webhookSignatureHeader(delivery.body, [SECRET], T),
      "Pay-Event-Id": event.id,
      "Pay-Event-Type": "order.paid",
    });
  });

  it("signs with every secret given, in order (a rotation), and each verifies", () => {
    const delivery = signWebhookForTest(buildTestWebhookEvent("refund.succeeded"), [SECRET, PREVIOUS], { timestamp: T });
    expect(delivery.headers["Pay-Signature"]).toMatch(/^t=1733212800,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(delivery.headers["Pay-Signature"]).toBe(webhookSignatureHeader(delivery.body, [SECRET, PREVIOUS], T));
    for (const secret of [SECRET, PREVIOUS]) expect(verifyWebhook(delivery.body, delivery.headers["Pay-Signature"], secret, { now: T * 1000 }).ok).toBe(true);
  });

  it("signs a string body as given, reading its id and type when it has them", () => {
    const body = '{"id":"evt_x","type":"order.shipped", "extra":true}';
    expect(signWebhookForTest(body, SECRET, { timestamp: T })).toEqual({
      body,
      headers: { "Pay-Signature": webhookSignatureHeader(body, [SECRET], T), "Pay-Event-Id": "evt_x", "Pay-Event-Type": "order.shipped" },
    });
    expect(signWebhookForTest("not json", SECRET, { timestamp: T }).headers).toMatchObject({ "Pay-Event-Id": "", "Pay-Event-Type": "" });
    expect(signWebhookForTest('{"id":7}', SECRET, { timestamp: T }).headers).toMatchObject({ "Pay-Event-Id": "", "Pay-Event-Type": "" });
    expect(signWebhookForTest("null", SECRET, { timestamp: T }).headers).toMatchObject({ "Pay-Event-Id": "", "Pay-Event-Type": "" });
  });

  it("throws a RangeError for no secret or a timestamp that is not whole unix seconds", () => {
    expect(() => signWebhookForTest("{}", [], { timestamp: T })).toThrow(RangeError);
    expect(() => signWebhookForTest("{}", SECRET, { timestamp: Date.UTC(2024, 11, 3) + 0.5 })).toThrow(RangeError);
  });
});
