// Order events of payments and closes, through the real paths (real HTTP, the sandbox gateway, v2 notifies):
// an event exists if and only if its change was committed. Exactly one order.paid per paid order (also under
// 200 concurrent copies of a notify and a burst over many orders), none for a refused notify or one whose
// commit fails; one order.closed per close (the payer's, the sweep's, WeChat Pay's word); a close racing a
// payment ends with exactly one of the two. The in-process handlers get each committed event after its commit,
// in order, and cannot touch the notify's answer or its latency by throwing, rejecting or hanging.
import { NOTIFY_SUCCESS_REPLY, type XmlValue } from "@pay/core";
import type { Order } from "@pay/core/contract";
import { buildSignedPayNotify } from "@pay/core/testing";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.js";
import { openDatabase } from "../../src/db/database.js";
import { createLogger } from "../../src/logging.js";
import { sweepOnce } from "../../src/services/sweeper.js";
import { eventually, MERCHANT, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { eventTypes, orderIdOf, recordingHandler, storedEvents } from "../support/events.js";
import { createPendingOrder, payNotifyFields } from "../reliability/fixtures.js";

/** How long the app's bus waits for one handler call here (a hanging handler costs this much, once per event). */
const HANDLER_TIMEOUT_MS = 1500;

describe.each(DATABASES)("order events of payments and closes (v2) on %s", (kind) => {
  let h: ApiHarness;
  let offset = 0;
  // The handler reads the outbox through the harness's database once it is up.
  let db: ApiHarness["database"]["db"] | undefined;
  const recorder = recordingHandler(() => db);
  /** Events the second API instance (not the harness's app) handed to its own handler. */
  const handledElsewhere = new Set<string>();

  beforeAll(async () => {
    h = await startApiHarness(kind, { clock: () => Date.now() + offset, eventHandlers: [recorder.handler], eventHandlerTimeoutMs: HANDLER_TIMEOUT_MS });
    db = h.database.db;
  });
  afterAll(async () => {
    await h.close();
  });

  const sign = (fields: Record<string, XmlValue>, key: string = MERCHANT.key): string => buildSignedPayNotify(fields, { key, signType: "HMAC-SHA256", omitSignType: true });

  async function notify(body: string): Promise<{ status: number; text: string; ms: number }> {
    const started = performance.now();
    const response = await fetch(`${h.url}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
    const text = await response.text();
    return { status: response.status, text, ms: performance.now() - started };
  }

  let transactions = 0;
  /** A pay notify's fields for `order` under a transaction id of its own (unless overridden). */
  const paid = (order: { readonly id: string; readonly totalFee: number }, overrides: Readonly<Record<string, XmlValue | undefined>> = {}) =>
    payNotifyFields(order, { transaction_id: `42000${String((transactions += 1)).padStart(5, "0")}${Date.now()}`.padEnd(28, "0"), ...overrides });

  const acknowledged = (reply: { status: number; text: string }) => reply.status === 200 && reply.text === NOTIFY_SUCCESS_REPLY;

  async function orderOf(token: string, id: string): Promise<Order> {
    const answer = await h.request("GET", `/api/orders/${id}`, { token });
    expect(answer.status).toBe(200);
    return answer.body.order as Order;
  }

  /** Every handler call so far had its outbox row committed at the time, and named a stored event. */
  async function handlerSawCommittedRows(): Promise<void> {
    expect(recorder.handled.every((h) => h.rowExisted)).toBe(true);
    const stored = new Set((await storedEvents(h.database.db)).map((e) => e.id));
    expect(recorder.handled.filter((handled) => !stored.has(handled.event.id))).toEqual([]);
  }

  it("a payment through the sandbox's own v2 notify: one order.paid, its order as GET shows it, handed to the handler after the commit", async () => {
    const { order, payment, token } = await createPendingOrder(h, `paid-${kind}`);
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    const paidOrder = await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.status === "paid" ? current : undefined;
    });
    const events = await storedEvents(h.database.db, order.id);
    expect(events.map((e) => e.type)).toEqual(["order.paid"]);
    expect(events[0]?.event.data).toEqual({ order: paidOrder });
    expect(events[0]?.createdAt).toBe(paidOrder.paidAt);
    const handled = await eventually(() => Promise.resolve(recorder.handledFor(order.id).length > 0 && recorder.handledFor(order.id)));
    expect(handled.map((e) => e.event)).toEqual([events[0]?.event]);
    expect(handled[0]?.rowExisted).toBe(true);
    // The sandbox was acknowledged once and the order stays paid once.
    const deliveries = await h.control.listDeliveries({ out_trade_no: order.id, kind: "pay" });
    expect(deliveries.deliveries.filter((d) => d.outcome === "acknowledged")).toHaveLength(1);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
  });

  it("200 concurrent copies of one notify: one order.paid, 200 SUCCESS answers, the handler called once", async () => {
    const { order } = await createPendingOrder(h);
    const body = sign(paid(order));
    const replies = await Promise.all(Array.from({ length: 200 }, () => notify(body)));
    expect(replies.filter(acknowledged)).toHaveLength(200);
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    // A late copy (WeChat Pay retries) changes nothing either.
    expect(acknowledged(await notify(body))).toBe(true);
    await eventually(() => Promise.resolve(recorder.handledFor(order.id).length === 1));
    expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.handledFor(order.id)).toHaveLength(1);
  });

  it("a burst over 40 orders, 5 copies each, all at once: exactly one order.paid per order, each handed over once", async () => {
    const orders = await Promise.all(Array.from({ length: 40 }, () => createPendingOrder(h).then((created) => created.order)));
    const bodies = orders.map((order) => sign(paid(order)));
    const replies = await Promise.all(bodies.flatMap((body) => Array.from({ length: 5 }, () => notify(body))));
    expect(replies.filter(acknowledged)).toHaveLength(200);
    for (const order of orders) expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
    await eventually(() => Promise.resolve(orders.every((order) => recorder.handledFor(order.id).length === 1)));
    for (const order of orders) expect(recorder.handledFor(order.id).map((e) => e.event.type)).toEqual(["order.paid"]);
    await handlerSawCommittedRows();
  });

  it("two API instances on one database (each its own connections, paid writer and handlers), 200 copies of a notify split between them: one order.paid, one handler call in all", async () => {
    const second = await openDatabase(h.database.url);
    const secondRecorder = recordingHandler(() => second.db);
    const { app } = createApp({
      config: h.config,
      db: second.db,
      dialect: second.dialect,
      gateway: h.services.gateway,
      login: h.services.login,
      logger: createLogger({ level: "silent" }),
      eventHandlers: [secondRecorder.handler],
    });
    const callback = app.callback();
    const server = createServer((req, res) => void callback(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const secondUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (let round = 0; round < 3; round++) {
        const { order } = await createPendingOrder(h);
        const body = sign(paid(order));
        const replies = await Promise.all(
          Array.from({ length: 200 }, async (_, i) => {
            const response = await fetch(`${i % 2 === 0 ? h.url : secondUrl}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
            return { status: response.status, text: await response.text() };
          }),
        );
        expect(replies.filter(acknowledged)).toHaveLength(200);
        expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);
        await eventually(() => Promise.resolve(recorder.handledFor(order.id).length + secondRecorder.handledFor(order.id).length === 1));
        for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
        expect(recorder.handledFor(order.id).length + secondRecorder.handledFor(order.id).length).toBe(1);
      }
      expect(secondRecorder.handled.every((e) => e.rowExisted)).toBe(true);
      for (const handled of secondRecorder.handled) handledElsewhere.add(handled.event.id);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await second.close();
    }
  });

  it("refused notifies write no event: a bad signature, a wrong amount, an unknown order, a closed order", async () => {
    const { order } = await createPendingOrder(h);
    const badSignature = await notify(sign(paid(order), "WrongKeyWrongKeyWrongKeyWrongKey"));
    const wrongAmount = await notify(sign(paid(order, { total_fee: order.totalFee + 1, cash_fee: order.totalFee + 1 })));
    const unknown = await notify(sign(paid({ id: "2099010100000000000000000000", totalFee: order.totalFee })));
    for (const reply of [badSignature, wrongAmount, unknown]) {
      expect(reply.status).toBe(200);
      expect(reply.text).toContain("FAIL");
    }
    expect(await eventTypes(h.database.db, order.id)).toEqual([]);
    expect(await h.database.db.selectFrom("webhook_events").select("id").where("order_id", "=", "2099010100000000000000000000").execute()).toEqual([]);

    const { order: closing, token } = await createPendingOrder(h);
    expect((await h.request("POST", `/api/orders/${closing.id}/close`, { token })).status).toBe(200);
    const onClosed = await notify(sign(paid(closing)));
    expect(onClosed.text).toContain("FAIL");
    expect(await eventTypes(h.database.db, closing.id)).toEqual(["order.closed"]);
    // Give the bus a turn: nothing for the refused ones ever reaches the handler.
    await eventually(() => Promise.resolve(recorder.handledFor(closing.id).length === 1));
    expect(recorder.handledFor(order.id)).toEqual([]);
    expect(recorder.handledFor(closing.id).map((e) => e.event.type)).toEqual(["order.closed"]);
  });

  it("a notify whose commit fails (its batch breaks a constraint) writes no event; the rest of the burst is committed with theirs; its retry then pays once", async () => {
    const { order: first } = await createPendingOrder(h);
    const others = await Promise.all(Array.from({ length: 6 }, () => createPendingOrder(h).then((c) => c.order)));
    const taken = "4200000000000000000000555555";
    expect(acknowledged(await notify(sign(paid(first, { transaction_id: taken }))))).toBe(true);
    const [clashing, ...rest] = others;
    if (clashing === undefined) throw new Error("no order");
    // Two orders cannot share a transaction_id: the clashing notify is sent in one burst with good ones, so the batch fails and is retried one by one.
    const replies = await Promise.all([notify(sign(paid(clashing, { transaction_id: taken }))), ...rest.map((o) => notify(sign(paid(o))))]);
    expect(replies[0].text).toContain("FAIL");
    expect(replies.slice(1).every(acknowledged)).toBe(true);
    expect(await eventTypes(h.database.db, clashing.id)).toEqual([]);
    expect((await h.database.db.selectFrom("orders").select("status").where("id", "=", clashing.id).executeTakeFirstOrThrow()).status).toBe("pending");
    for (const o of rest) expect(await eventTypes(h.database.db, o.id)).toEqual(["order.paid"]);
    await eventually(() => Promise.resolve(rest.every((o) => recorder.handledFor(o.id).length === 1)));
    expect(recorder.handledFor(clashing.id)).toEqual([]);

    // WeChat Pay's retry with the payment's own transaction id.
    expect(acknowledged(await notify(sign(paid(clashing))))).toBe(true);
    expect(await eventTypes(h.database.db, clashing.id)).toEqual(["order.paid"]);
  });

  it("order.closed once for each way an order closes: the payer's close, the sweep's expiry, WeChat Pay reporting it closed", async () => {
    const byPayer = await createPendingOrder(h);
    const closed = await h.request("POST", `/api/orders/${byPayer.order.id}/close`, { token: byPayer.token });
    expect(closed.status).toBe(200);
    // Closing again is idempotent and writes nothing.
    expect((await h.request("POST", `/api/orders/${byPayer.order.id}/close`, { token: byPayer.token })).status).toBe(200);
    const payerEvents = await storedEvents(h.database.db, byPayer.order.id);
    expect(payerEvents.map((e) => e.type)).toEqual(["order.closed"]);
    expect(payerEvents[0]?.event.data).toEqual({ order: closed.body.order });
    expect(payerEvents[0]?.event.data).toEqual({ order: await orderOf(byPayer.token, byPayer.order.id) });

    const expired = await createPendingOrder(h);
    await h.database.db
      .updateTable("orders")
      .set({ expires_at: new Date(Date.now() + offset - 1000).toISOString() })
      .where("id", "=", expired.order.id)
      .execute();
    const report = await sweepOnce(h.services);
    expect(report.closed).toBeGreaterThanOrEqual(1);
    await sweepOnce(h.services);
    const expiredEvents = await storedEvents(h.database.db, expired.order.id);
    expect(expiredEvents.map((e) => e.type)).toEqual(["order.closed"]);
    expect(expiredEvents[0]?.event.data).toEqual({ order: await orderOf(expired.token, expired.order.id) });

    // Closed at WeChat Pay behind the API's back: the query (once the query delay passed) says CLOSED.
    const atGateway = await createPendingOrder(h);
    const gatewayClose = await h.services.gateway?.closeOrder(atGateway.order.id);
    expect(gatewayClose?.ok).toBe(true);
    offset += 6000;
    const seen = await orderOf(atGateway.token, atGateway.order.id);
    expect(seen.status).toBe("closed");
    offset += 6000;
    expect((await orderOf(atGateway.token, atGateway.order.id)).status).toBe("closed");
    const gatewayEvents = await storedEvents(h.database.db, atGateway.order.id);
    expect(gatewayEvents.map((e) => e.type)).toEqual(["order.closed"]);
    expect(gatewayEvents[0]?.event.data).toEqual({ order: seen });
    // Paying it now is refused by the gateway and writes nothing.
    expect(await h.pay(atGateway.payment)).toMatchObject({ error: { code: "ORDER_CLOSED" } });
    expect(await eventTypes(h.database.db, atGateway.order.id)).toEqual(["order.closed"]);

    // Closed at WeChat Pay, then by the payer: the gateway's closeorder answers ORDERCLOSED, and the API closes it here.
    const closedTwice = await createPendingOrder(h);
    expect((await h.services.gateway?.closeOrder(closedTwice.order.id))?.ok).toBe(true);
    const answered = await h.request("POST", `/api/orders/${closedTwice.order.id}/close`, { token: closedTwice.token });
    expect(answered.status).toBe(200);
    const twiceEvents = await storedEvents(h.database.db, closedTwice.order.id);
    expect(twiceEvents.map((e) => e.type)).toEqual(["order.closed"]);
    expect(twiceEvents[0]?.event.data).toEqual({ order: answered.body.order });
    await eventually(() => Promise.resolve([byPayer, expired, atGateway, closedTwice].every(({ order }) => recorder.handledFor(order.id).length === 1)));
  });

  it("a close racing a payment ends with exactly one of order.paid / order.closed per order, matching its final state", async () => {
    // The payer pays at the sandbox (its notify follows) while closing: the gateway decides which came first.
    const viaGateway = await Promise.all(Array.from({ length: 8 }, () => createPendingOrder(h)));
    await Promise.all(viaGateway.map(({ order, payment, token }) => Promise.all([h.pay(payment), h.request("POST", `/api/orders/${order.id}/close`, { token })])));
    // A signed notify racing the payer's close: both reach the database, the conditional updates decide.
    const viaNotify = await Promise.all(Array.from({ length: 12 }, () => createPendingOrder(h)));
    await Promise.all(viaNotify.map(({ order, token }) => Promise.all([notify(sign(paid(order))), h.request("POST", `/api/orders/${order.id}/close`, { token })])));
    const all = [...viaGateway, ...viaNotify];
    const finals = await eventually(async () => {
      const rows = await h.database.db
        .selectFrom("orders")
        .select(["id", "status"])
        .where(
          "id",
          "in",
          all.map(({ order }) => order.id),
        )
        .execute();
      return rows.every((row) => row.status !== "pending") && rows;
    });
    // Whatever is still in flight (the sandbox's notify after a payment) lands before we count.
    await eventually(async () => {
      for (const { order } of viaGateway) {
        const attempts = await h.control.listDeliveries({ out_trade_no: order.id, kind: "pay" });
        const paid = finals.find((row) => row.id === order.id)?.status === "paid";
        if (paid && !attempts.deliveries.some((d) => d.outcome === "acknowledged")) return false;
      }
      return true;
    });
    for (const row of finals) expect(await eventTypes(h.database.db, row.id)).toEqual([row.status === "paid" ? "order.paid" : "order.closed"]);
    await eventually(() => Promise.resolve(finals.every((row) => recorder.handledFor(row.id).length === 1)));
    await handlerSawCommittedRows();
  });

  it.each(["throw", "reject", "hang"] as const)(
    "a handler that %ss changes neither the notify's answer nor its latency, and later events still arrive in order",
    async (behaviour) => {
      // The baseline: a notify answered while the handler behaves.
      const { order: base } = await createPendingOrder(h);
      const baseline = await notify(sign(paid(base)));
      expect(acknowledged(baseline)).toBe(true);
      await eventually(() => Promise.resolve(recorder.handledFor(base.id).length === 1));

      const misbehaved = await Promise.all(Array.from({ length: 2 }, () => createPendingOrder(h).then((c) => c.order)));
      for (const order of misbehaved) recorder.misbehave.set(order.id, behaviour);
      const replies = [];
      for (const order of misbehaved) replies.push(await notify(sign(paid(order))));
      expect(replies.every(acknowledged)).toBe(true);
      // Not waiting for the handler: well under what a hanging call is given.
      for (const reply of replies) expect(reply.ms).toBeLessThan(Math.max(1000, baseline.ms * 5));
      for (const order of misbehaved) expect(await eventTypes(h.database.db, order.id)).toEqual(["order.paid"]);

      const { order: later } = await createPendingOrder(h);
      expect(acknowledged(await notify(sign(paid(later))))).toBe(true);
      await eventually(() => Promise.resolve(recorder.handledFor(later.id).length === 1), HANDLER_TIMEOUT_MS * 3 + 2000);
      const order = recorder.handled.map((handled) => orderIdOf(handled.event));
      const positions = [...misbehaved, later].map((o) => order.indexOf(o.id));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      const logged = h.logs.filter((line) => misbehaved.some((o) => recorder.handledFor(o.id).some((e) => line.includes(e.event.id))));
      expect(logged).toHaveLength(2);
      for (const line of logged) expect(line).toContain(behaviour === "hang" ? "an event handler did not finish in time" : "an event handler failed");
      await handlerSawCommittedRows();
    },
    15_000,
  );

  it("every event row written above parses with the contract's WebhookEventSchema, names its own id, type, time, order and refund, in seq order", async () => {
    const all = await storedEvents(h.database.db);
    expect(all.length).toBeGreaterThan(60);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    await handlerSawCommittedRows();
    // Every committed event reached the handler exactly once.
    await eventually(() => Promise.resolve(recorder.handled.length + handledElsewhere.size === all.length));
    expect(new Set([...recorder.handled.map((e) => e.event.id), ...handledElsewhere])).toEqual(new Set(all.map((e) => e.id)));
  });
});
