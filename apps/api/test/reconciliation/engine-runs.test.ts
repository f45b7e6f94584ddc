// Runs of the reconciliation engine as a whole on both databases: failures that change nothing, re-runs,
// one run per day across processes (the lease, its takeover, a stale holder), and a busy day to the minor unit.
import type { ReconciliationErrorCode } from "@pay/core/contract";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { finishRun, LeaseLostError } from "../../src/db/reconciliation.js";
import type { BillDownload, GatewayResult } from "../../src/gateway/port.js";
import { reconcileDay, reconciliationsEnded, startReconciliation } from "../../src/services/reconciliation/engine.js";
import { buildBillCsv, type BillLine } from "../support/bill-csv.js";
import { DATABASES } from "../support/databases.js";
import { FAKE_MERCHANT, FAKE_USER } from "../support/fake-app.js";
import { pendingOrderRow, processingRefundRow } from "../support/rows.js";
import { countedClasses, createEngineWorld, DAY, DAY_END, NEXT_MORNING, NOON, withoutIds, type EngineWorld } from "./engine-harness.js";

const MUG = 3990;
const HOUR = 3600_000;

describe.each(DATABASES)("reconciliation runs on %s", (kind) => {
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

  /** A day with a lost notify (paid_not_recorded, recoverable), an unknown payment and a payment missing from the bill. */
  async function dayWithDifferences(): Promise<{ lost: string; lines: BillLine[] }> {
    const lost = await world.order();
    world.fake.pay(lost);
    const missing = await world.order();
    await world.payByNotify(missing);
    return { lost, lines: [payment(lost), payment("never-created", { transactionId: "4200000000000000000001", amount: 100 })] };
  }

  it("re-running a day is idempotent: the same items, replaced, with the attempt counted", async () => {
    const { lines } = await dayWithDifferences();
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv(lines) });
    world.now = NEXT_MORNING;
    const first = await reconcileDay(world.services, DAY, "schedule");
    expect(countedClasses(first)).toEqual({ paid_not_recorded: 1, unknown_payment: 1, payment_missing_from_bill: 1 });
    const firstItems = await world.items();
    const after = await world.snapshot();

    world.now = NEXT_MORNING + HOUR;
    const second = await reconcileDay(world.services, DAY, "admin");
    expect(second).toMatchObject({ attempt: 2, state: "succeeded", trigger: "admin", resultAt: new Date(NEXT_MORNING + HOUR).toISOString() });
    // The recovered payment is now matched: the second run finds only what still differs.
    expect(countedClasses(second)).toEqual({ unknown_payment: 1, payment_missing_from_bill: 1 });
    expect(second.totals).toEqual(first.totals);
    const secondItems = await world.items();
    expect(withoutIds(secondItems)).toEqual(withoutIds(firstItems.filter((i) => i.class !== "paid_not_recorded")));
    expect(Math.min(...secondItems.map((i) => i.id))).toBeGreaterThan(Math.max(...firstItems.map((i) => i.id)));
    expect(await world.snapshot()).toEqual(after);

    const third = await reconcileDay(world.services, DAY, "cli");
    expect(third.attempt).toBe(3);
    expect(withoutIds(await world.items())).toEqual(withoutIds(secondItems));
    expect(await world.database.db.selectFrom("reconciliation_bill_rows").selectAll().execute()).toEqual([]);
  });

  it.each<[string, ReconciliationErrorCode, (lines: BillLine[]) => { csv: string; hashOk?: boolean }]>([
    ["malformed", "BILL_MALFORMED", (lines) => ({ csv: buildBillCsv(lines).replace("`SUCCESS", "SUCCESS") })],
    ["truncated", "BILL_MALFORMED", (lines) => ({ csv: buildBillCsv(lines).split("总交易单数")[0] ?? "" })],
    ["in mixed currencies", "BILL_MALFORMED", (lines) => ({ csv: buildBillCsv([...lines, payment("usd-1", { currency: "USD", transactionId: "4200000000000000000005" })]) })],
    [
      "of another merchant",
      "BILL_WRONG_MERCHANT",
      (lines) => ({ csv: buildBillCsv([...lines, payment("other-1", { mchId: "1900000999", transactionId: "4200000000000000000006" })]) }),
    ],
    [
      "of another sub-merchant",
      "BILL_WRONG_MERCHANT",
      (lines) => ({ csv: buildBillCsv([...lines, payment("other-2", { subMchId: "1900000888", transactionId: "4200000000000000000007" })]) }),
    ],
    ["of another day", "BILL_WRONG_DAY", (lines) => ({ csv: buildBillCsv([...lines, payment("late-1", { at: DAY_END, transactionId: "4200000000000000000008" })]) })],
    ["failing its hash", "BILL_HASH_MISMATCH", (lines) => ({ csv: buildBillCsv(lines), hashOk: false })],
  ])("a bill %s fails the run with %s and changes nothing; the last success stays", async (_what, code, bill) => {
    const { lines } = await dayWithDifferences();
    world.now = NEXT_MORNING;
    const good = await reconcileDay(world.services, DAY, "schedule");
    const goodItems = await world.items();
    // The lost payment's twin: paid at WeChat Pay, the notify lost, in the bad bill. The run must not recover it.
    const twin = await world.order();
    world.fake.pay(twin);
    const before = await world.snapshot();
    world.fake.billFiles.set(DAY, { kind: "file", ...bill([...lines, payment(twin)]) });
    const queries = world.fake.calls.filter((c) => c.method === "queryOrder").length;

    const run = await reconcileDay(world.services, DAY, "schedule");
    expect(run).toMatchObject({ state: "failed", attempt: 2, error: { code }, finishedAt: new Date(NEXT_MORNING).toISOString() });
    expect(run.totals).toEqual(good.totals);
    expect(run.differences).toEqual(good.differences);
    expect(run.resultAt).toBe(good.resultAt);
    expect(await world.snapshot()).toEqual(before);
    expect(world.fake.calls.filter((c) => c.method === "queryOrder").length).toBe(queries);
    expect(await world.items()).toEqual(goodItems);
    expect(await world.database.db.selectFrom("reconciliation_bill_rows").selectAll().execute()).toEqual([]);
    const row = await world.database.db.selectFrom("reconciliation_runs").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ lease_owner: null, lease_expires_at: null, next_attempt_at: new Date(NEXT_MORNING + 6 * HOUR).toISOString() });
  });

  it.each<[string, ReconciliationErrorCode, (w: EngineWorld) => void]>([
    ["not made yet", "BILL_NOT_READY", (w) => w.fake.billFiles.set(DAY, { kind: "not-ready" })],
    ["not downloadable", "BILL_UNAVAILABLE", (w) => w.fake.failNext("openBill", { kind: "network", message: "connect ECONNREFUSED" })],
  ])("a bill %s fails the run with %s, retried after the retry interval", async (_what, code, arrange) => {
    arrange(world);
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "schedule", { retryMs: 10 * 60_000 });
    expect(run).toMatchObject({ state: "failed", attempt: 1, bill: null, totals: null, resultAt: null, error: { code } });
    const row = await world.database.db.selectFrom("reconciliation_runs").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ next_attempt_at: new Date(NEXT_MORNING + 10 * 60_000).toISOString(), lease_owner: null });
  });

  it("a body that breaks off mid-download fails BILL_UNAVAILABLE", async () => {
    const gateway = {
      ...world.fake,
      openBill: (): Promise<GatewayResult<BillDownload>> => {
        async function* body(): AsyncGenerator<Uint8Array> {
          yield new TextEncoder().encode(buildBillCsv([]).slice(0, 40));
          await Promise.resolve();
          throw new Error("socket hang up");
        }
        return Promise.resolve({ ok: true, value: { kind: "file", body: body(), finish: () => ({ ok: true, value: undefined }) } });
      },
    };
    const services = await world.process(gateway);
    world.now = NEXT_MORNING;
    const run = await reconcileDay(services, DAY, "cli");
    expect(run.error).toEqual({ code: "BILL_UNAVAILABLE", message: expect.stringContaining("socket hang up") as string });
  });

  it("an unexpected error ends the run as INTERNAL with a message that names no cause; done never rejects", async () => {
    const gateway = {
      ...world.fake,
      openBill: (): Promise<GatewayResult<BillDownload>> => {
        async function* body(): AsyncGenerator<Uint8Array> {
          await Promise.resolve();
          yield new TextEncoder().encode(buildBillCsv([]));
        }
        const finish = (): GatewayResult<undefined> => {
          throw new TypeError("secret-bearing internal detail");
        };
        return Promise.resolve({ ok: true, value: { kind: "file", body: body(), finish } });
      },
    };
    const services = await world.process(gateway);
    world.now = NEXT_MORNING;
    const run = await reconcileDay(services, DAY, "cli");
    expect(run).toMatchObject({ state: "failed", error: { code: "INTERNAL" } });
    expect(run.error?.message).not.toContain("secret-bearing");
    const row = await world.database.db.selectFrom("reconciliation_runs").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ error_code: "INTERNAL", next_attempt_at: new Date(NEXT_MORNING + 30 * 60_000).toISOString(), lease_owner: null });
  });

  it("two processes starting the same day at once: one runs it, the other is told it is running", async () => {
    world.fake.billFiles.set(DAY, { kind: "none" });
    const other = await world.process();
    world.now = NEXT_MORNING;
    const starts = await Promise.all([
      startReconciliation(world.services, DAY, "schedule", { ownerId: "process-a" }),
      startReconciliation(other, DAY, "schedule", { ownerId: "process-b" }),
    ]);
    expect(starts.map((s) => s.started).sort()).toEqual([false, true]);
    const waiting = starts.find((s) => !s.started);
    expect(waiting?.started === false ? waiting.run : undefined).toMatchObject({ state: "running", attempt: 1 });
    const running = starts.find((s) => s.started);
    expect(running?.started === true ? await running.done : undefined).toMatchObject({ state: "succeeded", attempt: 1 });
    expect(await world.database.db.selectFrom("reconciliation_runs").select(["attempt", "state"]).execute()).toEqual([{ attempt: 1, state: "succeeded" }]);
  });

  it("reconciliationsEnded waits for every run the process started, and answers at once when none is running", async () => {
    const { lines } = await dayWithDifferences();
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv(lines) });
    await reconciliationsEnded(world.services);
    const { services: stalled, release } = await world.stalledProcess();
    world.now = NEXT_MORNING;
    expect((await startReconciliation(stalled, DAY, "admin")).started).toBe(true);
    let ended = false;
    const waiting = reconciliationsEnded(stalled).then(() => (ended = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toBe(false);
    release();
    await waiting;
    expect(await world.database.db.selectFrom("reconciliation_runs").select(["state", "lease_owner"]).execute()).toEqual([{ state: "succeeded", lease_owner: null }]);
  });

  it("an expired lease is taken over; the stale holder then changes nothing and answers LEASE_LOST", async () => {
    const { lost, lines } = await dayWithDifferences();
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv(lines) });
    // Process A stalls before its download (a long GC pause, a hung connection).
    const { services: stalled, release } = await world.stalledProcess();
    world.now = NEXT_MORNING;
    const a = await startReconciliation(stalled, DAY, "schedule", { ownerId: "process-a", leaseMs: 60_000 });
    expect(a.started).toBe(true);
    // Still held: B is told it runs.
    expect(await startReconciliation(world.services, DAY, "admin", { ownerId: "process-b" })).toMatchObject({ started: false, run: { state: "running" } });

    world.now = NEXT_MORNING + 61_000;
    const b = await reconcileDay(world.services, DAY, "admin", { ownerId: "process-b" });
    expect(b).toMatchObject({ state: "succeeded", attempt: 2, trigger: "admin" });
    const itemsOfB = await world.items();
    const afterB = await world.snapshot();
    expect(afterB.orders).toContainEqual(expect.objectContaining({ id: lost, status: "paid" }));

    release();
    const staleRun = a.started ? await a.done : undefined;
    expect(staleRun).toMatchObject({ state: "failed", error: { code: "LEASE_LOST" } });
    const row = await world.database.db.selectFrom("reconciliation_runs").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "succeeded", attempt: 2, error_code: null, lease_owner: null });
    expect(await world.items()).toEqual(itemsOfB);
    expect(await world.snapshot()).toEqual(afterB);
    expect(await world.database.db.selectFrom("reconciliation_bill_rows").selectAll().execute()).toEqual([]);

    // The final write itself is guarded: a stale attempt's finish rolls back whole.
    await expect(
      finishRun(
        world.database.db,
        { date: DAY, attempt: 1, owner: "process-a" },
        { bill: "none", protocol: "v2", totals: "{}", differences: "{}", now: new Date(world.now).toISOString() },
        [{ bill_date: DAY, class: "unknown_payment", resolution: "flagged", detail: "stale", created_at: new Date(world.now).toISOString() }],
      ),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await world.items()).toEqual(itemsOfB);
  });

  it("a run taken over before its repairs repairs nothing, even when the day's new attempt failed", async () => {
    const { lost, lines } = await dayWithDifferences();
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv(lines) });
    const { services: stalled, release } = await world.stalledProcess();
    const notReady = await world.process({ ...world.fake, openBill: () => Promise.resolve({ ok: true, value: { kind: "not-ready" } }) });
    world.now = NEXT_MORNING;
    const a = await startReconciliation(stalled, DAY, "schedule", { ownerId: "process-a", leaseMs: 60_000 });
    world.now = NEXT_MORNING + 61_000;
    expect(await reconcileDay(notReady, DAY, "admin", { ownerId: "process-b" })).toMatchObject({ state: "failed", attempt: 2, error: { code: "BILL_NOT_READY" } });
    const before = await world.snapshot();
    const queries = world.fake.calls.filter((c) => c.method === "queryOrder").length;

    release();
    expect(a.started ? await a.done : undefined).toMatchObject({ state: "failed", error: { code: "LEASE_LOST" } });
    expect(world.fake.calls.filter((c) => c.method === "queryOrder").length).toBe(queries);
    expect(await world.snapshot()).toEqual(before);
    expect(before.orders).toContainEqual(expect.objectContaining({ id: lost, status: "pending" }));
    expect(await world.database.db.selectFrom("reconciliation_runs").select(["attempt", "state", "error_code"]).execute()).toEqual([
      { attempt: 2, state: "failed", error_code: "BILL_NOT_READY" },
    ]);
  });

  it("a heartbeat keeps the lease of a run that takes long, so nobody takes the day over", async () => {
    world.fake.billFiles.set(DAY, { kind: "none" });
    const { services: slow, release } = await world.stalledProcess();
    world.now = NEXT_MORNING;
    const a = await startReconciliation(slow, DAY, "schedule", { ownerId: "process-a", leaseMs: 3_000 });
    world.now = NEXT_MORNING + 2_000;
    // The heartbeat runs every second (a third of the lease, at least one second).
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const row = await world.database.db.selectFrom("reconciliation_runs").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ lease_owner: "process-a", lease_expires_at: new Date(NEXT_MORNING + 5_000).toISOString() });
    world.now = NEXT_MORNING + 4_000;
    expect(await startReconciliation(world.services, DAY, "admin", { ownerId: "process-b" })).toMatchObject({ started: false });
    release();
    expect(a.started ? await a.done : undefined).toMatchObject({ state: "succeeded", attempt: 1, trigger: "schedule" });
  });

  it("a day of 3,000 payments and 300 refunds matches to the minor unit", async () => {
    const at = (i: number): string => new Date(NOON - 11 * HOUR + i * 1000).toISOString();
    const amountOf = (i: number): number => 1 + ((i * 7919) % 250_000);
    const orders = Array.from({ length: 3000 }, (_, i) =>
      pendingOrderRow(`busy-${String(i).padStart(5, "0")}`, FAKE_USER, {
        status: i % 10 === 0 ? "refunded" : "paid",
        total_fee: amountOf(i),
        appid: FAKE_MERCHANT.appId,
        mch_id: FAKE_MERCHANT.mchId,
        transaction_id: `42000000${String(i).padStart(14, "0")}`,
        paid_at: at(i),
      }),
    );
    for (let s = 0; s < orders.length; s += 500)
      await world.database.db
        .insertInto("orders")
        .values(orders.slice(s, s + 500))
        .execute();
    const refunds = orders
      .filter((_, i) => i % 10 === 0)
      .map((order, n) => processingRefundRow(`refund-${n}`, order.id, { status: "succeeded", refund_fee: order.total_fee, submitted: 1, succeeded_at: at(3000 + n) }));
    for (let s = 0; s < refunds.length; s += 500)
      await world.database.db
        .insertInto("refunds")
        .values(refunds.slice(s, s + 500))
        .execute();
    const lines: BillLine[] = [
      ...orders.map((o, i) => ({ kind: "payment" as const, at: Date.parse(at(i)), orderId: o.id, transactionId: o.transaction_id ?? "", amount: o.total_fee })),
      ...refunds.map((r, n) => ({
        kind: "refund" as const,
        at: Date.parse(at(3000 + n)),
        orderId: r.order_id,
        transactionId: "",
        refundId: r.id,
        orderAmount: r.refund_fee,
        amount: r.refund_fee,
      })),
    ];
    world.fake.billFiles.set(DAY, { kind: "file", csv: buildBillCsv(lines), chunkBytes: 4096 });
    world.now = NEXT_MORNING;
    const run = await reconcileDay(world.services, DAY, "cli");
    expect(run.state).toBe("succeeded");
    expect(countedClasses(run)).toEqual({});
    const paid = orders.reduce((sum, o) => sum + o.total_fee, 0);
    const refunded = refunds.reduce((sum, r) => sum + r.refund_fee, 0);
    expect(run.totals?.bill).toEqual({ paymentCount: 3000, paymentAmount: paid, refundCount: 300, refundAmount: refunded });
    expect(run.totals?.ours).toEqual(run.totals?.bill);
    expect(run.totals?.summary).toEqual({ lineCount: 3300, paymentAmount: paid, refundAmount: refunded, fee: (paid - refunded) * 6 });
    expect(run.totals?.feeLines).toBe(run.totals?.feeSummary);
    expect(await world.items()).toEqual([]);
  });
});
