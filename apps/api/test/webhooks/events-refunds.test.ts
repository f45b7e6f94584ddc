// Refund events through the real paths (admin refund route, the sandbox's refund notifies, the sweep's refund
// query): refund.succeeded when a refund succeeds, refund.failed when it ends closed (the gateway's refusal or
// its close) or abnormal, order.refunded exactly once, by the refund that completes the total and after its
// refund.succeeded; never twice when the notify and the sweep settle one refund at once. Each payload is the
// contract's shape of what the API itself answers right after the change.
import { NOTIFY_SUCCESS_REPLY } from "@pay/core";
import type { Order, RefundResponse } from "@pay/core/contract";
import { buildRefundNotify } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepOnce } from "../../src/services/sweeper.js";
import { ADMIN_TOKEN, eventually, MERCHANT, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { eventTypes, recordingHandler, storedEvents } from "../support/events.js";
import { createPendingOrder, refundPayload } from "../reliability/fixtures.js";

describe.each(DATABASES)("refund events (v2) on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  let db: ApiHarness["database"]["db"] | undefined;
  const recorder = recordingHandler(() => db);

  beforeAll(async () => {
    // Refunds stay PROCESSING at the gateway until a test settles them.
    h = await startApiHarness(kind, { clock: () => Date.now() + offset, sandbox: { refundSettleMs: null }, eventHandlers: [recorder.handler] });
    db = h.database.db;
  });
  afterAll(async () => {
    await h.close();
  });

  let keys = 0;
  const admin = (key: string) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key });

  /** An order paid at the sandbox, its notify applied. */
  async function paidOrder(product = "tote"): Promise<{ order: Order; token: string }> {
    const { order, payment, token } = await createPendingOrder(h, undefined, product);
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    const paid = await eventually(async () => {
      const answer = await h.request("GET", `/api/orders/${order.id}`, { token });
      const current = answer.body.order as Order;
      return current.status === "paid" ? current : undefined;
    });
    return { order: paid, token };
  }

  /** POST /api/admin/orders/:id/refunds; the same key again answers the refund as it now stands. */
  async function refund(orderId: string, refundFee: number, key = `events-${kind}-${(keys += 1)}`) {
    const answer = await h.request("POST", `/api/admin/orders/${orderId}/refunds`, { body: { refundFee }, headers: admin(key) });
    return { status: answer.status, body: answer.body as unknown as RefundResponse & { error?: { code: string } }, key };
  }

  const refundStatus = async (id: string) => (await h.database.db.selectFrom("refunds").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;

  /** Settles a refund at the sandbox (which then notifies the API) and waits until the API has it settled. */
  async function settle(refundId: string, status: "SUCCESS" | "CHANGE" | "REFUNDCLOSE"): Promise<void> {
    await h.control.settleRefund({ mch_id: MERCHANT.mchId, out_refund_no: refundId, status });
    await eventually(async () => (await refundStatus(refundId)) !== "processing");
  }

  it("paid, then refunded in two parts to the full amount: order.paid, refund.succeeded, refund.succeeded, order.refunded by seq; each payload as the API answers it", async () => {
    const { order, token } = await paidOrder("coffee-beans");
    const half = Math.floor(order.totalFee / 2);

    const first = await refund(order.id, half);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    // Processing: nothing to tell yet.
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    await settle(first.body.refund.id, "SUCCESS");
    const afterFirst = await refund(order.id, half, first.key);
    expect(afterFirst.body.refund.status).toBe("succeeded");
    let events = await storedEvents(h.database.db, order.id);
    // A partial refund: no order.refunded.
    expect(events.map((e) => e.type)).toEqual(["order.paid", "refund.succeeded"]);
    expect(events[1]?.event.data).toEqual({ refund: afterFirst.body.refund });
    expect(events[1]?.refundId).toBe(first.body.refund.id);

    const rest = await refund(order.id, order.totalFee - half);
    expect(rest.status, JSON.stringify(rest.body)).toBe(201);
    await settle(rest.body.refund.id, "SUCCESS");
    const afterRest = await refund(order.id, order.totalFee - half, rest.key);
    const shown = (await h.request("GET", `/api/orders/${order.id}`, { token })).body.order as Order;
    expect(shown).toMatchObject({ status: "refunded", refundedFee: order.totalFee });
    events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid", "refund.succeeded", "refund.succeeded", "order.refunded"]);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.seq)).size).toBe(4);
    expect(events[2]?.event.data).toEqual({ refund: afterRest.body.refund });
    expect(events[3]?.event.data).toEqual({ order: shown });
    expect(events[3]?.event.data).toEqual({ order: afterRest.body.order });
    expect(events[3]?.refundId).toBeNull();
    // The order.refunded is committed with its refund.succeeded: the same moment.
    expect(events[3]?.createdAt).toBe(events[2]?.createdAt);

    // The in-process handler saw them in the same order, each after its commit.
    await eventually(() => Promise.resolve(recorder.handledFor(order.id).length === 4));
    expect(recorder.handledFor(order.id).map((e) => e.event.id)).toEqual(events.map((e) => e.id));
    expect(recorder.handledFor(order.id).every((e) => e.rowExisted)).toBe(true);
  });

  it("refund.failed for a refund the gateway refuses (closed), one it closes (closed) and one that ends abnormal; order.refunded only when the total is refunded", async () => {
    const { order } = await paidOrder();
    const merchant = h.sandbox.context.findMerchant(MERCHANT.mchId, undefined);
    if (merchant === undefined) throw new Error("no sandbox merchant");
    // No funds to refund from: the gateway answers NOTENOUGH, for good.
    merchant.refundableBalance = 0;
    let refused: Awaited<ReturnType<typeof refund>>;
    try {
      refused = await refund(order.id, 100);
    } finally {
      delete merchant.refundableBalance;
    }
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const refusedRow = await h.database.db.selectFrom("refunds").select(["id", "status"]).where("order_id", "=", order.id).executeTakeFirstOrThrow();
    expect(refusedRow.status).toBe("closed");
    const refusedAnswer = await refund(order.id, 100, refused.key);
    expect(refusedAnswer.body.refund).toMatchObject({ id: refusedRow.id, status: "closed" });

    const closing = await refund(order.id, 100);
    expect(closing.status).toBe(201);
    await settle(closing.body.refund.id, "REFUNDCLOSE");
    const closedAnswer = await refund(order.id, 100, closing.key);
    expect(closedAnswer.body.refund.status).toBe("closed");

    const abnormal = await refund(order.id, 100);
    expect(abnormal.status).toBe(201);
    await settle(abnormal.body.refund.id, "CHANGE");
    const abnormalAnswer = await refund(order.id, 100, abnormal.key);
    expect(abnormalAnswer.body.refund.status).toBe("abnormal");

    let events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid", "refund.failed", "refund.failed", "refund.failed"]);
    expect(events.slice(1).map((e) => e.event.data)).toEqual([{ refund: refusedAnswer.body.refund }, { refund: closedAnswer.body.refund }, { refund: abnormalAnswer.body.refund }]);

    // The abnormal refund keeps its 100 reserved: the rest of the order refunds it in full, and only then order.refunded.
    const rest = await refund(order.id, order.totalFee - 100);
    expect(rest.status, JSON.stringify(rest.body)).toBe(201);
    await settle(rest.body.refund.id, "SUCCESS");
    events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid", "refund.failed", "refund.failed", "refund.failed", "refund.succeeded"]);
    expect((await h.database.db.selectFrom("orders").select("status").where("id", "=", order.id).executeTakeFirstOrThrow()).status).toBe("paid");
  });

  it("the notify and the sweep's query settling one refund at once (with copies of the notify): one refund.succeeded, one order.refunded", async () => {
    const orders = await Promise.all(Array.from({ length: 4 }, () => paidOrder()));
    const refunds: { order: Order; refundId: string }[] = [];
    for (const { order } of orders) {
      const created = await refund(order.id, order.totalFee);
      expect(created.status).toBe(201);
      refunds.push({ order, refundId: created.body.refund.id });
    }
    offset += 6000;
    const copies = refunds.map(({ order, refundId }) =>
      buildRefundNotify(
        { appid: MERCHANT.appId, mch_id: MERCHANT.mchId },
        refundPayload({ orderId: order.id, refundId, totalFee: order.totalFee, refundFee: order.totalFee }),
        MERCHANT.key,
      ),
    );
    const replies = await Promise.all([
      ...refunds.map(({ refundId }) => h.control.settleRefund({ mch_id: MERCHANT.mchId, out_refund_no: refundId, status: "SUCCESS" })),
      sweepOnce(h.services),
      sweepOnce(h.services),
      ...copies.flatMap((body) =>
        Array.from({ length: 5 }, async () => {
          const response = await fetch(`${h.url}/wxpay/refund-notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
          return response.text();
        }),
      ),
    ]);
    expect(replies.filter((reply) => reply === NOTIFY_SUCCESS_REPLY)).toHaveLength(copies.length * 5);
    for (const { refundId } of refunds) expect(await refundStatus(refundId)).toBe("succeeded");
    // The sandbox's own notifies are acknowledged too (duplicates by now) before we count.
    await eventually(async () => {
      for (const { order } of refunds) {
        const listed = await h.control.listDeliveries({ out_trade_no: order.id, kind: "refund" });
        if (!listed.deliveries.some((d) => d.outcome === "acknowledged")) return false;
      }
      return true;
    });
    await sweepOnce(h.services);
    for (const { order } of refunds) expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid", "refund.succeeded", "order.refunded"]);
    await eventually(() => Promise.resolve(refunds.every(({ order }) => recorder.handledFor(order.id).length === 3)));
  });

  it("every event row written above parses with the contract's WebhookEventSchema and names its own row; the handler got each once", async () => {
    const all = await storedEvents(h.database.db);
    expect(all.length).toBeGreaterThan(10);
    await eventually(() => Promise.resolve(recorder.handled.length === all.length));
    expect(recorder.handled.map((e) => e.event.id).sort()).toEqual(all.map((e) => e.id).sort());
  });
});
