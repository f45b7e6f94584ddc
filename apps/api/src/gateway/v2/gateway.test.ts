import { buildXml, NOTIFY_SUCCESS_REPLY } from "@pay/core";
import { buildRefundNotify, buildSignedPayNotify } from "@pay/core/testing";
import { createManualClock, startSandbox, type ManualClock, type RunningSandbox } from "@pay/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../logging.js";
import type { PlaceOrderInput } from "../port.js";
import { readBill } from "../../../test/support/read-bill.js";
import { createV2Gateway, V2_PREPAY_TTL_MS, type V2Gateway } from "./gateway.js";
import type { MerchantCredentials } from "./types.js";

const MERCHANT: MerchantCredentials = {
  appId: "wx2421b1c4370ec43b",
  mchId: "10000100",
  key: "192006250b4c09247ec02edce69f6a2d",
  subAppId: undefined,
  subMchId: undefined,
  signType: "MD5",
};
// 2026-01-01 12:00 Beijing.
const START = Date.UTC(2026, 0, 1, 4, 0, 0);

let sandbox: RunningSandbox;
let clock: ManualClock;
let gateway: V2Gateway;
let sequence = 0;

function order(amount = 1234): PlaceOrderInput {
  return {
    orderId: `v2adapter${Date.now()}${++sequence}`,
    description: "Coffee beans",
    amount,
    currency: "CNY",
    payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", scope: "merchant" },
    clientIp: "127.0.0.1",
    startsAt: clock.now(),
    expiresAt: clock.now() + 30 * 60 * 1000,
    notifyUrl: "http://127.0.0.1:9/wxpay/notify",
  };
}

async function payAtSandbox(prepayId: string): Promise<void> {
  const answer = await fetch(`${sandbox.url}/sandbox/pay`, { method: "POST", body: JSON.stringify({ prepay_id: prepayId, outcome: "success" }) });
  expect(answer.status).toBe(200);
}

beforeAll(async () => {
  clock = createManualClock(START);
  sandbox = await startSandbox({
    clock,
    merchants: [{ appId: MERCHANT.appId, mchId: MERCHANT.mchId, key: MERCHANT.key }],
    refundSettleMs: 0,
    requireClientCert: false,
    notify: { retryScale: 0.001, duplicates: 0, concurrent: 1, timeoutMs: 500 },
  });
  gateway = createV2Gateway({ merchant: MERCHANT, baseUrl: sandbox.url, logger: createLogger({ level: "silent" }), backoffMs: 0, timeoutMs: 2000 });
});

afterAll(async () => {
  await gateway.close();
  await sandbox.stop();
});

describe("the v2 adapter behind the PaymentGateway port (against the sandbox)", () => {
  it("places an order (re-entry returns the same prepay id), signs its payment params, and reports it pending, paid, and not closable", async () => {
    const input = order();
    const placed = await gateway.placeOrder(input);
    expect(placed).toMatchObject({ ok: true, value: { validForMs: V2_PREPAY_TTL_MS } });
    if (!placed.ok) return;
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: true, value: { prepayId: placed.value.prepayId } });
    const params = gateway.paymentParams({ prepayId: placed.value.prepayId, now: clock.now() });
    expect(params).toMatchObject({ package: `prepay_id=${placed.value.prepayId}`, signType: "MD5", timeStamp: String(Math.floor(clock.now() / 1000)) });
    expect(params.paySign).toMatch(/^[0-9A-F]{32}$/);
    expect(await gateway.queryOrder(input.orderId)).toEqual({ ok: true, value: { state: "pending" } });

    await payAtSandbox(placed.value.prepayId);
    const known = await gateway.queryOrder(input.orderId);
    expect(known).toMatchObject({
      ok: true,
      value: { state: "paid", report: { source: "query", orderId: input.orderId, amount: 1234, currency: "CNY", merchant: { appId: MERCHANT.appId, mchId: MERCHANT.mchId } } },
    });
    if (known.ok && known.value.state === "paid") {
      expect(known.value.report.transactionId).not.toBe("");
      expect(JSON.parse(known.value.report.rawJson())).toMatchObject({ out_trade_no: input.orderId, trade_state: "SUCCESS" });
    }
    expect(await gateway.closeOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "business", reason: "ORDER_PAID", code: "ORDERPAID" } });
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: false, error: { kind: "business", reason: "ORDER_PAID" } });
  });

  it("closes an unpaid order, after which it is closed and cannot be placed again", async () => {
    const input = order();
    expect((await gateway.placeOrder(input)).ok).toBe(true);
    expect(await gateway.closeOrder(input.orderId)).toEqual({ ok: true, value: undefined });
    expect(await gateway.queryOrder(input.orderId)).toEqual({ ok: true, value: { state: "closed" } });
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: false, error: { reason: "ORDER_CLOSED" } });
  });

  it("answers not-found for an order and a refund it never saw", async () => {
    expect(await gateway.queryOrder("v2adapter-never-placed")).toEqual({ ok: true, value: { state: "not-found" } });
    expect(await gateway.queryRefund("v2adapter-never-refunded")).toEqual({ ok: true, value: { state: "not-found" } });
  });

  it("refunds, queries the refund, and serves the day's bill once the day is over", async () => {
    const input = order(500);
    const placed = await gateway.placeOrder(input);
    if (!placed.ok) throw new Error("placeOrder failed");
    await payAtSandbox(placed.value.prepayId);
    const refundId = `R${input.orderId}`;
    const refund = await gateway.refund({ orderId: input.orderId, refundId, orderAmount: 500, amount: 200, currency: "CNY", reason: "partial" });
    expect(refund).toMatchObject({ ok: true, value: { gatewayRefundId: expect.any(String) as string } });
    const over = await gateway.refund({ orderId: input.orderId, refundId: `${refundId}x`, orderAmount: 500, amount: 400, currency: "CNY" });
    expect(over).toMatchObject({ ok: false, error: { kind: "business", retryable: false } });
    await clock.advance(0);
    const lookup = await gateway.queryRefund(refundId);
    expect(lookup).toMatchObject({ ok: true, value: { state: "found" } });
    // refund_success_time_$n (yyyy-MM-dd HH:mm:ss, Beijing) read as an instant: the sandbox's clock, to the second.
    expect(lookup).toEqual({ ok: true, value: { state: "found", status: "succeeded", succeededAt: Math.floor(clock.now() / 1000) * 1000 } });

    // Before the day is over the bill is still being made.
    expect(await gateway.openBill("2026-01-01")).toEqual({ ok: true, value: { kind: "not-ready" } });
    await clock.advance(24 * 3600 * 1000);
    const bill = await readBill(await gateway.openBill("2026-01-01"));
    expect(bill.rows.some((row) => row.outTradeNo === input.orderId && row.tradeState === "SUCCESS" && row.totalFee?.amount === 500)).toBe(true);
    expect(bill.rows.some((row) => row.outRefundNo === refundId && row.tradeState === "REFUND" && row.refundFee?.amount === 200)).toBe(true);
    expect(bill.summary.tradeCount).toBe(bill.rows.length);
    // A day without trades has no bill: not an error.
    expect(await gateway.openBill("2025-12-31")).toEqual({ ok: true, value: { kind: "none" } });
    await expect(gateway.openBill("2026-02-30")).rejects.toThrow(/bill_date|billDate/);
  });
});

describe("the v2 notify seam", () => {
  const payFields = (extra: Record<string, string> = {}) => ({
    return_code: "SUCCESS",
    appid: MERCHANT.appId,
    mch_id: MERCHANT.mchId,
    nonce_str: "n0nce",
    result_code: "SUCCESS",
    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    trade_type: "JSAPI",
    bank_type: "CMC",
    total_fee: "1234",
    cash_fee: "1234",
    transaction_id: "4200000001202601010000000001",
    out_trade_no: "v2notify1",
    time_end: "20260101120000",
    ...extra,
  });

  it("turns a signed pay notify into a paid report with every verified field as JSON", () => {
    const parsed = gateway.parsePayNotify(Buffer.from(buildSignedPayNotify(payFields(), { key: MERCHANT.key, signType: "MD5" })), {});
    expect(parsed).toMatchObject({ ok: true, value: { kind: "paid", report: { source: "notify", orderId: "v2notify1", amount: 1234, currency: "CNY", payerAmount: 1234 } } });
    if (parsed.ok && parsed.value.kind === "paid") expect(JSON.parse(parsed.value.report.rawJson())).toMatchObject({ out_trade_no: "v2notify1", total_fee: "1234" });
  });

  it("reports a verified result_code=FAIL notify as a failed payment with its code", () => {
    const parsed = gateway.parsePayNotify(Buffer.from(buildSignedPayNotify(payFields({ result_code: "FAIL", err_code: "NOTENOUGH" }), { key: MERCHANT.key, signType: "MD5" })), {});
    expect(parsed).toEqual({ ok: true, value: { kind: "failed", code: "NOTENOUGH" } });
  });

  it("refuses a notify with a bad signature with its code and WeChat's message", () => {
    const parsed = gateway.parsePayNotify(Buffer.from(buildXml({ ...payFields(), sign: "0".repeat(32) })), {});
    expect(parsed).toEqual({ ok: false, error: { code: "SIGN_MISMATCH", message: "签名失败" } });
  });

  const refundPayload = (extra: Record<string, string> = {}) => ({
    transaction_id: "4200000001202601010000000001",
    out_trade_no: "v2notify1",
    refund_id: "50000000012026010100000001",
    out_refund_no: "Rv2notify1",
    total_fee: "1234",
    refund_fee: "200",
    refund_status: "SUCCESS",
    success_time: "2026-01-01 12:00:05",
    ...extra,
  });

  it("turns a refund notify into a refund report with success_time as an ISO instant", () => {
    const body = buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, refundPayload(), MERCHANT.key);
    expect(gateway.parseRefundNotify(Buffer.from(body), {})).toEqual({
      ok: true,
      value: {
        refundId: "Rv2notify1",
        orderId: "v2notify1",
        gatewayRefundId: "50000000012026010100000001",
        amount: 200,
        status: "succeeded",
        succeededAt: "2026-01-01T04:00:05.000Z",
      },
    });
  });

  it("refuses a refund notify whose success_time is not a real time", () => {
    const body = buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, refundPayload({ success_time: "2026-02-30 25:00:00" }), MERCHANT.key);
    expect(gateway.parseRefundNotify(Buffer.from(body), {})).toMatchObject({ ok: false, error: { code: "INVALID_FIELD" } });
  });

  it("answers with WeChat's exact XML: SUCCESS, or FAIL with the message", () => {
    expect(gateway.notifyReply({ acknowledged: true })).toEqual({ status: 200, contentType: "text/xml", body: NOTIFY_SUCCESS_REPLY });
    const refusal = gateway.notifyReply({ acknowledged: false, message: "订单不存在" });
    expect(refusal).toMatchObject({ status: 200, contentType: "text/xml" });
    expect(refusal.body).toContain("<return_code><![CDATA[FAIL]]></return_code>");
    expect(refusal.body).toContain("订单不存在");
    expect(gateway.notifyContentTypes).toContain("text/xml");
  });
});
