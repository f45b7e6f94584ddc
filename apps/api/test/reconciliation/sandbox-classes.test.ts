import { RECONCILIATION_CLASSES, type ReconciliationClass, type ReconciliationRunSummary } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileDay } from "../../src/services/reconciliation/engine.js";
import { ADMIN_TOKEN, eventually } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { storedEvents } from "../support/events.js";
import { billDate, payAtSandbox, placeOrder, startReconciliationHarness, type ReconciliationHarness } from "./sandbox-support.js";

const COMBOS = DATABASES.flatMap((kind) => (["v2", "v3"] as const).map((protocol) => [kind, protocol] as const));

/** Every class at zero but the ones given. */
function differences(counts: Partial<Record<ReconciliationClass, number>>): Record<ReconciliationClass, number> {
  return Object.fromEntries(RECONCILIATION_CLASSES.map((c) => [c, counts[c] ?? 0])) as Record<ReconciliationClass, number>;
}

describe.each(COMBOS)("reconciliation of the sandbox's bill on %s, %s", (kind, protocol) => {
  let h: ReconciliationHarness;
  beforeAll(async () => {
    h = await startReconciliationHarness(kind, protocol);
  });
  afterAll(async () => {
    await h.close();
  });

  const orderRow = (id: string) => h.database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const refundRow = (id: string) => h.database.db.selectFrom("refunds").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const itemsOf = (date: string) => h.database.db.selectFrom("reconciliation_items").selectAll().where("bill_date", "=", date).orderBy("id").execute();
  const gatewayOrder = async (id: string) => {
    const order = (await h.control.listOrders({ out_trade_no: id })).orders[0];
    if (order === undefined) throw new Error(`the sandbox has no order ${id}`);
    return order;
  };
  const paidHere = (id: string) => eventually(async () => (await orderRow(id)).status === "paid");

  async function refund(orderId: string, refundFee: number, key: string): Promise<string> {
    const answer = await h.request("POST", `/api/admin/orders/${orderId}/refunds`, {
      body: { refundFee, reason: "reconciliation test" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": key },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return (answer.body.refund as { id: string }).id;
  }

  it("finds every class made through the sandbox, recovers what a query confirms as a notify would, and flags the rest", { timeout: 60_000 }, async () => {
    const day = billDate(0);
    const mch = h.merchant.mchId;
    const token = await h.signIn("alice");
    // 12:00 Beijing on the bill day: payments the API hears of, and one it never does.
    const recorded = await placeOrder(h, token);
    const silent = await placeOrder(h, token);
    const omitted = await placeOrder(h, token);
    const amount = await placeOrder(h, token);
    const transaction = await placeOrder(h, token);
    const unexpected = await placeOrder(h, token);
    const refunded = await placeOrder(h, token, "coffee-beans", 2);
    for (const placed of [recorded, omitted, amount, transaction, unexpected, refunded]) await payAtSandbox(h, placed);
    await payAtSandbox(h, silent, false);
    for (const placed of [recorded, omitted, amount, transaction, unexpected, refunded]) await paidHere(placed.order.id);

    // Four refunds of one order: A, C and D settle with their notifies, B without one.
    const [refundA, refundB, refundC, refundD] = [
      await refund(refunded.order.id, 1, "a"),
      await refund(refunded.order.id, 1, "b"),
      await refund(refunded.order.id, 1, "c"),
      await refund(refunded.order.id, 1, "d"),
    ];
    await eventually(async () => (await gatewayOrder(refunded.order.id)).refunds.length === 4);
    for (const id of [refundA, refundC, refundD]) await h.control.settleRefund({ mch_id: mch, out_refund_no: id, status: "SUCCESS" });
    await h.control.settleRefund({ mch_id: mch, out_refund_no: refundB, status: "SUCCESS", notify: false });
    for (const id of [refundA, refundC, refundD]) await eventually(async () => (await refundRow(id)).status === "succeeded");

    // What the API never made: a payment and a refund.
    const foreign = await h.control.createForeignPayment({ mch_id: mch, out_trade_no: `FOREIGN${protocol}${kind}`, total_fee: 4321 });
    await h.control.createForeignRefund({ mch_id: mch, out_trade_no: recorded.order.id, out_refund_no: "FOREIGN-REFUND-1", refund_fee: 1 });
    // What the bill shows differently.
    await h.control.addDiscrepancy({ kind: "payment_omitted", mch_id: mch, out_trade_no: omitted.order.id });
    await h.control.addDiscrepancy({ kind: "payment_amount", mch_id: mch, out_trade_no: amount.order.id, total_fee: amount.order.totalFee - 1 });
    await h.control.addDiscrepancy({ kind: "payment_transaction", mch_id: mch, out_trade_no: transaction.order.id, transaction_id: "4200000000202611200000000042" });
    await h.control.addDiscrepancy({ kind: "unexpected_row", mch_id: mch, out_trade_no: unexpected.order.id });
    await h.control.addDiscrepancy({ kind: "refund_omitted", mch_id: mch, out_refund_no: refundC });
    await h.control.addDiscrepancy({ kind: "refund_amount", mch_id: mch, out_refund_no: refundD, refund_fee: 2 });
    await h.control.addDiscrepancy({ kind: "summary", mch_id: mch, bill_date: day, trade_count: 99 });

    expect((await orderRow(silent.order.id)).status).toBe("pending");
    expect((await refundRow(refundB)).status).toBe("processing");
    const recordedEvent = (await storedEvents(h.database.db, recorded.order.id)).find((e) => e.type === "order.paid");
    const refundAEvents = (await storedEvents(h.database.db, refunded.order.id)).filter((e) => e.refundId === refundA).map((e) => e.type);

    await h.moveTo(1, 10.5); // 10:30 Beijing the next day: the bill is ready
    const run: ReconciliationRunSummary = await reconcileDay(h.services, day, "admin");
    expect(run, JSON.stringify(run.error)).toMatchObject({ date: day, state: "succeeded", trigger: "admin", bill: "file", error: null });
    expect(run.differences).toEqual(
      differences({
        paid_not_recorded: 1,
        unknown_payment: 1,
        payment_missing_from_bill: 1,
        refund_not_recorded: 1,
        unknown_refund: 1,
        refund_missing_from_bill: 1,
        amount_mismatch: 2,
        transaction_mismatch: 1,
        unexpected_row: 1,
        summary_mismatch: 1,
      }),
    );

    const items = await itemsOf(day);
    const of = (c: ReconciliationClass) => items.filter((i) => i.class === c);
    expect(
      items
        .filter((i) => i.resolution === "recovered")
        .map((i) => i.class)
        .sort(),
    ).toEqual(["paid_not_recorded", "refund_not_recorded"]);
    expect(of("paid_not_recorded")).toEqual([expect.objectContaining({ order_id: silent.order.id, resolution: "recovered" })]);
    expect(of("refund_not_recorded")).toEqual([expect.objectContaining({ refund_id: refundB, resolution: "recovered" })]);
    expect(of("unknown_payment")).toEqual([expect.objectContaining({ transaction_id: foreign.order.transaction_id, bill_amount: 4321, resolution: "flagged" })]);
    expect(of("payment_missing_from_bill")).toEqual([expect.objectContaining({ order_id: omitted.order.id, our_amount: omitted.order.totalFee, bill_line: null })]);
    expect(of("transaction_mismatch")).toEqual([expect.objectContaining({ order_id: transaction.order.id, resolution: "flagged" })]);
    expect(of("refund_missing_from_bill")).toEqual([expect.objectContaining({ refund_id: refundC, bill_line: null, resolution: "flagged" })]);
    expect(of("unknown_refund")).toEqual([expect.objectContaining({ resolution: "flagged" })]);
    expect(of("unexpected_row")).toEqual([expect.objectContaining({ resolution: "flagged" })]);
    expect(of("summary_mismatch")).toEqual([expect.objectContaining({ resolution: "flagged" })]);
    expect(of("amount_mismatch").map((i) => [i.order_id, i.refund_id, i.bill_amount, i.our_amount])).toEqual(
      expect.arrayContaining([
        [amount.order.id, null, amount.order.totalFee - 1, amount.order.totalFee],
        [refunded.order.id, refundD, 2, 1],
      ]),
    );

    // The recovered payment: paid with the gateway's transaction, one payment event, the order.paid event a notify writes.
    const gatewaySilent = await gatewayOrder(silent.order.id);
    const recoveredRow = await orderRow(silent.order.id);
    expect(recoveredRow).toMatchObject({ status: "paid", transaction_id: gatewaySilent.transaction_id, total_fee: silent.order.totalFee });
    expect(recoveredRow.paid_at).not.toBeNull();
    const payments = await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", silent.order.id).execute();
    expect(payments).toEqual([expect.objectContaining({ transaction_id: gatewaySilent.transaction_id, total_fee: silent.order.totalFee })]);
    const silentEvents = await storedEvents(h.database.db, silent.order.id);
    expect(silentEvents.map((e) => e.type)).toEqual((await storedEvents(h.database.db, recorded.order.id)).map((e) => e.type));
    const recoveredEvent = silentEvents.find((e) => e.type === "order.paid");
    expect(recordedEvent).toBeDefined();
    // The same event as a notify's: the same fields, about the recovered order.
    expect(Object.keys(recoveredEvent?.event.data ?? {}).sort()).toEqual(Object.keys(recordedEvent?.event.data ?? {}).sort());
    expect(Object.keys(orderShape(recoveredEvent)).sort()).toEqual(Object.keys(orderShape(recordedEvent)).sort());
    expect(orderShape(recoveredEvent)).toMatchObject({ id: silent.order.id, status: "paid", transactionId: gatewaySilent.transaction_id, totalFee: silent.order.totalFee });

    // The recovered refund: succeeded, with the refund events a notify writes.
    expect(await refundRow(refundB)).toMatchObject({ status: "succeeded" });
    expect((await refundRow(refundB)).succeeded_at).not.toBeNull();
    expect((await storedEvents(h.database.db, refunded.order.id)).filter((e) => e.refundId === refundB).map((e) => e.type)).toEqual(refundAEvents);

    // Flagged items changed nothing: no order for the foreign payment, the others as they were.
    expect(await h.database.db.selectFrom("orders").select("id").where("id", "=", foreign.order.out_trade_no).execute()).toEqual([]);
    for (const placed of [omitted, amount, transaction, unexpected]) expect(await orderRow(placed.order.id)).toMatchObject({ status: "paid", total_fee: placed.order.totalFee });
    expect(await refundRow(refundC)).toMatchObject({ status: "succeeded" });
    expect(await refundRow(refundD)).toMatchObject({ status: "succeeded", refund_fee: 1 });
    await h.control.clearDiscrepancies();
  });

  it("finds a bill line in another currency", { timeout: 60_000 }, async () => {
    // 10:30 on the second day: one payment, which the bill shows in USD (a bill has one currency).
    const day = billDate(1);
    const token = await h.signIn("bob");
    const placed = await placeOrder(h, token);
    await payAtSandbox(h, placed);
    await paidHere(placed.order.id);
    await h.control.addDiscrepancy({ kind: "payment_currency", mch_id: h.merchant.mchId, out_trade_no: placed.order.id, fee_type: "USD" });
    await h.moveTo(2, 10.5);
    const run = await reconcileDay(h.services, day, "admin");
    expect(run, JSON.stringify(run.error)).toMatchObject({ state: "succeeded", bill: "file" });
    // The payment recovered on the first day was paid there: it is not this day's.
    expect(run.differences).toEqual(differences({ currency_mismatch: 1 }));
    expect(await itemsOf(day)).toEqual([
      expect.objectContaining({
        class: "currency_mismatch",
        resolution: "flagged",
        order_id: placed.order.id,
        bill_currency: "USD",
        our_currency: "CNY",
        bill_amount: placed.order.totalFee,
      }),
    ]);
    expect(await orderRow(placed.order.id)).toMatchObject({ status: "paid", fee_type: "CNY" });
  });
});

/** The order of an order event's data. */
function orderShape(stored: { event: { data: unknown } } | undefined): Record<string, unknown> {
  const data = stored?.event.data as { order?: Record<string, unknown> } | undefined;
  return data?.order ?? {};
}
