import type { ReconciliationItem, ReconciliationRunSummary } from "@pay/core/contract";
import { describe, expect, it } from "vitest";
import { noDifferences } from "./db/reconciliation-reads.js";
import { EXIT, formatSummary, main, parseArguments, USAGE } from "./reconcile-cli.js";

/** 2026-12-03 10:00 in Beijing. */
const NOW = Date.UTC(2026, 11, 3, 2, 0);

function captured(): { io: { stdout: (text: string) => void; stderr: (text: string) => void; clock: () => number }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (text) => void out.push(text), stderr: (text) => void err.push(text), clock: () => NOW }, out, err };
}

describe("reconcile CLI arguments", () => {
  it.each([
    [["--date", "2026-12-01"], { date: "2026-12-01", json: false }],
    [["--date=2026-12-01", "--json"], { date: "2026-12-01", json: true }],
    [["--", "--json", "--date", "2024-02-29"], { date: "2024-02-29", json: true }],
  ])("reads %j", (argv, expected) => {
    expect(parseArguments(argv)).toEqual({ ok: true, value: expected });
  });

  it.each([
    [[], "--date is required, e.g. --date 2026-12-01."],
    [["--date"], "--date needs a day, e.g. --date 2026-12-01."],
    [["--date", "--json"], "--date needs a day, e.g. --date 2026-12-01."],
    [["--date", "2026-02-30"], "--date 2026-02-30: is not a real date."],
    [["--date", "1.12.2026"], "--date 1.12.2026: expected a day as YYYY-MM-DD."],
    [["--date", "2026-12-01", "--date", "2026-12-02"], "--date is given twice."],
    [["--date", "2026-12-01", "--force"], "unknown option --force."],
    [["2026-12-01"], "unexpected argument 2026-12-01."],
  ])("refuses %j: %s", (argv, problem) => {
    expect(parseArguments(argv)).toEqual({ ok: false, problem });
  });

  it("answers --help with the usage", async () => {
    const { io, out } = captured();
    expect(await main(["--help"], {}, io)).toBe(EXIT.succeeded);
    expect(out.join("")).toBe(USAGE);
  });

  it("exits 2 naming the problem, before reading any configuration", async () => {
    const { io, out, err } = captured();
    expect(await main(["--date", "2026-13-01"], {}, io)).toBe(EXIT.usage);
    expect(err.join("")).toContain("reconcile: --date 2026-13-01: is not a real date.");
    expect(err.join("")).toContain("Usage: pnpm --filter @pay/api reconcile");
    expect(out).toEqual([]);
  });

  it.each(["2026-12-03", "2026-12-04"])("exits 2 for %s, a day not over yet in Beijing", async (date) => {
    const { io, err } = captured();
    expect(await main(["--date", date], {}, io)).toBe(EXIT.usage);
    expect(err.join("")).toBe(`reconcile: --date ${date} is not over yet in Beijing (today there is 2026-12-03); a day is reconciled once it is over.\n`);
  });

  it("exits 2 on a configuration the server would refuse, naming the variable and never a secret", async () => {
    const { io, err } = captured();
    expect(await main(["--date", "2026-12-02"], { ADMIN_TOKEN: "short-secret-value" }, io)).toBe(EXIT.usage);
    expect(err.join("")).toMatch(/^reconcile: Invalid configuration: .*ADMIN_TOKEN must be at least 24 characters/);
    expect(err.join("")).not.toContain("short-secret-value");
  });
});

describe("reconcile CLI summary", () => {
  const item = (fields: Partial<ReconciliationItem>): ReconciliationItem => ({
    id: 1,
    class: "unknown_payment",
    resolution: "flagged",
    orderId: null,
    refundId: null,
    transactionId: null,
    billLine: null,
    billAmount: null,
    billCurrency: null,
    ourAmount: null,
    ourCurrency: null,
    detail: "",
    ...fields,
  });
  const run: ReconciliationRunSummary = {
    date: "2026-12-01",
    state: "succeeded",
    trigger: "cli",
    attempt: 2,
    startedAt: "2026-12-02T02:00:00.000Z",
    finishedAt: "2026-12-02T02:00:03.000Z",
    bill: "file",
    error: null,
    totals: {
      currency: "CNY",
      bill: { paymentCount: 3, paymentAmount: 12_345, refundCount: 1, refundAmount: 500 },
      summary: { lineCount: 4, paymentAmount: 12_345, refundAmount: 500, fee: 74 },
      ours: { paymentCount: 3, paymentAmount: 12_000, refundCount: 1, refundAmount: 500 },
      feeLines: 74,
      feeSummary: 74,
    },
    differences: { ...noDifferences(), paid_not_recorded: 1, amount_mismatch: 1 },
    resultAt: "2026-12-02T02:00:03.000Z",
  };

  it("shows the state, both sides' totals, the counts by class and each flagged item", () => {
    const items = [
      item({ id: 1, class: "paid_not_recorded", resolution: "recovered", orderId: "P1", detail: "paid per orderquery; applied" }),
      item({ id: 2, class: "amount_mismatch", orderId: "P2", transactionId: "4200", billLine: 3, detail: "the bill says 4.45 CNY, we say 1.00 CNY" }),
    ];
    expect(formatSummary(run, items)).toBe(
      [
        "Reconciliation of 2026-12-01: succeeded (attempt 2, cli, bill file)",
        "Bill:  3 payments 123.45 CNY, 1 refunds 5.00 CNY; fees 0.00074",
        "Ours:  3 payments 120.00 CNY, 1 refunds 5.00 CNY",
        "Bill summary row: 4 lines, payments 123.45 CNY, refunds 5.00 CNY, fees 0.00074",
        "Differences: paid_not_recorded 1, amount_mismatch 1",
        "Recovered (applied from a verified query): 1",
        "Flagged for a person (1):",
        "  amount_mismatch (order P2, transaction 4200, bill line 3): the bill says 4.45 CNY, we say 1.00 CNY",
        "",
      ].join("\n"),
    );
  });

  it("shows a failure's error and says the totals are the last successful run's", () => {
    const failed = { ...run, state: "failed" as const, error: { code: "BILL_NOT_READY" as const, message: "the bill is not ready yet" } };
    const text = formatSummary(failed, []);
    expect(text).toContain(
      "Reconciliation of 2026-12-01: failed (attempt 2, cli, bill file)\nError: BILL_NOT_READY: the bill is not ready yet\nLast successful run (2026-12-02T02:00:03.000Z):",
    );
    expect(formatSummary({ ...failed, totals: null, bill: null, differences: noDifferences() }, [])).toBe(
      "Reconciliation of 2026-12-01: failed (attempt 2, cli)\nError: BILL_NOT_READY: the bill is not ready yet\n",
    );
  });
});
