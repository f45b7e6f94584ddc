import { parseRefundNotify } from "@pay/core";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import { SANDBOX_CONTROL_PATHS } from "../control/routes.js";
import { callGateway, DIRECT, GLOBAL, orderFields, pay, placeOrder, startReceiver, waitFor, withSandbox } from "../../test/support/harness.js";
import type { RunningSandbox } from "../server.js";

async function paidOrder(sandbox: RunningSandbox, overrides: Record<string, string | number> = {}): Promise<Record<string, string | number | undefined>> {
  const fields = orderFields({ total_fee: 1000, ...overrides });
  await pay(sandbox, await placeOrder(sandbox, fields));
  return fields;
}

function refundFields(fields: Record<string, string | number | undefined>, outRefundNo: string, refundFee: number, extra: Record<string, string | number | undefined> = {}) {
  return { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: fields.out_trade_no, out_refund_no: outRefundNo, total_fee: fields.total_fee, refund_fee: refundFee, ...extra };
}

describe("refunds", () => {
  it("without a client certificate the refund endpoint answers nginx's non-XML HTTP 400", async () => {
    await withSandbox({ requireClientCert: true }, async (sandbox) => {
      const fields = await paidOrder(sandbox);
      const answer = await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 100));
      expect(answer.status).toBe(400);
      expect(answer.text).toContain("No required SSL certificate was sent");
      expect(answer.fields).toBeUndefined();
    });
  });

  it("partial refunds go PROCESSING -> SUCCESS, move the order to REFUND and send an encrypted refund notify", async () => {
    const clock = createManualClock();
    const receiver = await startReceiver();
    try {
      await withSandbox({ clock, refundSettleMs: 1000 }, async (sandbox) => {
        const fields = await paidOrder(sandbox);
        const answer = await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 300, { notify_url: receiver.url, refund_desc: "部分退款" }));
        expect(answer.fields).toMatchObject({ result_code: "SUCCESS", out_refund_no: "R1", refund_fee: "300", total_fee: "1000", cash_refund_fee: "300" });
        expect(answer.fields?.refund_id).toMatch(/^503\d{26}$/);
        const processing = await callGateway(sandbox, "/pay/refundquery", { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_refund_no: "R1" });
        expect(processing.fields).toMatchObject({ refund_count: "1", refund_status_0: "PROCESSING", refund_fee_0: "300" });
        expect((await callGateway(sandbox, "/pay/orderquery", { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: fields.out_trade_no })).fields?.trade_state).toBe(
          "REFUND",
        );

        await clock.advance(1000);
        const body = await waitFor(() => receiver.bodies[0]);
        const notify = parseRefundNotify(body, { key: DIRECT.key, appId: DIRECT.appId, mchId: DIRECT.mchId });
        expect(notify.ok && notify.value.refund).toMatchObject({ outRefundNo: "R1", refundFee: 300, totalFee: 1000, refundStatus: "SUCCESS", outTradeNo: fields.out_trade_no });
        expect(body).not.toContain("<sign>");
        const done = await callGateway(sandbox, "/pay/refundquery", { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: fields.out_trade_no });
        expect(done.fields).toMatchObject({ refund_status_0: "SUCCESS", total_refund_count: "1" });
        expect(done.fields?.refund_success_time_0).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      });
    } finally {
      await receiver.close();
    }
  });

  it("the same out_refund_no is idempotent; a changed amount is refused; the sum never exceeds total_fee", async () => {
    await withSandbox({ refundSettleMs: null }, async (sandbox) => {
      const fields = await paidOrder(sandbox);
      const first = await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 600));
      const retry = await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 600));
      expect(retry.fields?.refund_id).toBe(first.fields?.refund_id);
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 500))).fields).toMatchObject({ err_code: "INVALID_REQUEST" });
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R2", 401))).fields).toMatchObject({ err_code: "ERROR" });
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R2", 400))).fields).toMatchObject({ result_code: "SUCCESS" });
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R3", 1))).fields).toMatchObject({ err_code: "ERROR" });
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R4", 1, { total_fee: 999 }))).fields).toMatchObject({ err_code: "INVALID_REQUEST" });
    });
  });

  it("a closed refund frees its amount; CHANGE is reported; settling twice is refused", async () => {
    await withSandbox({ refundSettleMs: null }, async (sandbox) => {
      const fields = await paidOrder(sandbox);
      await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 1000));
      const settle = (outRefundNo: string, status: string) =>
        fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.settleRefund}`, { method: "POST", body: JSON.stringify({ mch_id: DIRECT.mchId, out_refund_no: outRefundNo, status }) });
      expect((await settle("R1", "REFUNDCLOSE")).status).toBe(200);
      expect((await settle("R1", "SUCCESS")).status).toBe(409);
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R2", 1000))).fields).toMatchObject({ result_code: "SUCCESS" });
      await settle("R2", "CHANGE");
      const query = await callGateway(sandbox, "/pay/refundquery", { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: fields.out_trade_no });
      expect(query.fields).toMatchObject({ refund_count: "2", refund_status_0: "REFUNDCLOSE", refund_status_1: "CHANGE" });
      expect((await settle("NOPE", "SUCCESS")).status).toBe(404);
      expect((await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.settleRefund}`, { method: "POST", body: "{" })).status).toBe(400);
    });
  });

  it("refuses refunds of unpaid or unknown orders, and over the refundable balance (NOTENOUGH)", async () => {
    await withSandbox({ merchants: [{ ...DIRECT, refundableBalance: 500 }] }, async (sandbox) => {
      const unpaid = orderFields();
      await placeOrder(sandbox, unpaid);
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(unpaid, "R0", 1))).fields).toMatchObject({ err_code: "ORDERNOTEXIST" });
      const fields = await paidOrder(sandbox);
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 600))).fields).toMatchObject({ err_code: "NOTENOUGH" });
      expect((await callGateway(sandbox, "/secapi/pay/refund", refundFields(fields, "R1", 500))).fields).toMatchObject({ result_code: "SUCCESS" });
      expect((await callGateway(sandbox, "/pay/refundquery", { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_refund_no: "NOPE" })).fields).toMatchObject({
        err_code: "REFUNDNOTEXIST",
      });
    });
  });

  it("Global: refunds carry the currency, and cash_refund_fee keeps the payment's ratio", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields: Record<string, string | number | undefined> = { ...orderFields({ total_fee: 1000, fee_type: "HKD" }), appid: GLOBAL.appId, mch_id: GLOBAL.mchId };
      await pay(sandbox, await placeOrder(sandbox, fields, GLOBAL.key));
      const answer = await callGateway(
        sandbox,
        "/secapi/pay/refund",
        { appid: GLOBAL.appId, mch_id: GLOBAL.mchId, out_trade_no: fields.out_trade_no, out_refund_no: "G1", total_fee: 1000, refund_fee: 250, refund_fee_type: "HKD" },
        { key: GLOBAL.key },
      );
      // Paid HK$10.00 at 0.91 -> ¥9.10; a quarter refunded -> ¥2.28 (half up).
      expect(answer.fields).toMatchObject({
        result_code: "SUCCESS",
        fee_type: "HKD",
        refund_fee_type: "HKD",
        cash_fee: "910",
        cash_refund_fee: "228",
        cash_fee_type: "CNY",
        rate: "91000000",
      });
      const wrongCurrency = await callGateway(
        sandbox,
        "/secapi/pay/refund",
        { appid: GLOBAL.appId, mch_id: GLOBAL.mchId, out_trade_no: fields.out_trade_no, out_refund_no: "G2", total_fee: 1000, refund_fee: 1, refund_fee_type: "USD" },
        { key: GLOBAL.key },
      );
      expect(wrongCurrency.fields).toMatchObject({ err_code: "PARAM_ERROR" });
    });
  });
});
