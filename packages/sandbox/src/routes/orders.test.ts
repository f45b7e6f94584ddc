import { describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import { callGateway, DIRECT, INSTITUTION, orderFields, pay, placeOrder, startReceiver, waitFor, withSandbox } from "../../test/support/harness.js";

const query = (outTradeNo: string) => ({ appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: outTradeNo });

describe("order state machine", () => {
  it("NOTPAY -> SUCCESS: paying sets a 4200… transaction_id and time_end, and orderquery reports them", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields({ attach: "附加数据" });
      const prepayId = await placeOrder(sandbox, fields);
      const before = await callGateway(sandbox, "/pay/orderquery", query(String(fields.out_trade_no)));
      expect(before.fields).toMatchObject({ result_code: "SUCCESS", trade_state: "NOTPAY", out_trade_no: fields.out_trade_no, attach: "附加数据" });
      expect(before.fields?.transaction_id).toBeUndefined();

      expect((await pay(sandbox, prepayId)).body).toMatchObject({ outcome: "success", errMsg: "requestPayment:ok" });
      const after = await callGateway(sandbox, "/pay/orderquery", query(String(fields.out_trade_no)));
      expect(after.fields).toMatchObject({ trade_state: "SUCCESS", total_fee: "100", cash_fee: "100", openid: fields.openid, trade_type: "JSAPI" });
      expect(after.fields?.transaction_id).toMatch(/^4200\d{24}$/);
      expect(after.fields?.time_end).toMatch(/^\d{14}$/);
      const byTransaction = await callGateway(sandbox, "/pay/orderquery", { appid: DIRECT.appId, mch_id: DIRECT.mchId, transaction_id: after.fields?.transaction_id });
      expect(byTransaction.fields?.out_trade_no).toBe(fields.out_trade_no);
    });
  });

  it("re-entry: identical parameters return the prepay_id, different ones INVALID_REQUEST, paid ORDERPAID", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields();
      const first = await placeOrder(sandbox, fields);
      expect(await placeOrder(sandbox, fields)).toBe(first);
      const changed = await callGateway(sandbox, "/pay/unifiedorder", { ...fields, total_fee: 1 });
      expect(changed.fields).toMatchObject({ result_code: "FAIL", err_code: "INVALID_REQUEST" });
      await pay(sandbox, first);
      const again = await callGateway(sandbox, "/pay/unifiedorder", fields);
      expect(again.fields).toMatchObject({ result_code: "FAIL", err_code: "ORDERPAID" });
    });
  });

  it("re-entry after 2 hours returns a new prepay_id and the old one stops working", async () => {
    const clock = createManualClock();
    await withSandbox({ clock }, async (sandbox) => {
      const fields = orderFields();
      const first = await placeOrder(sandbox, fields);
      await clock.advance(2 * 3600 * 1000 + 1);
      expect((await pay(sandbox, first)).body).toMatchObject({ error: { code: "PREPAY_EXPIRED" } });
      const second = await placeOrder(sandbox, fields);
      expect(second).not.toBe(first);
      expect((await pay(sandbox, first)).status).toBe(404);
      expect((await pay(sandbox, second)).body).toMatchObject({ outcome: "success" });
    });
  });

  it("cancel and fail change nothing; the order can still be paid", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields();
      const prepayId = await placeOrder(sandbox, fields);
      expect((await pay(sandbox, prepayId, "cancel")).body).toMatchObject({ outcome: "cancel", errMsg: "requestPayment:fail cancel" });
      expect((await pay(sandbox, prepayId, "fail")).body).toMatchObject({ outcome: "fail" });
      expect((await callGateway(sandbox, "/pay/orderquery", query(String(fields.out_trade_no)))).fields?.trade_state).toBe("NOTPAY");
      expect((await pay(sandbox, prepayId)).body).toMatchObject({ outcome: "success" });
      expect((await pay(sandbox, prepayId)).body).toMatchObject({ error: { code: "ORDER_PAID" } });
    });
  });

  it("closeorder: NOTPAY -> CLOSED; closing again ORDERCLOSED; re-entry ORDERCLOSED; paying refused", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields();
      const prepayId = await placeOrder(sandbox, fields);
      const closed = await callGateway(sandbox, "/pay/closeorder", query(String(fields.out_trade_no)));
      expect(closed.fields).toMatchObject({ return_code: "SUCCESS", result_code: "SUCCESS" });
      expect((await callGateway(sandbox, "/pay/orderquery", query(String(fields.out_trade_no)))).fields?.trade_state).toBe("CLOSED");
      expect((await callGateway(sandbox, "/pay/closeorder", query(String(fields.out_trade_no)))).fields).toMatchObject({ err_code: "ORDERCLOSED" });
      expect((await callGateway(sandbox, "/pay/unifiedorder", fields)).fields).toMatchObject({ err_code: "ORDERCLOSED" });
      expect((await pay(sandbox, prepayId)).body).toMatchObject({ error: { code: "ORDER_CLOSED" } });
    });
  });

  it("closeorder on a paid order answers ORDERPAID; unknown orders ORDERNOTEXIST", async () => {
    await withSandbox({}, async (sandbox) => {
      const fields = orderFields();
      await pay(sandbox, await placeOrder(sandbox, fields));
      expect((await callGateway(sandbox, "/pay/closeorder", query(String(fields.out_trade_no)))).fields).toMatchObject({ err_code: "ORDERPAID" });
      expect((await callGateway(sandbox, "/pay/closeorder", query("NO_SUCH_ORDER"))).fields).toMatchObject({ err_code: "ORDERNOTEXIST" });
      expect((await callGateway(sandbox, "/pay/orderquery", query("NO_SUCH_ORDER"))).fields).toMatchObject({ err_code: "ORDERNOTEXIST" });
    });
  });

  it("an unpaid order closes at time_expire (or the default lifetime)", async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 4, 0, 0));
    await withSandbox({ clock, orderTtlMs: 3600_000 }, async (sandbox) => {
      // 2026-01-01 12:10:00 Beijing = 04:10 UTC, ten minutes after the clock's start.
      const withExpiry = orderFields({ time_expire: "20260101121000" });
      const withoutExpiry = orderFields();
      await placeOrder(sandbox, withExpiry);
      await placeOrder(sandbox, withoutExpiry);
      await clock.advance(10 * 60 * 1000);
      expect((await callGateway(sandbox, "/pay/orderquery", query(String(withExpiry.out_trade_no)))).fields?.trade_state).toBe("CLOSED");
      expect((await callGateway(sandbox, "/pay/orderquery", query(String(withoutExpiry.out_trade_no)))).fields?.trade_state).toBe("NOTPAY");
      await clock.advance(50 * 60 * 1000);
      expect((await callGateway(sandbox, "/pay/orderquery", query(String(withoutExpiry.out_trade_no)))).fields?.trade_state).toBe("CLOSED");
      expect((await callGateway(sandbox, "/pay/unifiedorder", orderFields({ time_expire: "20260101130030" }))).fields).toMatchObject({ err_code: "PARAM_ERROR" });
    });
  });

  it("refuses a closeorder sooner than minCloseAgeMs after ordering", async () => {
    const clock = createManualClock();
    await withSandbox({ clock, minCloseAgeMs: 5 * 60 * 1000 }, async (sandbox) => {
      const fields = orderFields();
      await placeOrder(sandbox, fields);
      expect((await callGateway(sandbox, "/pay/closeorder", query(String(fields.out_trade_no)))).fields).toMatchObject({ err_code: "TRADE_STATE_ERROR" });
      await clock.advance(5 * 60 * 1000);
      expect((await callGateway(sandbox, "/pay/closeorder", query(String(fields.out_trade_no)))).fields).toMatchObject({ result_code: "SUCCESS" });
    });
  });

  it("institutional mode: sub_appid + sub_openid, sub ids echoed and notified", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({}, async (sandbox) => {
        const fields = {
          ...orderFields({ openid: undefined, notify_url: receiver.url }),
          appid: INSTITUTION.appId,
          mch_id: INSTITUTION.mchId,
          sub_appid: INSTITUTION.subAppId,
          sub_mch_id: INSTITUTION.subMchId,
          sub_openid: "oMiniProgramUser000000000001",
          fee_type: "HKD",
        };
        const answer = await callGateway(sandbox, "/pay/unifiedorder", fields, { key: INSTITUTION.key });
        expect(answer.fields).toMatchObject({ result_code: "SUCCESS", sub_appid: INSTITUTION.subAppId, sub_mch_id: INSTITUTION.subMchId });
        await pay(sandbox, answer.fields?.prepay_id ?? "");
        const body = await waitFor(() => receiver.bodies[0]);
        expect(body).toContain(`<sub_mch_id>${INSTITUTION.subMchId}</sub_mch_id>`);
        expect(body).toContain("<sub_openid><![CDATA[oMiniProgramUser000000000001]]></sub_openid>");
        const wrongSub = await callGateway(sandbox, "/pay/unifiedorder", { ...fields, out_trade_no: "OTHER123456", sub_mch_id: "1900000110" }, { key: INSTITUTION.key });
        expect(wrongSub.fields).toMatchObject({ return_code: "FAIL" });
        const wrongSubApp = await callGateway(sandbox, "/pay/unifiedorder", { ...fields, out_trade_no: "OTHER123457", sub_appid: "wx_other_mini" }, { key: INSTITUTION.key });
        expect(wrongSubApp.fields).toMatchObject({ result_code: "FAIL", err_code: "PARAM_ERROR" });
        const directStyle = await callGateway(sandbox, "/pay/unifiedorder", orderFields({ sub_openid: "x", sub_appid: "y" }), { key: DIRECT.key });
        // A sub_appid without a sub_mch_id names no sub-merchant.
        expect(directStyle.fields).toMatchObject({ return_code: "FAIL" });
        expect(directStyle.fields?.return_msg).toContain("sub_mch_id");
      });
    } finally {
      await receiver.close();
    }
  });
});
