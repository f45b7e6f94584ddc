import { gunzipSync } from "node:zlib";
import { parseBill } from "@pay/core";
import { describe, expect, it } from "vitest";
import { createManualClock } from "../clock.js";
import { callGateway, DIRECT, orderFields, pay, placeOrder, withSandbox } from "../../test/support/harness.js";

const bill = (date: string, extra: Record<string, string> = {}) => ({ appid: DIRECT.appId, mch_id: DIRECT.mchId, bill_date: date, bill_type: "ALL", ...extra });

describe("/pay/downloadbill", () => {
  it("serves yesterday's payments and refunds as the gateway's CSV, which parseBill reads back in minor units", async () => {
    // 2026-01-01 12:00 Beijing.
    const clock = createManualClock(Date.UTC(2026, 0, 1, 4, 0, 0));
    await withSandbox({ clock, refundSettleMs: 0 }, async (sandbox) => {
      const a = orderFields({ total_fee: 1234 });
      const b = orderFields({ total_fee: 1 });
      await pay(sandbox, await placeOrder(sandbox, a));
      await pay(sandbox, await placeOrder(sandbox, b));
      await callGateway(sandbox, "/secapi/pay/refund", {
        appid: DIRECT.appId,
        mch_id: DIRECT.mchId,
        out_trade_no: a.out_trade_no,
        out_refund_no: "R1",
        total_fee: 1234,
        refund_fee: 234,
      });
      await clock.advance(0);
      expect((await callGateway(sandbox, "/pay/downloadbill", bill("20260101"))).fields).toMatchObject({ return_code: "FAIL", return_msg: "Bill Creating" });

      await clock.advance(24 * 3600 * 1000);
      const response = await callGateway(sandbox, "/pay/downloadbill", bill("20260101"));
      expect(response.text.charCodeAt(0)).toBe(0xfeff);
      const parsed = parseBill(response.text);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) return;
      expect(parsed.value.rows).toHaveLength(3);
      const payments = parsed.value.rows.filter((r) => r.tradeState === "SUCCESS");
      expect(payments.map((r) => r.totalFee?.amount).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual([1, 1234]);
      const refund = parsed.value.rows.find((r) => r.tradeState === "REFUND");
      expect(refund).toMatchObject({ outRefundNo: "R1", refundFee: { amount: 234, currency: "CNY" } });
      expect(parsed.value.summary).toMatchObject({ totalFee: { amount: 1235, currency: "CNY" }, refundFee: { amount: 234, currency: "CNY" } });

      const gz = await callGateway(sandbox, "/pay/downloadbill", bill("20260101", { tar_type: "GZIP" }));
      const text = gunzipSync(gz.bytes).toString("utf8");
      expect(parseBill(text).ok).toBe(true);
      expect((await callGateway(sandbox, "/pay/downloadbill", bill("20251231"))).fields).toMatchObject({ return_code: "FAIL", return_msg: "No Bill Exist" });
      expect((await callGateway(sandbox, "/pay/downloadbill", bill("20260101", { bill_type: "WRONG" }))).fields).toMatchObject({
        return_code: "FAIL",
        return_msg: "invalid bill_type",
      });
      expect((await callGateway(sandbox, "/pay/downloadbill", bill("2026-01-01"))).fields).toMatchObject({ return_code: "FAIL", return_msg: "data format error" });
    });
  });
});
