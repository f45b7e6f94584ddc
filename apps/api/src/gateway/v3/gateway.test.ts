import { createManualClock, startSandbox, type ManualClock, type RunningSandbox } from "@pay/sandbox";
import { V3_DIRECT, V3_GLOBAL, V3_INSTITUTION, V3_MIGRATING, V3_PARTNER } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { payAtSandbox, sandboxCredentials, startNotifyReceiver, waitFor } from "../../../test/support/v3-gateway.js";
import { readBill } from "../../../test/support/read-bill.js";
import { createLogger } from "../../logging.js";
import type { IgnoredNotify, NotifyParse, PayNotifyReport, PlaceOrderInput, RefundReport } from "../port.js";
import { createV3Gateway, formatV3Time, V3_NOTIFY_ACK_BODY, V3_PREPAY_TTL_MS, type V3Gateway } from "./gateway.js";

// The service provider in platform-certificate mode (its test-kit entry uses a public key).
const PARTNER = { ...V3_PARTNER, v3: { ...V3_PARTNER.v3, keyMode: "platform-certificate" as const } };
const START = Date.UTC(2026, 0, 1, 4, 0, 0);
const logger = createLogger({ level: "silent" });

let sandbox: RunningSandbox;
let clock: ManualClock;
let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
const gateways = new Map<string, V3Gateway>();
const parsedPay: { tag: string; result: NotifyParse<PayNotifyReport> }[] = [];
const parsedRefund: { tag: string; result: NotifyParse<RefundReport | IgnoredNotify> }[] = [];
let sequence = 0;
/** Tags whose next verified pay notify the receiver refuses (500), so the sandbox delivers it again. */
const refuseOnce = new Set<string>();

function gatewayFor(tag: string): V3Gateway {
  const gateway = gateways.get(tag);
  if (gateway === undefined) throw new Error(`no gateway ${tag}`);
  return gateway;
}

function order(tag: string, overrides: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  return {
    orderId: `v3gw${tag}${Date.now()}${++sequence}`,
    description: "Coffee beans",
    amount: 1234,
    currency: "CNY",
    payer: { openid: `o-${tag}-payer`, scope: "merchant" },
    clientIp: "127.0.0.1",
    startsAt: clock.now(),
    expiresAt: clock.now() + 30 * 60 * 1000,
    notifyUrl: `${receiver.url}/pay/${tag}`,
    ...overrides,
  };
}

beforeAll(async () => {
  clock = createManualClock(START);
  sandbox = await startSandbox({
    clock,
    merchants: [V3_DIRECT, PARTNER, V3_GLOBAL, V3_INSTITUTION, V3_MIGRATING],
    allowHttpNotifyUrl: true,
    notify: { retryScale: 0.001, timeoutMs: 2000, signatureProbe: true },
  });
  receiver = await startNotifyReceiver((path, body, headers) => {
    const [, kind, tag = ""] = path.split("/");
    const gateway = gatewayFor(tag);
    if (kind === "refund") {
      const result = gateway.parseRefundNotify(body, headers);
      parsedRefund.push({ tag, result });
      return gateway.notifyReply(result.ok ? { acknowledged: true } : { acknowledged: false, message: result.error.message });
    }
    const result = gateway.parsePayNotify(body, headers);
    parsedPay.push({ tag, result });
    if (result.ok && refuseOnce.delete(tag)) return gateway.notifyReply({ acknowledged: false, message: "held by the test" });
    return gateway.notifyReply(result.ok ? { acknowledged: true } : { acknowledged: false, message: result.error.message });
  });
  const common = { logger, now: () => clock.now(), backoffMs: 0, timeoutMs: 3000 };
  gateways.set(
    "direct",
    createV3Gateway({
      ...common,
      ...sandboxCredentials(sandbox, V3_DIRECT.mchId, "public-key"),
      account: "domestic",
      appId: V3_DIRECT.appId,
      mchId: V3_DIRECT.mchId,
      apiV3Key: V3_DIRECT.v3.apiV3Key,
    }),
  );
  gateways.set(
    "partner",
    createV3Gateway({
      ...common,
      ...sandboxCredentials(sandbox, PARTNER.mchId, "platform-certificate"),
      account: "domestic",
      appId: PARTNER.appId,
      mchId: PARTNER.mchId,
      subAppId: PARTNER.subAppId,
      subMchId: PARTNER.subMchId,
      apiV3Key: PARTNER.v3.apiV3Key,
    }),
  );
  gateways.set(
    "institution",
    createV3Gateway({
      ...common,
      ...sandboxCredentials(sandbox, V3_INSTITUTION.mchId, "public-key"),
      account: "global",
      appId: V3_INSTITUTION.appId,
      mchId: V3_INSTITUTION.mchId,
      subAppId: V3_INSTITUTION.subAppId,
      subMchId: V3_INSTITUTION.subMchId,
      merchantCategoryCode: "5812",
      apiV3Key: V3_INSTITUTION.v3.apiV3Key,
    }),
  );
  gateways.set(
    "global",
    createV3Gateway({
      ...common,
      ...sandboxCredentials(sandbox, V3_GLOBAL.mchId, "platform-certificate"),
      account: "global",
      appId: V3_GLOBAL.appId,
      mchId: V3_GLOBAL.mchId,
      merchantCategoryCode: "5812",
      apiV3Key: V3_GLOBAL.v3.apiV3Key,
    }),
  );
  gateways.set(
    "migration",
    createV3Gateway({
      ...common,
      ...sandboxCredentials(sandbox, V3_MIGRATING.mchId, "migration"),
      account: "domestic",
      appId: V3_MIGRATING.appId,
      mchId: V3_MIGRATING.mchId,
      apiV3Key: V3_MIGRATING.v3.apiV3Key,
    }),
  );
  for (const gateway of gateways.values()) await gateway.start();
});

afterAll(async () => {
  for (const gateway of gateways.values()) await gateway.close();
  await receiver.close();
  await sandbox.stop();
});

async function settleRefund(mchId: string, subMchId: string | undefined, outRefundNo: string): Promise<void> {
  const answer = await fetch(`${sandbox.url}/sandbox/refunds/settle`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mch_id: mchId, ...(subMchId === undefined ? {} : { sub_mch_id: subMchId }), out_refund_no: outRefundNo, status: "SUCCESS" }),
  });
  expect(answer.status, await answer.clone().text()).toBe(200);
}

describe("the v3 adapter, domestic direct merchant in public-key mode (against the sandbox)", () => {
  const gateway = () => gatewayFor("direct");

  it("places an order (re-entry gives the same prepay id), signs RSA payment params the sandbox accepts, and reports it pending then paid from the verified answer", async () => {
    const input = order("direct");
    const placed = await gateway().placeOrder(input);
    expect(placed).toMatchObject({ ok: true, value: { validForMs: V3_PREPAY_TTL_MS } });
    if (!placed.ok) return;
    expect(await gateway().placeOrder(input)).toEqual(placed);
    const params = gateway().paymentParams({ prepayId: placed.value.prepayId, now: clock.now() });
    expect(params).toMatchObject({ package: `prepay_id=${placed.value.prepayId}`, signType: "RSA", timeStamp: String(Math.floor(clock.now() / 1000)) });
    expect(await gateway().queryOrder(input.orderId)).toEqual({ ok: true, value: { state: "pending" } });

    await payAtSandbox(sandbox, placed.value.prepayId, V3_DIRECT.appId, params);
    const known = await gateway().queryOrder(input.orderId);
    expect(known).toMatchObject({
      ok: true,
      value: {
        state: "paid",
        report: { source: "query", orderId: input.orderId, amount: 1234, currency: "CNY", merchant: { appId: V3_DIRECT.appId, mchId: V3_DIRECT.mchId, subMchId: undefined } },
      },
    });
    if (known.ok && known.value.state === "paid") {
      expect(known.value.report.transactionId).toMatch(/^\d{28}$/);
      expect(JSON.parse(known.value.report.rawJson())).toMatchObject({ out_trade_no: input.orderId, trade_state: "SUCCESS", mchid: V3_DIRECT.mchId });
    }
    // Closing a paid order is refused with the reason a service branches on.
    expect(await gateway().closeOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "business", reason: "ORDER_PAID", code: "ORDERPAID", retryable: false } });

    // The pay notify: the probe refused (401), the signed delivery parsed and acknowledged with 200 {"code":"SUCCESS"}.
    await waitFor(() => parsedPay.some((p) => p.tag === "direct" && p.result.ok));
    const probe = parsedPay.find((p) => p.tag === "direct" && !p.result.ok);
    expect(probe?.result).toEqual({ ok: false, error: { code: "SIGNATURE_PROBE", message: "SIGNATURE_PROBE" } });
    const paid = parsedPay.find((p) => p.tag === "direct" && p.result.ok)?.result;
    expect(paid).toMatchObject({
      ok: true,
      value: { kind: "paid", report: { source: "notify", orderId: input.orderId, amount: 1234, currency: "CNY", merchant: { appId: V3_DIRECT.appId, mchId: V3_DIRECT.mchId } } },
    });
    const replies = receiver.received.filter((r) => r.path === "/pay/direct").map((r) => r.status);
    expect(replies).toEqual([401, 200]);
  });

  it("closes an unpaid order (a signed 204), then tells a closed one and an unknown one apart", async () => {
    const input = order("direct");
    const placed = await gateway().placeOrder(input);
    expect(placed.ok).toBe(true);
    expect(await gateway().closeOrder(input.orderId)).toEqual({ ok: true, value: undefined });
    expect(await gateway().queryOrder(input.orderId)).toEqual({ ok: true, value: { state: "closed" } });
    expect(await gateway().closeOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "business", reason: "ORDER_CLOSED" } });
    expect(await gateway().queryOrder("v3gwunknown000001")).toEqual({ ok: true, value: { state: "not-found" } });
    expect(await gateway().closeOrder("v3gwunknown000002")).toMatchObject({ ok: false, error: { kind: "business", reason: "ORDER_NOT_FOUND", httpStatus: 404 } });
  });

  it("refunds (the same refund id twice refunds once), queries the refund through PROCESSING to SUCCESS, parses the refund notify, and downloads the day's bill", async () => {
    const input = order("direct", { amount: 5000 });
    const placed = await gateway().placeOrder(input);
    if (!placed.ok) throw new Error("not placed");
    await payAtSandbox(sandbox, placed.value.prepayId, V3_DIRECT.appId, gateway().paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    const request = {
      orderId: input.orderId,
      refundId: `R${input.orderId}`,
      orderAmount: 5000,
      amount: 1200,
      currency: "CNY" as const,
      reason: "broken",
      notifyUrl: `${receiver.url}/refund/direct`,
    };
    const refunded = await gateway().refund(request);
    expect(refunded).toMatchObject({ ok: true, value: { gatewayRefundId: expect.stringMatching(/^\d+$/) as string } });
    expect(await gateway().refund(request)).toEqual(refunded);
    expect(await gateway().queryRefund(request.refundId)).toEqual({ ok: true, value: { state: "found", status: "processing" } });
    expect(await gateway().queryRefund("Rnever-sent")).toEqual({ ok: true, value: { state: "not-found" } });
    // More than the order's balance is a 4xx refusal, reported as data.
    expect(await gateway().refund({ ...request, refundId: `R2${input.orderId}`, amount: 4000 })).toMatchObject({
      ok: false,
      error: { kind: "business", code: "INVALID_REQUEST", retryable: false },
    });

    await settleRefund(V3_DIRECT.mchId, undefined, request.refundId);
    expect(await gateway().queryRefund(request.refundId)).toEqual({ ok: true, value: { state: "found", status: "succeeded", succeededAt: expect.any(Number) as number } });
    await waitFor(() => parsedRefund.some((p) => p.tag === "direct" && p.result.ok));
    expect(parsedRefund.find((p) => p.tag === "direct" && p.result.ok)?.result).toMatchObject({
      ok: true,
      value: { refundId: request.refundId, orderId: input.orderId, amount: 1200, status: "succeeded", succeededAt: expect.any(String) as string },
    });
    expect(parsedRefund.find((p) => p.tag === "direct" && !p.result.ok)?.result).toMatchObject({ ok: false, error: { code: "SIGNATURE_PROBE" } });

    // Yesterday's bill is ready the next morning (Beijing): every payment of the day, in minor units.
    const day = new Date(clock.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    await clock.advance(24 * 3600 * 1000);
    const bill = await readBill(await gateway().openBill(day));
    expect(bill.rows.some((row) => row.outTradeNo === input.orderId)).toBe(true);
    await expect(gateway().openBill("2026-02-30")).rejects.toThrow(/bill_date/);
  });

  it("formats order times as RFC 3339 in Beijing time, whole seconds", () => {
    expect(formatV3Time(START)).toBe("2026-01-01T12:00:00+08:00");
    expect(formatV3Time(Date.UTC(2026, 11, 31, 16, 30, 5, 999))).toBe("2027-01-01T00:30:05+08:00");
  });

  it("answers notifies the v3 way", () => {
    expect(gateway().notifyContentTypes).toEqual(["application/json"]);
    expect(gateway().notifyReply({ acknowledged: true })).toEqual({ status: 200, contentType: "application/json", body: V3_NOTIFY_ACK_BODY });
    expect(JSON.parse(V3_NOTIFY_ACK_BODY)).toEqual({ code: "SUCCESS", message: "成功" });
    expect(gateway().notifyReply({ acknowledged: false, message: "BAD_SIGNATURE" })).toEqual({
      status: 401,
      contentType: "application/json",
      body: '{"code":"FAIL","message":"BAD_SIGNATURE"}',
    });
    expect(gateway().notifyReply({ acknowledged: false, message: "TOO_LARGE" }).status).toBe(413);
    expect(gateway().notifyReply({ acknowledged: false, message: "order amount differs" })).toMatchObject({
      status: 500,
      body: '{"code":"FAIL","message":"order amount differs"}',
    });
  });
});

describe("the v3 adapter, service provider in platform-certificate mode", () => {
  const gateway = () => gatewayFor("partner");

  it("loaded the platform certificates at start, places a partner order with payer.sub_openid, and paySign over sub_appid pays it", async () => {
    expect(gateway().keys.mode).toBe("platform-certificate");
    const identity = sandbox.context.v3.get(PARTNER.mchId);
    expect(gateway().keys.store()?.serials).toEqual(identity?.platformCertificates.map((c) => c.serial));
    const input = order("partner", { payer: { openid: "o-sub-payer", scope: "sub-merchant" } });
    const placed = await gateway().placeOrder(input);
    if (!placed.ok) throw new Error(JSON.stringify(placed.error));
    const stored = sandbox.context.store.findOrder(PARTNER.mchId, PARTNER.subMchId, input.orderId);
    expect(stored).toMatchObject({ subOpenid: "o-sub-payer", subAppId: PARTNER.subAppId });
    await payAtSandbox(sandbox, placed.value.prepayId, PARTNER.subAppId, gateway().paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    expect(await gateway().queryOrder(input.orderId)).toMatchObject({
      ok: true,
      value: { state: "paid", report: { merchant: { appId: PARTNER.appId, mchId: PARTNER.mchId, subAppId: PARTNER.subAppId, subMchId: PARTNER.subMchId }, amount: 1234 } },
    });
    await waitFor(() => parsedPay.some((p) => p.tag === "partner" && p.result.ok));
    expect(parsedPay.find((p) => p.tag === "partner" && p.result.ok)?.result).toMatchObject({
      value: { kind: "paid", report: { orderId: input.orderId, merchant: { mchId: PARTNER.mchId, subMchId: PARTNER.subMchId, subAppId: PARTNER.subAppId } } },
    });

    const request = {
      orderId: input.orderId,
      refundId: `R${input.orderId}`,
      orderAmount: 1234,
      amount: 1234,
      currency: "CNY" as const,
      notifyUrl: `${receiver.url}/refund/partner`,
    };
    expect(await gateway().refund(request)).toMatchObject({ ok: true });
    await settleRefund(PARTNER.mchId, PARTNER.subMchId, request.refundId);
    expect(await gateway().queryRefund(request.refundId)).toEqual({ ok: true, value: { state: "found", status: "succeeded", succeededAt: expect.any(Number) as number } });
    await waitFor(() => parsedRefund.some((p) => p.tag === "partner" && p.result.ok));
    expect(parsedRefund.find((p) => p.tag === "partner" && p.result.ok)?.result).toMatchObject({ value: { refundId: request.refundId, amount: 1234, status: "succeeded" } });
  });

  it("refuses a refund notify of another sub-merchant that verifies with the same keys", async () => {
    const other = createV3Gateway({
      ...sandboxCredentials(sandbox, PARTNER.mchId, "platform-certificate"),
      logger,
      now: () => clock.now(),
      account: "domestic",
      appId: PARTNER.appId,
      mchId: PARTNER.mchId,
      subMchId: "1900399999",
      apiV3Key: PARTNER.v3.apiV3Key,
    });
    const delivered = receiver.received.find((r) => r.path === "/refund/partner" && r.status === 200);
    if (delivered === undefined) throw new Error("no refund notify delivered");
    // Before its certificates are loaded, the other gateway cannot verify anything yet.
    expect(other.parseRefundNotify(delivered.body, delivered.headers)).toMatchObject({ ok: false, error: { code: "UNKNOWN_SERIAL" } });
    await other.start();
    expect(other.parseRefundNotify(delivered.body, delivered.headers)).toEqual({ ok: false, error: { code: "MERCHANT_MISMATCH", message: "MERCHANT_MISMATCH" } });
    expect(gateway().parseRefundNotify(delivered.body, delivered.headers)).toMatchObject({ ok: true });
    // A refund notify on the pay route is refused, not read as a payment.
    expect(gateway().parsePayNotify(delivered.body, delivered.headers)).toEqual({ ok: false, error: { code: "WRONG_EVENT", message: "WRONG_EVENT" } });
    await other.close();
  });
});

describe("the v3 adapter, WeChat Pay Global institution in HKD", () => {
  const gateway = () => gatewayFor("institution");

  it("places an HKD order under /v3/global, and records what the payer paid in CNY and the rate without comparing it", async () => {
    const input = order("institution", { amount: 10_000, currency: "HKD", payer: { openid: "o-global-sub", scope: "sub-merchant" } });
    const placed = await gateway().placeOrder(input);
    if (!placed.ok) throw new Error(JSON.stringify(placed.error));
    await payAtSandbox(sandbox, placed.value.prepayId, V3_INSTITUTION.subAppId, gateway().paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    const known = await gateway().queryOrder(input.orderId);
    expect(known).toMatchObject({
      ok: true,
      value: { state: "paid", report: { amount: 10_000, currency: "HKD", payerCurrency: "CNY", merchant: { mchId: V3_INSTITUTION.mchId, subMchId: V3_INSTITUTION.subMchId } } },
    });
    if (known.ok && known.value.state === "paid") {
      expect(known.value.report.payerAmount).toBe(Math.round((10_000 * 91_000_000) / 100_000_000));
      expect(JSON.parse(known.value.report.rawJson())).toMatchObject({ amount: { currency: "HKD", payer_currency: "CNY", exchange_rate: { rate: 91_000_000 } } });
    }
    await waitFor(() => parsedPay.some((p) => p.tag === "institution" && p.result.ok));
    expect(parsedPay.find((p) => p.tag === "institution" && p.result.ok)?.result).toMatchObject({
      value: { kind: "paid", report: { orderId: input.orderId, amount: 10_000, currency: "HKD", payerCurrency: "CNY" } },
    });

    const request = { orderId: input.orderId, refundId: `R${input.orderId}`, orderAmount: 10_000, amount: 2_500, currency: "HKD" as const };
    expect(await gateway().refund(request)).toMatchObject({ ok: true });
    expect(await gateway().queryRefund(request.refundId)).toEqual({ ok: true, value: { state: "found", status: "processing" } });
    expect(await gateway().queryRefund("Rnever-sent-global")).toEqual({ ok: true, value: { state: "not-found" } });
    expect(await gateway().closeOrder(input.orderId)).toMatchObject({ ok: false, error: { reason: "ORDER_PAID" } });
  });
});

describe("the v3 adapter, WeChat Pay Global direct merchant with platform certificates", () => {
  const gateway = () => gatewayFor("global");

  it("loads the Global certificates, places, pays, queries, closes and refunds an HKD order", async () => {
    expect(gateway().keys.store()?.serials).toHaveLength(1);
    const input = order("global", { amount: 3_000, currency: "HKD" });
    const placed = await gateway().placeOrder(input);
    if (!placed.ok) throw new Error(JSON.stringify(placed.error));
    await payAtSandbox(sandbox, placed.value.prepayId, V3_GLOBAL.appId, gateway().paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    expect(await gateway().queryOrder(input.orderId)).toMatchObject({
      ok: true,
      value: { state: "paid", report: { amount: 3_000, currency: "HKD", payerCurrency: "CNY", merchant: { appId: V3_GLOBAL.appId, mchId: V3_GLOBAL.mchId } } },
    });
    await waitFor(() => parsedPay.some((p) => p.tag === "global" && p.result.ok));
    const request = {
      orderId: input.orderId,
      refundId: `R${input.orderId}`,
      orderAmount: 3_000,
      amount: 3_000,
      currency: "HKD" as const,
      notifyUrl: `${receiver.url}/refund/global`,
    };
    expect(await gateway().refund(request)).toMatchObject({ ok: true });
    expect(await gateway().queryRefund(request.refundId)).toEqual({ ok: true, value: { state: "found", status: "processing" } });

    const unpaid = order("global", { amount: 100, currency: "HKD" });
    expect(await gateway().placeOrder(unpaid)).toMatchObject({ ok: true });
    expect(await gateway().closeOrder(unpaid.orderId)).toEqual({ ok: true, value: undefined });
    expect(await gateway().queryOrder(unpaid.orderId)).toEqual({ ok: true, value: { state: "closed" } });
  });
});

describe("the v3 adapter, a merchant migrating from platform certificates to the public key", () => {
  const gateway = () => gatewayFor("migration");

  it("holds both keys, asks for public-key-signed answers, and accepts notifies signed either way", async () => {
    const store = gateway().keys.store();
    const identity = sandbox.context.v3.get(V3_MIGRATING.mchId);
    expect(store?.serials).toEqual([...(identity?.platformCertificates.map((c) => c.serial) ?? []), identity?.publicKey?.id]);
    const input = order("migration");
    refuseOnce.add("migration");
    const placed = await gateway().placeOrder(input);
    if (!placed.ok) throw new Error(JSON.stringify(placed.error));
    await payAtSandbox(sandbox, placed.value.prepayId, V3_MIGRATING.appId, gateway().paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    expect(await gateway().queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "paid" } });
    // The first verified delivery is held (500); the sandbox's retry comes signed with the other key.
    await waitFor(() => receiver.received.some((r) => r.path === "/pay/migration" && r.status === 500));
    await clock.advance(60_000);
    await waitFor(() => parsedPay.filter((p) => p.tag === "migration" && p.result.ok).length === 2);
    const serials = receiver.received.filter((r) => r.path === "/pay/migration" && r.status !== 401).map((r) => String(r.headers["wechatpay-serial"]));
    expect(serials.some((s) => s.startsWith("PUB_KEY_ID_"))).toBe(true);
    expect(serials.some((s) => /^[0-9A-F]+$/.test(s))).toBe(true);
  });
});

describe("the v3 adapter's openBill (against the sandbox)", () => {
  const beijingDay = (at: number): string => new Date(at + 8 * 3600 * 1000).toISOString().slice(0, 10);

  it("streams a day of payments and refunds (tar_type GZIP, unpacked and SHA1-checked) to the rows the sandbox wrote", async () => {
    const gateway = gatewayFor("direct");
    const input = order("direct", { amount: 4321 });
    const placed = await gateway.placeOrder(input);
    if (!placed.ok) throw new Error("not placed");
    await payAtSandbox(sandbox, placed.value.prepayId, V3_DIRECT.appId, gateway.paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    const refundId = `R${input.orderId}`;
    expect(await gateway.refund({ orderId: input.orderId, refundId, orderAmount: 4321, amount: 321, currency: "CNY" })).toMatchObject({ ok: true });
    await settleRefund(V3_DIRECT.mchId, undefined, refundId);
    const day = beijingDay(clock.now());
    // Today's bill is still being made (STATEMENT_CREATING).
    expect(await gateway.openBill(day)).toEqual({ ok: true, value: { kind: "not-ready" } });
    await clock.advance(Date.parse(`${day}T00:00:00+08:00`) + 33 * 3600 * 1000 - clock.now());
    const bill = await readBill(await gateway.openBill(day));
    const payment = bill.rows.find((row) => row.outTradeNo === input.orderId && row.tradeState === "SUCCESS");
    expect(payment).toMatchObject({ mchId: V3_DIRECT.mchId, totalFee: { amount: 4321, currency: "CNY" }, transactionId: expect.stringMatching(/^\d+$/) as string });
    expect(bill.rows.find((row) => row.outRefundNo === refundId)).toMatchObject({ tradeState: "REFUND", refundFee: { amount: 321, currency: "CNY" }, refundStatus: "SUCCESS" });
    expect(bill.summary.tradeCount).toBe(bill.rows.length);
    expect(bill.rows.every((row) => row.tradeTime?.startsWith(day) === true)).toBe(true);
  });

  it("answers none for a day without trades (NO_STATEMENT_EXIST)", async () => {
    const before = beijingDay(Date.parse(`${beijingDay(START)}T00:00:00+08:00`) - 3600 * 1000);
    expect(await gatewayFor("direct").openBill(before)).toEqual({ ok: true, value: { kind: "none" } });
    expect(await gatewayFor("partner").openBill(before)).toEqual({ ok: true, value: { kind: "none" } });
  });

  it("stops a download early without waiting for the rest, and the next download works", async () => {
    const gateway = gatewayFor("direct");
    const day = beijingDay(START);
    const opened = await gateway.openBill(day);
    if (!opened.ok || opened.value.kind !== "file") throw new Error(`expected a file: ${JSON.stringify(opened)}`);
    for await (const chunk of opened.value.body) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    // Read only in part: the hash cannot be proven.
    expect(opened.value.finish()).toMatchObject({ ok: false, error: { code: "HASH_MISMATCH" } });
    expect((await readBill(await gateway.openBill(day))).rows.length).toBeGreaterThan(0);
  });

  it("tells a WeChat Pay Global merchant clearly that the v3 bill API has no Global bills", async () => {
    const answer = await gatewayFor("global").openBill(beijingDay(START));
    expect(answer).toMatchObject({
      ok: false,
      error: { kind: "business", retryable: false, message: expect.stringContaining("WeChat Pay Global bills are not supported") as string },
    });
  });
});
