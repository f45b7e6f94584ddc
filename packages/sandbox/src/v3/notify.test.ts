import { parseV3Notify, type V3Notify } from "@pay/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createManualClock, type ManualClock } from "../clock.js";
import { NOTIFY_RETRY_SCHEDULE_MS } from "../notifier/notifier.js";
import { rfc3339Beijing } from "./views.js";
import { startSandbox, type RunningSandbox } from "../server.js";
import { settleRefund } from "../state/payments.js";
import type { SandboxOrder } from "../state/types.js";
import { controlOf, waitFor } from "../../test/support/harness.js";
import { seedPaidV3Order, startV3Receiver, V3_DIRECT, V3_GLOBAL, V3_MIGRATING, V3_PARTNER, v3Client, type V3Delivery, type V3Receiver } from "../../test/support/v3.js";

let counter = 0;
function outTradeNo(): string {
  counter += 1;
  return `V3NOTIFY${Date.now()}${counter}`;
}

/** Verifies and decrypts a delivery as a merchant would: core's parseV3Notify with the key store the merchant downloaded. */
function parse(sandbox: RunningSandbox, mchId: string, apiV3Key: string, delivery: V3Delivery) {
  return parseV3Notify(delivery.body, delivery.headers, { keys: v3Client(sandbox, mchId).keyStore(), apiV3Key, now: sandbox.context.clock.now() });
}

function parsed(sandbox: RunningSandbox, mchId: string, apiV3Key: string, delivery: V3Delivery): V3Notify {
  const result = parse(sandbox, mchId, apiV3Key, delivery);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Waits until the job has finished its current attempt and scheduled the next one. */
async function scheduled(clock: ManualClock, log: () => readonly unknown[], attempts: number): Promise<void> {
  await waitFor(() => log().length === attempts && clock.pending() === 1);
}

describe("v3 notifies: TRANSACTION.SUCCESS", () => {
  let sandbox: RunningSandbox;
  let receiver: V3Receiver;
  const clock = createManualClock();
  beforeAll(async () => {
    sandbox = await startSandbox({ clock, merchants: [V3_DIRECT, V3_PARTNER, V3_GLOBAL, V3_MIGRATING], notify: { retryScale: 1, timeoutMs: 400 } });
    receiver = await startV3Receiver();
  });
  afterEach(() => {
    receiver.deliveries.length = 0;
    receiver.reply = () => ({ status: 204 });
  });
  afterAll(async () => {
    await sandbox.stop();
    await receiver.close();
  });

  const log = (order: SandboxOrder) => () => sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo });

  it.each([
    ["direct", V3_DIRECT, {}, { mchid: V3_DIRECT.mchId }],
    ["partner", V3_PARTNER, { subMchId: V3_PARTNER.subMchId }, { sp_mchid: V3_PARTNER.mchId, sub_mchid: V3_PARTNER.subMchId }],
    ["Global", V3_GLOBAL, { currency: "HKD" as const }, { mchid: V3_GLOBAL.mchId }],
  ])("delivers a %s payment signed, encrypted with the APIv3 key, in the live key order", async (_kind, merchant, seed, ids) => {
    const order = seedPaidV3Order(sandbox, { mchId: merchant.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url, total: 2_345, ...seed });
    await waitFor(() => receiver.deliveries.length === 1);
    const delivery = receiver.deliveries[0] as V3Delivery;
    const { headers } = delivery;
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["wechatpay-signature-type"]).toBe("WECHATPAY2-SHA256-RSA2048");
    expect(headers["wechatpay-timestamp"]).toBe(String(Math.floor(clock.now() / 1000)));
    expect(headers["wechatpay-nonce"]).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(headers["wechatpay-serial"]).toBeTruthy();
    expect(headers["wechatpay-signature"]).toBeTruthy();
    expect(headers["request-id"]).toMatch(/^[0-9A-F]+-0$/);
    const body = JSON.parse(delivery.body) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["id", "create_time", "resource_type", "event_type", "summary", "resource"]);
    expect(Object.keys(body.resource as object)).toEqual(["original_type", "algorithm", "ciphertext", "associated_data", "nonce"]);
    expect(body).toMatchObject({
      resource_type: "encrypt-resource",
      event_type: "TRANSACTION.SUCCESS",
      resource: { original_type: "transaction", algorithm: "AEAD_AES_256_GCM", associated_data: "transaction" },
    });
    expect((body.resource as { nonce: string }).nonce).toMatch(/^[0-9A-Za-z]{12}$/);
    const notify = parsed(sandbox, merchant.mchId, merchant.v3.apiV3Key, delivery);
    if (notify.kind !== "transaction") throw new Error(`expected a transaction notify, got ${notify.kind}`);
    expect(notify.raw).toMatchObject({ ...ids, out_trade_no: order.outTradeNo, transaction_id: order.transactionId, trade_state: "SUCCESS", amount: { total: 2_345 } });
    // A notify with the wrong APIv3 key does not decrypt.
    expect(parse(sandbox, merchant.mchId, "x".repeat(32), delivery)).toMatchObject({ ok: false });
    // The attempt is logged once the receiver's answer is read.
    await waitFor(() => log(order)().length === 1);
    expect(log(order)()).toMatchObject([{ protocol: "v3", kind: "pay", eventType: "TRANSACTION.SUCCESS", attempt: 1, outcome: "acknowledged", httpStatus: 204 }]);
  });

  it("delivers REFUND.* notifies with the AAD refund and refund_status", async () => {
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url, total: 500 });
    await waitFor(() => receiver.deliveries.length === 1);
    const refund = {
      protocol: "v3" as const,
      mchId: order.mchId,
      subMchId: undefined,
      outTradeNo: order.outTradeNo,
      outRefundNo: `R${order.outTradeNo}`,
      refundId: "50300000000000000000000000001",
      refundFee: 200,
      totalFee: 500,
      feeType: "CNY" as const,
      cashRefundFee: undefined,
      notifyUrl: receiver.url,
      refundDesc: undefined,
      refundAccount: "UNSETTLED",
      createdAt: clock.now(),
      status: "PROCESSING" as const,
      successAt: undefined,
      settleTimer: undefined,
    };
    sandbox.context.store.addRefund(order, { ...refund });
    const stored = sandbox.context.store.findRefund(order.mchId, undefined, refund.outRefundNo);
    if (stored === undefined) throw new Error("refund not stored");
    settleRefund(sandbox.context, stored, "SUCCESS");
    await waitFor(() => receiver.deliveries.length === 2);
    const delivery = receiver.deliveries[1] as V3Delivery;
    expect(JSON.parse(delivery.body)).toMatchObject({ event_type: "REFUND.SUCCESS", resource: { original_type: "refund", associated_data: "refund" } });
    const notify = parsed(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, delivery);
    expect(notify).toMatchObject({
      kind: "refund",
      eventType: "REFUND.SUCCESS",
      raw: { out_refund_no: refund.outRefundNo, refund_status: "SUCCESS", amount: { refund: 200, total: 500 } },
    });
    await waitFor(() => sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo, kind: "refund" }).length === 1);
    const shown = await controlOf(sandbox).listDeliveries({ out_trade_no: order.outTradeNo, kind: "refund" });
    expect(shown.deliveries).toMatchObject([{ protocol: "v3", kind: "refund", eventType: "REFUND.SUCCESS", outRefundNo: refund.outRefundNo, outcome: "acknowledged" }]);
  });

  it.each([200, 204, 202])("counts HTTP %i as acknowledged, whatever the body", async (status) => {
    receiver.reply = () => ({ status, body: status === 204 ? "" : "not even json" });
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
    await waitFor(() => log(order)().length === 1);
    await clock.advance(24 * 3600_000);
    expect(log(order)()).toMatchObject([{ outcome: "acknowledged", httpStatus: status }]);
    expect(receiver.deliveries).toHaveLength(1);
  });

  it("retries a 4xx, a 5xx, a redirect and a timeout, and stops at the first 2xx", async () => {
    const replies = [{ status: 401, body: '{"code":"FAIL","message":"失败"}' }, { status: 500 }, { status: 302 }, { status: 200, delayMs: 1_000 }, { status: 200 }];
    receiver.reply = (_delivery, index) => replies[index] ?? { status: 200 };
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
    for (const [attempts, wait] of [
      [1, 15_000],
      [2, 15_000],
      [3, 30_000],
      [4, 180_000],
    ] as const) {
      await scheduled(clock, log(order), attempts);
      await clock.advance(wait);
    }
    await waitFor(() => log(order)().length === 5);
    expect(log(order)().map((d) => d.outcome)).toEqual(["http-error", "http-error", "http-error", "timeout", "acknowledged"]);
    expect(log(order)().map((d) => d.httpStatus)).toEqual([401, 500, 302, undefined, 200]);
    await clock.advance(24 * 3600_000);
    expect(log(order)()).toHaveLength(5);
  });

  it("stamps every attempt with the sandbox's current time and keeps the notify id", async () => {
    receiver.reply = (_delivery, index) => ({ status: index < 2 ? 503 : 204 });
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
    await scheduled(clock, log(order), 1);
    await clock.advance(15_000);
    await scheduled(clock, log(order), 2);
    await clock.advance(15_000);
    await waitFor(() => receiver.deliveries.length === 3 && log(order)().length === 3);
    const times = log(order)().map((d) => d.at);
    expect(receiver.deliveries.map((d) => Number(d.headers["wechatpay-timestamp"]) * 1000)).toEqual(times.map((t) => Math.floor(t / 1000) * 1000));
    expect(new Set(receiver.deliveries.map((d) => d.headers["wechatpay-nonce"])).size).toBe(3);
    const bodies = receiver.deliveries.map((d) => JSON.parse(d.body) as { id: string; create_time: string });
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    // create_time is the event's (the payment's), not the attempt's.
    expect(new Set(bodies.map((b) => b.create_time))).toEqual(new Set([rfc3339Beijing(times[0] as number)]));
    // Each attempt verifies at the time it is sent: an old copy replayed later does not (5-minute window).
    for (const delivery of receiver.deliveries.slice(2)) expect(parse(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, delivery).ok).toBe(true);
    await clock.advance(301_000);
    expect(parse(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, receiver.deliveries[2] as V3Delivery)).toMatchObject({ ok: false, error: { code: "TIMESTAMP_SKEW" } });
  });

  it("keeps the notify as paid when the order is refunded before a retry", async () => {
    receiver.reply = (_delivery, index) => ({ status: index === 0 ? 500 : 204 });
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
    await scheduled(clock, log(order), 1);
    order.tradeState = "REFUND";
    await clock.advance(15_000);
    await waitFor(() => receiver.deliveries.length === 2);
    const notify = parsed(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, receiver.deliveries[1] as V3Delivery);
    expect(notify).toMatchObject({ kind: "transaction", raw: { trade_state: "SUCCESS" } });
  });

  it("alternates platform-certificate and public-key signatures for a migrating merchant; both verify", async () => {
    const orders = [1, 2, 3].map(() => seedPaidV3Order(sandbox, { mchId: V3_MIGRATING.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url }));
    await waitFor(() => receiver.deliveries.length === 3);
    const identity = v3Client(sandbox, V3_MIGRATING.mchId).identity;
    const serials = receiver.deliveries.map((d) => d.headers["wechatpay-serial"]);
    const publicKeyId = identity.publicKey?.id;
    const certificateSerial = identity.platformCertificates.at(-1)?.serial;
    expect(new Set(serials)).toEqual(new Set([publicKeyId, certificateSerial]));
    expect(serials.filter((s) => s === publicKeyId).length).toBeGreaterThanOrEqual(1);
    const outTradeNos = receiver.deliveries.map((d) => {
      const notify = parsed(sandbox, V3_MIGRATING.mchId, V3_MIGRATING.v3.apiV3Key, d);
      return notify.kind === "transaction" ? notify.transaction.outTradeNo : undefined;
    });
    expect(outTradeNos.sort()).toEqual(orders.map((o) => o.outTradeNo).sort());
  });
});

describe("v3 notifies: the official retry schedule", () => {
  it("retries 15 times at 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (24h4m) times retryScale, then stops", async () => {
    const clock = createManualClock();
    const retryScale = 0.5;
    const sandbox = await startSandbox({ clock, merchants: [V3_DIRECT], notify: { retryScale } });
    const receiver = await startV3Receiver();
    receiver.reply = () => ({ status: 500, body: '{"code":"FAIL","message":"失败"}' });
    try {
      const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
      const log = () => sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo });
      for (const [index, delay] of NOTIFY_RETRY_SCHEDULE_MS.entries()) {
        await scheduled(clock, log, index + 1);
        await clock.advance(delay * retryScale - 1);
        expect(log()).toHaveLength(index + 1);
        await clock.advance(1);
      }
      await waitFor(() => log().length === 16);
      const at = log().map((d) => d.at);
      const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
      expect(gaps).toEqual(NOTIFY_RETRY_SCHEDULE_MS.map((ms) => ms * retryScale));
      expect((at.at(-1) as number) - (at[0] as number)).toBe((24 * 60 + 4) * 60_000 * retryScale);
      expect(log().map((d) => d.attempt)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      expect(new Set(log().map((d) => d.outcome))).toEqual(new Set(["http-error"]));
      // Each attempt carried its own time.
      expect(receiver.deliveries.map((d) => Number(d.headers["wechatpay-timestamp"]))).toEqual(at.map((t) => Math.floor(t / 1000)));
      expect(clock.pending()).toBe(0);
      await clock.advance(7 * 24 * 3600_000);
      expect(log()).toHaveLength(16);
    } finally {
      await sandbox.stop();
      await receiver.close();
    }
  });
});

describe("v3 notifies: duplicates, concurrent copies and the signature probe", () => {
  let sandbox: RunningSandbox;
  let receiver: V3Receiver;
  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [V3_DIRECT], notify: { duplicates: 2, concurrent: 3, signatureProbe: true } });
    receiver = await startV3Receiver();
  });
  afterAll(async () => {
    await sandbox.stop();
    await receiver.close();
  });

  it("probes with a WECHATPAY/SIGNTEST/ signature first; a verifying receiver refuses it and gets the real delivery and its copies", async () => {
    receiver.deliveries.length = 0;
    // A correct receiver: 2xx only for what core's parseV3Notify accepts.
    receiver.reply = (delivery) => ({ status: parse(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, delivery).ok ? 204 : 401 });
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
    const control = controlOf(sandbox);
    await waitFor(() => sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo }).length === 6);
    const [probe, ...rest] = receiver.deliveries as [V3Delivery, ...V3Delivery[]];
    expect(probe.headers["wechatpay-signature"]).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(parse(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, probe)).toMatchObject({ ok: false, error: { code: "SIGNATURE_PROBE" } });
    // Probe, three concurrent first attempts, two duplicates: the same notify id, each verifying on its own.
    expect(rest).toHaveLength(5);
    const ids = new Set(receiver.deliveries.map((d) => (JSON.parse(d.body) as { id: string }).id));
    expect(ids.size).toBe(1);
    for (const delivery of rest)
      expect(parsed(sandbox, V3_DIRECT.mchId, V3_DIRECT.v3.apiV3Key, delivery)).toMatchObject({ kind: "transaction", transaction: { outTradeNo: order.outTradeNo } });
    const { deliveries } = await control.listDeliveries({ out_trade_no: order.outTradeNo });
    expect(deliveries[0]).toMatchObject({ protocol: "v3", eventType: "TRANSACTION.SUCCESS", attempt: 0, copy: false, outcome: "probe-refused", httpStatus: 401 });
    const after = deliveries.slice(1);
    expect(after.every((d) => d.protocol === "v3" && d.eventType === "TRANSACTION.SUCCESS" && d.attempt === 1 && d.outcome === "acknowledged")).toBe(true);
    expect(after.filter((d) => !d.copy)).toHaveLength(1);
    expect(after.filter((d) => d.copy)).toHaveLength(4);
  });

  it("logs probe-accepted when the receiver acknowledges the probe without verifying, then still delivers", async () => {
    receiver.deliveries.length = 0;
    receiver.reply = () => ({ status: 200 });
    const order = seedPaidV3Order(sandbox, { mchId: V3_DIRECT.mchId, outTradeNo: outTradeNo(), notifyUrl: receiver.url });
    await waitFor(() => sandbox.context.store.deliveries({ outTradeNo: order.outTradeNo }).length === 6);
    const { deliveries } = await controlOf(sandbox).listDeliveries({ out_trade_no: order.outTradeNo });
    expect(deliveries[0]).toMatchObject({ attempt: 0, outcome: "probe-accepted", httpStatus: 200 });
    expect(deliveries.slice(1).every((d) => d.outcome === "acknowledged")).toBe(true);
  });
});
