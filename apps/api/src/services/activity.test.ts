import type { KyselyPlugin } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { captureLogs } from "../../test/support/captured-logs.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { FIXTURE_NOW, pendingOrderRow } from "../../test/support/rows.js";
import { createActivityRecorder, type ActivityEntry } from "./activity.js";
import { orderTimeline } from "./console/timeline.js";

const START = Date.UTC(2026, 0, 1, 4, 0, 0);

/** A plugin that counts the INSERTs into order_activity and can make the next `failures` of them fail. */
function insertSpy(): { plugin: KyselyPlugin; inserts: number[]; failures: number } {
  const spy = {
    inserts: [] as number[],
    failures: 0,
    plugin: {
      transformQuery(args) {
        const node = args.node as { kind: string; into?: { table?: { identifier?: { name?: string } } }; values?: { values?: readonly unknown[] } };
        if (node.kind === "InsertQueryNode" && node.into?.table?.identifier?.name === "order_activity") {
          if (spy.failures > 0) {
            spy.failures--;
            // A failure whose message quotes a value, as drivers do: it must not reach the log.
            throw Object.assign(new Error("insert failed near 'secret-detail-value'"), { code: "SQLITE_BUSY" });
          }
          spy.inserts.push(node.values?.values?.length ?? 0);
        }
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    } satisfies KyselyPlugin,
  };
  return spy;
}

const entry = (n: number): ActivityEntry => ({ kind: "order_query", orderId: `order-${n}`, protocol: "v2", outcome: "pending", detail: "sweep" });

describe.each(DATABASES)("the activity recorder on %s", (kind) => {
  let database: TestDatabase;
  let now = START;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom("order_activity").execute();
    now = START;
  });

  const rows = () => database.db.selectFrom("order_activity").selectAll().orderBy("id").execute();

  it("record() only buffers; flush() writes the batch in one multi-row INSERT with the injected time", async () => {
    const spy = insertSpy();
    const { logger } = captureLogs();
    const recorder = createActivityRecorder({ db: database.db.withPlugin(spy.plugin), clock: () => now, logger, intervalMs: 60_000 });
    recorder.record(entry(1));
    now += 1000;
    recorder.record({ kind: "pay_notify", protocol: "v3", outcome: "refused", reason: "SIGNATURE_INVALID" });
    recorder.record({ kind: "refund_notify", orderId: "order-2", refundId: "refund-2", outcome: "accepted", reason: "REFUND_SUCCEEDED", detail: "a\u0000b\nc" });
    expect(recorder.pending).toBe(3);
    expect(await rows()).toEqual([]);
    await recorder.flush();
    expect(spy.inserts).toEqual([3]);
    expect(recorder.pending).toBe(0);
    expect(await rows()).toMatchObject([
      { order_id: "order-1", refund_id: null, kind: "order_query", protocol: "v2", outcome: "pending", reason: null, detail: "sweep", at: new Date(START).toISOString() },
      { order_id: null, kind: "pay_notify", protocol: "v3", outcome: "refused", reason: "SIGNATURE_INVALID", detail: null, at: new Date(START + 1000).toISOString() },
      { order_id: "order-2", refund_id: "refund-2", kind: "refund_notify", outcome: "accepted", detail: "a b c" },
    ]);
    await recorder.close();
  });

  it("writes by itself after intervalMs, and at once when batchSize rows wait (batches of batchSize)", async () => {
    const spy = insertSpy();
    const { logger } = captureLogs();
    const timed = createActivityRecorder({ db: database.db.withPlugin(spy.plugin), clock: () => now, logger, intervalMs: 20 });
    timed.record(entry(1));
    await expect.poll(async () => (await rows()).length, { timeout: 2000 }).toBe(1);
    await timed.close();

    const full = createActivityRecorder({ db: database.db.withPlugin(spy.plugin), clock: () => now, logger, intervalMs: 60_000, batchSize: 4 });
    for (let n = 0; n < 10; n++) full.record(entry(n));
    // The fourth row started the write loop (no flush, no timer due for a minute); it takes batchSize rows at a
    // time until the buffer is empty, so the rows recorded while it ran went too, in batches of at most 4.
    await expect.poll(async () => (await rows()).length, { timeout: 2000 }).toBe(11);
    expect(spy.inserts).toEqual([1, 4, 4, 2]);
    expect(full.pending).toBe(0);
    await full.close();
  });

  it("keeps at most maxBuffered rows: the oldest are dropped, counted, and warned about once", async () => {
    const { logger, logs } = captureLogs();
    const dropped: number[] = [];
    const recorder = createActivityRecorder({ db: database.db, clock: () => now, logger, intervalMs: 60_000, batchSize: 100, maxBuffered: 5, onDropped: (n) => dropped.push(n) });
    for (let n = 0; n < 8; n++) recorder.record(entry(n));
    expect(recorder.pending).toBe(5);
    expect(dropped).toEqual([1, 1, 1]);
    expect(logs.filter((line) => line.includes("activity buffer full"))).toHaveLength(1);
    await recorder.flush();
    expect((await rows()).map((row) => row.order_id)).toEqual(["order-3", "order-4", "order-5", "order-6", "order-7"]);
    await recorder.close();
  });

  it("retries a failed insert once; a second failure drops the batch with an error line that quotes no value, and never throws", async () => {
    const spy = insertSpy();
    const { logger, logs } = captureLogs();
    const dropped: number[] = [];
    const recorder = createActivityRecorder({ db: database.db.withPlugin(spy.plugin), clock: () => now, logger, intervalMs: 60_000, onDropped: (n) => dropped.push(n) });
    spy.failures = 1;
    recorder.record(entry(1));
    await recorder.flush();
    expect(await rows()).toHaveLength(1);
    expect(logs.some((line) => line.includes("retrying once"))).toBe(true);

    spy.failures = 2;
    recorder.record({ ...entry(2), detail: "secret-detail-value" });
    await expect(recorder.flush()).resolves.toBeUndefined();
    expect(await rows()).toHaveLength(1);
    expect(dropped).toEqual([1]);
    const failure = logs.find((line) => line.includes("dropped (timeline rows only"));
    expect(failure).toContain("SQLITE_BUSY");
    expect(logs.join("\n")).not.toContain("secret-detail-value");
    await recorder.close();
  });

  it("close() writes what is buffered; later entries are dropped, never written", async () => {
    const { logger } = captureLogs();
    const dropped: number[] = [];
    const recorder = createActivityRecorder({ db: database.db, clock: () => now, logger, intervalMs: 60_000, onDropped: (n) => dropped.push(n) });
    recorder.record(entry(1));
    recorder.record(entry(2));
    await recorder.close();
    expect(await rows()).toHaveLength(2);
    recorder.record(entry(3));
    await recorder.flush();
    expect(await rows()).toHaveLength(2);
    expect(dropped).toEqual([1]);
  });

  it("repeated duplicates of one notify share one row with their count and the last time; nothing else coalesces, and a row taken by a write is never changed", async () => {
    const spy = insertSpy();
    const { logger } = captureLogs();
    const recorder = createActivityRecorder({ db: database.db.withPlugin(spy.plugin), clock: () => now, logger, intervalMs: 60_000 });
    const duplicate = (orderId: string): ActivityEntry => ({ kind: "pay_notify", protocol: "v2", orderId, outcome: "duplicate", reason: "DUPLICATE" });
    const iso = (offset: number): string => new Date(START + offset).toISOString();
    recorder.record(duplicate("order-a"));
    now += 1000;
    recorder.record(duplicate("order-a"));
    recorder.record(duplicate("order-b"));
    recorder.record({ ...duplicate("order-a"), protocol: "v3" });
    recorder.record({ kind: "pay_notify", protocol: "v2", orderId: "order-a", outcome: "accepted" });
    recorder.record({ kind: "pay_notify", protocol: "v2", orderId: "order-a", outcome: "accepted" });
    recorder.record({ kind: "pay_notify", protocol: "v2", orderId: "order-a", outcome: "refused", reason: "SIGNATURE_INVALID" });
    recorder.record({ kind: "pay_notify", protocol: "v2", orderId: "order-a", outcome: "refused", reason: "SIGNATURE_INVALID" });
    recorder.record({ kind: "refund_notify", protocol: "v2", orderId: "order-a", refundId: "refund-a", outcome: "duplicate", reason: "DUPLICATE" });
    now += 2000;
    recorder.record(duplicate("order-a"));
    recorder.record({ kind: "refund_notify", protocol: "v2", orderId: "order-a", refundId: "refund-a", outcome: "duplicate", reason: "DUPLICATE" });
    expect(recorder.pending).toBe(8);
    // The write takes the buffer; a repeat recorded while it runs starts a row of its own.
    const flushed = recorder.flush();
    now += 500;
    recorder.record(duplicate("order-a"));
    recorder.record(duplicate("order-a"));
    await flushed;
    await recorder.flush();
    expect(spy.inserts).toEqual([8, 1]);
    const shape = (await rows()).map(({ order_id, refund_id, protocol, outcome, reason, at, repeats, last_at }) => ({
      order_id,
      refund_id,
      protocol,
      outcome,
      reason,
      at,
      repeats,
      last_at,
    }));
    const a = { order_id: "order-a", refund_id: null, protocol: "v2" };
    expect(shape).toEqual([
      { ...a, outcome: "duplicate", reason: "DUPLICATE", at: iso(0), repeats: 3, last_at: iso(3000) },
      { ...a, order_id: "order-b", outcome: "duplicate", reason: "DUPLICATE", at: iso(1000), repeats: 1, last_at: null },
      { ...a, protocol: "v3", outcome: "duplicate", reason: "DUPLICATE", at: iso(1000), repeats: 1, last_at: null },
      { ...a, outcome: "accepted", reason: null, at: iso(1000), repeats: 1, last_at: null },
      { ...a, outcome: "accepted", reason: null, at: iso(1000), repeats: 1, last_at: null },
      { ...a, outcome: "refused", reason: "SIGNATURE_INVALID", at: iso(1000), repeats: 1, last_at: null },
      { ...a, outcome: "refused", reason: "SIGNATURE_INVALID", at: iso(1000), repeats: 1, last_at: null },
      { ...a, refund_id: "refund-a", outcome: "duplicate", reason: "DUPLICATE", at: iso(1000), repeats: 2, last_at: iso(3000) },
      { ...a, outcome: "duplicate", reason: "DUPLICATE", at: iso(3500), repeats: 2, last_at: iso(3500) },
    ]);
    await recorder.close();
  });

  it("the console timeline shows a coalesced row once, with how many notifies it stands for and when the last came", async () => {
    const { logger } = captureLogs();
    const userId = `timeline-user-${kind}`;
    const orderId = `TLR${kind}0001`;
    await database.db
      .insertInto("users")
      .values({ id: userId, openid: `o-${userId}`, created_at: FIXTURE_NOW })
      .onConflict((c) => c.doNothing())
      .execute();
    await database.db
      .insertInto("orders")
      .values(pendingOrderRow(orderId, userId))
      .onConflict((c) => c.doNothing())
      .execute();
    const order = await database.db.selectFrom("orders").selectAll().where("id", "=", orderId).executeTakeFirstOrThrow();
    const recorder = createActivityRecorder({ db: database.db, clock: () => now, logger, intervalMs: 60_000 });
    recorder.record({ kind: "pay_notify", protocol: "v2", orderId, outcome: "accepted" });
    now += 1000;
    for (let n = 0; n < 4; n++) {
      recorder.record({ kind: "pay_notify", protocol: "v2", orderId, outcome: "duplicate", reason: "DUPLICATE" });
      now += 250;
    }
    recorder.record({ kind: "refund_notify", protocol: "v2", orderId, refundId: "refund-t", outcome: "duplicate", reason: "DUPLICATE", detail: "names order x" });
    await recorder.close();
    const notifies = (await orderTimeline(database.db, order, [])).filter((entry) => entry.kind === "notify" || entry.kind === "refund_notify");
    expect(notifies).toEqual([
      { at: new Date(START).toISOString(), kind: "notify", outcome: "accepted", reason: null, detail: null, refundId: null, amount: null, currency: null },
      {
        at: new Date(START + 1000).toISOString(),
        kind: "notify",
        outcome: "duplicate",
        reason: "DUPLICATE",
        detail: `received 4 times, the last at ${new Date(START + 1750).toISOString()}`,
        refundId: null,
        amount: null,
        currency: null,
      },
      {
        at: new Date(START + 2000).toISOString(),
        kind: "refund_notify",
        outcome: "duplicate",
        reason: "DUPLICATE",
        detail: "names order x",
        refundId: "refund-t",
        amount: null,
        currency: null,
      },
    ]);
  });

  it("refuses bad options at construction", () => {
    const { logger } = captureLogs();
    expect(() => createActivityRecorder({ db: database.db, clock: () => now, logger, batchSize: 0 })).toThrow(RangeError);
  });
});
