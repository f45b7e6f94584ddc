import { parseBill } from "@pay/core";
import { describe, expect, it } from "vitest";
import type { Discrepancy } from "../control/schemas.js";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import { BillControls } from "./bill-controls.js";
import { buildTradeBillCsv, DAY_MS, foreignMchId, GARBAGE_BILL } from "./trade-bill.js";

/** 2026-01-01 00:00 Beijing. */
const DAY = Date.UTC(2025, 11, 31, 16, 0, 0);

function order(outTradeNo: string, totalFee: number, feeType: SandboxOrder["feeType"], paidAt: number | undefined, refunds: SandboxRefund[] = []): SandboxOrder {
  return {
    protocol: "v3",
    mchId: "1900300001",
    subMchId: undefined,
    appId: "wx3d0000000000v3d1",
    subAppId: undefined,
    outTradeNo,
    body: "Goods",
    attach: undefined,
    totalFee,
    feeType,
    signType: undefined,
    payAppId: "wx3d0000000000v3d1",
    notifyUrl: "https://example.com/notify",
    openid: "oPayer",
    subOpenid: undefined,
    fingerprint: outTradeNo,
    createdAt: DAY,
    expiresAt: DAY + DAY_MS,
    prepayId: `wx${outTradeNo}`,
    prepayExpiresAt: DAY + DAY_MS,
    tradeState: "SUCCESS",
    tradeStateDesc: "",
    transactionId: paidAt === undefined ? undefined : `42000000${outTradeNo}`,
    timeEnd: undefined,
    paidAt,
    cashFee: undefined,
    cashFeeType: undefined,
    rate: undefined,
    refunds,
  };
}

function refund(outRefundNo: string, refundFee: number, status: SandboxRefund["status"], successAt: number | undefined): SandboxRefund {
  return {
    protocol: "v3",
    mchId: "1900300001",
    subMchId: undefined,
    outTradeNo: "",
    outRefundNo,
    refundId: `5030${outRefundNo}`,
    refundFee,
    totalFee: 0,
    feeType: "CNY",
    cashRefundFee: refundFee,
    notifyUrl: undefined,
    refundDesc: undefined,
    refundAccount: "AVAILABLE",
    createdAt: DAY,
    status,
    successAt,
    settleTimer: undefined,
  };
}

describe("buildTradeBillCsv", () => {
  it("writes the pinned CSV: BOM, CRLF lines in time order, backticks, yuan from fen, fees to five decimals, summed summary", () => {
    const orders = [
      order("B", 1, "CNY", DAY + 3600_000),
      order("A", 1234, "CNY", DAY, [refund("RA", 234, "SUCCESS", DAY + 7200_000), refund("RX", 1, "PROCESSING", undefined), refund("RY", 1, "SUCCESS", DAY + DAY_MS)]),
      order("C", 99, "CNY", DAY - 1),
    ];
    const csv = buildTradeBillCsv({ orders, dayStart: DAY, lines: "ALL" });
    expect(csv).toBe(
      [
        "\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注",
        "`2026-01-01 00:00:00,`wx3d0000000000v3d1,`1900300001,`0,`,`42000000A,`A,`oPayer,`JSAPI,`SUCCESS,`OTHERS,`CNY,`12.34,`0.00,`0,`0,`0.00,`0.00,`,`,`Goods,`,`0.07404,`0.60%,`12.34,`0.00,`",
        "`2026-01-01 01:00:00,`wx3d0000000000v3d1,`1900300001,`0,`,`42000000B,`B,`oPayer,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`Goods,`,`0.00006,`0.60%,`0.01,`0.00,`",
        "`2026-01-01 02:00:00,`wx3d0000000000v3d1,`1900300001,`0,`,`42000000A,`A,`oPayer,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5030RA,`RA,`2.34,`0.00,`ORIGINAL,`SUCCESS,`Goods,`,`-0.01404,`0.60%,`12.34,`2.34,`",
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
        "`3,`12.35,`2.34,`0.00,`0.06006,`12.35,`2.34",
        "",
      ].join("\r\n"),
    );
    const parsed = parseBill(csv ?? "");
    expect(parsed.ok && parsed.value.summary).toMatchObject({ tradeCount: 3, totalFee: { amount: 1235 }, refundFee: { amount: 234 }, serviceFee: { amount: 6006 } });
  });

  it("writes amounts with the currency's exponent (JPY has no decimals)", () => {
    const csv = buildTradeBillCsv({ orders: [order("J", 500, "JPY", DAY, [refund("RJ", 7, "SUCCESS", DAY + 1000)])], dayStart: DAY, lines: "ALL" });
    const parsed = parseBill(csv ?? "");
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.rows.map((r) => [r.totalFee, r.refundFee])).toEqual([
      [
        { amount: 500, currency: "JPY" },
        { amount: 0, currency: "JPY" },
      ],
      [
        { amount: 500, currency: "JPY" },
        { amount: 7, currency: "JPY" },
      ],
    ]);
    expect(parsed.value.summary).toMatchObject({ currency: "JPY", totalFee: { amount: 500 }, refundFee: { amount: 7 } });
    expect(csv).toContain("`500,`0,`0,`0,`0,`0,`");
  });

  it("has no bill for a day without payments or successful refunds", () => {
    expect(buildTradeBillCsv({ orders: [order("A", 100, "CNY", DAY - 1), order("B", 100, "CNY", undefined)], dayStart: DAY, lines: "ALL" })).toBeUndefined();
    expect(buildTradeBillCsv({ orders: [order("A", 100, "CNY", DAY)], dayStart: DAY, lines: "REFUND" })).toBeUndefined();
  });
});

describe("buildTradeBillCsv with the reconciliation controls", () => {
  const MCH = "1900300001";
  /** A, paid 12.34 with a 2.34 refund; B, paid 0.01. */
  const day = (): SandboxOrder[] => [order("A", 1234, "CNY", DAY, [refund("RA", 234, "SUCCESS", DAY + 7200_000)]), order("B", 1, "CNY", DAY + 3600_000)];
  const parsedWith = (discrepancies: Discrepancy[], orders = day()) => {
    const controls = new BillControls();
    for (const d of discrepancies) controls.addDiscrepancy(d);
    const csv = buildTradeBillCsv({ orders, dayStart: DAY, lines: "ALL", overrides: controls.overridesFor(MCH, undefined, "2026-01-01") });
    const parsed = parseBill(csv ?? "");
    if (!parsed.ok) throw new Error(parsed.error.message);
    return parsed.value;
  };

  it("shows a payment line with another amount, currency or transaction id, and sums the summary from what the lines show", () => {
    const amount = parsedWith([{ kind: "payment_amount", mch_id: MCH, out_trade_no: "A", total_fee: 999 }]);
    expect(amount.rows.find((r) => r.outTradeNo === "A" && r.tradeState === "SUCCESS")).toMatchObject({
      totalFee: { amount: 999, currency: "CNY" },
      settlementTotalFee: { amount: 999 },
    });
    expect(amount.summary).toMatchObject({ tradeCount: 3, settlementTotalFee: { amount: 1000 }, refundFee: { amount: 234 } });

    const currency = parsedWith([{ kind: "payment_currency", mch_id: MCH, out_trade_no: "B", fee_type: "USD" }], [order("B", 1, "CNY", DAY)]);
    expect(currency.rows).toEqual([expect.objectContaining({ outTradeNo: "B", currency: "USD", totalFee: { amount: 1, currency: "USD" } })]);

    const transaction = parsedWith([{ kind: "payment_transaction", mch_id: MCH, out_trade_no: "B", transaction_id: "4200000000000000000000000001" }]);
    expect(transaction.rows.find((r) => r.outTradeNo === "B")?.transactionId).toBe("4200000000000000000000000001");
    // The refund line of A keeps the order's own transaction id: only the payment line is changed.
    expect(transaction.rows.filter((r) => r.outTradeNo === "A").map((r) => r.transactionId)).toEqual(["42000000A", "42000000A"]);
  });

  it("a currency on one line of a day with other lines makes a bill the reader refuses (MIXED_CURRENCIES)", () => {
    const controls = new BillControls();
    controls.addDiscrepancy({ kind: "payment_currency", mch_id: MCH, out_trade_no: "B", fee_type: "USD" });
    const csv = buildTradeBillCsv({ orders: day(), dayStart: DAY, lines: "ALL", overrides: controls.overridesFor(MCH, undefined, "2026-01-01") });
    const parsed = parseBill(csv ?? "");
    expect(parsed.ok ? undefined : parsed.error.code).toBe("MIXED_CURRENCIES");
  });

  it("leaves a payment or a refund line out, and out of the summary", () => {
    const noPayment = parsedWith([{ kind: "payment_omitted", mch_id: MCH, out_trade_no: "B" }]);
    expect(noPayment.rows.map((r) => [r.outTradeNo, r.tradeState])).toEqual([
      ["A", "SUCCESS"],
      ["A", "REFUND"],
    ]);
    expect(noPayment.summary).toMatchObject({ tradeCount: 2, settlementTotalFee: { amount: 1234 } });
    const noRefund = parsedWith([{ kind: "refund_omitted", mch_id: MCH, out_refund_no: "RA" }]);
    expect(noRefund.rows.map((r) => r.tradeState)).toEqual(["SUCCESS", "SUCCESS"]);
    expect(noRefund.summary).toMatchObject({ tradeCount: 2, refundFee: { amount: 0 } });
    // The refund is still the gateway's: the order's payment line stays.
    expect(noRefund.rows.map((r) => r.outTradeNo)).toEqual(["A", "B"]);
  });

  it("shows a refund with another amount, a line of a state a payment never has, and a summary that disagrees with its lines", () => {
    const refundAmount = parsedWith([{ kind: "refund_amount", mch_id: MCH, out_refund_no: "RA", refund_fee: 200 }]);
    expect(refundAmount.rows.find((r) => r.tradeState === "REFUND")).toMatchObject({ refundFee: { amount: 200 }, requestedRefundFee: { amount: 200 } });
    expect(refundAmount.summary).toMatchObject({ refundFee: { amount: 200 } });

    const unexpected = parsedWith([{ kind: "unexpected_row", mch_id: MCH, out_trade_no: "B", trade_state: "REVOKED" }]);
    expect(unexpected.rows.filter((r) => r.outTradeNo === "B").map((r) => [r.tradeState, r.settlementTotalFee?.amount])).toEqual([
      ["SUCCESS", 1],
      ["REVOKED", 0],
    ]);
    expect(unexpected.summary).toMatchObject({ tradeCount: 4, settlementTotalFee: { amount: 1235 } });

    const summary = parsedWith([{ kind: "summary", mch_id: MCH, bill_date: "2026-01-01", trade_count: 9, settlement_total_fee: 1 }]);
    expect(summary.rows).toHaveLength(3);
    expect(summary.summary).toMatchObject({ tradeCount: 9, settlementTotalFee: { amount: 1 }, refundFee: { amount: 234 } });
    // Another day's summary override does not touch this day.
    expect(parsedWith([{ kind: "summary", mch_id: MCH, bill_date: "2026-01-02", trade_count: 9 }]).summary.tradeCount).toBe(3);
  });

  it("applies a discrepancy to its own merchant's order only, and the latest one of a kind and target wins", () => {
    expect(parsedWith([{ kind: "payment_omitted", mch_id: "1900300002", out_trade_no: "B" }]).rows).toHaveLength(3);
    expect(parsedWith([{ kind: "payment_omitted", mch_id: MCH, sub_mch_id: "1900300099", out_trade_no: "B" }]).rows).toHaveLength(3);
    const latest = parsedWith([
      { kind: "payment_amount", mch_id: MCH, out_trade_no: "B", total_fee: 5 },
      { kind: "payment_amount", mch_id: MCH, out_trade_no: "B", total_fee: 7 },
    ]);
    expect(latest.rows.find((r) => r.outTradeNo === "B")?.totalFee?.amount).toBe(7);
  });

  it("spoils the file with a fault: truncated before the summary, another merchant, another day, or not a bill", () => {
    const build = (fault: "truncated" | "foreign_merchant" | "other_day" | "garbage") => buildTradeBillCsv({ orders: day(), dayStart: DAY, lines: "ALL", fault }) ?? "";
    const truncated = parseBill(build("truncated"));
    expect(truncated.ok ? undefined : [truncated.error.code, truncated.error.message]).toEqual(["MALFORMED_BILL", expect.stringContaining("truncated")]);
    expect(build("truncated")).not.toContain("总交易单数");

    const foreign = parseBill(build("foreign_merchant"));
    if (!foreign.ok) throw new Error(foreign.error.message);
    expect(new Set(foreign.value.rows.map((r) => r.mchId))).toEqual(new Set([foreignMchId(MCH)]));
    expect(foreignMchId(MCH)).not.toBe(MCH);
    expect(foreignMchId(foreignMchId(MCH))).not.toBe(foreignMchId(MCH));

    const otherDay = parseBill(build("other_day"));
    if (!otherDay.ok) throw new Error(otherDay.error.message);
    expect(otherDay.value.rows.map((r) => r.tradeTime)).toEqual(["2025-12-31 00:00:00", "2025-12-31 01:00:00", "2025-12-31 02:00:00"]);
    expect(otherDay.value.summary.tradeCount).toBe(3);

    expect(build("garbage")).toBe(GARBAGE_BILL);
    const garbage = parseBill(GARBAGE_BILL);
    expect(garbage.ok ? undefined : garbage.error.code).toBe("MALFORMED_BILL");
    // A day without lines has no file to spoil.
    expect(buildTradeBillCsv({ orders: [], dayStart: DAY, lines: "ALL", fault: "garbage" })).toBeUndefined();
  });
});

describe("BillControls bill-file faults", () => {
  const rule = { mch_id: "1900300001", bill_date: "2026-01-01", times: 2 } as const;

  it("serves the oldest matching fault, counts its uses only when they are used, and drops it when spent", () => {
    const controls = new BillControls();
    controls.addFault({ ...rule, fault: "truncated" });
    controls.addFault({ ...rule, fault: "garbage", times: 1 });
    expect(controls.faultFor("v2", "1900300001", undefined, "2026-01-02")).toBeUndefined();
    expect(controls.faultFor("v2", "1900300001", "1900300099", "2026-01-01")).toBeUndefined();
    const first = controls.faultFor("v2", "1900300001", undefined, "2026-01-01");
    expect(first?.kind).toBe("truncated");
    // Looking without using (a day without a bill) leaves it queued.
    expect(controls.listFaults()[0]).toMatchObject({ fault: "truncated", times: 2, remaining: 2 });
    first?.use();
    expect(controls.listFaults()[0]).toMatchObject({ fault: "truncated", remaining: 1 });
    controls.faultFor("v3", "1900300001", undefined, "2026-01-01")?.use();
    expect(controls.listFaults().map((f) => f.fault)).toEqual(["garbage"]);
    controls.clearFaults();
    expect(controls.listFaults()).toEqual([]);
  });

  it("leaves a hash_mismatch fault to a v3 download", () => {
    const controls = new BillControls();
    controls.addFault({ ...rule, fault: "hash_mismatch", times: 1 });
    expect(controls.faultFor("v2", "1900300001", undefined, "2026-01-01")).toBeUndefined();
    expect(controls.faultFor("v3", "1900300001", undefined, "2026-01-01")?.kind).toBe("hash_mismatch");
  });
});
