import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatAmount } from "../../money/money.js";
import { parseV3FundFlowBill } from "./fund-flow.js";

const HEADER = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号";
const SUMMARY_HEADER = "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额";
const ticked = (cells: readonly string[]): string => cells.map((c) => `\`${c}`).join(",");
const sha1 = (bytes: Uint8Array): string => createHash("sha1").update(bytes).digest("hex");

/** A fund-flow bill: one income row per amount, the balance running up. */
function fundFlowBill(amounts: readonly number[]): string {
  let balance = 0;
  const rows = amounts.map((fen, i) => {
    balance += fen;
    return ticked([
      "2019-06-11 10:00:00",
      `42000000012019061112345678${String(i).padStart(2, "0")}`,
      `1900000100201906110000${String(i).padStart(6, "0")}`,
      "交易",
      "交易",
      "收入",
      formatAmount(fen, "CNY"),
      formatAmount(balance, "CNY"),
      "system",
      "",
      `order${i}`,
    ]);
  });
  const income = formatAmount(balance, "CNY");
  return `\uFEFF${HEADER}\n${rows.join("\n")}\n${SUMMARY_HEADER}\n${ticked([String(amounts.length), String(amounts.length), income, "0", "0.00"])}\n`;
}

describe("fund-flow bill", () => {
  it("reads rows and summary into minor units, accepting full-width parentheses in headers", () => {
    const csv = Buffer.from(fundFlowBill([1234, 66]));
    const parsed = parseV3FundFlowBill(gzipSync(csv), { hashValue: sha1(csv), tarType: "GZIP" });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.rows[0]).toEqual({
      line: 2,
      accountingTime: "2019-06-11 10:00:00",
      businessNo: "4200000001201906111234567800",
      fundFlowNo: "1900000100201906110000000000",
      businessName: "交易",
      businessType: "交易",
      flowType: "收入",
      amount: { amount: 1234, currency: "CNY" },
      balance: { amount: 1234, currency: "CNY" },
      applicant: "system",
      voucherNo: "order0",
      extra: {},
    });
    expect(parsed.value.rows[1]?.balance).toEqual({ amount: 1300, currency: "CNY" });
    expect(parsed.value.summary).toEqual({
      flowCount: 2,
      incomeCount: 2,
      income: { amount: 1300, currency: "CNY" },
      expenseCount: 0,
      expense: { amount: 0, currency: "CNY" },
      extra: {},
    });
  });

  it.each<[string, string, string]>([
    ["an amount with three decimals", fundFlowBill([1]).replace("`0.01,`0.01", "`0.011,`0.01"), "MALFORMED_BILL"],
    ["a row without backticks", fundFlowBill([1]).replace("`2019-06-11", "2019-06-11"), "MALFORMED_BILL"],
    ["a trade bill header", fundFlowBill([1]).replace("记账时间", "交易时间"), "MALFORMED_BILL"],
    ["no summary", fundFlowBill([1]).split(SUMMARY_HEADER)[0] ?? "", "MALFORMED_BILL"],
    ["a non-numeric count", fundFlowBill([1]).replace("\n`1,`1,", "\n`x,`1,"), "MALFORMED_BILL"],
  ])("refuses %s", (_, text, code) => {
    const bytes = Buffer.from(text);
    expect(parseV3FundFlowBill(bytes, { hashValue: sha1(bytes) })).toMatchObject({ ok: false, error: { code } });
  });

  it("refuses a bill whose SHA1 does not match before reading it", () => {
    const bytes = Buffer.from(fundFlowBill([1]));
    expect(parseV3FundFlowBill(bytes, { hashValue: sha1(Buffer.from("other")) })).toMatchObject({ ok: false, error: { code: "HASH_MISMATCH" } });
  });

  it("round-trips any amounts through CSV, gzip and SHA1", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e12 }), { minLength: 1, maxLength: 20 }), (amounts) => {
        const csv = Buffer.from(fundFlowBill(amounts));
        const parsed = parseV3FundFlowBill(gzipSync(csv), { hashValue: sha1(csv), tarType: "GZIP" });
        expect(parsed.ok && parsed.value.rows.map((r) => r.amount?.amount)).toEqual(amounts);
      }),
      { numRuns: 50 },
    );
  });
});
