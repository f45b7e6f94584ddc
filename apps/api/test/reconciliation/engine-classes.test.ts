// The reconciliation engine against the fake gateway on both databases: every class of difference found,
// classified and resolved as docs/reconciliation.md says, the day's boundaries, and bills read in any chunking.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { reconcileDay } from "../../src/services/reconciliation/engine.js";
import { buildBillCsv, type BillLine } from "../support/bill-csv.js";
import { DATABASES } from "../support/databases.js";
import { storedEvents } from "../support/events.js";
import { countedClasses, createEngineWorld, DAY, DAY_END, DAY_START, NEXT_DAY, NEXT_MORNING, NOON, type EngineWorld } from "./engine-harness.js";

const MUG = 3990;

describe.each(DATABASES)("reconciliation classes on %s", (kind) => {
  let world: EngineWorld;
  beforeEach(async () => {
    world = await createEngineWorld(kind);
  });
  afterEach(async () => {
    await world.close();
  });

  const txOf = (orderId: string): string => world.fake.orders.get(orderId)?.transactionId ?? "";
  const payment = (orderId: string, overrides: Partial<Extract<BillLine, { kind: "payment" }>> = {}): BillLine => ({
    kind: "payment",
    at: NOON + 60_000,
    orderId,
    transactionId: txOf(orderId),
    amount: MUG,
    ...overrides,
  });

  it("finds every class, recovers only what a query confirms, and flags the rest with what it found", async () => {
    const matched = await world.order();
    await world.payByNotify(matched);
    // Paid at WeChat Pay, the notify lost: the query confirms it.
    const lostNotify = await world.order();
    world.fake.pay(lostNotify);
    // The bill says paid, the query says pending.
    const notPaid = await world.order();
    // Paid at WeChat Pay, closed here meanwhile: the query says paid, but it cannot be applied.
    const closedHere = await world.order();
    world.fake.pay(closedHere);
    await world.database.db
      .updateTable("orders")
      .set({ status: "closed", closed_at: new Date(NOON).toISOString() })
      .where("id", "=", closedHere)
      .execute();
    const missing = await world.order();
    await world.payByNotify(missing);
    const amount = await world.order();
    await world.payByNotify(amount);
    const currency = await world.order();
    await world.payByNotify(currency);
    await world.database.db.updateTable("orders").set({ fee_type: "HKD" }).where("id", "=", currency).execute();
    const transaction = await world.order();
    await world.payByNotify(transaction);
    // Refunds: succeeded at WeChat Pay with a lost notify; still processing at WeChat Pay; succeeded here but absent from the bill.
    const refunded = await world.order(2);
    await world.payByNotify(refunded);
    const lostRefund = await world.refund(refunded, 1000);
    world.fake.settleRefund(lostRefund, "succeeded", new Date(NOON + 3600_000).toISOString());
    const processing = await world.refund(refunded, 500);
    const notInBill = await world.refund(refunded, 300);
    await world.settleByNotify(notInBill, NOON + 7200_000);
    const refundTx = txOf(refunded);

    world.fake.billFiles.set(DAY, {
      kind: "file",
      csv: buildBillCsv([
        payment(matched),
        payment(lostNotify),
        payment(notPaid, { transactionId: "4200000000000000000001" }),
        payment(closedHere),
        payment("never-created", { transactionId: "4200000000000000000002", amount: 100 }),
        payment(amount, { amount: MUG - 1 }),
        payment(currency),
        payment(transaction, { transactionId: "4200000000000000000003" }),
        payment(refunded, { amount: 2 * MUG }),
        payment("revoked-1", { transactionId: "4200000000000000000004", state: "REVOKED" }),
        { kind: "refund", at: NOON + 3600_000, orderId: refunded, transactionId: refundTx, refundId: lostRefund, orderAmount: 2 * MUG, amount: 1000 },
        { kind: "refund", at: NOON + 3600_000, orderId: refunded, transactionId: refundTx, refundId: processing, orderAmount: 2 * MUG, amount: 500 },
        { kind: "refund", at: NOON + 3600_000, orderId: refunded, transactionId: refundTx, refundId: "never-asked", orderAmount: 2 * MUG, amount: 200 },
      ]),
    });
    const eventsBefore = (await storedEvents(world.database.db)).length;
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "cli");

    expect(run).toMatchObject({ date: DAY, state: "succeeded", trigger: "cli", attempt: 1, bill: "file", error: null, resultAt: new Date(NEXT_MORNING).toISOString() });
    expect(countedClasses(run)).toEqual({
      paid_not_recorded: 3,
      unknown_payment: 1,
      payment_missing_from_bill: 1,
      refund_not_recorded: 2,
      unknown_refund: 1,
      refund_missing_from_bill: 1,
      amount_mismatch: 1,
      currency_mismatch: 1,
      transaction_mismatch: 1,
      unexpected_row: 1,
    });
    const items = await world.items();
    const of = (cls: string, id: string) => items.find((i) => i.class === cls && (i.orderId === id || i.refundId === id));
    expect(of("paid_not_recorded", lostNotify)).toMatchObject({ resolution: "recovered", billLine: 3, billAmount: MUG, billCurrency: "CNY", ourAmount: MUG, ourCurrency: "CNY" });
    expect(of("paid_not_recorded", notPaid)).toMatchObject({ resolution: "flagged", detail: expect.stringContaining("the order query says pending") as string });
    expect(of("paid_not_recorded", closedHere)).toMatchObject({ resolution: "flagged", detail: expect.stringContaining("ORDER_CLOSED") as string });
    expect(of("unknown_payment", "never-created")).toMatchObject({ resolution: "flagged", billLine: 6, billAmount: 100, ourAmount: null, transactionId: "4200000000000000000002" });
    expect(of("payment_missing_from_bill", missing)).toMatchObject({ resolution: "flagged", billLine: null, ourAmount: MUG, ourCurrency: "CNY", transactionId: txOf(missing) });
    expect(of("amount_mismatch", amount)).toMatchObject({ resolution: "flagged", billAmount: MUG - 1, ourAmount: MUG });
    expect(of("currency_mismatch", currency)).toMatchObject({ billCurrency: "CNY", ourCurrency: "HKD" });
    expect(of("transaction_mismatch", transaction)).toMatchObject({ transactionId: "4200000000000000000003", detail: expect.stringContaining(txOf(transaction)) as string });
    expect(of("unexpected_row", "revoked-1")).toMatchObject({ resolution: "flagged", detail: expect.stringContaining("REVOKED") as string });
    expect(of("refund_not_recorded", lostRefund)).toMatchObject({ resolution: "recovered", orderId: refunded, billAmount: 1000, ourAmount: 1000 });
    expect(of("refund_not_recorded", processing)).toMatchObject({ resolution: "flagged", detail: expect.stringContaining("says processing") as string });
    expect(of("unknown_refund", "never-asked")).toMatchObject({ resolution: "flagged", billAmount: 200, orderId: refunded });
    expect(of("refund_missing_from_bill", notInBill)).toMatchObject({ resolution: "flagged", ourAmount: 300, billLine: null });

    // Recovered: the same effect and event as a notify; everything flagged is as it was.
    const stored = async (id: string) => world.database.db.selectFrom("orders").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    expect(await stored(lostNotify)).toMatchObject({ status: "paid", transaction_id: txOf(lostNotify), paid_at: new Date(NEXT_MORNING).toISOString() });
    expect(await stored(notPaid)).toMatchObject({ status: "pending", transaction_id: null });
    expect(await stored(closedHere)).toMatchObject({ status: "closed", transaction_id: null });
    const byNotify = await storedEvents(world.database.db, matched);
    const byRun = await storedEvents(world.database.db, lostNotify);
    expect(byRun.map((e) => e.type)).toEqual(["order.paid"]);
    expect(Object.keys(byRun[0]?.event.data ?? {})).toEqual(Object.keys(byNotify[0]?.event.data ?? {}));
    expect(byRun[0]?.event.data).toMatchObject({ order: { id: lostNotify, status: "paid", transactionId: txOf(lostNotify) } });
    expect(await world.database.db.selectFrom("payment_events").select("source").where("order_id", "=", lostNotify).execute()).toEqual([{ source: "query" }]);
    const refundRow = await world.database.db.selectFrom("refunds").selectAll().where("id", "=", lostRefund).executeTakeFirstOrThrow();
    expect(refundRow).toMatchObject({ status: "succeeded", succeeded_at: new Date(NOON + 3600_000).toISOString() });
    expect((await storedEvents(world.database.db, refunded)).filter((e) => e.refundId === lostRefund).map((e) => e.type)).toEqual(["refund.succeeded"]);
    expect(await world.database.db.selectFrom("refunds").select("status").where("id", "=", processing).executeTakeFirstOrThrow()).toEqual({ status: "processing" });
    // Exactly two events were added: the recovered payment's and the recovered refund's.
    expect((await storedEvents(world.database.db)).length).toBe(eventsBefore + 2);

    // Totals: the bill's lines against our records after the confirmations.
    expect(run.totals).toEqual({
      currency: "CNY",
      bill: { paymentCount: 9, paymentAmount: 8 * MUG - 1 + 100 + 2 * MUG - MUG, refundCount: 3, refundAmount: 1700 },
      summary: { lineCount: 13, paymentAmount: 10 * MUG - 1 + 100, refundAmount: 1700, fee: expect.any(Number) as number },
      ours: { paymentCount: 6, paymentAmount: 5 * MUG + 2 * MUG, refundCount: 2, refundAmount: 1300 },
      feeLines: run.totals?.summary?.fee,
      feeSummary: run.totals?.summary?.fee,
    });
  });

  it("flags a bill whose summary disagrees with its lines, one item per figure", async () => {
    const paid = await world.order();
    await world.payByNotify(paid);
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv([payment(paid)], { tradeCount: 2, settlement: MUG + 1, refund: 5, fee: 1 }) });
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "admin");
    expect(countedClasses(run)).toEqual({ summary_mismatch: 4 });
    const details = (await world.items()).map((i) => i.detail);
    expect(details).toEqual([
      expect.stringContaining("总交易单数 2, the bill has 1 lines") as string,
      expect.stringContaining(`应结订单总金额 ${MUG + 1}, its lines add up to ${MUG}`) as string,
      expect.stringContaining("退款总金额 5, its lines add up to 0") as string,
      expect.stringContaining(`手续费总金额 1, its lines add up to ${MUG * 6}`) as string,
    ]);
    expect(run.totals?.summary).toEqual({ lineCount: 2, paymentAmount: MUG + 1, refundAmount: 5, fee: 1 });
    expect(run.totals?.feeLines).toBe(MUG * 6);
  });

  it("flags a payment named by two bill lines, and counts our side once", async () => {
    const paid = await world.order();
    await world.payByNotify(paid);
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv([payment(paid), payment(paid, { at: NOON + 120_000 })]) });
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "admin");
    expect(run.state).toBe("succeeded");
    expect(countedClasses(run)).toEqual({ unexpected_row: 1 });
    expect(await world.items()).toEqual([
      expect.objectContaining({ class: "unexpected_row", resolution: "flagged", orderId: paid, billLine: 2, detail: expect.stringContaining("2 payment lines") as string }),
    ]);
    expect(run.totals?.bill).toMatchObject({ paymentCount: 2, paymentAmount: 2 * MUG });
    expect(run.totals?.ours).toMatchObject({ paymentCount: 1, paymentAmount: MUG });
  });

  it("a day without a bill is a clean, empty run; our payments of the day are then missing from it", async () => {
    world.now = NEXT_MORNING;
    const empty = await reconcileDay(world.services, DAY, "schedule");
    expect(empty).toMatchObject({ state: "succeeded", bill: "none", error: null });
    expect(countedClasses(empty)).toEqual({});
    expect(empty.totals).toEqual({
      currency: "CNY",
      bill: { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 },
      summary: null,
      ours: { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 },
      feeLines: 0,
      feeSummary: null,
    });
    expect(await world.items()).toEqual([]);

    world.now = NOON;
    const paid = await world.order();
    await world.payByNotify(paid);
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "schedule");
    expect(run).toMatchObject({ state: "succeeded", bill: "none", attempt: 2 });
    expect(countedClasses(run)).toEqual({ payment_missing_from_bill: 1 });
    expect(run.totals?.ours).toEqual({ paymentCount: 1, paymentAmount: MUG, refundCount: 0, refundAmount: 0 });
  });

  it("a payment belongs to the gateway's day: paid just before midnight and recorded just after, it is the earlier day's", async () => {
    const late = await world.order();
    world.now = DAY_END + 5_000;
    // v2's time_end: 23:59:58 Beijing on DAY.
    await world.payByNotify(late, { time_end: "20260101235958" });
    // No time in the fake's own report: our paid_at decides.
    const plain = await world.order();
    world.now = DAY_END + 60_000;
    await world.payByNotify(plain);
    world.now = DAY_END + DAY_END - DAY_START;

    // The next day's bill has neither: only `plain` (paid here and at the gateway on NEXT_DAY) is missing from it.
    const next = await reconcileDay(world.services, NEXT_DAY, "cli");
    expect(countedClasses(next)).toEqual({ payment_missing_from_bill: 1 });
    expect(await world.items(NEXT_DAY)).toMatchObject([{ orderId: plain }]);

    // DAY's bill has `late`: matched, not missing, though recorded after midnight.
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv([payment(late, { at: DAY_END - 2_000 })]) });
    const day = await reconcileDay(world.services, DAY, "cli");
    expect(countedClasses(day)).toEqual({});
    expect(day.totals?.ours).toEqual({ paymentCount: 1, paymentAmount: MUG, refundCount: 0, refundAmount: 0 });

    // Without it in DAY's bill, `late` is DAY's missing payment (inside the 15 minutes after midnight).
    world.fake.billFiles.set(DAY, { kind: "none" });
    const without = await reconcileDay(world.services, DAY, "cli");
    expect(countedClasses(without)).toEqual({ payment_missing_from_bill: 1 });
    expect(await world.items()).toMatchObject([{ orderId: late }]);
  });

  it("reads a bill split into 1-byte chunks (characters and lines across chunks) exactly as a whole one", async () => {
    const orders = [await world.order(), await world.order(2), await world.order()];
    for (const id of orders.slice(0, 2)) await world.payByNotify(id);
    const csv = buildBillCsv([payment(orders[0] ?? ""), payment(orders[1] ?? "", { amount: 2 * MUG }), payment("never-created", { transactionId: "4200000000000000000009" })]);
    world.now = NEXT_MORNING;
    world.fake.billFiles.set(DAY, { kind: "file", csv });
    const whole = await reconcileDay(world.services, DAY, "cli");
    const wholeItems = await world.items();
    world.fake.billFiles.set(DAY, { kind: "file", csv, chunkBytes: 1 });
    const split = await reconcileDay(world.services, DAY, "cli");
    expect(split).toMatchObject({ state: "succeeded", attempt: 2 });
    expect(split.totals).toEqual(whole.totals);
    expect(split.differences).toEqual(whole.differences);
    expect(countedClasses(split)).toEqual({ unknown_payment: 1 });
    expect((await world.items()).map(({ id: _id, ...rest }) => rest)).toEqual(wholeItems.map(({ id: _id, ...rest }) => rest));
  });

  it("stores at most maxItems items but counts every difference", async () => {
    world.fake.billFiles.set(DAY, {
      kind: "file",
      csv: buildBillCsv(Array.from({ length: 5 }, (_, i) => payment(`stranger-${i}`, { transactionId: `42000000000000000001${i}` }))),
    });
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "cli", { maxItems: 2 });
    expect(countedClasses(run)).toEqual({ unknown_payment: 5 });
    expect((await world.items()).map((i) => i.billLine)).toEqual([2, 3]);
  });
});
