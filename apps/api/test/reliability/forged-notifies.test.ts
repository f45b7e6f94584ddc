// Forged and wrong pay notifies against an API in institutional (service-provider) mode, where the
// sub_mch_id check matters; routes/wxpay.test.ts covers direct mode. Orders are paid, closed and
// refunded through the real flow; the sandbox's own notifies pass through a recording proxy, so the
// replay after a refund is byte-for-byte the notify the gateway sent.
import { NOTIFY_SUCCESS_REPLY, type XmlValue } from "@pay/core";
import type { OrderPaymentResponse } from "@pay/core/contract";
import { buildSignedPayNotify } from "@pay/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, MERCHANT, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { recordFigure } from "./figures.js";
import { createPendingOrder, sandboxOrder, waitFor } from "./fixtures.js";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy.js";
import { paidEvents, snapshotState } from "./snapshot.js";

/** A service provider whose sub-merchant runs the Mini Program (MERCHANT.appId is its sub_appid). */
const INSTITUTION = {
  appId: "wxinstitution00001",
  mchId: "30000300",
  key: "Inst1tut10nKeyZ9y8X7w6V5u4T3s2R1",
  subAppId: MERCHANT.appId,
  subMchId: "1900000109",
} as const;
const FAIL = "<return_code><![CDATA[FAIL]]></return_code>";

type Order = OrderPaymentResponse["order"];

/** The fields the gateway puts in an institutional-mode pay notify for `order`. */
function institutionalNotify(order: Order, overrides: Readonly<Record<string, XmlValue | undefined>> = {}): Record<string, XmlValue> {
  const fields: Record<string, XmlValue | undefined> = {
    return_code: "SUCCESS",
    result_code: "SUCCESS",
    appid: INSTITUTION.appId,
    mch_id: INSTITUTION.mchId,
    sub_appid: INSTITUTION.subAppId,
    sub_mch_id: INSTITUTION.subMchId,
    openid: "oInstitutionUser",
    sub_openid: "oMiniProgramUser",
    trade_type: "JSAPI",
    bank_type: "OTHERS",
    total_fee: order.totalFee,
    fee_type: "CNY",
    cash_fee: order.totalFee,
    transaction_id: `4200000${Date.now()}`.padEnd(28, "3"),
    out_trade_no: order.id,
    time_end: "20260101120000",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, XmlValue] => entry[1] !== undefined));
}

const sign = (fields: Record<string, XmlValue>, key: string = INSTITUTION.key, signType: "MD5" | "HMAC-SHA256" = "HMAC-SHA256"): string =>
  buildSignedPayNotify(fields, { key, signType, omitSignType: signType === "HMAC-SHA256" });

describe.each(DATABASES)("forged and wrong notifies in institutional mode on %s", (kind) => {
  let h: ApiHarness;
  let proxy: RecordingProxy;
  let apiUrl: string | undefined;
  const refusals: string[] = [];

  beforeAll(async () => {
    proxy = await startRecordingProxy(() => apiUrl);
    h = await startApiHarness(kind, {
      env: {
        WXPAY_APPID: INSTITUTION.appId,
        WXPAY_MCHID: INSTITUTION.mchId,
        WXPAY_KEY: INSTITUTION.key,
        WXPAY_SUB_APPID: INSTITUTION.subAppId,
        WXPAY_SUB_MCHID: INSTITUTION.subMchId,
        WXPAY_NOTIFY_URL: `${proxy.url}/wxpay/notify`,
        WXPAY_REFUND_NOTIFY_URL: `${proxy.url}/wxpay/refund-notify`,
      },
      sandbox: {
        merchants: [
          {
            appId: INSTITUTION.appId,
            mchId: INSTITUTION.mchId,
            key: INSTITUTION.key,
            subAppId: INSTITUTION.subAppId,
            subMchId: INSTITUTION.subMchId,
            appSecrets: { [MERCHANT.appId]: MERCHANT.appSecret },
          },
        ],
      },
    });
    apiUrl = h.url;
  });
  afterAll(async () => {
    recordFigure(`forged-notifies.${kind}`, { refusedWithReason: refusals.length, reasons: [...new Set(refusals)].sort() });
    await h.close();
    await proxy.close();
  });

  async function post(body: string): Promise<string> {
    const response = await fetch(`${h.url}/wxpay/notify`, { method: "POST", body, headers: { "content-type": "text/xml" } });
    expect(response.status).toBe(200);
    return response.text();
  }

  /** The reason on the one `notify` log line the request produced. */
  async function postLogged(body: string): Promise<{ reply: string; reason: string | undefined; acknowledged: boolean | undefined }> {
    const mark = h.logs.length;
    const reply = await post(body);
    const line = h.logs
      .slice(mark)
      .map((l) => JSON.parse(l) as { msg: string; reason?: string; acknowledged?: boolean })
      .find((l) => l.msg === "notify");
    return { reply, reason: line?.reason, acknowledged: line?.acknowledged };
  }

  async function gatewayIsUntouched(order: Order, expectedState: string): Promise<void> {
    const atGateway = await sandboxOrder(h.sandbox.url, order.id);
    expect(atGateway.trade_state).toBe(expectedState);
    expect(atGateway.refunds).toHaveLength(0);
  }

  it("a genuine institutional payment goes through the proxy and is applied once", async () => {
    const { order, payment, token } = await createPendingOrder(h, `genuine-${kind}`);
    expect(await h.pay(payment)).toMatchObject({ errMsg: "requestPayment:ok" });
    await waitFor("the order is paid", async () => ((await h.request("GET", `/api/orders/${order.id}`, { token })).body.order as Order).status === "paid", 5000);
    const sent = proxy.exchanges.filter((e) => e.path === "/wxpay/notify" && e.requestBody.includes(order.id));
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent[0]?.requestBody).toContain(`<sub_mch_id>${INSTITUTION.subMchId}</sub_mch_id>`);
    expect(sent[0]?.responseBody).toBe(NOTIFY_SUCCESS_REPLY);
  });

  const forgeries: ReadonlyArray<readonly [string, (order: Order) => string, string]> = [
    ["a bad signature", (o) => sign(institutionalNotify(o)).replace(/<sign>(<!\[CDATA\[)?.{8}/, (m, cdata?: string) => `<sign>${cdata ?? ""}00000000`), "SIGN_MISMATCH"],
    ["a valid signature made with the sub-merchant's own key", (o) => sign(institutionalNotify(o), MERCHANT.key), "SIGN_MISMATCH"],
    ["an MD5 signature for this HMAC-SHA256 merchant", (o) => sign(institutionalNotify(o), INSTITUTION.key, "MD5"), "SIGN_TYPE_NOT_ALLOWED"],
    ["another appid", (o) => sign(institutionalNotify(o, { appid: "wxotherinstitution" })), "APPID_MISMATCH"],
    ["another mch_id", (o) => sign(institutionalNotify(o, { mch_id: "30000399" })), "MCH_ID_MISMATCH"],
    ["another sub_mch_id (another sub-merchant of the same institution)", (o) => sign(institutionalNotify(o, { sub_mch_id: "1900000999" })), "SUB_MCH_ID_MISMATCH"],
    [
      "no sub_mch_id (a direct-mode notify signed with the institution key)",
      (o) => sign(institutionalNotify(o, { sub_mch_id: undefined, sub_appid: undefined })),
      "SUB_MCH_ID_MISMATCH",
    ],
    ["another sub_appid", (o) => sign(institutionalNotify(o, { sub_appid: "wxotherminiprogram" })), "SUB_APPID_MISMATCH"],
    ["a smaller amount", (o) => sign(institutionalNotify(o, { total_fee: 1, cash_fee: 1 })), "AMOUNT_MISMATCH"],
    ["a larger amount", (o) => sign(institutionalNotify(o, { total_fee: o.totalFee + 1, cash_fee: o.totalFee + 1 })), "AMOUNT_MISMATCH"],
    ["another currency", (o) => sign(institutionalNotify(o, { fee_type: "USD" })), "CURRENCY_MISMATCH"],
    ["an unknown out_trade_no", (o) => sign(institutionalNotify(o, { out_trade_no: "P20990101000000NOPE" })), "UNKNOWN_ORDER"],
    ["return_code FAIL", (o) => sign(institutionalNotify(o, { return_code: "FAIL", return_msg: "forged" })), "RETURN_FAIL"],
  ];

  it.each(forgeries)("refuses %s: FAIL, logged with its reason, no state change, no money moved", async (_what, build, reason) => {
    const { order } = await createPendingOrder(h);
    const before = await snapshotState(h.database.db);
    const { reply, reason: logged, acknowledged } = await postLogged(build(order));
    expect(reply).toContain(FAIL);
    expect(acknowledged).toBe(false);
    expect(logged).toBe(reason);
    refusals.push(reason);
    expect(await snapshotState(h.database.db)).toBe(before);
    await gatewayIsUntouched(order, "NOTPAY");
  });

  it("refuses a notify for an order closed through the API (ORDER_CLOSED), and the order stays closed", async () => {
    const { order, token } = await createPendingOrder(h);
    const closed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
    expect(closed.status).toBe(200);
    const before = await snapshotState(h.database.db);
    const { reply, reason } = await postLogged(sign(institutionalNotify(order)));
    expect(reply).toContain(FAIL);
    expect(reason).toBe("ORDER_CLOSED");
    refusals.push("ORDER_CLOSED");
    expect(await snapshotState(h.database.db)).toBe(before);
    await gatewayIsUntouched(order, "CLOSED");
  });

  it("a replay of the gateway's own notify after a full refund changes nothing; a second transaction for the order is refused", async () => {
    const { order, payment, token } = await createPendingOrder(h, `replayed-${kind}`);
    await h.pay(payment);
    await waitFor("the order is paid", async () => ((await h.request("GET", `/api/orders/${order.id}`, { token })).body.order as Order).status === "paid", 5000);
    const original = proxy.exchanges.find((e) => e.path === "/wxpay/notify" && e.requestBody.includes(order.id) && e.responseBody === NOTIFY_SUCCESS_REPLY);
    expect(original).toBeDefined();

    const refund = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: order.totalFee },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `replay-${kind}` },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    await waitFor(
      "the refund notify settles the order",
      async () => ((await h.request("GET", `/api/orders/${order.id}`, { token })).body.order as Order).status === "refunded",
      5000,
    );
    const refundedAtGateway = await sandboxOrder(h.sandbox.url, order.id);

    const before = await snapshotState(h.database.db);
    const replay = await postLogged(original?.requestBody ?? "");
    // The replay verifies and names the stored transaction: acknowledged (so the gateway stops), nothing applied.
    expect(replay.reply).toBe(NOTIFY_SUCCESS_REPLY);
    expect(replay.reason).toBe("duplicate of an applied notify");
    expect(await snapshotState(h.database.db)).toBe(before);
    expect(await paidEvents(h.database.db, order.id)).toBe(1);

    const conflicting = await postLogged(sign(institutionalNotify(order, { transaction_id: "4200000000000000000000009999" })));
    expect(conflicting.reply).toContain(FAIL);
    expect(conflicting.reason).toBe("TRANSACTION_CONFLICT");
    refusals.push("TRANSACTION_CONFLICT");
    expect(await snapshotState(h.database.db)).toBe(before);
    expect(await sandboxOrder(h.sandbox.url, order.id)).toEqual(refundedAtGateway);
    const stored = await h.database.db.selectFrom("orders").select(["status", "refunded_fee"]).where("id", "=", order.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ status: "refunded", refunded_fee: order.totalFee });
  });

  it("a verified result_code=FAIL notify is acknowledged with its reason and changes nothing", async () => {
    const { order } = await createPendingOrder(h);
    const before = await snapshotState(h.database.db);
    const { reply, reason, acknowledged } = await postLogged(sign(institutionalNotify(order, { result_code: "FAIL", err_code: "NOTENOUGH", err_code_des: "余额不足" })));
    expect(reply).toBe(NOTIFY_SUCCESS_REPLY);
    expect(acknowledged).toBe(true);
    expect(reason).toMatch(/^result_code FAIL \(NOTENOUGH\)/);
    expect(await snapshotState(h.database.db)).toBe(before);
  });
});
