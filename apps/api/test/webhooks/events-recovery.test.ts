// Events when WeChat Pay's notifies are lost (v2: they go to a dead port; v3: a dead end keeps them), so the
// sweep's queries find payments and refunds out: exactly one order.paid / refund.succeeded / order.refunded,
// and none extra when the late notify then arrives. On v3, the genuine notify bytes are replayed 200 times at
// once, and a refund notify races the sweep.
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import type { Order, RefundResponse } from "@pay/core/contract";
import { buildRefundNotify, buildSignedPayNotify } from "@pay/core/testing";
import { decryptV3ResourceText } from "@pay/core/v3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepOnce } from "../../src/services/sweeper.js";
import { ADMIN_TOKEN, eventually, MERCHANT, startApiHarness, type ApiHarness, type LostNotify } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { eventTypes, recordingHandler, storedEvents } from "../support/events.js";
import { createPendingOrder, payNotifyFields, refundPayload } from "../reliability/fixtures.js";

const admin = (key: string) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key });

describe.each(DATABASES)("events recovered by the sweep after lost v2 notifies on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  let db: ApiHarness["database"]["db"] | undefined;
  const recorder = recordingHandler(() => db);

  beforeAll(async () => {
    h = await startApiHarness(kind, { notifies: "lost", clock: () => Date.now() + offset, eventHandlers: [recorder.handler] });
    db = h.database.db;
  });
  afterAll(async () => {
    await h.close();
  });

  it("a payment whose notify was lost: the sweep's query writes one order.paid; the late notify and later sweeps write none", async () => {
    const { order, payment, token } = await createPendingOrder(h, `lost-${kind}`);
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    expect(await eventTypes(h.database.db, order.id)).toEqual([]);
    offset += 6000;
    expect((await sweepOnce(h.services)).errors).toBe(0);
    const shown = (await h.request("GET", `/api/orders/${order.id}`, { token })).body.order as Order;
    expect(shown.status).toBe("paid");
    const events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid"]);
    expect(events[0]?.event.data).toEqual({ order: shown });
    expect(await h.database.db.selectFrom("payment_events").select("source").where("order_id", "=", order.id).execute()).toEqual([{ source: "query" }]);

    // WeChat Pay's retry finally gets through, with the payment's own transaction id.
    const transactionId = (await h.control.listOrders({ out_trade_no: order.id })).orders[0]?.transaction_id;
    expect(transactionId).toBe(shown.transactionId);
    const late = buildSignedPayNotify(payNotifyFields(order, { transaction_id: transactionId ?? "" }), { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true });
    const reply = await fetch(`${h.url}/wxpay/notify`, { method: "POST", body: late, headers: { "content-type": "text/xml" } });
    expect(await reply.text()).toBe(NOTIFY_SUCCESS_REPLY);
    offset += 6000;
    await sweepOnce(h.services);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    await eventually(() => Promise.resolve(recorder.handledFor(order.id).length === 1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.handledFor(order.id).map((e) => e.event.id)).toEqual([events[0]?.id]);
  });

  it("a refund whose notify was lost: the sweep's refund query writes refund.succeeded and order.refunded once; the late notify none", async () => {
    const { order, payment } = await createPendingOrder(h);
    await h.pay(payment);
    offset += 6000;
    await sweepOnce(h.services);
    const key = `lost-refund-${kind}`;
    const created = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: order.totalFee }, headers: admin(key) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const refundId = (created.body as unknown as RefundResponse).refund.id;
    // The sandbox settles it (refundSettleMs) and its notify is lost.
    await eventually(async () => (await h.control.listOrders({ out_trade_no: order.id })).orders[0]?.refunds.some((r) => r.refund_status === "SUCCESS"));
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    offset += 6000;
    const report = await sweepOnce(h.services);
    expect(report.refundsChecked).toBeGreaterThanOrEqual(1);
    const answer = (await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: order.totalFee }, headers: admin(key) }))
      .body as unknown as RefundResponse;
    expect(answer.refund.status).toBe("succeeded");
    const events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid", "refund.succeeded", "order.refunded"]);
    expect(events[1]?.event.data).toEqual({ refund: answer.refund });
    expect(events[2]?.event.data).toEqual({ order: answer.order });

    const late = buildRefundNotify(
      { appid: MERCHANT.appId, mch_id: MERCHANT.mchId },
      refundPayload({ orderId: order.id, refundId, totalFee: order.totalFee, refundFee: order.totalFee }),
      MERCHANT.key,
    );
    const reply = await fetch(`${h.url}/wxpay/refund-notify`, { method: "POST", body: late, headers: { "content-type": "text/xml" } });
    expect(await reply.text()).toBe(NOTIFY_SUCCESS_REPLY);
    offset += 6000;
    await sweepOnce(h.services);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid", "refund.succeeded", "order.refunded"]);
    await eventually(() => Promise.resolve(recorder.handledFor(order.id).length === 3));
  });
});

describe.each(DATABASES)("events of v3 notifies (replayed genuine bytes) and the sweep on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  let db: ApiHarness["database"]["db"] | undefined;
  const recorder = recordingHandler(() => db);

  beforeAll(async () => {
    // The notifies go to a dead end that keeps them: the test delivers them when it wants, as often as it wants.
    h = await startApiHarness(kind, { protocol: "v3", notifies: "lost", clock: () => Date.now() + offset, eventHandlers: [recorder.handler] });
    db = h.database.db;
  });
  afterAll(async () => {
    await h.close();
  });

  /** The kept notify (at `path`) whose decrypted resource has `field` = `value`. */
  function kept(path: string, field: string, value: string): Promise<LostNotify> {
    const apiV3Key = h.config.v3?.apiV3Key ?? "";
    return eventually(() =>
      Promise.resolve(
        h.lostNotifies.find((n) => {
          if (n.path !== path) return false;
          const { resource } = JSON.parse(n.body.toString("utf8")) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
          const plain = decryptV3ResourceText({ ciphertext: resource.ciphertext, nonce: resource.nonce, associatedData: resource.associated_data }, apiV3Key);
          return plain.ok && (JSON.parse(plain.value) as Record<string, unknown>)[field] === value;
        }),
      ),
    );
  }

  async function deliver(notify: LostNotify): Promise<number> {
    const headers = Object.fromEntries(Object.entries(notify.headers).filter(([name]) => name.startsWith("wechatpay-") || name === "content-type"));
    const response = await fetch(`${h.url}${notify.path}`, { method: "POST", headers, body: notify.body });
    await response.arrayBuffer();
    return response.status;
  }

  async function paidAtGateway(): Promise<{ order: Order; token: string }> {
    const token = await h.signIn(`v3-${Math.random()}`);
    const placed = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const { order, payment } = placed.body as unknown as { order: Order; payment: { package: string } };
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    return { order, token };
  }

  it("200 concurrent copies of the genuine v3 notify: one order.paid, its order as GET shows it; the sweep after it writes none", async () => {
    const { order, token } = await paidAtGateway();
    const notify = await kept("/wxpay/v3/notify", "out_trade_no", order.id);
    const statuses = await Promise.all(Array.from({ length: 200 }, () => deliver(notify)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(200);
    const shown = (await h.request("GET", `/api/orders/${order.id}`, { token })).body.order as Order;
    const events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid"]);
    expect(events[0]?.event.data).toEqual({ order: shown });
    offset += 6000;
    await sweepOnce(h.services);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    await eventually(() => Promise.resolve(recorder.handledFor(order.id).length === 1));
  });

  it("a lost v3 notify: the sweep writes one order.paid; the genuine notify arriving late writes none", async () => {
    const { order } = await paidAtGateway();
    const notify = await kept("/wxpay/v3/notify", "out_trade_no", order.id);
    offset += 6000;
    await sweepOnce(h.services);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    expect(await deliver(notify)).toBe(200);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
  });

  it("a v3 refund notify racing the sweep's refund query: one refund.succeeded, one order.refunded, after order.paid", async () => {
    const { order } = await paidAtGateway();
    await deliver(await kept("/wxpay/v3/notify", "out_trade_no", order.id));
    const created = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: order.totalFee }, headers: admin(`v3-race-${kind}`) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const refundId = (created.body as unknown as RefundResponse).refund.id;
    const refundNotify = await kept("/wxpay/v3/refund-notify", "out_refund_no", refundId);
    offset += 6000;
    const [sweep, ...statuses] = await Promise.all([sweepOnce(h.services), ...Array.from({ length: 5 }, () => deliver(refundNotify))]);
    expect(sweep.errors).toBe(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid", "refund.succeeded", "order.refunded"]);
    const answer = (await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: order.totalFee }, headers: admin(`v3-race-${kind}`) }))
      .body as unknown as RefundResponse;
    expect(events.slice(1).map((e) => e.event.data)).toEqual([{ refund: answer.refund }, { order: answer.order }]);
    await eventually(() => Promise.resolve(recorder.handledFor(order.id).length === 3));
  });
});
