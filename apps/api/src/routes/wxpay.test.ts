import { buildSignedPayNotify, buildRefundNotify } from "@pay/core/testing";
import { NOTIFY_SUCCESS_REPLY, type SignType } from "@pay/core";
import type { OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, MERCHANT, startApiHarness, type ApiHarness } from "../../test/support/api-harness.js";
import { DATABASES } from "../../test/support/databases.js";
import { payNotifyFields } from "../../test/reliability/fixtures.js";

const FAIL = "<return_code><![CDATA[FAIL]]></return_code>";

describe.each(DATABASES)("WeChat Pay notifies on %s", (kind) => {
  let h: ApiHarness;
  beforeAll(async () => {
    // Notifies from the sandbox are lost here: every one in these tests is built and sent by the test.
    h = await startApiHarness(kind, { notifies: "lost" });
  });
  afterAll(async () => {
    await h.close();
  });

  async function pendingOrder(): Promise<OrderPaymentResponse> {
    const token = await h.signIn(`user-${Math.random()}`);
    const answer = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "tote", quantity: 1 }] } });
    return answer.body as unknown as OrderPaymentResponse;
  }

  async function post(body: string, contentType = "text/xml"): Promise<string> {
    const response = await fetch(`${h.url}/wxpay/notify`, { method: "POST", body, headers: { "content-type": contentType } });
    expect(response.status).toBe(200);
    return response.text();
  }

  async function statusOf(id: string): Promise<string | undefined> {
    return (await h.database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirst())?.status;
  }

  it("accepts a genuine HMAC-SHA256 notify without sign_type, and replies SUCCESS exactly", async () => {
    const { order } = await pendingOrder();
    const reply = await post(buildSignedPayNotify(payNotifyFields(order), { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true }));
    expect(reply).toBe(NOTIFY_SUCCESS_REPLY);
    expect(await statusOf(order.id)).toBe("paid");
  });

  it("200 concurrent duplicates make exactly one transition and one paid event, each answered SUCCESS", async () => {
    const { order } = await pendingOrder();
    const body = buildSignedPayNotify(payNotifyFields(order), { key: MERCHANT.key, signType: "HMAC-SHA256", omitSignType: true });
    const replies = await Promise.all(Array.from({ length: 200 }, () => post(body)));
    expect(new Set(replies)).toEqual(new Set([NOTIFY_SUCCESS_REPLY]));
    const events = await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", order.id).execute();
    expect(events).toHaveLength(1);
    expect(await statusOf(order.id)).toBe("paid");
  });

  it("a result_code=FAIL notify is acknowledged but changes nothing", async () => {
    const { order } = await pendingOrder();
    const reply = await post(
      buildSignedPayNotify(payNotifyFields(order, { result_code: "FAIL", err_code: "NOTENOUGH", transaction_id: undefined }), { key: MERCHANT.key, signType: "HMAC-SHA256" }),
    );
    // A FAIL notify may omit transaction_id; either way nothing is paid.
    expect([NOTIFY_SUCCESS_REPLY, expect.stringContaining(FAIL)]).toContainEqual(reply);
    expect(await statusOf(order.id)).toBe("pending");
  });

  const forgeries: Array<[string, (order: OrderPaymentResponse["order"]) => string]> = [
    [
      "a bad signature",
      (o) => buildSignedPayNotify(payNotifyFields(o), { key: MERCHANT.key, signType: "HMAC-SHA256" }).replace(/<sign><!\[CDATA\[.{8}/, "<sign><![CDATA[00000000"),
    ],
    ["a signature made with another key", (o) => buildSignedPayNotify(payNotifyFields(o), { key: "another-key-another-key-another-k", signType: "HMAC-SHA256" })],
    ["an MD5 signature for this HMAC-SHA256 merchant", (o) => buildSignedPayNotify(payNotifyFields(o), { key: MERCHANT.key, signType: "MD5" })],
    ["another appid", (o) => buildSignedPayNotify(payNotifyFields(o, { appid: "wx_other_app_000001" }), { key: MERCHANT.key, signType: "HMAC-SHA256" })],
    ["another mch_id", (o) => buildSignedPayNotify(payNotifyFields(o, { mch_id: "1999999999" }), { key: MERCHANT.key, signType: "HMAC-SHA256" })],
    ["a sub_mch_id this merchant does not have", (o) => buildSignedPayNotify(payNotifyFields(o, { sub_mch_id: "1900000109" }), { key: MERCHANT.key, signType: "HMAC-SHA256" })],
    ["a smaller amount", (o) => buildSignedPayNotify(payNotifyFields(o, { total_fee: 1, cash_fee: 1 }), { key: MERCHANT.key, signType: "HMAC-SHA256" })],
    ["another currency", (o) => buildSignedPayNotify(payNotifyFields(o, { fee_type: "HKD" }), { key: MERCHANT.key, signType: "HMAC-SHA256" })],
    ["an unknown out_trade_no", (o) => buildSignedPayNotify(payNotifyFields(o, { out_trade_no: "P20990101000000NOPE" }), { key: MERCHANT.key, signType: "HMAC-SHA256" })],
    ["no sign at all", (o) => `<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</result_code><out_trade_no>${o.id}</out_trade_no></xml>`],
  ];

  it.each(forgeries)("refuses %s with FAIL and changes nothing", async (_what, build) => {
    const { order } = await pendingOrder();
    expect(await post(build(order))).toContain(FAIL);
    expect(await statusOf(order.id)).toBe("pending");
    expect(await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", order.id).execute()).toHaveLength(0);
  });

  it("refuses a notify for a closed order, and a replay after a refund changes nothing", async () => {
    const { order } = await pendingOrder();
    await h.database.db.updateTable("orders").set({ status: "closed" }).where("id", "=", order.id).execute();
    const body = buildSignedPayNotify(payNotifyFields(order), { key: MERCHANT.key, signType: "HMAC-SHA256" });
    expect(await post(body)).toContain(FAIL);
    expect(await statusOf(order.id)).toBe("closed");

    const paid = await pendingOrder();
    const paidNotify = buildSignedPayNotify(payNotifyFields(paid.order), { key: MERCHANT.key, signType: "HMAC-SHA256" });
    expect(await post(paidNotify)).toBe(NOTIFY_SUCCESS_REPLY);
    await h.database.db
      .updateTable("orders")
      .set({ status: "refunded", refunded_fee: paid.order.totalFee, reserved_refund_fee: paid.order.totalFee })
      .where("id", "=", paid.order.id)
      .execute();
    expect(await post(paidNotify)).toBe(NOTIFY_SUCCESS_REPLY);
    expect(await statusOf(paid.order.id)).toBe("refunded");
    expect(await h.database.db.selectFrom("payment_events").selectAll().where("order_id", "=", paid.order.id).execute()).toHaveLength(1);
  });

  it.each([
    ["an XXE document", '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>', "text/xml"],
    ["JSON", '{"return_code":"SUCCESS"}', "text/xml"],
    ["an empty body", "", "text/xml"],
    ["a wrong content type", "<xml><a>1</a></xml>", "application/json"],
    ["a 100 KB body", `<xml><a>${"x".repeat(100_000)}</a></xml>`, "text/xml"],
  ])("answers %s with FAIL", async (_what, body, type) => {
    expect(await post(body, type)).toContain(FAIL);
  });

  it("logs every refusal with its reason, and never the key or a signature", async () => {
    const { order } = await pendingOrder();
    const body = buildSignedPayNotify(payNotifyFields(order, { total_fee: 1 }), { key: MERCHANT.key, signType: "HMAC-SHA256" });
    await post(body);
    const line = await eventually(async () => Promise.resolve(h.logs.find((l) => l.includes('"reason":"AMOUNT_MISMATCH"'))));
    expect(line).toContain('"acknowledged":false');
    const all = h.logs.join("\n");
    expect(all).not.toContain(MERCHANT.key);
    expect(all).not.toContain(/<sign>([^<]+)</.exec(body)?.[1] ?? "unreachable");
  });

  describe("refund notifies", () => {
    async function paidOrderWithRefund(signType: SignType = "HMAC-SHA256") {
      const { order } = await pendingOrder();
      await post(buildSignedPayNotify(payNotifyFields(order), { key: MERCHANT.key, signType }));
      const refundId = `R${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      await h.database.db.updateTable("orders").set({ reserved_refund_fee: 500 }).where("id", "=", order.id).execute();
      await h.database.db
        .insertInto("refunds")
        .values({
          id: refundId,
          order_id: order.id,
          request_key: refundId,
          refund_fee: 500,
          currency: "CNY",
          status: "processing",
          reason: null,
          submitted: 1,
          refund_id: null,
          last_error: null,
          last_queried_at: null,
          created_at: new Date().toISOString(),
          updated_at: new Date().toISOString(),
          succeeded_at: null,
        })
        .execute();
      return { order, refundId };
    }
    const payload = (orderId: string, refundId: string, overrides: Record<string, string | number> = {}) => ({
      transaction_id: "4200000000000000000000000001",
      out_trade_no: orderId,
      refund_id: "50300000000000000000000000001",
      out_refund_no: refundId,
      total_fee: 2500,
      refund_fee: 500,
      refund_status: "SUCCESS",
      success_time: "2026-01-01 12:00:00",
      ...overrides,
    });
    const postRefund = async (body: string) => (await fetch(`${h.url}/wxpay/refund-notify`, { method: "POST", body, headers: { "content-type": "text/xml" } })).text();

    it("applies a decrypted SUCCESS once; duplicates are acknowledged", async () => {
      const { order, refundId } = await paidOrderWithRefund();
      const body = buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, payload(order.id, refundId, { total_fee: order.totalFee }), MERCHANT.key);
      expect(await postRefund(body)).toBe(NOTIFY_SUCCESS_REPLY);
      expect(await postRefund(body)).toBe(NOTIFY_SUCCESS_REPLY);
      const row = await h.database.db.selectFrom("orders").selectAll().where("id", "=", order.id).executeTakeFirstOrThrow();
      expect(row.refunded_fee).toBe(500);
      const refund = await h.database.db.selectFrom("refunds").selectAll().where("id", "=", refundId).executeTakeFirstOrThrow();
      expect(refund).toMatchObject({ status: "succeeded", succeeded_at: "2026-01-01T04:00:00.000Z" });
    });

    it.each([
      ["another key", (o: string, r: string) => buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, payload(o, r), "another-key-another-key-another-k")],
      ["another merchant", (o: string, r: string) => buildRefundNotify({ appid: MERCHANT.appId, mch_id: "1999999999" }, payload(o, r), MERCHANT.key)],
      ["another amount", (o: string, r: string) => buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, payload(o, r, { refund_fee: 499 }), MERCHANT.key)],
      ["an unknown refund", (o: string) => buildRefundNotify({ appid: MERCHANT.appId, mch_id: MERCHANT.mchId }, payload(o, "R_UNKNOWN_000001"), MERCHANT.key)],
    ])("refuses %s with FAIL and changes nothing", async (_what, build) => {
      const { order, refundId } = await paidOrderWithRefund();
      expect(await postRefund(build(order.id, refundId))).toContain(FAIL);
      const refund = await h.database.db.selectFrom("refunds").selectAll().where("id", "=", refundId).executeTakeFirstOrThrow();
      expect(refund.status).toBe("processing");
    });

    it.each(["2026-02-30 25:00:00", "2026-02-30 12:00:00", "2026-01-01T12:00:00Z", "soon"])(
      "refuses a refund notify with success_time %j with FAIL before anything is written",
      async (successTime) => {
        const { order, refundId } = await paidOrderWithRefund();
        const orderBefore = await h.database.db.selectFrom("orders").selectAll().where("id", "=", order.id).executeTakeFirstOrThrow();
        const refundBefore = await h.database.db.selectFrom("refunds").selectAll().where("id", "=", refundId).executeTakeFirstOrThrow();
        const body = buildRefundNotify(
          { appid: MERCHANT.appId, mch_id: MERCHANT.mchId },
          payload(order.id, refundId, { total_fee: order.totalFee, success_time: successTime }),
          MERCHANT.key,
        );
        expect(await postRefund(body)).toContain(FAIL);
        expect(await h.database.db.selectFrom("refunds").selectAll().where("id", "=", refundId).executeTakeFirstOrThrow()).toEqual(refundBefore);
        expect(await h.database.db.selectFrom("orders").selectAll().where("id", "=", order.id).executeTakeFirstOrThrow()).toEqual(orderBefore);
        const line = h.logs.map((l) => JSON.parse(l) as { msg: string; reason?: string; kind?: string }).findLast((l) => l.msg === "notify" && l.kind === "refund");
        expect(line?.reason).toBe("INVALID_FIELD");
      },
    );
  });
});
