import { randomBytes } from "node:crypto";
import {
  buildV3RequestPaymentParams,
  buildXml,
  generateNonceStr,
  parseXml,
  signParams,
  parseV3Answer,
  parseV3CloseAnswer,
  V3GlobalTransactionSchema,
  V3PrepayAnswerSchema,
  V3TransactionSchema,
  type V3PayApp,
  type V3Transaction,
} from "@pay/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, type ManualClock } from "../../clock.js";
import { SANDBOX_CONTROL_PATHS } from "../../control/routes.js";
import { startSandbox, type RunningSandbox } from "../../server.js";
import { cashFeeFor } from "../../state/payments.js";
import { rfc3339Beijing as rfc3339 } from "../views.js";
import {
  startV3Receiver,
  V3_DIRECT,
  V3_GLOBAL,
  V3_INSTITUTION,
  V3_MIGRATING,
  V3_PARTNER,
  v3Client,
  type V3Answer,
  type V3Receiver,
  type V3TestClient,
} from "../../../test/support/v3.js";

const OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
const SUB_OPENID = "oSubOpenidOfTheSubMerchant00001";
const SP_OPENID = "oSpOpenidOfTheServiceProvider001";

function newOutTradeNo(): string {
  return `v3o_${randomBytes(8).toString("hex")}`;
}

/** Expects a 2xx answer whose Wechatpay-* signature verifies with what the merchant downloaded. */
function expectSigned(client: V3TestClient, answer: V3Answer): void {
  const verified = client.verify(answer);
  expect(verified.ok ? "verified" : `${verified.error.code}: ${verified.error.message}`).toBe("verified");
}

/** Expects a refusal with this status and code, in the `{code, message}` envelope. */
function expectRefusal(answer: V3Answer, status: number, code: string): void {
  expect({ status: answer.status, code: (answer.json as { code?: unknown } | undefined)?.code }).toEqual({ status, code });
  expect(typeof (answer.json as { message?: unknown }).message).toBe("string");
}

function prepayIdOf(client: V3TestClient, answer: V3Answer): string {
  expect(answer.status, answer.text).toBe(200);
  expectSigned(client, answer);
  const parsed = parseV3Answer(V3PrepayAnswerSchema, answer.text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  expect(parsed.value.prepayId).toMatch(/^wx\d{14}[0-9a-f]{20}$/);
  return parsed.value.prepayId;
}

function transactionOf(client: V3TestClient, answer: V3Answer, global = false): V3Transaction {
  expect(answer.status, answer.text).toBe(200);
  expectSigned(client, answer);
  const parsed = parseV3Answer(global ? V3GlobalTransactionSchema : V3TransactionSchema, answer.text);
  if (!parsed.ok) throw new Error(`${parsed.error.code}: ${parsed.error.message}`);
  return parsed.value;
}

describe("v3 JSAPI orders, query and close", () => {
  let clock: ManualClock;
  let sandbox: RunningSandbox;
  let receiver: V3Receiver;
  let direct: V3TestClient;
  let partner: V3TestClient;
  let global: V3TestClient;
  let institution: V3TestClient;

  beforeAll(async () => {
    clock = createManualClock();
    receiver = await startV3Receiver();
    sandbox = await startSandbox({ merchants: [V3_DIRECT, V3_PARTNER, V3_GLOBAL, V3_INSTITUTION, V3_MIGRATING], clock, allowHttpNotifyUrl: true });
    direct = v3Client(sandbox, V3_DIRECT.mchId);
    partner = v3Client(sandbox, V3_PARTNER.mchId);
    global = v3Client(sandbox, V3_GLOBAL.mchId);
    institution = v3Client(sandbox, V3_INSTITUTION.mchId);
  }, 60_000);
  afterAll(async () => {
    await (sandbox as RunningSandbox | undefined)?.stop();
    await (receiver as V3Receiver | undefined)?.close();
  });

  const directBody = (outTradeNo: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    appid: V3_DIRECT.appId,
    mchid: V3_DIRECT.mchId,
    description: "Sandbox T-shirt",
    out_trade_no: outTradeNo,
    notify_url: receiver.url,
    amount: { total: 1234, currency: "CNY" },
    payer: { openid: OPENID },
    ...extra,
  });
  const partnerBody = (outTradeNo: string, payer: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    sp_appid: V3_PARTNER.appId,
    sp_mchid: V3_PARTNER.mchId,
    sub_appid: V3_PARTNER.subAppId,
    sub_mchid: V3_PARTNER.subMchId,
    description: "Partner goods",
    out_trade_no: outTradeNo,
    notify_url: receiver.url,
    amount: { total: 500 },
    payer,
    ...extra,
  });
  const globalBody = (outTradeNo: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    appid: V3_GLOBAL.appId,
    mchid: V3_GLOBAL.mchId,
    description: "Milk tea",
    out_trade_no: outTradeNo,
    notify_url: receiver.url,
    trade_type: "JSAPI",
    merchant_category_code: "5812",
    amount: { total: 3800, currency: "HKD" },
    payer: { openid: OPENID },
    ...extra,
  });
  const institutionBody = (outTradeNo: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    sp_appid: V3_INSTITUTION.appId,
    sp_mchid: V3_INSTITUTION.mchId,
    sub_appid: V3_INSTITUTION.subAppId,
    sub_mchid: V3_INSTITUTION.subMchId,
    description: "Dim sum",
    out_trade_no: outTradeNo,
    notify_url: receiver.url,
    trade_type: "JSAPI",
    merchant_category_code: "5812",
    amount: { total: 12000, currency: "HKD" },
    payer: { sub_openid: SUB_OPENID },
    ...extra,
  });

  /** Plays the payer: the merchant server signs the wx.requestPayment fields, the client posts them to /sandbox/pay. */
  async function pay(client: V3TestClient, prepayId: string, app: V3PayApp, change: Record<string, string> = {}): Promise<Response> {
    const privateKey = client.identity.merchantCertificate.privateKeyPem ?? "";
    const payment = { ...buildV3RequestPaymentParams({ app, prepayId, privateKey, now: clock.now() }), ...change };
    return fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.pay}`, { method: "POST", body: JSON.stringify({ prepay_id: prepayId, outcome: "success", payment }) });
  }

  async function payOk(client: V3TestClient, prepayId: string, app: V3PayApp): Promise<void> {
    const answer = await pay(client, prepayId, app);
    expect(answer.status, await answer.clone().text()).toBe(200);
    await expect(answer.json()).resolves.toMatchObject({ errMsg: "requestPayment:ok" });
  }

  describe("direct merchant", () => {
    it("orders, queries NOTPAY both ways, pays with a verified paySign, and queries SUCCESS both ways", async () => {
      const outTradeNo = newOutTradeNo();
      const prepayId = prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo, { attach: "cart-7" }) }));

      const unpaid = transactionOf(direct, await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${V3_DIRECT.mchId}` }));
      expect(unpaid).toEqual({
        appid: V3_DIRECT.appId,
        mchid: V3_DIRECT.mchId,
        outTradeNo,
        tradeState: "NOTPAY",
        tradeStateDesc: "订单未支付",
        attach: "cart-7",
        amount: { total: { amount: 1234, currency: "CNY" } },
      });

      await payOk(direct, prepayId, { mode: "direct", appId: V3_DIRECT.appId });
      const transactionId = sandbox.context.store.findOrderByPrepayId(prepayId)?.transactionId ?? "";
      expect(transactionId).toMatch(/^4200\d{24}$/);

      const byNo = transactionOf(direct, await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${V3_DIRECT.mchId}` }));
      const byId = transactionOf(direct, await direct.send({ target: `/v3/pay/transactions/id/${transactionId}?mchid=${V3_DIRECT.mchId}` }));
      expect(byId).toEqual(byNo);
      expect(byNo).toMatchObject({
        transactionId,
        tradeState: "SUCCESS",
        tradeType: "JSAPI",
        bankType: "OTHERS",
        payer: { openid: OPENID },
        amount: { total: { amount: 1234, currency: "CNY" }, payerTotal: { amount: 1234, currency: "CNY" } },
      });
      expect(byNo.successTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);

      // Ordering the same out_trade_no again after payment: ORDERPAID; closing it: ORDERPAID too.
      expectRefusal(await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo, { attach: "cart-7" }) }), 403, "ORDERPAID");
      const close = await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, body: { mchid: V3_DIRECT.mchId } });
      expectRefusal(close, 403, "ORDERPAID");
      expectSigned(direct, close);
      // The payer cannot pay twice.
      expect((await pay(direct, prepayId, { mode: "direct", appId: V3_DIRECT.appId })).status).toBe(409);
    });

    it("re-enters with identical fields (in any key order) for the same prepay_id, refuses changed fields, and renews an expired prepay_id", async () => {
      const outTradeNo = newOutTradeNo();
      const body = directBody(outTradeNo);
      const first = prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body }));
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      expect(prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body: reordered }))).toBe(first);

      const changed = await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo, { amount: { total: 1235, currency: "CNY" } }) });
      expectRefusal(changed, 400, "INVALID_REQUEST");
      expect(changed.json).toMatchObject({ message: "请求重入时，参数与首次请求时不一致" });
      expectSigned(direct, changed);

      await clock.advance(2 * 3600 * 1000);
      const renewed = prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body }));
      expect(renewed).not.toBe(first);
      // The old prepay_id no longer opens a payment; the new one does.
      expect((await pay(direct, first, { mode: "direct", appId: V3_DIRECT.appId })).status).toBe(404);
      await payOk(direct, renewed, { mode: "direct", appId: V3_DIRECT.appId });
    });

    it("closes an unpaid order with a signed empty 204, then refuses to close or pay it again", async () => {
      const outTradeNo = newOutTradeNo();
      const prepayId = prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo) }));
      const closed = await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, body: { mchid: V3_DIRECT.mchId } });
      expect(parseV3CloseAnswer(closed.status, closed.text)).toEqual({ ok: true, value: null });
      expectSigned(direct, closed);

      const after = transactionOf(direct, await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${V3_DIRECT.mchId}` }));
      expect(after.tradeState).toBe("CLOSED");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, body: { mchid: V3_DIRECT.mchId } }), 400, "ORDER_CLOSED");
      expectRefusal(await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo) }), 400, "ORDER_CLOSED");
      const payAnswer = await pay(direct, prepayId, { mode: "direct", appId: V3_DIRECT.appId });
      expect(payAnswer.status).toBe(409);
      await expect(payAnswer.json()).resolves.toMatchObject({ error: { code: "ORDER_CLOSED" } });
    });

    it("closes the order at time_expire, and refuses a time_expire less than a minute away", async () => {
      const soon = rfc3339(clock.now() + 30_000);
      expectRefusal(await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(newOutTradeNo(), { time_expire: soon }) }), 400, "PARAM_ERROR");

      const outTradeNo = newOutTradeNo();
      const prepayId = prepayIdOf(
        direct,
        await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo, { time_expire: rfc3339(clock.now() + 10 * 60_000) }) }),
      );
      await clock.advance(10 * 60_000);
      const expired = transactionOf(direct, await direct.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${V3_DIRECT.mchId}` }));
      expect(expired.tradeState).toBe("CLOSED");
      expect((await pay(direct, prepayId, { mode: "direct", appId: V3_DIRECT.appId })).status).toBe(409);
    });

    it("refuses a wrong paySign with WeChat's message and changes nothing", async () => {
      const outTradeNo = newOutTradeNo();
      const prepayId = prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo) }));
      const cases: Record<string, string>[] = [{ signType: "HMAC-SHA256" }, { nonceStr: "tampered" }, { package: prepayId }];
      for (const change of cases) {
        const answer = await pay(direct, prepayId, { mode: "direct", appId: V3_DIRECT.appId }, change);
        expect(answer.status).toBe(400);
        await expect(answer.json()).resolves.toMatchObject({ error: { code: "PAY_SIGN_INVALID" }, errMsg: "requestPayment:fail 支付验证签名失败" });
      }
      // Signed by another merchant's key: the client checks with this merchant's public key.
      const foreign = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.pay}`, {
        method: "POST",
        body: JSON.stringify({
          prepay_id: prepayId,
          outcome: "success",
          payment: buildV3RequestPaymentParams({
            app: { mode: "direct", appId: V3_DIRECT.appId },
            prepayId,
            privateKey: partner.identity.merchantCertificate.privateKeyPem ?? "",
            now: clock.now(),
          }),
        }),
      });
      expect(foreign.status).toBe(400);
      // Without the fields at all.
      const bare = await fetch(`${sandbox.url}${SANDBOX_CONTROL_PATHS.pay}`, { method: "POST", body: JSON.stringify({ prepay_id: prepayId, outcome: "success" }) });
      await expect(bare.json()).resolves.toMatchObject({ error: { code: "PAY_SIGN_INVALID" }, errMsg: "requestPayment:fail 支付验证签名失败" });
      expect(sandbox.context.store.findOrderByPrepayId(prepayId)?.tradeState).toBe("NOTPAY");
      expect(sandbox.context.store.deliveries({ outTradeNo })).toEqual([]);
    });

    it.each<[string, Record<string, unknown>, number, string]>([
      ["an AppID not bound to the mchid", { appid: V3_PARTNER.appId }, 400, "APPID_MCHID_NOT_MATCH"],
      ["a mchid other than the Authorization's", { mchid: V3_PARTNER.mchId }, 400, "PARAM_ERROR"],
      ["a currency other than CNY", { amount: { total: 100, currency: "USD" } }, 400, "PARAM_ERROR"],
      ["an out_trade_no of 5 characters", { out_trade_no: "short" }, 400, "PARAM_ERROR"],
      ["a field the API does not define", { limit_pay_x: ["no_credit"] }, 400, "PARAM_ERROR"],
      ["no payer", { payer: undefined }, 400, "PARAM_ERROR"],
      ["a notify_url with a query string", { notify_url: "https://example.com/notify?x=1" }, 400, "PARAM_ERROR"],
    ])("refuses %s", async (_name, change, status, code) => {
      const answer = await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(newOutTradeNo(), change) });
      expectRefusal(answer, status, code);
    });

    it("names the unknown or missing field in detail", async () => {
      const unknown = await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(newOutTradeNo(), { payer: { openid: OPENID, sub_openid: SUB_OPENID } }) });
      expect(unknown.json).toMatchObject({ code: "PARAM_ERROR", detail: { location: null, value: ["/body/payer/sub_openid"] } });
      const missing = await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(newOutTradeNo(), { description: undefined }) });
      expect(missing.json).toMatchObject({ code: "PARAM_ERROR", detail: { location: "body", value: "/body/description" } });
    });

    it("refuses queries and closes without the right merchant, and unknown orders with 404 ORDER_NOT_EXIST", async () => {
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}` }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}?mchid=${V3_PARTNER.mchId}` }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/id/not-digits?mchid=${V3_DIRECT.mchId}` }), 400, "PARAM_ERROR");
      const unknown = await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}?mchid=${V3_DIRECT.mchId}` });
      expectRefusal(unknown, 404, "ORDER_NOT_EXIST");
      expectSigned(direct, unknown);
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/id/4200000000202601010000000000?mchid=${V3_DIRECT.mchId}` }), 404, "ORDER_NOT_EXIST");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}/close`, body: { mchid: V3_DIRECT.mchId } }), 404, "ORDER_NOT_EXIST");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}/close`, body: { mchid: V3_PARTNER.mchId } }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}/close`, body: { mchid: V3_DIRECT.mchId, x: 1 } }), 400, "PARAM_ERROR");
      expectRefusal(await direct.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}/close`, body: "not json" }), 400, "PARAM_ERROR");
    });

    it("keeps one out_trade_no space per merchant: another merchant's order is not found", async () => {
      const outTradeNo = newOutTradeNo();
      prepayIdOf(direct, await direct.send({ target: "/v3/pay/transactions/jsapi", body: directBody(outTradeNo) }));
      const other = await partner.send({ target: `/v3/pay/partner/transactions/out-trade-no/${outTradeNo}?sp_mchid=${V3_PARTNER.mchId}&sub_mchid=${V3_PARTNER.subMchId}` });
      expectRefusal(other, 404, "ORDER_NOT_EXIST");
    });
  });

  describe("a merchant on both protocols", () => {
    it("shares one out_trade_no space: a v2 order is found by the v3 query, and a v3 order of its number is not re-entry", async () => {
      const migrating = v3Client(sandbox, V3_MIGRATING.mchId);
      const outTradeNo = newOutTradeNo();
      const fields = {
        appid: V3_MIGRATING.appId,
        mch_id: V3_MIGRATING.mchId,
        nonce_str: generateNonceStr(),
        body: "Ordered over v2",
        out_trade_no: outTradeNo,
        total_fee: 100,
        spbill_create_ip: "127.0.0.1",
        notify_url: "https://merchant.example/v2/notify",
        trade_type: "JSAPI",
        openid: OPENID,
      };
      const v2 = await fetch(`${sandbox.url}/pay/unifiedorder`, {
        method: "POST",
        body: buildXml({ ...fields, sign: signParams(fields, { key: V3_MIGRATING.key, signType: "MD5" }) }),
      });
      const reply = parseXml(await v2.text());
      expect(reply.ok && reply.value.result_code).toBe("SUCCESS");

      const queried = transactionOf(migrating, await migrating.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${V3_MIGRATING.mchId}` }));
      expect(queried).toMatchObject({ outTradeNo, tradeState: "NOTPAY", amount: { total: { amount: 100, currency: "CNY" } } });
      const v3 = await migrating.send({
        target: "/v3/pay/transactions/jsapi",
        body: {
          appid: V3_MIGRATING.appId,
          mchid: V3_MIGRATING.mchId,
          description: "Ordered over v2",
          out_trade_no: outTradeNo,
          notify_url: receiver.url,
          amount: { total: 100 },
          payer: { openid: OPENID },
        },
      });
      expectRefusal(v3, 400, "INVALID_REQUEST");
    });
  });

  describe("service provider (partner)", () => {
    const query = (kind: "id" | "out-trade-no", key: string): string => `/v3/pay/partner/transactions/${kind}/${key}?sp_mchid=${V3_PARTNER.mchId}&sub_mchid=${V3_PARTNER.subMchId}`;

    it("orders for a sub_openid, is paid from the sub-merchant's app, and answers the partner shape both ways", async () => {
      const outTradeNo = newOutTradeNo();
      const prepayId = prepayIdOf(partner, await partner.send({ target: "/v3/pay/partner/transactions/jsapi", body: partnerBody(outTradeNo, { sub_openid: SUB_OPENID }) }));
      expect(sandbox.context.store.findOrderByPrepayId(prepayId)?.payAppId).toBe(V3_PARTNER.subAppId);
      expect(transactionOf(partner, await partner.send({ target: query("out-trade-no", outTradeNo) })).tradeState).toBe("NOTPAY");

      // Signed for the service provider's app instead: WeChat refuses, the apps of ordering and paying differ.
      const wrongApp = await pay(partner, prepayId, { mode: "partner", payer: "sp_openid", spAppId: V3_PARTNER.appId });
      expect(wrongApp.status).toBe(400);
      await payOk(partner, prepayId, { mode: "partner", payer: "sub_openid", spAppId: V3_PARTNER.appId, subAppId: V3_PARTNER.subAppId });

      const transactionId = sandbox.context.store.findOrderByPrepayId(prepayId)?.transactionId ?? "";
      const byNo = transactionOf(partner, await partner.send({ target: query("out-trade-no", outTradeNo) }));
      expect(transactionOf(partner, await partner.send({ target: query("id", transactionId) }))).toEqual(byNo);
      expect(byNo).toMatchObject({
        spAppid: V3_PARTNER.appId,
        spMchid: V3_PARTNER.mchId,
        subAppid: V3_PARTNER.subAppId,
        subMchid: V3_PARTNER.subMchId,
        transactionId,
        tradeState: "SUCCESS",
        payer: { subOpenid: SUB_OPENID },
        amount: { total: { amount: 500, currency: "CNY" }, payerTotal: { amount: 500, currency: "CNY" } },
      });
      expect(byNo.appid).toBeUndefined();
    });

    it("orders for an sp_openid, paid from the service provider's app", async () => {
      const outTradeNo = newOutTradeNo();
      const body = partnerBody(outTradeNo, { sp_openid: SP_OPENID }, { sub_appid: undefined });
      const prepayId = prepayIdOf(partner, await partner.send({ target: "/v3/pay/partner/transactions/jsapi", body }));
      await payOk(partner, prepayId, { mode: "partner", payer: "sp_openid", spAppId: V3_PARTNER.appId });
      const paid = transactionOf(partner, await partner.send({ target: query("out-trade-no", outTradeNo) }));
      expect(paid.payer).toEqual({ spOpenid: SP_OPENID });

      const closed = await partner.send({
        target: `/v3/pay/partner/transactions/out-trade-no/${outTradeNo}/close`,
        body: { sp_mchid: V3_PARTNER.mchId, sub_mchid: V3_PARTNER.subMchId },
      });
      expectRefusal(closed, 403, "ORDERPAID");
    });

    it("closes a partner order with a signed 204", async () => {
      const outTradeNo = newOutTradeNo();
      prepayIdOf(partner, await partner.send({ target: "/v3/pay/partner/transactions/jsapi", body: partnerBody(outTradeNo, { sp_openid: SP_OPENID }) }));
      const closed = await partner.send({
        target: `/v3/pay/partner/transactions/out-trade-no/${outTradeNo}/close`,
        body: { sp_mchid: V3_PARTNER.mchId, sub_mchid: V3_PARTNER.subMchId },
      });
      expect(parseV3CloseAnswer(closed.status, closed.text).ok).toBe(true);
      expectSigned(partner, closed);
    });

    it("refuses payer.openid as a field the partner API does not define", async () => {
      const answer = await partner.send({ target: "/v3/pay/partner/transactions/jsapi", body: partnerBody(newOutTradeNo(), { openid: OPENID }) });
      expectRefusal(answer, 400, "PARAM_ERROR");
      expect(answer.json).toEqual({ code: "PARAM_ERROR", message: "请求中含有未在API文档中定义的参数", detail: { location: null, value: ["/body/payer/openid"] } });
    });

    it.each<[string, Record<string, unknown>, number, string]>([
      ["a sub_mchid the service provider does not serve", { sub_mchid: "1999999999" }, 400, "PARAM_ERROR"],
      ["another sub_appid", { sub_appid: "wx3p0000000000other" }, 400, "APPID_MCHID_NOT_MATCH"],
      ["another sp_appid", { sp_appid: V3_DIRECT.appId }, 400, "APPID_MCHID_NOT_MATCH"],
      ["a sub_openid without sub_appid", { sub_appid: undefined, payer: { sub_openid: SUB_OPENID } }, 400, "PARAM_ERROR"],
      ["both sp_openid and sub_openid", { payer: { sp_openid: SP_OPENID, sub_openid: SUB_OPENID } }, 400, "PARAM_ERROR"],
    ])("refuses %s", async (_name, change, status, code) => {
      const answer = await partner.send({ target: "/v3/pay/partner/transactions/jsapi", body: partnerBody(newOutTradeNo(), { sp_openid: SP_OPENID }, change) });
      expectRefusal(answer, status, code);
    });

    it("refuses a partner query without sub_mchid", async () => {
      expectRefusal(await partner.send({ target: `/v3/pay/partner/transactions/out-trade-no/${newOutTradeNo()}?sp_mchid=${V3_PARTNER.mchId}` }), 400, "PARAM_ERROR");
    });
  });

  describe("WeChat Pay Global", () => {
    it("orders in HKD as a direct merchant; once paid the payer's CNY total and the exchange rate are answered", async () => {
      const outTradeNo = newOutTradeNo();
      const prepayId = prepayIdOf(global, await global.send({ target: "/v3/global/transactions/jsapi", body: globalBody(outTradeNo) }));
      expect(sandbox.context.store.findOrderByPrepayId(prepayId)?.merchantCategoryCode).toBe("5812");
      const unpaid = transactionOf(global, await global.send({ target: `/v3/global/transactions/out-trade-no/${outTradeNo}?mchid=${V3_GLOBAL.mchId}` }), true);
      expect(unpaid).toMatchObject({ tradeState: "NOTPAY", amount: { total: { amount: 3800, currency: "HKD" } } });

      await payOk(global, prepayId, { mode: "direct", appId: V3_GLOBAL.appId });
      const transactionId = sandbox.context.store.findOrderByPrepayId(prepayId)?.transactionId ?? "";
      const byNo = transactionOf(global, await global.send({ target: `/v3/global/transactions/out-trade-no/${outTradeNo}?mchid=${V3_GLOBAL.mchId}` }), true);
      expect(transactionOf(global, await global.send({ target: `/v3/global/transactions/id/${transactionId}?mchid=${V3_GLOBAL.mchId}` }), true)).toEqual(byNo);
      // HKD 38.00 at 0.91: CNY 34.58.
      expect(cashFeeFor(3800, "HKD", 91_000_000)).toBe(3458);
      expect(byNo).toMatchObject({
        transactionId,
        tradeState: "SUCCESS",
        amount: { total: { amount: 3800, currency: "HKD" }, payerTotal: { amount: 3458, currency: "CNY" }, exchangeRate: { type: "SETTLEMENT_RATE", rate: 91_000_000 } },
      });
    });

    it("orders as an institution for a sub-merchant's sub_openid, and closes with the institution ids", async () => {
      const paidNo = newOutTradeNo();
      const prepayId = prepayIdOf(institution, await institution.send({ target: "/v3/global/transactions/jsapi", body: institutionBody(paidNo) }));
      await payOk(institution, prepayId, { mode: "partner", payer: "sub_openid", spAppId: V3_INSTITUTION.appId, subAppId: V3_INSTITUTION.subAppId });
      const paid = transactionOf(
        institution,
        await institution.send({ target: `/v3/global/transactions/out-trade-no/${paidNo}?sp_mchid=${V3_INSTITUTION.mchId}&sub_mchid=${V3_INSTITUTION.subMchId}` }),
        true,
      );
      expect(paid).toMatchObject({
        spMchid: V3_INSTITUTION.mchId,
        subMchid: V3_INSTITUTION.subMchId,
        payer: { subOpenid: SUB_OPENID },
        amount: { total: { amount: 12000, currency: "HKD" }, payerTotal: { amount: 10920, currency: "CNY" } },
      });

      const openNo = newOutTradeNo();
      prepayIdOf(institution, await institution.send({ target: "/v3/global/transactions/jsapi", body: institutionBody(openNo) }));
      const closed = await institution.send({
        target: `/v3/global/transactions/out-trade-no/${openNo}/close`,
        body: { sp_mchid: V3_INSTITUTION.mchId, sub_mchid: V3_INSTITUTION.subMchId },
      });
      expect(parseV3CloseAnswer(closed.status, closed.text).ok).toBe(true);
      expectSigned(institution, closed);
    });

    it.each<[string, Record<string, unknown>]>([
      ["no currency", { amount: { total: 3800 } }],
      ["no merchant_category_code", { merchant_category_code: undefined }],
      ["a trade_type other than JSAPI", { trade_type: "NATIVE" }],
      ["an unknown currency", { amount: { total: 3800, currency: "XXX" } }],
    ])("refuses an order with %s as PARAM_ERROR", async (_name, change) => {
      expectRefusal(await global.send({ target: "/v3/global/transactions/jsapi", body: globalBody(newOutTradeNo(), change) }), 400, "PARAM_ERROR");
    });

    it("refuses the wrong route family: a domestic path for a Global merchant and a Global path for a mainland one", async () => {
      const domestic = await global.send({ target: "/v3/pay/transactions/jsapi", body: directBody(newOutTradeNo(), { appid: V3_GLOBAL.appId, mchid: V3_GLOBAL.mchId }) });
      expectRefusal(domestic, 400, "INVALID_REQUEST");
      expect(domestic.json).toMatchObject({ message: "暂不支持境外支付" });
      expectRefusal(await global.send({ target: `/v3/pay/transactions/out-trade-no/${newOutTradeNo()}?mchid=${V3_GLOBAL.mchId}` }), 400, "INVALID_REQUEST");
      expectRefusal(await direct.send({ target: "/v3/global/transactions/jsapi", body: directBody(newOutTradeNo()) }), 400, "INVALID_REQUEST");
    });
  });
});

describe("v3 orders on a sandbox that demands https notify URLs (the default)", () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [V3_DIRECT], minCloseAgeMs: 5 * 60_000 });
  }, 60_000);
  afterAll(() => sandbox.stop());

  const body = (outTradeNo: string, notifyUrl: string): Record<string, unknown> => ({
    appid: V3_DIRECT.appId,
    mchid: V3_DIRECT.mchId,
    description: "Strict",
    out_trade_no: outTradeNo,
    notify_url: notifyUrl,
    amount: { total: 1 },
    payer: { openid: OPENID },
  });

  it("refuses an http notify_url and accepts an https one (an absent currency is CNY)", async () => {
    const client = v3Client(sandbox, V3_DIRECT.mchId);
    const refused = await client.send({ target: "/v3/pay/transactions/jsapi", body: body(newOutTradeNo(), "http://127.0.0.1:9/notify") });
    expectRefusal(refused, 400, "PARAM_ERROR");
    expect(refused.json).toMatchObject({ detail: { location: "body", value: "/body/notify_url" } });
    const accepted = await client.send({ target: "/v3/pay/transactions/jsapi", body: body(newOutTradeNo(), "https://merchant.example/notify") });
    prepayIdOf(client, accepted);
  });

  it("refuses to close an order younger than minCloseAgeMs with 400 INVALID_REQUEST", async () => {
    const client = v3Client(sandbox, V3_DIRECT.mchId);
    const outTradeNo = newOutTradeNo();
    prepayIdOf(client, await client.send({ target: "/v3/pay/transactions/jsapi", body: body(outTradeNo, "https://merchant.example/notify") }));
    const answer = await client.send({ target: `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, body: { mchid: V3_DIRECT.mchId } });
    expectRefusal(answer, 400, "INVALID_REQUEST");
    expect(sandbox.context.store.findOrder(V3_DIRECT.mchId, undefined, outTradeNo)?.tradeState).toBe("NOTPAY");
  });
});
