import { parseBill } from "@pay/core";
import { describe, expect, it } from "vitest";
import type { SandboxOrder, SandboxRefund } from "../state/types.js";
import { buildTradeBillCsv, DAY_MS } from "./trade-bill.js";

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
