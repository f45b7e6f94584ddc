import { describe, expect, it } from "vitest";
import { parseBill, type Bill } from "./parse-bill.js";

import { CNY_BILL, HEADER, JPY_BILL, PAYMENT, SUMMARY_HEADER, ticked } from "../../test/support/bills.js";

function parsed(text: string): Bill {
  const result = parseBill(text);
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe("parseBill", () => {
  it("reads a CNY bill, converting yuan to fen without floats", () => {
    const bill = parsed(CNY_BILL);
    expect(bill.columns).toHaveLength(27);
    expect(bill.rows).toHaveLength(3);
    expect(bill.rows[0]).toEqual({
      line: 2,
      currency: "CNY",
      tradeTime: "2024-05-01 10:15:30",
      appid: "wx2421b1c4370ec43b",
      mchId: "10000100",
      subMchId: "0",
      transactionId: "4200000001202405011234567890",
      outTradeNo: "1415659990",
      openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
      tradeType: "JSAPI",
      tradeState: "SUCCESS",
      bankType: "CMC",
      settlementTotalFee: { amount: 1234, currency: "CNY" },
      couponFee: { amount: 0, currency: "CNY" },
      refundId: "0",
      outRefundNo: "0",
      refundFee: { amount: 0, currency: "CNY" },
      rechargeCouponRefundFee: { amount: 0, currency: "CNY" },
      body: "JSAPI支付测试",
      attach: "支付测试",
      serviceFee: { amount: 7404, scale: 5, currency: "CNY" },
      feeRate: "0.60%",
      totalFee: { amount: 1234, currency: "CNY" },
      requestedRefundFee: { amount: 0, currency: "CNY" },
      extra: {},
    });
    expect(bill.rows[1]).toMatchObject({
      tradeState: "REFUND",
      refundId: "50000000012024050100000000001",
      refundType: "ORIGINAL",
      refundStatus: "SUCCESS",
      refundFee: { amount: 500, currency: "CNY" },
      requestedRefundFee: { amount: 500, currency: "CNY" },
      serviceFee: { amount: -3000, scale: 5, currency: "CNY" },
    });
    // An empty 货币种类 means CNY; a comma inside a value survives; a sub-fen fee keeps its precision.
    expect(bill.rows[2]).toMatchObject({ currency: "CNY", body: "商品,含逗号", totalFee: { amount: 1, currency: "CNY" }, serviceFee: { amount: 6, scale: 5 } });
    expect(bill.summary).toEqual({
      tradeCount: 3,
      currency: "CNY",
      settlementTotalFee: { amount: 1235, currency: "CNY" },
      refundFee: { amount: 500, currency: "CNY" },
      rechargeCouponRefundFee: { amount: 0, currency: "CNY" },
      serviceFee: { amount: 4410, scale: 5, currency: "CNY" },
      totalFee: { amount: 1235, currency: "CNY" },
      requestedRefundFee: { amount: 500, currency: "CNY" },
      extra: {},
    });
    for (const row of bill.rows) expect(Number.isInteger(row.totalFee?.amount)).toBe(true);
  });

  it("reads a JPY bill in whole yen and keeps unknown columns in extra", () => {
    const bill = parsed(JPY_BILL);
    expect(bill.rows[0]).toMatchObject({
      currency: "JPY",
      subMchId: "1900000109",
      settlementTotalFee: { amount: 1750, currency: "JPY" },
      totalFee: { amount: 1750, currency: "JPY" },
      serviceFee: { amount: 3500000, scale: 5, currency: "JPY" },
      extra: { 汇率: "0.04650000" },
    });
    expect(bill.summary).toMatchObject({ tradeCount: 1, currency: "JPY", totalFee: { amount: 1750, currency: "JPY" } });
  });

  it("accepts UTF-8 bytes", () => {
    const result = parseBill(new TextEncoder().encode(CNY_BILL));
    expect(result.ok && result.value.rows.length).toBe(3);
  });

  it("reads a bill with no trades", () => {
    const bill = parsed([HEADER, SUMMARY_HEADER, ticked(["0", "0.00", "0.00", "0.00", "0.00000", "0.00", "0.00"])].join("\n"));
    expect(bill.rows).toEqual([]);
    expect(bill.summary).toMatchObject({ tradeCount: 0, currency: "CNY", totalFee: { amount: 0, currency: "CNY" } });
  });

  const replace = (cells: readonly string[], index: number, value: string) => cells.map((c, i) => (i === index ? value : c));
  const SUMMARY = ticked(["1", "12.34", "0.00", "0.00", "0.07404", "12.34", "0.00"]);

  it.each<[string, string | Uint8Array, string, number | undefined]>([
    ["an empty body", "", "The bill is empty", undefined],
    ["a BOM alone", "\uFEFF\r\n", "The bill is empty", undefined],
    ["an XML failure answer", "<xml><return_code><![CDATA[FAIL]]></return_code></xml>", "Line 1: expected the bill header", 1],
    ["a row without backticks", [HEADER, PAYMENT.join(","), SUMMARY_HEADER, SUMMARY].join("\n"), "Line 2: fields must start with a backtick", 2],
    ["a row with a missing field", [HEADER, ticked(PAYMENT.slice(1)), SUMMARY_HEADER, SUMMARY].join("\n"), "Line 2: expected 27 fields, found 26", 2],
    [
      "an amount in words",
      [HEADER, ticked(replace(PAYMENT, 12, "twelve")), SUMMARY_HEADER, SUMMARY].join("\n"),
      'Line 2, column 应结订单金额: "twelve" is not a decimal amount',
      2,
    ],
    ["a fen fraction", [HEADER, ticked(PAYMENT), ticked(replace(PAYMENT, 24, "0.001")), SUMMARY_HEADER, SUMMARY].join("\n"), "Line 3, column 订单金额:", 3],
    ["a float exponent", [HEADER, ticked(replace(PAYMENT, 24, "1e3")), SUMMARY_HEADER, SUMMARY].join("\n"), "Line 2, column 订单金额:", 2],
    ["an unknown currency", [HEADER, ticked(replace(PAYMENT, 11, "XYZ")), SUMMARY_HEADER, SUMMARY].join("\n"), 'Line 2, column 货币种类: unknown currency "XYZ"', 2],
    ["a fee finer than 5 places", [HEADER, ticked(replace(PAYMENT, 22, "0.000001")), SUMMARY_HEADER, SUMMARY].join("\n"), "Line 2, column 手续费:", 2],
    ["no summary", [HEADER, ticked(PAYMENT)].join("\n"), "no summary header", undefined],
    ["a summary header without its row", [HEADER, ticked(PAYMENT), SUMMARY_HEADER].join("\n"), "without its summary row", 3],
    ["content after the summary", [HEADER, ticked(PAYMENT), SUMMARY_HEADER, SUMMARY, ticked(PAYMENT)].join("\n"), "Line 5: content after the summary row", 5],
    [
      "a summary count that is not a number",
      [HEADER, ticked(PAYMENT), SUMMARY_HEADER, ticked(["one", "12.34", "0.00", "0.00", "0.07404", "12.34", "0.00"])].join("\n"),
      'Line 4, column 总交易单数: "one"',
      4,
    ],
    ["a short summary row", [HEADER, ticked(PAYMENT), SUMMARY_HEADER, ticked(["1", "12.34"])].join("\n"), "Line 4: expected 7 summary fields, found 2", 4],
    ["a duplicated column", `${HEADER},交易时间\n${SUMMARY_HEADER}\n${SUMMARY}`, "Line 1: column 交易时间 appears twice", 1],
    ["an empty column name", `${HEADER},\n${SUMMARY_HEADER}\n${SUMMARY}`, "Line 1: a column name is empty", 1],
    ["invalid UTF-8", new Uint8Array([0xef, 0xbb, 0xbf, 0xff, 0xfe, 0x0a]), "not valid UTF-8", undefined],
  ])("refuses %s as MALFORMED_BILL, naming the line", (_name, input, message, line) => {
    const result = parseBill(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("MALFORMED_BILL");
    expect(result.error.message).toContain(message);
    expect(result.error.line).toBe(line);
  });

  it("refuses rows in different currencies, whose totals cannot be read", () => {
    const result = parseBill([HEADER, ticked(PAYMENT), ticked(replace(PAYMENT, 11, "HKD")), SUMMARY_HEADER, SUMMARY].join("\n"));
    expect(result.ok ? undefined : result.error.code).toBe("MIXED_CURRENCIES");
  });

  it("does not let a column name reach the prototype", () => {
    const bill = parsed(["交易时间,__proto__,货币种类,订单金额", ticked(["2024-05-01 10:00:00", "polluted", "CNY", "1.00"]), "总交易单数", ticked(["1"])].join("\n"));
    expect(bill.rows[0]?.extra.__proto__).toBe("polluted");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(bill.rows[0]?.extra)).toBeNull();
  });

  it("uses the caller's default currency for rows without one", () => {
    const result = parseBill(["交易时间,订单金额", ticked(["2024-05-01 10:00:00", "100"]), "总交易单数,订单总金额", ticked(["1", "100"])].join("\n"), { currency: "JPY" });
    expect(result.ok && result.value.rows[0]?.totalFee).toEqual({ amount: 100, currency: "JPY" });
  });
});
