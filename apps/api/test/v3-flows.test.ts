// The v3 flow matrix: each APIv3 merchant kind (domestic direct in public-key mode, service provider in
// platform-certificate mode, Global institution in HKD) on SQLite and PostgreSQL, through the real v3 gateway
// and the real sandbox: purchase, cancel and re-pay, close (by the payer's request and by the sweep), refunds
// with their notifies, lost notifies recovered by the query and by the sweep, 200 concurrent copies of a
// genuine notify, and gateway faults on the order path.
import type { Order, OrderPaymentResponse, RequestPaymentParams } from "@pay/core/contract";
import { OrderPaymentResponseSchema, ProductListResponseSchema } from "@pay/core/contract";
import { decryptV3ResourceText } from "@pay/core/v3";
import { FaultSchema } from "@pay/sandbox/control";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepOnce } from "../src/services/sweeper.js";
import { ADMIN_TOKEN, eventually, startApiHarness, type ApiHarness, type V3MerchantKind } from "./support/api-harness.js";
import { DATABASES } from "./support/databases.js";

const MODES: readonly { mode: V3MerchantKind; orderPath: string; refundPath: string; currency: string; keyMode: string; account: string }[] = [
  { mode: "direct", orderPath: "/v3/pay/transactions/jsapi", refundPath: "/v3/refund/domestic/refunds", currency: "CNY", keyMode: "public-key", account: "domestic" },
  {
    mode: "partner",
    orderPath: "/v3/pay/partner/transactions/jsapi",
    refundPath: "/v3/refund/domestic/refunds",
    currency: "CNY",
    keyMode: "platform-certificate",
    account: "domestic",
  },
  { mode: "institution", orderPath: "/v3/global/transactions/jsapi", refundPath: "/v3/global/refunds", currency: "HKD", keyMode: "public-key", account: "global" },
];
/** [mode, database, setup]: each merchant kind on each database, named plainly in the report. */
const MATRIX = MODES.flatMap((m) => DATABASES.map((kind) => [m.mode, kind, { ...m, kind }] as const));

/**
 * The v2 answers to a gateway that keeps failing (services/gateway-faults.test.ts), and an answer whose signature
 * does not verify (as v2's garbage body: not trusted, not retried). `attempts`: the v2 retry rule, 3 attempts for a
 * timeout, a 5xx and SYSTEM_ERROR, one for an answer that cannot be trusted.
 */
const FAULTS = [
  { what: "a timeout", fault: { kind: "timeout" }, status: 504, code: "GATEWAY_TIMEOUT", attempts: 3 },
  { what: "HTTP 503", fault: { kind: "http", status: 503 }, status: 503, code: "GATEWAY_UNAVAILABLE", attempts: 3 },
  { what: "SYSTEM_ERROR", fault: { kind: "systemerror" }, status: 503, code: "GATEWAY_UNAVAILABLE", attempts: 3 },
  { what: "a bad signature", fault: { kind: "badsignature" }, status: 502, code: "GATEWAY_ERROR", attempts: 1 },
] as const;
/** A timeout costs 3 attempts of 2 s and does not depend on the database: it runs on SQLite only (as in reliability/gateway-faults). */
const faultsFor = (kind: string) => (kind === "sqlite" ? FAULTS : FAULTS.filter(({ what }) => what !== "a timeout"));

describe.each(MATRIX)("APIv3 flows, %s merchant on %s", (_mode, _kind, { mode, kind, orderPath, refundPath, currency, keyMode, account }) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness(kind, { protocol: "v3", v3Merchant: mode });
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(async () => {
    await h.control.clearFaults();
  });

  async function createOrder(token: string, items = [{ productId: "coffee-beans", quantity: 2 }], headers: Record<string, string> = {}) {
    const answer = await h.request("POST", "/api/orders", { token, body: { items }, headers });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    return OrderPaymentResponseSchema.parse(answer.body);
  }

  async function orderOf(token: string, id: string): Promise<Order> {
    const answer = await h.request("GET", `/api/orders/${id}`, { token });
    expect(answer.status).toBe(200);
    return answer.body.order as Order;
  }

  const paidIn = (token: string, id: string) =>
    eventually(async () => {
      const current = await orderOf(token, id);
      return current.status === "paid" ? current : undefined;
    });

  it("runs as the merchant kind says: account, key mode (public key or downloaded platform certificates), sub-merchant, currency", async () => {
    expect(h.config.v3).toMatchObject({ account, mode: keyMode, platformCertificates: keyMode === "platform-certificate" });
    expect(h.config.merchant.feeType).toBe(currency);
    expect(h.config.merchant.subMchId === undefined).toBe(mode === "direct");
    const listed = (await h.control.listMerchants()).merchants.find((m) => m.mch_id === h.merchant.mchId);
    expect(listed).toMatchObject({ protocols: ["v3"] });
    expect(h.logs.join("")).not.toContain(h.config.v3?.apiV3Key);
  });

  it("the whole purchase: login, products, order with RSA params, pay, the v3 notify, paid once", async () => {
    const token = await h.signIn(`alice-${mode}`);
    const products = ProductListResponseSchema.parse((await h.request("GET", "/api/products")).body);
    const beans = products.products.find((p) => p.id === "coffee-beans");
    expect(beans).toMatchObject({ currency });
    const { order, payment } = await createOrder(token);
    expect(order).toMatchObject({ status: "pending", totalFee: (beans?.price ?? 0) * 2, refundedFee: 0, feeType: currency, paidAt: null, transactionId: null });
    expect(payment.signType).toBe("RSA");
    expect(Object.keys(payment).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);
    const row = await h.database.db.selectFrom("orders").select(["protocol", "prepay_id"]).where("id", "=", order.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ protocol: "v3", prepay_id: payment.package.replace(/^prepay_id=/, "") });

    // The gateway's view: a v3 order of this merchant, the payer under the Mini Program they signed in to (sub_openid for a sub-merchant).
    const placed = (await h.control.listOrders({ out_trade_no: order.id })).orders[0];
    expect(placed).toMatchObject({ protocol: "v3", mch_id: h.merchant.mchId, total_fee: order.totalFee, fee_type: currency, trade_state: "NOTPAY" });
    const payer = await h.database.db.selectFrom("orders").select(["openid", "sub_openid"]).where("id", "=", order.id).executeTakeFirstOrThrow();
    if (mode === "direct") {
      expect(payer.sub_openid).toBeNull();
      expect(placed).toMatchObject({ sub_mch_id: null, openid: payer.openid, sub_openid: null });
    } else {
      expect(payer.openid).toBeNull();
      expect(placed).toMatchObject({ sub_mch_id: h.config.merchant.subMchId, openid: null, sub_openid: payer.sub_openid });
    }
    expect(placed?.openid ?? placed?.sub_openid).toMatch(/\S/);

    // The payer side checks paySign over the Mini Program's AppID: a forged one, or the params in another app, are refused and change nothing.
    const prepayId = payment.package.replace(/^prepay_id=/, "");
    const forged = { ...payment, paySign: `${payment.paySign.slice(0, -4)}AAA=` };
    await expect(h.control.pay({ prepay_id: prepayId, outcome: "success", payment: forged })).rejects.toMatchObject({ answer: { error: { code: "PAY_SIGN_INVALID" } } });
    if (mode !== "direct") {
      const inOtherApp = { ...payment, appId: h.config.merchant.appId };
      await expect(h.control.pay({ prepay_id: prepayId, outcome: "success", payment: inOtherApp })).rejects.toMatchObject({ answer: { error: { code: "PAY_SIGN_INVALID" } } });
    }
    expect((await orderOf(token, order.id)).status).toBe("pending");

    expect(await h.pay({ ...payment, appId: h.merchant.loginAppId })).toMatchObject({ errMsg: "requestPayment:ok" });
    const paid = await paidIn(token, order.id);
    expect(paid.transactionId).toMatch(/^\d{20,32}$/);
    expect(paid.paidAt).not.toBeNull();
    const events = await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", order.id).execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: "notify", total_fee: paid.totalFee, transaction_id: paid.transactionId });
    const deliveries = await h.control.listDeliveries({ out_trade_no: order.id });
    expect(deliveries.deliveries).toEqual([expect.objectContaining({ protocol: "v3", eventType: "TRANSACTION.SUCCESS", outcome: "acknowledged" })]);
  });

  it("cancel, then pay again from the same order", async () => {
    const token = await h.signIn(`bob-${mode}`);
    const { order, payment } = await createOrder(token);
    expect(await h.pay(payment, "cancel")).toMatchObject({ errMsg: "requestPayment:fail cancel" });
    expect((await orderOf(token, order.id)).status).toBe("pending");
    const again = await h.request("POST", `/api/orders/${order.id}/payment`, { token });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const renewed = again.body.payment as RequestPaymentParams;
    expect(renewed.package).toBe(payment.package);
    expect(await h.pay(renewed)).toMatchObject({ errMsg: "requestPayment:ok" });
    await paidIn(token, order.id);
    const afterPaid = await h.request("POST", `/api/orders/${order.id}/payment`, { token });
    expect(afterPaid.status).toBe(409);
    expect(afterPaid.body).toMatchObject({ error: { code: "ORDER_NOT_PAYABLE" } });
  });

  it("close: a pending order closes at the gateway and locally; closing twice is fine; paid orders refuse", async () => {
    const token = await h.signIn(`carol-${mode}`);
    const { order, payment } = await createOrder(token);
    const closed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body.order).toMatchObject({ status: "closed" });
    expect((await h.request("POST", `/api/orders/${order.id}/close`, { token })).status).toBe(200);
    expect(await h.pay(payment)).toMatchObject({ error: { code: "ORDER_CLOSED" } });
    expect((await h.control.listOrders({ out_trade_no: order.id })).orders[0]).toMatchObject({ trade_state: "CLOSED" });
    expect((await h.request("POST", `/api/orders/${order.id}/payment`, { token })).body).toMatchObject({ error: { code: "ORDER_NOT_PAYABLE" } });

    const second = await createOrder(token);
    await h.pay(second.payment);
    await paidIn(token, second.order.id);
    const refused = await h.request("POST", `/api/orders/${second.order.id}/close`, { token });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: "ORDER_NOT_CLOSABLE" } });
  });

  it("close by the sweep: an expired unpaid order is closed at the gateway and locally, and can no longer be paid", async () => {
    const token = await h.signIn(`dora-${mode}`);
    const { order, payment } = await createOrder(token);
    await h.database.db
      .updateTable("orders")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", order.id)
      .execute();
    const report = await sweepOnce(h.services);
    expect(report.closed).toBeGreaterThanOrEqual(1);
    expect(report.errors).toBe(0);
    expect((await orderOf(token, order.id)).status).toBe("closed");
    expect((await h.control.listOrders({ out_trade_no: order.id })).orders[0]).toMatchObject({ trade_state: "CLOSED" });
    expect(await h.pay(payment)).toMatchObject({ error: { code: "ORDER_CLOSED" } });
  });

  it("refunds: partial then the rest, with v3 refund notifies; never more than paid; retries reuse out_refund_no", async () => {
    const token = await h.signIn(`erin-${mode}`);
    const { order, payment } = await createOrder(token, [{ productId: "mug", quantity: 1 }]);
    await h.pay(payment);
    await paidIn(token, order.id);
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const refund = (fee: number, key: string) =>
      h.request("POST", `/api/admin/orders/${order.id}/refunds`, {
        body: { refundFee: fee, reason: "damaged" },
        headers: { ...admin, "idempotency-key": `${key}-${mode}-${kind}` },
      });

    const partial = await refund(1000, "refund-a");
    expect(partial.status, JSON.stringify(partial.body)).toBe(201);
    expect(partial.body.refund).toMatchObject({ refundFee: 1000, status: "processing", currency });
    const retried = await refund(1000, "refund-a");
    expect(retried.status).toBe(201);
    expect((retried.body.refund as { id: string }).id).toBe((partial.body.refund as { id: string }).id);
    expect((await refund(order.totalFee, "refund-b")).body).toMatchObject({ error: { code: "REFUND_EXCEEDS_PAID", field: "refundFee" } });
    await eventually(async () => (await orderOf(token, order.id)).refundedFee === 1000);
    expect((await orderOf(token, order.id)).status).toBe("paid");

    const rest = await refund(order.totalFee - 1000, "refund-c");
    expect(rest.status, JSON.stringify(rest.body)).toBe(201);
    const refunded = await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.status === "refunded" ? current : undefined;
    });
    expect(refunded.refundedFee).toBe(order.totalFee);
    const rows = await h.database.db.selectFrom("refunds").selectAll().where("order_id", "=", order.id).execute();
    expect(rows.map((r) => r.status).sort()).toEqual(["succeeded", "succeeded"]);
    const gatewayView = await h.control.listOrders({ out_trade_no: order.id });
    expect(gatewayView.orders[0]?.refunds).toHaveLength(2);
    const notifies = await h.control.listDeliveries({ out_trade_no: order.id, kind: "refund" });
    expect(notifies.deliveries.filter((d) => d.eventType === "REFUND.SUCCESS" && d.outcome === "acknowledged")).toHaveLength(2);
    expect((await refund(1, "refund-d")).body).toMatchObject({ error: { code: "ORDER_NOT_REFUNDABLE" } });
  });

  it.each(faultsFor(kind))(
    `the order path (${orderPath}) answering $what: $status $code after $attempts attempt(s), a stored pending order, and a retry with the same out_trade_no`,
    async ({ what, fault, status, code, attempts }) => {
      const token = await h.signIn(`fault-${mode}-${code}`);
      const key = `k-${mode}-${what.replace(/\W/g, "-")}`;
      await h.control.addFault({ path: orderPath, faults: [FaultSchema.parse(fault)], times: 10 });
      const failed = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] }, headers: { "idempotency-key": key } });
      expect(failed.status, JSON.stringify(failed.body)).toBe(status);
      expect(failed.body).toMatchObject({ error: { code } });
      expect((await h.control.listFaults()).faults).toEqual([expect.objectContaining({ path: orderPath, remaining: 10 - attempts })]);
      const stored = await h.database.db.selectFrom("orders").selectAll().where("idempotency_key", "=", key).executeTakeFirstOrThrow();
      expect(stored).toMatchObject({ status: "pending", prepay_id: null, protocol: "v3" });

      await h.control.clearFaults();
      const retried = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] }, headers: { "idempotency-key": key } });
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);
      const created = retried.body as unknown as OrderPaymentResponse;
      expect(created.order.id).toBe(stored.id);
      expect((await h.control.listOrders({ out_trade_no: stored.id })).orders).toHaveLength(1);
      expect(await h.pay(created.payment)).toMatchObject({ errMsg: "requestPayment:ok" });
      await paidIn(token, stored.id);
    },
  );

  it.each(FAULTS.filter(({ what }) => what !== "a timeout"))(
    "the close path answering $what: $status $code, the order stays pending locally; the retry closes it",
    async ({ what, fault, status, code }) => {
      const token = await h.signIn(`close-fault-${mode}-${code}`);
      const { order } = await createOrder(token);
      const closePath = `${orderPath.replace(/\/jsapi$/, "")}/out-trade-no/${order.id}/close`;
      await h.control.addFault({ path: closePath, faults: [FaultSchema.parse(fault)], times: 10 });
      const failed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
      expect(failed.status, JSON.stringify(failed.body)).toBe(status);
      expect(failed.body).toMatchObject({ error: { code } });
      expect((await h.control.listFaults()).faults[0]?.remaining).toBeLessThan(10);
      expect((await h.database.db.selectFrom("orders").select("status").where("id", "=", order.id).executeTakeFirstOrThrow()).status).toBe("pending");
      // A bad signature hides an answer the gateway did give: the order is closed there already. Otherwise it is still open.
      expect((await h.control.listOrders({ out_trade_no: order.id })).orders[0]?.trade_state).toBe(what === "a bad signature" ? "CLOSED" : "NOTPAY");

      await h.control.clearFaults();
      const closed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
      expect(closed.status, JSON.stringify(closed.body)).toBe(200);
      expect(closed.body.order).toMatchObject({ status: "closed" });
      expect((await h.control.listOrders({ out_trade_no: order.id })).orders[0]?.trade_state).toBe("CLOSED");
    },
  );

  it.each(FAULTS.filter(({ what }) => what !== "a timeout"))(
    `the refund path (${refundPath}) answering $what: $status $code, the amount stays reserved and unpaid, the retry reuses out_refund_no and refunds once`,
    async ({ what, fault, status, code }) => {
      const token = await h.signIn(`refund-fault-${mode}-${code}`);
      const { order, payment } = await createOrder(token, [{ productId: "mug", quantity: 1 }]);
      await h.pay(payment);
      await paidIn(token, order.id);
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `refund-fault-${what.replace(/\W/g, "-")}` };
      await h.control.addFault({ path: refundPath, faults: [FaultSchema.parse(fault)], times: 10 });
      const failed = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: 700 }, headers });
      expect(failed.status, JSON.stringify(failed.body)).toBe(status);
      expect(failed.body).toMatchObject({ error: { code } });
      const rows = await h.database.db.selectFrom("refunds").selectAll().where("order_id", "=", order.id).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: "processing", refund_fee: 700 });
      expect(await h.database.db.selectFrom("orders").select(["status", "reserved_refund_fee", "refunded_fee"]).where("id", "=", order.id).executeTakeFirstOrThrow()).toEqual({
        status: "paid",
        reserved_refund_fee: 700,
        refunded_fee: 0,
      });

      await h.control.clearFaults();
      const retried = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: 700 }, headers });
      expect(retried.status, JSON.stringify(retried.body)).toBe(201);
      expect((retried.body.refund as { id: string }).id).toBe(rows[0]?.id);
      // One refund at the gateway under that out_refund_no, even where the failed answer hid that it was accepted.
      expect((await h.control.listOrders({ out_trade_no: order.id })).orders[0]?.refunds).toEqual([expect.objectContaining({ out_refund_no: rows[0]?.id, refund_fee: 700 })]);
      await eventually(async () => (await orderOf(token, order.id)).refundedFee === 700);
    },
  );
});

describe.each(MATRIX)("APIv3 lost notifies, %s merchant on %s", (_mode, _kind, { mode, kind, orderPath }) => {
  let h: ApiHarness;
  let offset = 0;
  beforeAll(async () => {
    // The notifies go to a dead end (kept there, never answered): only the query and the sweep can learn of a payment.
    h = await startApiHarness(kind, { protocol: "v3", v3Merchant: mode, notifies: "lost", clock: () => Date.now() + offset });
  });
  afterAll(async () => {
    await h.close();
  });

  async function paidAtGateway(user: string): Promise<{ order: Order; token: string }> {
    const token = await h.signIn(`${user}-${mode}`);
    const placed = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const { order, payment } = OrderPaymentResponseSchema.parse(placed.body);
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    // The sandbox tried to deliver and failed: the API has not heard of the payment.
    const { deliveries } = await eventually(async () => {
      const listed = await h.control.listDeliveries({ out_trade_no: order.id });
      return listed.deliveries.length > 0 ? listed : undefined;
    });
    expect(deliveries.filter((d) => d.outcome === "acknowledged")).toEqual([]);
    return { order, token };
  }

  const status = async (id: string) => (await h.database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
  const events = (id: string) => h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", id).execute();

  it("a lost notify is recovered by the query of GET /api/orders/:id once the query delay passed", async () => {
    const { order, token } = await paidAtGateway("lost-query");
    expect((await h.request("GET", `/api/orders/${order.id}`, { token })).body.order).toMatchObject({ status: "pending" });
    offset += 6000;
    const answer = await h.request("GET", `/api/orders/${order.id}`, { token });
    expect(answer.body.order).toMatchObject({ status: "paid" });
    expect(await events(order.id)).toEqual([expect.objectContaining({ source: "query", total_fee: order.totalFee })]);
  });

  it.each(FAULTS.filter(({ what }) => what !== "a timeout"))(
    "the query path answering $what: GET /api/orders/:id answers the stored state; the next query confirms the payment once",
    async ({ fault }) => {
      const { order, token } = await paidAtGateway(`query-fault-${fault.kind}`);
      offset += 6000;
      await h.control.addFault({ path: `${orderPath.replace(/\/jsapi$/, "")}/out-trade-no/${order.id}`, faults: [FaultSchema.parse(fault)], times: 10 });
      const answer = await h.request("GET", `/api/orders/${order.id}`, { token });
      expect(answer.status).toBe(200);
      expect(answer.body.order).toMatchObject({ id: order.id, status: "pending", transactionId: null });
      expect((await h.control.listFaults()).faults[0]?.remaining).toBeLessThan(10);
      expect(await events(order.id)).toEqual([]);

      await h.control.clearFaults();
      offset += 6000;
      expect((await h.request("GET", `/api/orders/${order.id}`, { token })).body.order).toMatchObject({ status: "paid" });
      expect(await events(order.id)).toHaveLength(1);
    },
  );

  it("a lost notify is recovered by the sweep", async () => {
    const { order } = await paidAtGateway("lost-sweep");
    expect(await status(order.id)).toBe("pending");
    offset += 6000;
    const report = await sweepOnce(h.services);
    expect(report.errors).toBe(0);
    expect(report.queried).toBeGreaterThanOrEqual(1);
    expect(await status(order.id)).toBe("paid");
    expect(await events(order.id)).toEqual([expect.objectContaining({ source: "query" })]);
  });

  it("a lost refund notify is recovered by the sweep's refund query: the refund succeeds once", async () => {
    const { order, token } = await paidAtGateway("lost-refund");
    offset += 6000;
    expect((await h.request("GET", `/api/orders/${order.id}`, { token })).body.order).toMatchObject({ status: "paid" });
    const created = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: order.totalFee },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `lost-refund-${mode}` },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const refundId = (created.body.refund as { id: string }).id;
    // The gateway settles it and tries to tell the API, in vain.
    await eventually(async () => (await h.control.listDeliveries({ out_trade_no: order.id, kind: "refund" })).deliveries.length > 0);
    const refundRow = () => h.database.db.selectFrom("refunds").select("status").where("id", "=", refundId).executeTakeFirstOrThrow();
    expect(await refundRow()).toEqual({ status: "processing" });

    offset += 6000;
    const report = await sweepOnce(h.services);
    expect(report.refundsChecked).toBeGreaterThanOrEqual(1);
    expect(report.errors).toBe(0);
    expect(await refundRow()).toEqual({ status: "succeeded" });
    expect(await h.database.db.selectFrom("orders").select(["status", "refunded_fee", "reserved_refund_fee"]).where("id", "=", order.id).executeTakeFirstOrThrow()).toEqual({
      status: "refunded",
      refunded_fee: order.totalFee,
      // Reserved holds every refund not failed, settled ones included (refunded_fee <= reserved_refund_fee).
      reserved_refund_fee: order.totalFee,
    });
    // A second sweep finds nothing left to settle for it.
    await sweepOnce(h.services);
    expect(await refundRow()).toEqual({ status: "succeeded" });
  });

  it("200 concurrent copies of a genuine v3 notify: one transition, one payment_events row, all 200 acknowledged after the commit", async () => {
    const { order } = await paidAtGateway("duplicates");
    const transactionId = (await h.control.listOrders({ out_trade_no: order.id })).orders[0]?.transaction_id;
    expect(transactionId).toBeDefined();
    // The notify of this order (earlier orders' retries reach the dead end too): its headers and raw bytes exactly as the sandbox sent them.
    const apiV3Key = h.config.v3?.apiV3Key ?? "";
    const captured = await eventually(() =>
      Promise.resolve(
        h.lostNotifies.find((n) => {
          if (n.path !== "/wxpay/v3/notify") return false;
          const { resource } = JSON.parse(n.body.toString("utf8")) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
          const plain = decryptV3ResourceText({ ciphertext: resource.ciphertext, nonce: resource.nonce, associatedData: resource.associated_data }, apiV3Key);
          return plain.ok && (JSON.parse(plain.value) as { out_trade_no?: string }).out_trade_no === order.id;
        }),
      ),
    );
    const replayed = captured.body;
    const headers = Object.fromEntries(Object.entries(captured.headers).filter(([name]) => name.startsWith("wechatpay-") || name === "content-type"));
    expect(Object.keys(headers)).toEqual(expect.arrayContaining(["wechatpay-signature", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial"]));
    expect(await status(order.id)).toBe("pending");

    const answers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await fetch(`${h.url}/wxpay/v3/notify`, { method: "POST", headers, body: replayed });
        await response.arrayBuffer();
        // Acknowledged only once the transition is committed: whichever copy made it, the row is there when any copy is answered.
        return { status: response.status, committed: await status(order.id) };
      }),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(200);
    expect(answers.every((a) => a.committed === "paid")).toBe(true);
    expect(await events(order.id)).toEqual([expect.objectContaining({ source: "notify", transaction_id: transactionId })]);
    // A later copy (WeChat Pay retries) is acknowledged the same way and changes nothing.
    expect((await fetch(`${h.url}/wxpay/v3/notify`, { method: "POST", headers, body: replayed })).status).toBe(200);
    expect(await events(order.id)).toHaveLength(1);
  });
});
