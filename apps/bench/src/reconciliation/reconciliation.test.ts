// The reconciliation benchmark's parts at small scale: the seeded day read back through the API's schema,
// the bill server as a v2 client calls it (signed XML in, the streamed bill out, plain or gzip), the RSS
// sampler against a process of known size, and the check of the CLI's JSON against the model.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { buildDownloadBillFields, buildXml, createBillReader, parseBeijingTime, signParams, type BillSummary } from "@pay/core";
import { RECONCILIATION_CLASSES, type ReconciliationRunSummary } from "@pay/core/contract";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MERCHANT } from "../data/merchant.js";
import { resultProblems, runSummaryOf } from "../reconciliation.js";
import { startBillServer, type BillServer } from "./bill-server.js";
import { expectedDifferences, expectedTotals, reconDay, reconOrderId, REFUND_EVERY } from "./day.js";
import { statusField } from "./rss-sampler.js";
import { seedOpenids, seedReconciliationDay } from "./seed-day.js";
import { runTimedProcess } from "./timed-process.js";

const ORDERS = 2_000;
const day = reconDay("2026-12-01", ORDERS);
const DAY_START_MS = Date.parse("2026-11-30T16:00:00.000Z");
const DAY_END_MS = DAY_START_MS + 86_400_000;

describe("the reconciliation day seeded into a fresh, migrated SQLite file", () => {
  let dir: string;
  let db: BetterSqlite3.Database;
  let seeded: Awaited<ReturnType<typeof seedReconciliationDay>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-recon-test-"));
    const path = join(dir, "recon.sqlite");
    seeded = await seedReconciliationDay(path, day, { appId: MERCHANT.appId, mchId: MERCHANT.mchId, signType: MERCHANT.signType });
    db = new BetterSqlite3(path, { readonly: true });
  });

  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const one = <T>(sql: string): T => db.prepare(sql).get() as T;

  it("holds every order paid inside the Beijing day, with its payment event, and a refund of every 50th", () => {
    expect(seeded).toMatchObject({ users: 16, orders: ORDERS, paymentEvents: ORDERS, refunds: ORDERS / REFUND_EVERY });
    const totals = expectedTotals(day);
    const orders = one<{ n: number; amount: number; first: string; last: string }>(
      "select count(*) as n, sum(total_fee) as amount, min(paid_at) as first, max(paid_at) as last from orders where status = 'paid'",
    );
    expect(orders).toEqual({ n: totals.ours.paymentCount, amount: totals.ours.paymentAmount, first: new Date(DAY_START_MS).toISOString(), last: expect.any(String) as string });
    expect(Date.parse(orders.last)).toBeLessThan(DAY_END_MS);
    const refunds = one<{ n: number; amount: number; last: string }>(
      "select count(*) as n, sum(refund_fee) as amount, max(succeeded_at) as last from refunds where status = 'succeeded'",
    );
    expect(refunds).toMatchObject({ n: totals.ours.refundCount, amount: totals.ours.refundAmount });
    expect(Date.parse(refunds.last)).toBeLessThan(DAY_END_MS);
    expect(one<{ n: number }>("select count(*) as n from orders o join refunds r on r.order_id = o.id where o.refunded_fee = r.refund_fee").n).toBe(ORDERS / REFUND_EVERY);
  });

  it("records each payment's notify fields with a time_end that is its paid_at in Beijing time", () => {
    const rows = db
      .prepare("select e.raw as raw, o.paid_at as paidAt from payment_events e join orders o on o.id = e.order_id where o.id in (?, ?)")
      .all(reconOrderId(0), reconOrderId(ORDERS - 1)) as Array<{
      raw: string;
      paidAt: string;
    }>;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const raw = JSON.parse(row.raw) as { time_end: string };
      expect(parseBeijingTime(raw.time_end)?.toISOString()).toBe(row.paidAt);
    }
  });

  it("is migrated to the API's latest schema (the reconciliation tables exist, empty)", () => {
    expect(one<{ n: number }>("select count(*) as n from reconciliation_runs").n).toBe(0);
    expect(one<{ n: number }>("select count(*) as n from reconciliation_bill_rows").n).toBe(0);
  });
});

describe("the bill server, called as the API's v2 client calls downloadbill", () => {
  let server: BillServer;

  beforeAll(async () => {
    server = await startBillServer({ day, party: { appId: MERCHANT.appId, mchId: MERCHANT.mchId, openids: seedOpenids() }, key: MERCHANT.key, signType: MERCHANT.signType });
  });

  afterAll(async () => {
    await server.stop();
  });

  const download = async (fields: { billDate?: string; tarType?: "GZIP"; key?: string }): Promise<Response> => {
    const unsigned = buildDownloadBillFields({
      appid: MERCHANT.appId,
      mchId: MERCHANT.mchId,
      nonceStr: "bench0123456789",
      signType: MERCHANT.signType,
      billDate: fields.billDate ?? "20261201",
      billType: "ALL",
      ...(fields.tarType === undefined ? {} : { tarType: fields.tarType }),
    });
    const sign = signParams(unsigned, { key: fields.key ?? MERCHANT.key, signType: MERCHANT.signType });
    return fetch(`${server.url}/pay/downloadbill`, { method: "POST", headers: { "content-type": "text/xml" }, body: buildXml({ ...unsigned, sign }) });
  };

  /** Reads the body as it arrives, chunk by chunk, through the streaming parser. */
  const readStreamed = async (body: ReadableStream<Uint8Array>): Promise<{ rows: number; summary: BillSummary; chunks: number }> => {
    const reader = createBillReader({ currency: "CNY" });
    let rows = 0;
    let chunks = 0;
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      chunks++;
      rows += reader.push(chunk).length;
    }
    return { rows, summary: reader.end(), chunks };
  };

  it("streams the day's bill as text: the model's lines and summary", async () => {
    const answer = await download({});
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toContain("text/plain");
    if (answer.body === null) throw new Error("no body");
    const { rows, summary, chunks } = await readStreamed(answer.body);
    const totals = expectedTotals(day);
    expect(rows).toBe(totals.summary?.lineCount);
    expect(chunks).toBeGreaterThan(1);
    expect(summary.settlementTotalFee?.amount).toBe(totals.bill.paymentAmount);
    expect(summary.serviceFee?.amount).toBe(totals.feeSummary);
    expect(server.stats()).toMatchObject({ served: 1, refusals: [] });
    expect(server.stats().csvBytes).toBeGreaterThan(rows * 100);
  });

  it("gzips the same bill when tar_type is GZIP", async () => {
    const answer = await download({ tarType: "GZIP" });
    expect(answer.headers.get("content-type")).toBe("application/x-gzip");
    const text = gunzipSync(Buffer.from(await answer.arrayBuffer())).toString("utf8");
    const reader = createBillReader({ currency: "CNY" });
    expect(reader.push(text)).toHaveLength(expectedTotals(day).summary?.lineCount ?? -1);
    expect(reader.end().refundFee?.amount).toBe(expectedTotals(day).bill.refundAmount);
  });

  it("refuses, as return_code FAIL XML, a request signed with another key or for another day", async () => {
    const badSign = await (await download({ key: "0".repeat(32) })).text();
    expect(badSign).toContain("<return_code><![CDATA[FAIL]]></return_code>");
    expect(badSign).toContain("sign error");
    expect(await (await download({ billDate: "20261202" })).text()).toContain("No Bill Exist");
    expect(server.stats().refusals).toEqual(["sign error", "No Bill Exist"]);
  });
});

describe("the timed process and its RSS", () => {
  it("reads VmRSS and VmHWM lines in kB", () => {
    expect(statusField("Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t   1024 kB\n", "VmHWM")).toBe(204_800 * 1024);
    expect(statusField("Name:\tnode\nState:\tZ (zombie)\n", "VmRSS")).toBeUndefined();
  });

  it("times a process to its exit, keeps its stdout and sees the peak of a 160 MB allocation", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pay-bench-timed-"));
    try {
      const result = await runTimedProcess({
        command: process.execPath,
        args: ["-e", "const b = Buffer.alloc(160e6, 1); setTimeout(() => { console.log(JSON.stringify({ ok: b.length })); }, 400);"],
        env: {},
        logFile: join(dir, "child.log"),
        timeoutMs: 10_000,
      });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: '{"ok":160000000}\n' });
      expect(result.wallSeconds).toBeGreaterThan(0.4);
      expect(result.rss.hwmBytes).toBeGreaterThan(160e6);
      expect(result.rss.peakSampledBytes).toBeGreaterThan(160e6);
      expect(result.rss.samples).toBeGreaterThan(2);
      expect(result.cpuSeconds).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the check of the CLI's JSON", () => {
  const exact: ReconciliationRunSummary = {
    date: day.date,
    state: "succeeded",
    trigger: "cli",
    attempt: 1,
    startedAt: "2026-12-02T02:00:00.000Z",
    finishedAt: "2026-12-02T02:00:30.000Z",
    bill: "file",
    error: null,
    totals: expectedTotals(day),
    differences: expectedDifferences(day),
    resultAt: "2026-12-02T02:00:30.000Z",
  };

  it("reads the summary alone, or as the run of {run, items}, after any log line", () => {
    expect(runSummaryOf(JSON.stringify(exact))).toEqual(exact);
    expect(runSummaryOf(`{"level":30,"msg":"started"}\n${JSON.stringify({ run: exact, items: [] })}\n`)).toEqual(exact);
    expect(() => runSummaryOf("reconciled")).toThrow("printed no JSON");
    expect(() => runSummaryOf(JSON.stringify({ state: "done" }))).toThrow("not a run summary");
  });

  it("accepts only the exact result: exit 0, succeeded, totals to the fen, the planted differences", () => {
    expect(resultProblems(day, 0, exact)).toEqual([]);
    expect(RECONCILIATION_CLASSES.filter((c) => exact.differences[c] > 0)).toEqual([
      "unknown_payment",
      "payment_missing_from_bill",
      "unknown_refund",
      "refund_missing_from_bill",
      "amount_mismatch",
    ]);
    const totals = expectedTotals(day);
    const offByOneFen = { ...exact, totals: { ...totals, ours: { ...totals.ours, paymentAmount: totals.ours.paymentAmount + 1 } } };
    expect(resultProblems(day, 0, offByOneFen)).toEqual([expect.stringContaining("totals ") as string]);
    expect(resultProblems(day, 0, { ...exact, differences: { ...exact.differences, amount_mismatch: 2 } })).toEqual(["amount_mismatch: 2, expected 3"]);
    expect(resultProblems(day, 1, { ...exact, state: "failed", error: { code: "BILL_MALFORMED", message: "Line 3: bad" } })).toEqual([
      "the CLI exited with 1, not 0",
      "state failed (BILL_MALFORMED: Line 3: bad), not succeeded",
    ]);
    expect(resultProblems(day, 0, undefined)).toEqual(["no run summary"]);
  });
});
