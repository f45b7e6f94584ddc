import { parseBill } from "@pay/core";
import { describe, expect, it } from "vitest";
import { GATEWAY_PATHS } from "../app.js";
import { foreignMchId, GARBAGE_BILL } from "../bills/trade-bill.js";
import { createManualClock } from "../clock.js";
import type { RunningSandbox } from "../server.js";
import { callGateway, controlOf, DIRECT, GLOBAL, INSTITUTION, orderFields, placeOrder, startReceiver, waitFor, withSandbox } from "../../test/support/harness.js";
import { SandboxControlError } from "./client.js";
import { SANDBOX_CONTROL_PATHS } from "./routes.js";
import { ControlErrorAnswerSchema } from "./schemas.js";

/** 2026-01-01 12:00 Beijing. */
const NOON = Date.UTC(2026, 0, 1, 4, 0, 0);
const DAY_MS = 24 * 3600 * 1000;
const BILL_DATE = "2026-01-01";

async function failure(promise: Promise<unknown>): Promise<SandboxControlError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SandboxControlError)) throw new Error(`expected a SandboxControlError, got ${String(error)}`);
  return error;
}

/** The v2 downloadbill of BILL_DATE for DIRECT: the text, or the FAIL message. */
async function downloadBill(
  sandbox: RunningSandbox,
  mch: { appId: string; mchId: string; key: string; subMchId?: string } = DIRECT,
): Promise<{ text: string; failMessage: string | undefined }> {
  const answer = await callGateway(
    sandbox,
    GATEWAY_PATHS.downloadBill,
    { appid: mch.appId, mch_id: mch.mchId, sub_mch_id: mch.subMchId, bill_date: BILL_DATE.replaceAll("-", ""), bill_type: "ALL" },
    { key: mch.key },
  );
  return { text: answer.text, failMessage: answer.fields?.return_code === "FAIL" ? answer.fields.return_msg : undefined };
}

function parsed(text: string) {
  const bill = parseBill(text);
  if (!bill.ok) throw new Error(bill.error.message);
  return bill.value;
}

describe("reconciliation controls: changes the merchant's server never hears of", () => {
  it("pays with notify: false: the order is paid at the gateway, its query answers SUCCESS, and no pay notify is ever sent", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({}, async (sandbox) => {
        const control = controlOf(sandbox);
        const silent = orderFields({ notify_url: receiver.url, total_fee: 700 });
        const heard = orderFields({ notify_url: receiver.url, total_fee: 800 });
        const paid = await control.pay({ prepay_id: await placeOrder(sandbox, silent), outcome: "success", notify: false });
        expect(paid).toMatchObject({ outcome: "success", errMsg: "requestPayment:ok", order: { trade_state: "SUCCESS", total_fee: 700 } });
        // A payment with the notify on, after it: once its notify arrived, the silent one's would have too.
        await control.pay({ prepay_id: await placeOrder(sandbox, heard), outcome: "success", notify: true });
        await waitFor(() => sandbox.context.store.deliveries({ outTradeNo: String(heard.out_trade_no) }).length >= 1);
        expect(receiver.bodies.some((b) => b.includes(String(silent.out_trade_no)))).toBe(false);
        expect((await control.listDeliveries({ out_trade_no: String(silent.out_trade_no) })).deliveries).toEqual([]);

        const query = await callGateway(sandbox, GATEWAY_PATHS.orderQuery, { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: silent.out_trade_no });
        expect(query.fields).toMatchObject({ result_code: "SUCCESS", trade_state: "SUCCESS", total_fee: "700", transaction_id: paid.order.transaction_id });
      });
    } finally {
      await receiver.close();
    }
  });

  it("settles a refund with notify: false: the refund query answers SUCCESS and no refund notify is ever sent", async () => {
    const receiver = await startReceiver();
    try {
      await withSandbox({ refundSettleMs: null }, async (sandbox) => {
        const control = controlOf(sandbox);
        const fields = orderFields({ notify_url: receiver.url, total_fee: 1000 });
        await control.pay({ prepay_id: await placeOrder(sandbox, fields), outcome: "success" });
        const refund = (outRefundNo: string) =>
          callGateway(sandbox, GATEWAY_PATHS.refund, {
            appid: DIRECT.appId,
            mch_id: DIRECT.mchId,
            out_trade_no: fields.out_trade_no,
            out_refund_no: outRefundNo,
            total_fee: 1000,
            refund_fee: 100,
            notify_url: receiver.url,
          });
        await refund("R-SILENT");
        await refund("R-HEARD");
        expect(await control.settleRefund({ mch_id: DIRECT.mchId, out_refund_no: "R-SILENT", status: "SUCCESS", notify: false })).toEqual({
          out_refund_no: "R-SILENT",
          refund_status: "SUCCESS",
        });
        await control.settleRefund({ mch_id: DIRECT.mchId, out_refund_no: "R-HEARD", status: "SUCCESS" });
        await waitFor(() => sandbox.context.store.deliveries({ kind: "refund" }).length >= 1);
        expect(sandbox.context.store.deliveries({ kind: "refund" }).map((d) => d.outRefundNo)).toEqual(["R-HEARD"]);

        const query = await callGateway(sandbox, GATEWAY_PATHS.refundQuery, { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_refund_no: "R-SILENT" });
        expect(query.fields).toMatchObject({ result_code: "SUCCESS", refund_status_0: "SUCCESS", out_refund_no_0: "R-SILENT" });
      });
    } finally {
      await receiver.close();
    }
  });

  it("makes a foreign payment: paid at the gateway, answered by the query, in the day's bill, never notified", async () => {
    const clock = createManualClock(NOON);
    await withSandbox({ clock }, async (sandbox) => {
      const control = controlOf(sandbox);
      const { order } = await control.createForeignPayment({ mch_id: DIRECT.mchId, out_trade_no: "FOREIGN-1", total_fee: 4321, openid: "oForeignPayer" });
      expect(order).toMatchObject({
        protocol: "v2",
        mch_id: DIRECT.mchId,
        out_trade_no: "FOREIGN-1",
        trade_state: "SUCCESS",
        total_fee: 4321,
        fee_type: "CNY",
        openid: "oForeignPayer",
      });
      expect(order.transaction_id).toMatch(/^4200\d{24}$/);
      expect(order.time_end).toBe("20260101120000");

      const query = await callGateway(sandbox, GATEWAY_PATHS.orderQuery, { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: "FOREIGN-1" });
      expect(query.fields).toMatchObject({ trade_state: "SUCCESS", total_fee: "4321", transaction_id: order.transaction_id, time_end: "20260101120000" });
      // The merchant's API cannot place it again.
      const again = await callGateway(sandbox, GATEWAY_PATHS.unifiedOrder, orderFields({ out_trade_no: "FOREIGN-1" }));
      expect(again.fields).toMatchObject({ result_code: "FAIL", err_code: "ORDERPAID" });

      await clock.advance(DAY_MS);
      const bill = parsed((await downloadBill(sandbox)).text);
      expect(bill.rows).toEqual([
        expect.objectContaining({ outTradeNo: "FOREIGN-1", tradeState: "SUCCESS", transactionId: order.transaction_id, totalFee: { amount: 4321, currency: "CNY" } }),
      ]);
      expect(sandbox.context.store.deliveries()).toEqual([]);

      // A Global merchant's foreign payment in its currency.
      const global = await control.createForeignPayment({ mch_id: GLOBAL.mchId, out_trade_no: "FOREIGN-G", total_fee: 100, fee_type: "USD" });
      expect(global.order).toMatchObject({ fee_type: "USD", cash_fee_type: "CNY", trade_state: "SUCCESS" });
      // An institution's (Global) sub-merchant.
      const sub = await control.createForeignPayment({ mch_id: INSTITUTION.mchId, sub_mch_id: INSTITUTION.subMchId, out_trade_no: "FOREIGN-S", total_fee: 5, fee_type: "HKD" });
      expect(sub.order).toMatchObject({ sub_mch_id: INSTITUTION.subMchId, fee_type: "HKD", trade_state: "SUCCESS" });
    });
  });

  it("refuses a foreign payment it cannot make, with a coded error", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = controlOf(sandbox);
      await control.createForeignPayment({ mch_id: DIRECT.mchId, out_trade_no: "FOREIGN-1", total_fee: 1 });
      const cases: Array<[Parameters<typeof control.createForeignPayment>[0], string, number, string]> = [
        [{ mch_id: "1999999999", out_trade_no: "X", total_fee: 1 }, "MERCHANT_NOT_FOUND", 404, "1999999999"],
        [{ mch_id: DIRECT.mchId, out_trade_no: "FOREIGN-1", total_fee: 1 }, "ORDER_EXISTS", 409, "FOREIGN-1"],
        [{ mch_id: DIRECT.mchId, out_trade_no: "X", total_fee: 1, fee_type: "USD" }, "BAD_REQUEST", 400, "fee_type"],
        [{ mch_id: GLOBAL.mchId, out_trade_no: "X", total_fee: 1 }, "BAD_REQUEST", 400, "fee_type"],
        [{ mch_id: DIRECT.mchId, out_trade_no: "X", total_fee: 0 }, "BAD_REQUEST", 400, "total_fee"],
        [{ mch_id: DIRECT.mchId, out_trade_no: "X".repeat(33), total_fee: 1 }, "BAD_REQUEST", 400, "out_trade_no"],
      ];
      for (const [body, code, status, named] of cases) {
        const error = await failure(control.createForeignPayment(body));
        expect({ code: error.code, status: error.status }).toEqual({ code, status });
        expect(error.message).toContain(named);
      }
    });
  });

  it("makes a foreign refund: SUCCESS at the gateway, in the refund query and the bill, never notified; refuses what it cannot do", async () => {
    const clock = createManualClock(NOON);
    await withSandbox({ clock, refundSettleMs: null }, async (sandbox) => {
      const control = controlOf(sandbox);
      const fields = orderFields({ total_fee: 1000 });
      await control.pay({ prepay_id: await placeOrder(sandbox, fields), outcome: "success", notify: false });
      const outTradeNo = String(fields.out_trade_no);
      const { order } = await control.createForeignRefund({ mch_id: DIRECT.mchId, out_trade_no: outTradeNo, out_refund_no: "RF-1", refund_fee: 250 });
      expect(order).toMatchObject({ trade_state: "REFUND", refunds: [{ out_refund_no: "RF-1", refund_fee: 250, refund_status: "SUCCESS" }] });
      const query = await callGateway(sandbox, GATEWAY_PATHS.refundQuery, { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_refund_no: "RF-1" });
      expect(query.fields).toMatchObject({ refund_status_0: "SUCCESS", refund_fee_0: "250" });

      const unpaid = orderFields();
      await placeOrder(sandbox, unpaid);
      const cases: Array<[Parameters<typeof control.createForeignRefund>[0], string]> = [
        [{ mch_id: DIRECT.mchId, out_trade_no: "NOPE", out_refund_no: "RF-2", refund_fee: 1 }, "ORDER_NOT_FOUND"],
        [{ mch_id: DIRECT.mchId, out_trade_no: String(unpaid.out_trade_no), out_refund_no: "RF-2", refund_fee: 1 }, "ORDER_NOT_PAID"],
        [{ mch_id: DIRECT.mchId, out_trade_no: outTradeNo, out_refund_no: "RF-1", refund_fee: 1 }, "REFUND_EXISTS"],
        [{ mch_id: DIRECT.mchId, out_trade_no: outTradeNo, out_refund_no: "RF-2", refund_fee: 751 }, "BAD_REQUEST"],
        [{ mch_id: "1999999999", out_trade_no: outTradeNo, out_refund_no: "RF-2", refund_fee: 1 }, "MERCHANT_NOT_FOUND"],
      ];
      for (const [body, code] of cases) expect((await failure(control.createForeignRefund(body))).code).toBe(code);

      await clock.advance(DAY_MS);
      const bill = parsed((await downloadBill(sandbox)).text);
      expect(bill.rows.map((r) => [r.tradeState, r.outRefundNo, r.refundFee?.amount])).toEqual([
        ["SUCCESS", "0", 0],
        ["REFUND", "RF-1", 250],
      ]);
      expect(sandbox.context.store.deliveries()).toEqual([]);
    });
  });
});

describe("reconciliation controls: discrepancies in the bill", () => {
  it("adds, lists and clears bill overrides; the v2 bill shows them and the gateway's own state stays as it was", async () => {
    const clock = createManualClock(NOON);
    await withSandbox({ clock, refundSettleMs: 0 }, async (sandbox) => {
      const control = controlOf(sandbox);
      const a = orderFields({ total_fee: 1000 });
      const b = orderFields({ total_fee: 200 });
      await control.pay({ prepay_id: await placeOrder(sandbox, a), outcome: "success", notify: false });
      await control.pay({ prepay_id: await placeOrder(sandbox, b), outcome: "success", notify: false });
      await callGateway(sandbox, GATEWAY_PATHS.refund, {
        appid: DIRECT.appId,
        mch_id: DIRECT.mchId,
        out_trade_no: a.out_trade_no,
        out_refund_no: "RA",
        total_fee: 1000,
        refund_fee: 100,
      });
      await clock.advance(DAY_MS);

      const amount = await control.addDiscrepancy({ kind: "payment_amount", mch_id: DIRECT.mchId, out_trade_no: String(a.out_trade_no), total_fee: 999 });
      expect(amount).toEqual({ discrepancy: { kind: "payment_amount", mch_id: DIRECT.mchId, out_trade_no: String(a.out_trade_no), total_fee: 999 } });
      await control.addDiscrepancy({ kind: "payment_omitted", mch_id: DIRECT.mchId, out_trade_no: String(b.out_trade_no) });
      await control.addDiscrepancy({ kind: "refund_omitted", mch_id: DIRECT.mchId, out_refund_no: "RA" });
      const unexpected = await control.addDiscrepancy({ kind: "unexpected_row", mch_id: DIRECT.mchId, out_trade_no: String(b.out_trade_no) });
      expect(unexpected.discrepancy).toMatchObject({ trade_state: "REVOKED" });
      expect((await control.listDiscrepancies()).discrepancies.map((d) => d.kind)).toEqual(["payment_amount", "payment_omitted", "refund_omitted", "unexpected_row"]);

      const bill = parsed((await downloadBill(sandbox)).text);
      expect(bill.rows.map((r) => [r.outTradeNo, r.tradeState, r.totalFee?.amount])).toEqual([
        [String(a.out_trade_no), "SUCCESS", 999],
        [String(b.out_trade_no), "REVOKED", 200],
      ]);
      // The gateway still answers with what was paid.
      const query = await callGateway(sandbox, GATEWAY_PATHS.orderQuery, { appid: DIRECT.appId, mch_id: DIRECT.mchId, out_trade_no: a.out_trade_no });
      expect(query.fields).toMatchObject({ total_fee: "1000" });

      await control.clearDiscrepancies();
      expect((await control.listDiscrepancies()).discrepancies).toEqual([]);
      // Every line has the same time on the manual clock: the order's payment, its refund, then the next order.
      expect(parsed((await downloadBill(sandbox)).text).rows.map((r) => [r.tradeState, r.totalFee?.amount, r.refundFee?.amount])).toEqual([
        ["SUCCESS", 1000, 0],
        ["REFUND", 1000, 100],
        ["SUCCESS", 200, 0],
      ]);
    });
  });

  it("refuses a discrepancy for a merchant, order or refund the gateway does not have, and a kind or field it does not know", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = controlOf(sandbox);
      expect((await failure(control.addDiscrepancy({ kind: "payment_omitted", mch_id: "1999999999", out_trade_no: "X" }))).code).toBe("MERCHANT_NOT_FOUND");
      expect((await failure(control.addDiscrepancy({ kind: "payment_amount", mch_id: DIRECT.mchId, out_trade_no: "NOPE", total_fee: 1 }))).code).toBe("ORDER_NOT_FOUND");
      expect((await failure(control.addDiscrepancy({ kind: "refund_omitted", mch_id: DIRECT.mchId, out_refund_no: "NOPE" }))).code).toBe("REFUND_NOT_FOUND");
      const P = SANDBOX_CONTROL_PATHS;
      const bad: Array<[unknown, string]> = [
        [{ kind: "payment_typo", mch_id: DIRECT.mchId, out_trade_no: "X" }, "kind"],
        [{ kind: "payment_amount", mch_id: DIRECT.mchId, out_trade_no: "X", total_fee: -1 }, "total_fee"],
        [{ kind: "payment_amount", mch_id: DIRECT.mchId, out_trade_no: "X", total_fee: 1.5 }, "total_fee"],
        [{ kind: "payment_currency", mch_id: DIRECT.mchId, out_trade_no: "X", fee_type: "XXX" }, "fee_type"],
        [{ kind: "payment_transaction", mch_id: DIRECT.mchId, out_trade_no: "X", transaction_id: "42abc" }, "transaction_id"],
        [{ kind: "payment_omitted", mch_id: DIRECT.mchId, out_trade_no: "X", total_fee: 1 }, "total_fee"],
        [{ kind: "summary", mch_id: DIRECT.mchId, bill_date: BILL_DATE }, "at least one"],
        [{ kind: "summary", mch_id: DIRECT.mchId, bill_date: "2026-02-30", trade_count: 1 }, "bill_date"],
      ];
      for (const [body, named] of bad) {
        const response = await fetch(`${sandbox.url}${P.discrepancies}`, { method: "POST", body: JSON.stringify(body) });
        expect(response.status).toBe(400);
        const answer = ControlErrorAnswerSchema.parse(await response.json());
        expect(answer.error.code).toBe("BAD_REQUEST");
        expect(answer.error.message).toContain(named);
      }
      expect((await control.listDiscrepancies()).discrepancies).toEqual([]);
    });
  });
});

describe("reconciliation controls: bill-file faults (v2 downloadbill)", () => {
  it("spoils the next download of the day's bill with each fault, once, and leaves hash_mismatch to v3", async () => {
    const clock = createManualClock(NOON);
    await withSandbox({ clock }, async (sandbox) => {
      const control = controlOf(sandbox);
      await control.createForeignPayment({ mch_id: DIRECT.mchId, out_trade_no: "F-1", total_fee: 100 });
      await clock.advance(DAY_MS);
      const fault = (kind: "truncated" | "foreign_merchant" | "other_day" | "garbage" | "hash_mismatch") =>
        control.addBillFault({ mch_id: DIRECT.mchId, bill_date: BILL_DATE, fault: kind });

      expect(await fault("hash_mismatch")).toEqual({ bill_fault: { mch_id: DIRECT.mchId, bill_date: BILL_DATE, fault: "hash_mismatch", times: 1, remaining: 1 } });
      await fault("truncated");
      const truncated = parseBill((await downloadBill(sandbox)).text);
      expect(truncated.ok ? undefined : truncated.error.message).toContain("truncated");

      await fault("foreign_merchant");
      expect(parsed((await downloadBill(sandbox)).text).rows.map((r) => r.mchId)).toEqual([foreignMchId(DIRECT.mchId)]);
      await fault("other_day");
      expect(parsed((await downloadBill(sandbox)).text).rows.map((r) => r.tradeTime)).toEqual(["2025-12-31 12:00:00"]);
      await fault("garbage");
      expect((await downloadBill(sandbox)).text).toBe(GARBAGE_BILL);

      // Each was used once; the v2 downloads left the hash_mismatch queued, and the bill is whole again.
      expect((await control.listBillFaults()).bill_faults).toEqual([{ mch_id: DIRECT.mchId, bill_date: BILL_DATE, fault: "hash_mismatch", times: 1, remaining: 1 }]);
      expect(parsed((await downloadBill(sandbox)).text).rows.map((r) => r.outTradeNo)).toEqual(["F-1"]);
      await control.clearBillFaults();
      expect((await control.listBillFaults()).bill_faults).toEqual([]);
    });
  });

  it("keeps a fault for another day, another merchant or a day without a bill queued", async () => {
    const clock = createManualClock(NOON);
    await withSandbox({ clock }, async (sandbox) => {
      const control = controlOf(sandbox);
      await control.createForeignPayment({ mch_id: DIRECT.mchId, out_trade_no: "F-1", total_fee: 100 });
      await clock.advance(DAY_MS);
      await control.addBillFault({ mch_id: DIRECT.mchId, bill_date: "2025-12-31", fault: "garbage" });
      await control.addBillFault({ mch_id: GLOBAL.mchId, bill_date: BILL_DATE, fault: "garbage", times: 3 });
      expect(parsed((await downloadBill(sandbox)).text).rows).toHaveLength(1);
      // GLOBAL has no payment that day: No Bill Exist, and its fault stays for when it has one.
      expect((await downloadBill(sandbox, GLOBAL)).failMessage).toBe("No Bill Exist");
      expect((await control.listBillFaults()).bill_faults.map((f) => [f.mch_id, f.bill_date, f.remaining])).toEqual([
        [DIRECT.mchId, "2025-12-31", 1],
        [GLOBAL.mchId, BILL_DATE, 3],
      ]);
    });
  });

  it("refuses a bill fault of an unknown kind, a bad date, or an unknown merchant", async () => {
    await withSandbox({}, async (sandbox) => {
      const control = controlOf(sandbox);
      expect((await failure(control.addBillFault({ mch_id: "1999999999", bill_date: BILL_DATE, fault: "garbage" }))).code).toBe("MERCHANT_NOT_FOUND");
      const bad: Array<[unknown, string]> = [
        [{ mch_id: DIRECT.mchId, bill_date: BILL_DATE, fault: "explode" }, "fault"],
        [{ mch_id: DIRECT.mchId, bill_date: "20260101", fault: "garbage" }, "bill_date"],
        [{ mch_id: DIRECT.mchId, bill_date: BILL_DATE, fault: "garbage", times: 0 }, "times"],
      ];
      for (const [body, named] of bad) {
        const response = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.billFaults}`, { method: "POST", body: JSON.stringify(body) });
        expect(response.status).toBe(400);
        expect(ControlErrorAnswerSchema.parse(await response.json()).error.message).toContain(named);
      }
    });
  });
});
