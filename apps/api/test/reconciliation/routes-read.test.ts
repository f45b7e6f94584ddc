// The reconciliation read routes through real HTTP on both databases: the admin token, listing days
// (defaults, bounds), one day with its items a page at a time, 404 for a day that never ran, and every
// bad date refused as a 400 naming its field (never a 500).
import type { ReconciliationDetailResponse, ReconciliationListResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { insertRun, startReconciliationApp, type Answer, type ReconciliationApp } from "./routes-harness.js";

function expectRefused(answer: Answer, status: number, code: string, field?: string): void {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body).toMatchObject({ error: { code, ...(field === undefined ? {} : { field }) } });
}

describe.each(DATABASES)("reconciliation read routes on %s", (kind) => {
  let database: TestDatabase;
  let app: ReconciliationApp;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await startReconciliationApp(database);
    await insertRun(database, "2026-03-09", "succeeded", { items: 5 });
    await insertRun(database, "2026-03-08", "failed");
    await insertRun(database, "2026-02-07", "succeeded");
    await insertRun(database, "2026-02-06", "succeeded");
    await insertRun(database, "2025-03-09", "succeeded");
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const days = (answer: Answer): string[] => (answer.body as unknown as ReconciliationListResponse).runs.map((run) => run.date);

  it.each([
    ["GET", "/api/admin/reconciliations"],
    ["GET", "/api/admin/reconciliations/2026-03-09"],
    ["POST", "/api/admin/reconciliations/2026-03-09/run"],
  ])("%s %s needs the admin token: none is 401, another 403", async (method, path) => {
    expectRefused(await app.request(method, path, { token: null }), 401, "UNAUTHORIZED");
    expectRefused(await app.request(method, path, { token: "not-the-admin-token-at-all" }), 403, "FORBIDDEN");
  });

  it("lists the 31 days ending yesterday (Beijing) by default, newest first", async () => {
    const answer = await app.request("GET", "/api/admin/reconciliations");
    expect(answer.status, answer.text).toBe(200);
    expect(days(answer)).toEqual(["2026-03-09", "2026-03-08", "2026-02-07"]);
    const [latest] = (answer.body as unknown as ReconciliationListResponse).runs;
    expect(latest).toMatchObject({ date: "2026-03-09", state: "succeeded", bill: "file", error: null, differences: { unknown_payment: 5, amount_mismatch: 0 } });
    expect((answer.body as unknown as ReconciliationListResponse).runs[1]).toMatchObject({
      state: "failed",
      totals: null,
      error: { code: "BILL_NOT_READY", message: "The bill of the day is not ready yet." },
    });
  });

  it("lists from..to, both included; from alone up to yesterday; to alone the 31 days ending there", async () => {
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2026-02-06&to=2026-02-07"))).toEqual(["2026-02-07", "2026-02-06"]);
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2026-03-09&to=2026-03-09"))).toEqual(["2026-03-09"]);
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2026-02-07"))).toEqual(["2026-03-09", "2026-03-08", "2026-02-07"]);
    expect(days(await app.request("GET", "/api/admin/reconciliations?to=2026-03-08"))).toEqual(["2026-03-08", "2026-02-07", "2026-02-06"]);
    const year = ["2026-03-09", "2026-03-08", "2026-02-07", "2026-02-06", "2025-03-09"];
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2025-03-09&to=2026-03-09"))).toEqual(year);
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2025-03-09"))).toEqual(year);
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2025-03-08"))).toEqual(["2026-03-08", "2026-02-07", "2026-02-06", "2025-03-09"]);
    expect(days(await app.request("GET", "/api/admin/reconciliations?from=2025-01-01&to=2025-01-31"))).toEqual([]);
  });

  it.each([
    ["?from=2026-03-09&to=2026-03-08", "from", "must not be after to"],
    ["?from=2025-03-08&to=2026-03-09", "to", "at most 366 days"],
    ["?to=2026-03-10", "to", "2026-03-10 is not over yet in Beijing"],
    ["?from=2026-04-01", "from", "2026-04-01 is not over yet in Beijing"],
    ["?from=2026-02-30", "from", "is not a real date"],
    ["?to=20260301", "to", "YYYY-MM-DD"],
    ["?day=2026-03-01", "query", "unknown field(s) day"],
  ])("refuses the list query %s: 400 VALIDATION_FAILED naming %s", async (query, field, message) => {
    const answer = await app.request("GET", `/api/admin/reconciliations${query}`);
    expectRefused(answer, 400, "VALIDATION_FAILED", field);
    expect((answer.body as { error: { message: string } }).error.message).toContain(message);
  });

  it("reads one day: its run and its items oldest first, a page at a time, one class at a time", async () => {
    const first = await app.request("GET", "/api/admin/reconciliations/2026-03-09?limit=2");
    expect(first.status, first.text).toBe(200);
    const page1 = first.body as unknown as ReconciliationDetailResponse;
    expect(page1.run).toMatchObject({ date: "2026-03-09", state: "succeeded" });
    expect(page1.items.map((item) => item.billLine)).toEqual([1, 2]);
    expect(page1.items[0]).toEqual({
      id: expect.any(Number) as number,
      class: "unknown_payment",
      resolution: "flagged",
      orderId: "P-2026-03-09-1",
      refundId: null,
      transactionId: "42001",
      billLine: 1,
      billAmount: 100,
      billCurrency: "CNY",
      ourAmount: null,
      ourCurrency: null,
      detail: "line 1",
    });
    expect(page1.nextCursor).not.toBeNull();
    const page2 = (await app.request("GET", `/api/admin/reconciliations/2026-03-09?limit=2&cursor=${page1.nextCursor ?? ""}`)).body as unknown as ReconciliationDetailResponse;
    expect(page2.items.map((item) => item.billLine)).toEqual([3, 4]);
    const page3 = (await app.request("GET", `/api/admin/reconciliations/2026-03-09?limit=2&cursor=${page2.nextCursor ?? ""}`)).body as unknown as ReconciliationDetailResponse;
    expect(page3.items.map((item) => item.billLine)).toEqual([5]);
    expect(page3.nextCursor).toBeNull();
    const all = (await app.request("GET", "/api/admin/reconciliations/2026-03-09")).body as unknown as ReconciliationDetailResponse;
    expect(all.items).toHaveLength(5);
    expect(all.nextCursor).toBeNull();
    const mismatches = (await app.request("GET", "/api/admin/reconciliations/2026-03-09?class=amount_mismatch")).body as unknown as ReconciliationDetailResponse;
    expect(mismatches.items.map((item) => [item.class, item.billLine])).toEqual([
      ["amount_mismatch", 2],
      ["amount_mismatch", 4],
    ]);
  });

  it("reads a failed day without items", async () => {
    const answer = await app.request("GET", "/api/admin/reconciliations/2026-03-08");
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ run: { state: "failed", error: { code: "BILL_NOT_READY" } }, items: [], nextCursor: null });
  });

  it("answers 404 NOT_FOUND for a day that never ran", async () => {
    const answer = await app.request("GET", "/api/admin/reconciliations/2026-03-01");
    expectRefused(answer, 404, "NOT_FOUND");
    expect(answer.text).toContain("POST /api/admin/reconciliations/2026-03-01/run");
  });

  it.each([
    ["GET", "/api/admin/reconciliations/2026-02-30", "date", "is not a real date"],
    ["GET", "/api/admin/reconciliations/1999-12-31", "date", "is not a real date"],
    ["GET", "/api/admin/reconciliations/yesterday", "date", "YYYY-MM-DD"],
    ["GET", "/api/admin/reconciliations/2026-03-10", "date", "2026-03-10 is not over yet in Beijing (today there is 2026-03-10)"],
    ["GET", "/api/admin/reconciliations/2027-01-01", "date", "is not over yet"],
    ["GET", "/api/admin/reconciliations/2026-03-09?limit=501", "limit", ""],
    ["GET", "/api/admin/reconciliations/2026-03-09?limit=0", "limit", ""],
    ["GET", "/api/admin/reconciliations/2026-03-09?class=lost", "class", ""],
    ["GET", "/api/admin/reconciliations/2026-03-09?cursor=bm9wZQ", "cursor", "not a cursor this API returned"],
    ["POST", "/api/admin/reconciliations/2026-03-10/run", "date", "2026-03-10 is not over yet in Beijing"],
    ["POST", "/api/admin/reconciliations/2026-12-01/run", "date", "is not over yet"],
    ["POST", "/api/admin/reconciliations/2026-13-01/run", "date", "is not a real date"],
  ])("%s %s: 400 VALIDATION_FAILED naming %s", async (method, path, field, message) => {
    const answer = await app.request(method, path);
    expectRefused(answer, 400, "VALIDATION_FAILED", field);
    expect((answer.body as { error: { message: string } }).error.message).toContain(message);
  });

  it("takes the Beijing day, not the UTC one: at 23:30 UTC on 2026-03-09 it is already 2026-03-10 in Beijing", async () => {
    app.now = Date.UTC(2026, 2, 9, 23, 30);
    try {
      expectRefused(await app.request("GET", "/api/admin/reconciliations/2026-03-10"), 400, "VALIDATION_FAILED", "date");
      expect((await app.request("GET", "/api/admin/reconciliations/2026-03-09")).status).toBe(200);
      app.now = Date.UTC(2026, 2, 9, 15, 30);
      expectRefused(await app.request("GET", "/api/admin/reconciliations/2026-03-09"), 400, "VALIDATION_FAILED", "date");
    } finally {
      app.now = Date.UTC(2026, 2, 10, 4, 0, 0);
    }
  });
});
