// POST /api/admin/reconciliations/:date/run through real HTTP and the real engine on both databases, with a
// fake v2 gateway serving the bills: 200 with the finished result (a day without a bill, a bill with a
// payment we never made, a bill not ready yet), a re-run replacing the day's items, the forced 202 and
// the GET that then shows the run finished, and the 202 when another process holds the day.
import type { ReconciliationDetailResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBillCsv } from "../support/bill-csv.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { insertRun, NOW, startReconciliationApp, type ReconciliationApp } from "./routes-harness.js";

/** A v2 trade bill of one payment of 1.00 CNY at 10:00 Beijing on `date`, for an order this API never made. */
function billOfUnknownPayment(date: string, orderId: string): string {
  return buildBillCsv([{ kind: "payment", at: `${date} 10:00:00`, orderId, transactionId: "4200000000202603090000000001", amount: 100 }]);
}

describe.each(DATABASES)("POST /api/admin/reconciliations/:date/run on %s", (kind) => {
  let database: TestDatabase;
  let app: ReconciliationApp;
  let slow: ReconciliationApp;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await startReconciliationApp(database, { env: { RECONCILE_RETRY_MINUTES: "7" } });
    // The same API with a route that waits only 50 ms (a held bill download keeps its run going past it) and a 45 s lease.
    slow = await startReconciliationApp(database, { waitMs: 50, env: { RECONCILE_LEASE_SECONDS: "45" } });
  });
  afterAll(async () => {
    await slow.close();
    await app.close();
    await database.close();
  });

  const detail = (body: Record<string, unknown>): ReconciliationDetailResponse => body as unknown as ReconciliationDetailResponse;

  it("answers 200 with the finished run of a day without a bill: a clean, empty run", async () => {
    const answer = await app.request("POST", "/api/admin/reconciliations/2026-03-01/run");
    expect(answer.status, answer.text).toBe(200);
    const { run, items, nextCursor } = detail(answer.body);
    expect(run).toMatchObject({ date: "2026-03-01", state: "succeeded", trigger: "admin", attempt: 1, bill: "none", error: null });
    expect(run.finishedAt).not.toBeNull();
    expect(Object.values(run.differences).every((count) => count === 0)).toBe(true);
    expect(items).toEqual([]);
    expect(nextCursor).toBeNull();
    const read = await app.request("GET", "/api/admin/reconciliations/2026-03-01");
    expect(detail(read.body).run).toEqual(run);
  });

  it("answers 200 with the items of a bill line we never made, and a re-run replaces them", async () => {
    app.gateway.billFiles.set("2026-03-02", { kind: "file", csv: billOfUnknownPayment("2026-03-02", "P-NEVER-MADE-1") });
    const first = await app.request("POST", "/api/admin/reconciliations/2026-03-02/run");
    expect(first.status, first.text).toBe(200);
    expect(detail(first.body).run).toMatchObject({ state: "succeeded", bill: "file", attempt: 1, differences: { unknown_payment: 1 } });
    expect(detail(first.body).items).toMatchObject([{ class: "unknown_payment", resolution: "flagged", orderId: "P-NEVER-MADE-1", billLine: expect.any(Number) as number }]);
    const again = await app.request("POST", "/api/admin/reconciliations/2026-03-02/run");
    expect(again.status, again.text).toBe(200);
    expect(detail(again.body).run).toMatchObject({ state: "succeeded", attempt: 2, differences: { unknown_payment: 1 } });
    expect(detail(again.body).items.map((item) => item.orderId)).toEqual(["P-NEVER-MADE-1"]);
    const stored = await database.db.selectFrom("reconciliation_items").select("order_id").where("bill_date", "=", "2026-03-02").execute();
    expect(stored).toEqual([{ order_id: "P-NEVER-MADE-1" }]);
  });

  it("answers 200 with a failed run when the bill is not ready yet, naming the reason", async () => {
    app.gateway.billFiles.set("2026-03-03", { kind: "not-ready" });
    const answer = await app.request("POST", "/api/admin/reconciliations/2026-03-03/run");
    expect(answer.status, answer.text).toBe(200);
    expect(detail(answer.body).run).toMatchObject({ state: "failed", error: { code: "BILL_NOT_READY" }, totals: null });
  });

  it("answers 202 with the running run when it takes longer than the wait; the GET then shows it finished", async () => {
    slow.hold();
    const answer = await slow.request("POST", "/api/admin/reconciliations/2026-03-04/run");
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toMatchObject({ run: { date: "2026-03-04", state: "running", trigger: "admin", attempt: 1, finishedAt: null }, items: [], nextCursor: null });
    // The run holds the day for RECONCILE_LEASE_SECONDS.
    const held = await database.db.selectFrom("reconciliation_runs").select("lease_expires_at").where("bill_date", "=", "2026-03-04").executeTakeFirstOrThrow();
    expect(held.lease_expires_at).toBe(new Date(NOW + 45_000).toISOString());
    slow.release();
    await expect.poll(async () => detail((await slow.request("GET", "/api/admin/reconciliations/2026-03-04")).body).run.state, { timeout: 10_000 }).toBe("succeeded");
  });

  it("schedules the retry of a failed run RECONCILE_RETRY_MINUTES later", async () => {
    app.gateway.billFiles.set("2026-03-06", { kind: "not-ready" });
    const answer = await app.request("POST", "/api/admin/reconciliations/2026-03-06/run");
    expect(answer.status, answer.text).toBe(200);
    expect(detail(answer.body).run).toMatchObject({ state: "failed", error: { code: "BILL_NOT_READY" } });
    const row = await database.db.selectFrom("reconciliation_runs").select("next_attempt_at").where("bill_date", "=", "2026-03-06").executeTakeFirstOrThrow();
    expect(row.next_attempt_at).toBe(new Date(NOW + 7 * 60_000).toISOString());
  });

  it("answers 202 with the day as it stands when another process holds it, and starts nothing", async () => {
    await insertRun(database, "2026-03-05", "running", { leaseOwner: "another-process", leaseExpiresAt: new Date(NOW + 300_000).toISOString() });
    const downloads = app.gateway.calls.filter((call) => call.method === "openBill").length;
    const answer = await app.request("POST", "/api/admin/reconciliations/2026-03-05/run");
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toMatchObject({ run: { date: "2026-03-05", state: "running", trigger: "schedule", attempt: 1 }, items: [], nextCursor: null });
    expect(app.gateway.calls.filter((call) => call.method === "openBill")).toHaveLength(downloads);
  });
});
