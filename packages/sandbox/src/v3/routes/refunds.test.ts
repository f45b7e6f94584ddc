import { parseV3Answer, parseV3Notify, V3GlobalRefundAnswerSchema, V3RefundAnswerSchema, type V3Notify } from "@pay/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../clock.js";
import { callGateway, controlOf, orderFields, pay, placeOrder, waitFor } from "../../../test/support/harness.js";
import {
  seedPaidV3Order,
  seedV3Order,
  startV3Receiver,
  v3Client,
  V3_DIRECT,
  V3_GLOBAL,
  V3_INSTITUTION,
  V3_MIGRATING,
  V3_PARTNER,
  type V3Answer,
  type V3Receiver,
  type V3TestClient,
} from "../../../test/support/v3.js";
import { startSandbox, type RunningSandbox } from "../../server.js";
import { REFUND_WINDOW_MS } from "../../state/payments.js";
import type { SandboxOrder } from "../../state/types.js";

const REFUNDS = "/v3/refund/domestic/refunds";
const GLOBAL_REFUNDS = "/v3/global/refunds";

let seq = 0;
/** A fresh out_trade_no / out_refund_no (6-32 characters). */
const no = (prefix: string): string => `${prefix}${String(++seq).padStart(6, "0")}`;

function expectSigned(client: V3TestClient, answer: V3Answer): void {
  const verified = client.verify(answer);
  expect(verified.ok, verified.ok ? "" : verified.error.message).toBe(true);
}

/** A refusal: its status, `{code, message, detail}`, no Wechatpay-* signature. */
function expectRefusal(answer: V3Answer, status: number, code: string): void {
  expect({ status: answer.status, code: (answer.json as { code?: string } | undefined)?.code }).toEqual({ status, code });
  const { message, detail } = answer.json as { message?: unknown; detail?: unknown };
  expect(typeof message).toBe("string");
  expect(detail).toBeDefined();
  expect(answer.headers.get("wechatpay-signature")).toBeNull();
}

function refundAnswer(client: V3TestClient, answer: V3Answer) {
  expect(answer.status, answer.text).toBe(200);
  expectSigned(client, answer);
  const parsed = parseV3Answer(V3RefundAnswerSchema, answer.text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

function globalRefundAnswer(client: V3TestClient, answer: V3Answer) {
  expect(answer.status, answer.text).toBe(200);
  expectSigned(client, answer);
  const parsed = parseV3Answer(V3GlobalRefundAnswerSchema, answer.text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

const cny = (refund: number, total: number) => ({ refund, total, currency: "CNY" });

describe("v3 refunds", () => {
  const clock = createManualClock();
  let sandbox: RunningSandbox;
  let payReceiver: V3Receiver;
  let receiver: V3Receiver;
  let direct: V3TestClient;
  let partner: V3TestClient;
  let global: V3TestClient;
  let institution: V3TestClient;
  let migrating: V3TestClient;

  beforeAll(async () => {
    [payReceiver, receiver] = await Promise.all([startV3Receiver(), startV3Receiver()]);
    sandbox = await startSandbox({
      merchants: [V3_DIRECT, V3_PARTNER, V3_GLOBAL, V3_INSTITUTION, V3_MIGRATING],
      clock,
      refundSettleMs: 1000,
      allowHttpNotifyUrl: true,
      requireClientCert: false,
    });
    direct = v3Client(sandbox, V3_DIRECT.mchId);
    partner = v3Client(sandbox, V3_PARTNER.mchId);
    global = v3Client(sandbox, V3_GLOBAL.mchId);
    institution = v3Client(sandbox, V3_INSTITUTION.mchId);
    migrating = v3Client(sandbox, V3_MIGRATING.mchId);
  });
  afterAll(async () => {
    await sandbox.stop();
    await Promise.all([payReceiver.close(), receiver.close()]);
  });

  function paid(seed: { mchId: string; subMchId?: string; total?: number; currency?: SandboxOrder["feeType"] }): SandboxOrder {
    return seedPaidV3Order(sandbox, { outTradeNo: no("V3RT"), notifyUrl: payReceiver.url, ...seed });
  }

  /** The refund notifies for `outRefundNo` that reached `receiver`, verified and decrypted with core's parseV3Notify. */
  function refundNotifies(outRefundNo: string, apiV3Key: string, client: V3TestClient): Extract<V3Notify, { kind: "refund" }>[] {
    // Other merchants' notifies fail with this merchant's keys and are left out; a wrong one of its own never matches, and the wait fails.
    return receiver.deliveries
      .map((d) => parseV3Notify(d.body, d.headers, { keys: client.keyStore(), apiV3Key, now: clock.now() }))
      .flatMap((r) => (r.ok && r.value.kind === "refund" && r.value.refund.outRefundNo === outRefundNo ? [r.value] : []));
  }

  describe("direct merchant", () => {
    it("accepts a partial refund as PROCESSING, moves the order to REFUND and answers the same refund to the query", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      const outRefundNo = no("R");
      const created = refundAnswer(
        direct,
        await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, reason: "部分退款", amount: cny(30, 100) } }),
      );
      expect(created).toMatchObject({
        outRefundNo,
        outTradeNo: order.outTradeNo,
        transactionId: order.transactionId,
        status: "PROCESSING",
        channel: "ORIGINAL",
        fundsAccount: "UNSETTLED",
        amount: { refund: { amount: 30, currency: "CNY" }, total: { amount: 100, currency: "CNY" }, payerRefund: { amount: 30, currency: "CNY" } },
      });
      expect(created.refundId).toMatch(/^503\d{26}$/);
      expect(created.successTime).toBeUndefined();

      const queried = refundAnswer(direct, await direct.send({ target: `${REFUNDS}/${outRefundNo}` }));
      expect(queried).toEqual(created);
      const [view] = (await controlOf(sandbox).listOrders({ out_trade_no: order.outTradeNo })).orders;
      expect(view).toMatchObject({
        protocol: "v3",
        trade_state: "REFUND",
        refunds: [{ out_refund_no: outRefundNo, refund_fee: 30, refund_status: "PROCESSING", v3_refund_status: "PROCESSING" }],
      });
    });

    it("finds the order by transaction_id and answers funds_account AVAILABLE when asked for it", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      const created = refundAnswer(
        direct,
        await direct.send({ target: REFUNDS, body: { transaction_id: order.transactionId, out_refund_no: no("R"), funds_account: "AVAILABLE", amount: cny(100, 100) } }),
      );
      expect(created).toMatchObject({ outTradeNo: order.outTradeNo, fundsAccount: "AVAILABLE", status: "PROCESSING", amount: { refund: { amount: 100 } } });
    });

    it("goes PROCESSING -> SUCCESS when the settle timer fires and sends REFUND.SUCCESS to the request's notify_url", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      const outRefundNo = no("R");
      refundAnswer(
        direct,
        await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, notify_url: receiver.url, amount: cny(40, 100) } }),
      );
      await clock.advance(999);
      expect(refundAnswer(direct, await direct.send({ target: `${REFUNDS}/${outRefundNo}` })).status).toBe("PROCESSING");
      await clock.advance(1);
      const settled = refundAnswer(direct, await direct.send({ target: `${REFUNDS}/${outRefundNo}` }));
      expect(settled.status).toBe("SUCCESS");
      expect(settled.successTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);

      const [notify] = await waitFor(() => refundNotifies(outRefundNo, V3_DIRECT.v3.apiV3Key, direct).length > 0 && refundNotifies(outRefundNo, V3_DIRECT.v3.apiV3Key, direct));
      expect(notify).toMatchObject({
        eventType: "REFUND.SUCCESS",
        refund: {
          mchId: V3_DIRECT.mchId,
          outTradeNo: order.outTradeNo,
          transactionId: order.transactionId,
          refundStatus: "SUCCESS",
          refund: { amount: 40, currency: "CNY" },
          total: { amount: 100, currency: "CNY" },
        },
      });
      expect(sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo, kind: "refund" })[0]).toMatchObject({
        protocol: "v3",
        eventType: "REFUND.SUCCESS",
        outcome: "acknowledged",
      });
    });

    it("settles to ABNORMAL and CLOSED by the control call, sends REFUND.ABNORMAL / REFUND.CLOSED, and a closed refund no longer counts", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      const [abnormal, closed] = [no("RA"), no("RC")];
      for (const [outRefundNo, refund] of [
        [abnormal, 30],
        [closed, 70],
      ] as const) {
        refundAnswer(
          direct,
          await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, notify_url: receiver.url, amount: cny(refund, 100) } }),
        );
      }
      const control = controlOf(sandbox);
      expect(await control.settleRefund({ mch_id: V3_DIRECT.mchId, out_refund_no: abnormal, status: "ABNORMAL" })).toEqual({
        out_refund_no: abnormal,
        refund_status: "CHANGE",
        v3_refund_status: "ABNORMAL",
      });
      expect(await control.settleRefund({ mch_id: V3_DIRECT.mchId, out_refund_no: closed, status: "CLOSED" })).toEqual({
        out_refund_no: closed,
        refund_status: "REFUNDCLOSE",
        v3_refund_status: "CLOSED",
      });
      await clock.advance(1000);
      expect(refundAnswer(direct, await direct.send({ target: `${REFUNDS}/${abnormal}` }))).toMatchObject({ status: "ABNORMAL" });
      expect(refundAnswer(direct, await direct.send({ target: `${REFUNDS}/${closed}` }))).toMatchObject({ status: "CLOSED" });
      const [view] = (await control.listOrders({ out_trade_no: order.outTradeNo })).orders;
      expect(view?.refunds.map((r) => r.v3_refund_status)).toEqual(["ABNORMAL", "CLOSED"]);

      const a = await waitFor(() => refundNotifies(abnormal, V3_DIRECT.v3.apiV3Key, direct)[0]);
      const c = await waitFor(() => refundNotifies(closed, V3_DIRECT.v3.apiV3Key, direct)[0]);
      expect([a.eventType, a.refund.refundStatus, c.eventType, c.refund.refundStatus]).toEqual(["REFUND.ABNORMAL", "ABNORMAL", "REFUND.CLOSED", "CLOSED"]);

      // 30 (ABNORMAL) still counts against the 100 paid; the 70 CLOSED does not.
      refundAnswer(direct, await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(70, 100) } }));
      expectRefusal(await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(1, 100) } }), 400, "INVALID_REQUEST");
    });

    it("sends the notify to the merchant's refundNotifyUrl when the request names none", async () => {
      const merchant = sandbox.context.findMerchant(V3_DIRECT.mchId, undefined);
      if (merchant === undefined) throw new Error("no merchant");
      Object.assign(merchant, { refundNotifyUrl: receiver.url });
      try {
        const order = paid({ mchId: V3_DIRECT.mchId });
        const outRefundNo = no("R");
        refundAnswer(direct, await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, amount: cny(10, 100) } }));
        await clock.advance(1000);
        expect((await waitFor(() => refundNotifies(outRefundNo, V3_DIRECT.v3.apiV3Key, direct)[0])).eventType).toBe("REFUND.SUCCESS");
      } finally {
        Object.assign(merchant, { refundNotifyUrl: undefined });
      }
    });
  });

  describe("service provider", () => {
    it("refunds a sub-merchant's order (sub_mchid in the body), queries it with ?sub_mchid= and notifies with sp_mchid / sub_mchid", async () => {
      const order = paid({ mchId: V3_PARTNER.mchId, subMchId: V3_PARTNER.subMchId });
      const outRefundNo = no("RP");
      const created = refundAnswer(
        partner,
        await partner.send({
          target: REFUNDS,
          body: { sub_mchid: V3_PARTNER.subMchId, out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, notify_url: receiver.url, amount: cny(25, 100) },
        }),
      );
      expect(created).toMatchObject({ outRefundNo, status: "PROCESSING", amount: { refund: { amount: 25 } } });
      expect(refundAnswer(partner, await partner.send({ target: `${REFUNDS}/${outRefundNo}?sub_mchid=${V3_PARTNER.subMchId}` }))).toEqual(created);

      await clock.advance(1000);
      const notify = await waitFor(() => refundNotifies(outRefundNo, V3_PARTNER.v3.apiV3Key, partner)[0]);
      expect(notify.refund).toMatchObject({ mchId: undefined, spMchId: V3_PARTNER.mchId, subMchId: V3_PARTNER.subMchId, refundStatus: "SUCCESS" });
    });

    it("refuses a provider without sub_mchid (400 MCH_NOT_EXISTS), a direct merchant naming a sub_mchid (400 PARAM_ERROR), and another merchant's order (404)", async () => {
      const order = paid({ mchId: V3_PARTNER.mchId, subMchId: V3_PARTNER.subMchId });
      const body = { out_trade_no: order.outTradeNo, out_refund_no: no("RP"), amount: cny(1, 100) };
      expectRefusal(await partner.send({ target: REFUNDS, body }), 400, "MCH_NOT_EXISTS");
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, sub_mchid: V3_PARTNER.subMchId } }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: REFUNDS, body }), 404, "RESOURCE_NOT_EXISTS");
    });
  });

  describe("WeChat Pay Global", () => {
    it("refunds a direct merchant's HKD order with the payer's CNY share rounded as in v2, queried by out-refund-no and by id", async () => {
      // 1000 HKD cents at 0.91 -> 910 CNY fen paid; 333 refunded -> 910 x 333 / 1000 = 303.03 -> 303.
      const order = paid({ mchId: V3_GLOBAL.mchId, total: 1000, currency: "HKD" });
      expect(order.cashFee).toBe(910);
      const outRefundNo = no("RG");
      const created = globalRefundAnswer(
        global,
        await global.send({
          target: GLOBAL_REFUNDS,
          body: {
            mchid: V3_GLOBAL.mchId,
            out_trade_no: order.outTradeNo,
            out_refund_no: outRefundNo,
            notify_url: receiver.url,
            amount: { refund: 333, total: 1000, currency: "HKD" },
          },
        }),
      );
      expect(created).toMatchObject({
        outRefundNo,
        status: "PROCESSING",
        amount: {
          refund: { amount: 333, currency: "HKD" },
          total: { amount: 1000, currency: "HKD" },
          payerRefund: { amount: 303, currency: "CNY" },
          payerTotal: { amount: 910, currency: "CNY" },
          exchangeRate: { type: "SETTLEMENT_RATE", rate: 91_000_000 },
        },
      });
      const byNo = globalRefundAnswer(global, await global.send({ target: `${GLOBAL_REFUNDS}/out-refund-no/${outRefundNo}?mchid=${V3_GLOBAL.mchId}` }));
      const byId = globalRefundAnswer(global, await global.send({ target: `${GLOBAL_REFUNDS}/id/${created.refundId}?mchid=${V3_GLOBAL.mchId}` }));
      expect([byNo, byId]).toEqual([created, created]);

      await clock.advance(1000);
      const notify = await waitFor(() => refundNotifies(outRefundNo, V3_GLOBAL.v3.apiV3Key, global)[0]);
      expect(notify.refund).toMatchObject({ refundStatus: "SUCCESS", refund: { amount: 333, currency: "HKD" }, payerRefund: { amount: 303, currency: "CNY" } });
    });

    it("refunds an institution's sub-merchant order (sp_mchid + sub_mchid) and queries it with both", async () => {
      const order = paid({ mchId: V3_INSTITUTION.mchId, subMchId: V3_INSTITUTION.subMchId, total: 500, currency: "HKD" });
      const outRefundNo = no("RI");
      const created = globalRefundAnswer(
        institution,
        await institution.send({
          target: GLOBAL_REFUNDS,
          body: {
            sp_mchid: V3_INSTITUTION.mchId,
            sub_mchid: V3_INSTITUTION.subMchId,
            transaction_id: order.transactionId,
            out_refund_no: outRefundNo,
            amount: { refund: 500, total: 500, currency: "HKD" },
          },
        }),
      );
      expect(created.amount.payerRefund).toEqual({ amount: 455, currency: "CNY" });
      const query = `?sp_mchid=${V3_INSTITUTION.mchId}&sub_mchid=${V3_INSTITUTION.subMchId}`;
      expect(globalRefundAnswer(institution, await institution.send({ target: `${GLOBAL_REFUNDS}/out-refund-no/${outRefundNo}${query}` }))).toEqual(created);
      expectRefusal(await institution.send({ target: `${GLOBAL_REFUNDS}/out-refund-no/${outRefundNo}?mchid=${V3_INSTITUTION.mchId}` }), 400, "MCH_NOT_EXISTS");
    });

    it("refuses a currency other than the order's (PARAM_ERROR), an absent currency (PARAM_ERROR) and a mchid that is not the caller's (PARAM_ERROR)", async () => {
      const order = paid({ mchId: V3_GLOBAL.mchId, total: 1000, currency: "HKD" });
      const body = { mchid: V3_GLOBAL.mchId, out_trade_no: order.outTradeNo, out_refund_no: no("RG") };
      expectRefusal(await global.send({ target: GLOBAL_REFUNDS, body: { ...body, amount: { refund: 1, total: 1000, currency: "USD" } } }), 400, "PARAM_ERROR");
      expectRefusal(await global.send({ target: GLOBAL_REFUNDS, body: { ...body, amount: { refund: 1, total: 1000 } } }), 400, "PARAM_ERROR");
      expectRefusal(
        await global.send({ target: GLOBAL_REFUNDS, body: { ...body, mchid: V3_DIRECT.mchId, amount: { refund: 1, total: 1000, currency: "HKD" } } }),
        400,
        "PARAM_ERROR",
      );
    });

    it("keeps the two families apart: a Global merchant on the mainland path and a mainland one on the Global path are 400 INVALID_REQUEST", async () => {
      const answer = await global.send({ target: REFUNDS, body: { out_trade_no: "G1234567", out_refund_no: no("R"), amount: cny(1, 1) } });
      expect({ status: answer.status, json: answer.json }).toMatchObject({ status: 400, json: { code: "INVALID_REQUEST" } });
      const mainland = await direct.send({ target: `${GLOBAL_REFUNDS}/out-refund-no/R1?mchid=${V3_DIRECT.mchId}` });
      expect({ status: mainland.status, json: mainland.json }).toMatchObject({ status: 400, json: { code: "INVALID_REQUEST" } });
    });
  });

  describe("money rules", () => {
    it("refuses an unknown order and an unpaid one with 404 RESOURCE_NOT_EXISTS", async () => {
      expectRefusal(await direct.send({ target: REFUNDS, body: { out_trade_no: "NO_SUCH_ORDER", out_refund_no: no("R"), amount: cny(1, 100) } }), 404, "RESOURCE_NOT_EXISTS");
      const unpaid = seedV3Order(sandbox, { outTradeNo: no("V3RT"), notifyUrl: payReceiver.url, mchId: V3_DIRECT.mchId });
      expectRefusal(await direct.send({ target: REFUNDS, body: { out_trade_no: unpaid.outTradeNo, out_refund_no: no("R"), amount: cny(1, 100) } }), 404, "RESOURCE_NOT_EXISTS");
    });

    it("refuses a v2 order of a merchant on both protocols with 404 RESOURCE_NOT_EXISTS", async () => {
      const fields = orderFields({ appid: V3_MIGRATING.appId, mch_id: V3_MIGRATING.mchId, notify_url: payReceiver.url });
      expect((await pay(sandbox, await placeOrder(sandbox, fields, V3_MIGRATING.key))).status).toBe(200);
      expectRefusal(
        await migrating.send({ target: REFUNDS, body: { out_trade_no: String(fields.out_trade_no), out_refund_no: no("R"), amount: cny(1, 100) } }),
        404,
        "RESOURCE_NOT_EXISTS",
      );
    });

    it("keeps out_refund_no unique across protocols: a v2 refund's number is refused for a v3 order and not found by the v3 query", async () => {
      const fields = orderFields({ appid: V3_MIGRATING.appId, mch_id: V3_MIGRATING.mchId, notify_url: payReceiver.url });
      expect((await pay(sandbox, await placeOrder(sandbox, fields, V3_MIGRATING.key))).status).toBe(200);
      const outRefundNo = no("R2");
      const v2 = await callGateway(
        sandbox,
        "/secapi/pay/refund",
        { appid: V3_MIGRATING.appId, mch_id: V3_MIGRATING.mchId, out_trade_no: fields.out_trade_no, out_refund_no: outRefundNo, total_fee: 100, refund_fee: 10 },
        { key: V3_MIGRATING.key },
      );
      expect(v2.fields?.result_code).toBe("SUCCESS");
      const order = paid({ mchId: V3_MIGRATING.mchId });
      expectRefusal(await migrating.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, amount: cny(10, 100) } }), 400, "INVALID_REQUEST");
      expectRefusal(await migrating.send({ target: `${REFUNDS}/${outRefundNo}` }), 404, "RESOURCE_NOT_EXISTS");
      expect(order.refunds).toHaveLength(0);
    });

    it("refuses an order paid more than a year ago (400 INVALID_REQUEST) and accepts one inside the year", async () => {
      const old = paid({ mchId: V3_DIRECT.mchId });
      old.paidAt = clock.now() - REFUND_WINDOW_MS - 1000;
      expectRefusal(await direct.send({ target: REFUNDS, body: { out_trade_no: old.outTradeNo, out_refund_no: no("R"), amount: cny(1, 100) } }), 400, "INVALID_REQUEST");
      const recent = paid({ mchId: V3_DIRECT.mchId });
      recent.paidAt = clock.now() - REFUND_WINDOW_MS + 1000;
      refundAnswer(direct, await direct.send({ target: REFUNDS, body: { out_trade_no: recent.outTradeNo, out_refund_no: no("R"), amount: cny(1, 100) } }));
    });

    it("refuses an amount.total other than the order's (INVALID_REQUEST), a refund above the total or not in CNY (PARAM_ERROR), and an http notify_url only when not allowed", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      const body = { out_trade_no: order.outTradeNo, out_refund_no: no("R") };
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, amount: cny(1, 99) } }), 400, "INVALID_REQUEST");
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, amount: cny(101, 100) } }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, amount: { refund: 1, total: 100, currency: "HKD" } } }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, notify_url: "http://example.com/n?x=1", amount: cny(1, 100) } }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, extra: 1, amount: cny(1, 100) } }), 400, "PARAM_ERROR");
      expect(order.refunds).toHaveLength(0);
    });

    it("never refunds more than was paid over the refunds not closed", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      refundAnswer(direct, await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(60, 100) } }));
      expectRefusal(await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(41, 100) } }), 400, "INVALID_REQUEST");
      refundAnswer(direct, await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(40, 100) } }));
      expect(order.refunds.reduce((sum, r) => sum + r.refundFee, 0)).toBe(100);
    });

    it("allows at most 50 refunds per order", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId, total: 1000 });
      for (let i = 0; i < 50; i++) {
        const answer = await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(1, 1000) } });
        expect(answer.status).toBe(200);
      }
      expectRefusal(await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(1, 1000) } }), 400, "INVALID_REQUEST");
      expect(order.refunds).toHaveLength(50);
    });

    it("answers the same refund for the same out_refund_no, order and amount, and refuses it with another amount or order", async () => {
      const order = paid({ mchId: V3_DIRECT.mchId });
      const other = paid({ mchId: V3_DIRECT.mchId });
      const outRefundNo = no("R");
      const body = { out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, amount: cny(30, 100) };
      const first = refundAnswer(direct, await direct.send({ target: REFUNDS, body }));
      const again = refundAnswer(direct, await direct.send({ target: REFUNDS, body }));
      expect(again).toEqual(first);
      expect(order.refunds).toHaveLength(1);
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, amount: cny(31, 100) } }), 400, "INVALID_REQUEST");
      expectRefusal(await direct.send({ target: REFUNDS, body: { ...body, out_trade_no: other.outTradeNo } }), 400, "INVALID_REQUEST");
      expect(other.refunds).toHaveLength(0);

      await clock.advance(1000);
      expect(refundAnswer(direct, await direct.send({ target: REFUNDS, body }))).toMatchObject({ refundId: first.refundId, status: "SUCCESS" });
    });

    it("answers 403 NOT_ENOUGH, signed, when the refundable balance is short, and takes accepted refunds from it", async () => {
      const merchant = sandbox.context.findMerchant(V3_DIRECT.mchId, undefined);
      if (merchant === undefined) throw new Error("no merchant");
      merchant.refundableBalance = 20;
      try {
        const order = paid({ mchId: V3_DIRECT.mchId });
        const short = await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(30, 100) } });
        expect(short.status).toBe(403);
        expect(JSON.parse(short.text)).toEqual({ code: "NOT_ENOUGH", message: "基本账户余额不足，请充值后重新发起" });
        expectSigned(direct, short);
        refundAnswer(direct, await direct.send({ target: REFUNDS, body: { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(20, 100) } }));
        expect(merchant.refundableBalance).toBe(0);
        expect(order.refunds).toHaveLength(1);
      } finally {
        merchant.refundableBalance = undefined;
      }
    });
  });

  describe("queries", () => {
    it("answers 404 RESOURCE_NOT_EXISTS for an unknown refund, another merchant's, or by an id that is not the caller's", async () => {
      expectRefusal(await direct.send({ target: `${REFUNDS}/NO_SUCH_REFUND` }), 404, "RESOURCE_NOT_EXISTS");
      const order = paid({ mchId: V3_PARTNER.mchId, subMchId: V3_PARTNER.subMchId });
      const outRefundNo = no("RP");
      refundAnswer(
        partner,
        await partner.send({ target: REFUNDS, body: { sub_mchid: V3_PARTNER.subMchId, out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, amount: cny(1, 100) } }),
      );
      expectRefusal(await direct.send({ target: `${REFUNDS}/${outRefundNo}` }), 404, "RESOURCE_NOT_EXISTS");

      const globalOrder = paid({ mchId: V3_INSTITUTION.mchId, subMchId: V3_INSTITUTION.subMchId, total: 100, currency: "HKD" });
      const created = globalRefundAnswer(
        institution,
        await institution.send({
          target: GLOBAL_REFUNDS,
          body: {
            sp_mchid: V3_INSTITUTION.mchId,
            sub_mchid: V3_INSTITUTION.subMchId,
            out_trade_no: globalOrder.outTradeNo,
            out_refund_no: no("RI"),
            amount: { refund: 1, total: 100, currency: "HKD" },
          },
        }),
      );
      expectRefusal(await global.send({ target: `${GLOBAL_REFUNDS}/id/${created.refundId}?mchid=${V3_GLOBAL.mchId}` }), 404, "RESOURCE_NOT_EXISTS");
    });

    it("refuses bad query parameters with 400 PARAM_ERROR naming them", async () => {
      for (const [client, target] of [
        [direct, `${REFUNDS}/R1?mchid=${V3_DIRECT.mchId}`],
        [direct, `${REFUNDS}/R1?sub_mchid=`],
        [direct, `${REFUNDS}/R%20%201`],
        [global, `${GLOBAL_REFUNDS}/out-refund-no/R1`],
        [global, `${GLOBAL_REFUNDS}/id/not-digits?mchid=${V3_GLOBAL.mchId}`],
        [global, `${GLOBAL_REFUNDS}/out-refund-no/R1?mchid=${V3_GLOBAL.mchId}&mchid=${V3_GLOBAL.mchId}`],
      ] as const) {
        const answer = await client.send({ target });
        expect([target, answer.status, (answer.json as { code?: string }).code]).toEqual([target, 400, "PARAM_ERROR"]);
        expect((answer.json as { detail?: unknown }).detail).toBeDefined();
      }
    });
  });
});

describe("v3 refunds with the gateway's https rule", () => {
  let sandbox: RunningSandbox;
  let payReceiver: V3Receiver;
  beforeAll(async () => {
    payReceiver = await startV3Receiver();
    sandbox = await startSandbox({ merchants: [V3_DIRECT], refundSettleMs: null });
  });
  afterAll(async () => {
    await sandbox.stop();
    await payReceiver.close();
  });

  it("refuses an http notify_url with 400 PARAM_ERROR and accepts an https one", async () => {
    const client = v3Client(sandbox, V3_DIRECT.mchId);
    const order = seedPaidV3Order(sandbox, { outTradeNo: no("V3RT"), notifyUrl: payReceiver.url, mchId: V3_DIRECT.mchId });
    const body = { out_trade_no: order.outTradeNo, out_refund_no: no("R"), amount: cny(1, 100) };
    const refused = await client.send({ target: REFUNDS, body: { ...body, notify_url: "http://merchant.example/refund" } });
    expectRefusal(refused, 400, "PARAM_ERROR");
    expect(refused.json).toMatchObject({ detail: { value: "/body/notify_url" } });
    refundAnswer(client, await client.send({ target: REFUNDS, body: { ...body, notify_url: "https://merchant.example/refund" } }));
    expect(order.refunds[0]?.notifyUrl).toBe("https://merchant.example/refund");
  });
});
