// The API as a v3 merchant runs it: startApi from environment variables (WXPAY_API_VERSION=v3, the key files
// the sandbox wrote like the merchant platform's downloads), against the real sandbox over HTTP, with a real
// SQLite file. The whole purchase: sign-in, order, RSA payment params, the payer's paySign check, the signed
// and encrypted TRANSACTION.SUCCESS at /wxpay/v3/notify, paid; then a refund and its REFUND.SUCCESS. The
// shop hears of each change twice: as signed webhooks at WEBHOOK_URL, and through in-process handlers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { OrderPaymentResponseSchema, WebhookEventSchema, type Order, type RequestPaymentParams, type WebhookEvent } from "@pay/core/contract";
import { createSandboxControlClient, type SandboxControlClient } from "@pay/sandbox/control";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, SESSION_SECRET, V3_DIRECT } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.js";
import { createLogger } from "../src/logging.js";
import { startApi, type RunningApi } from "../src/server.js";
import { eventually } from "./support/api-harness.js";
import { sandboxKeyFileEnv } from "./support/v3-gateway.js";
import { startWebhookReceiver, type WebhookReceiver } from "./support/webhook-receiver.js";

const WEBHOOK_SECRET = "whsec_v3-end-to-end-0123456789abcdef";

describe("APIv3 end to end through startApi (domestic direct, public-key mode, SQLite)", () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let api: RunningApi;
  let receiver: WebhookReceiver;
  const logs: string[] = [];
  const handled: WebhookEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-v3-e2e-"));
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    sandbox = await startSandbox({
      merchants: [V3_DIRECT],
      v3KeysDir: join(dir, "keys"),
      allowHttpNotifyUrl: true,
      refundSettleMs: 20,
      notify: { retryScale: 0.001, timeoutMs: 3000 },
    });
    control = createSandboxControlClient({ baseUrl: sandbox.url });
    receiver = await startWebhookReceiver({ secrets: [WEBHOOK_SECRET] });
    const config = loadConfig({
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: join(dir, "pay.db"),
      WXPAY_API_VERSION: "v3",
      WXPAY_BASE_URL: sandbox.url,
      WXPAY_APPID: V3_DIRECT.appId,
      WXPAY_MCHID: V3_DIRECT.mchId,
      WXPAY_APIV3_KEY: V3_DIRECT.v3.apiV3Key,
      ...sandboxKeyFileEnv(join(dir, "keys"), V3_DIRECT.mchId, { publicKey: true }),
      WXPAY_NOTIFY_URL: `${apiUrl}/wxpay/v3/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${apiUrl}/wxpay/v3/refund-notify`,
      WX_API_BASE_URL: sandbox.url,
      WX_APPSECRET: Object.values(V3_DIRECT.appSecrets)[0],
      SESSION_SECRET,
      ADMIN_TOKEN,
      SWEEP_INTERVAL_SECONDS: "3600",
      WEBHOOK_URL: `${receiver.url}/pay-events`,
      WEBHOOK_SECRET,
      WEBHOOK_POLL_INTERVAL_MS: "50",
    });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    api = await startApi(config, createLogger({ level: "info", destination, name: "pay-api" }), { eventHandlers: [(event) => void handled.push(event)] });
  });

  afterAll(async () => {
    await api.stop();
    await receiver.close();
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`${api.url}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    return { status: response.status, body: (text === "" ? {} : JSON.parse(text)) as Record<string, unknown> };
  }

  async function signIn(user: string): Promise<string> {
    const { code } = await control.createLoginCode({ appid: V3_DIRECT.appId, user });
    const session = await call("POST", "/api/session", { body: { code } });
    expect(session.status, JSON.stringify(session.body)).toBe(200);
    return session.body.token as string;
  }

  async function orderOf(token: string, id: string): Promise<Order> {
    return (await call("GET", `/api/orders/${id}`, { token })).body.order as Order;
  }

  it("logs the v3 start: version, key mode, merchant serial, public key ID; never the APIv3 key", () => {
    const listening = logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === "API listening");
    expect(listening).toMatchObject({ apiVersion: "v3", v3: { account: "domestic", keyMode: "public-key" } });
    expect(logs.join("")).not.toContain(V3_DIRECT.v3.apiV3Key);
    expect(logs.join("")).not.toContain(WEBHOOK_SECRET);
  });

  it("pays a v3 order: RSA params the payer side verifies, the v3 notify marks it paid once; then refunds it", async () => {
    const token = await signIn("v3-alice");
    const placed = await call("POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const { order, payment } = OrderPaymentResponseSchema.parse(placed.body);
    expect(payment.signType).toBe("RSA");
    expect(Object.keys(payment).sort()).toEqual(["nonceStr", "package", "paySign", "signType", "timeStamp"]);

    // A paySign the merchant did not make is refused where the WeChat client would refuse it.
    const forged: RequestPaymentParams = { ...payment, paySign: `${payment.paySign.slice(0, -4)}AAA=` };
    await expect(control.pay({ prepay_id: payment.package.replace(/^prepay_id=/, ""), outcome: "success", payment: forged })).rejects.toMatchObject({
      answer: { error: { code: "PAY_SIGN_INVALID" } },
    });
    expect((await orderOf(token, order.id)).status).toBe("pending");

    const paid = await control.pay({ prepay_id: payment.package.replace(/^prepay_id=/, ""), outcome: "success", payment });
    expect(paid.errMsg).toBe("requestPayment:ok");
    const settled = await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.status === "paid" ? current : undefined;
    });
    expect(settled.transactionId).toBe(paid.order.transaction_id);
    const deliveries = await control.listDeliveries({ out_trade_no: order.id });
    expect(deliveries.deliveries).toEqual([expect.objectContaining({ protocol: "v3", eventType: "TRANSACTION.SUCCESS", outcome: "acknowledged", httpStatus: 200 })]);

    const refund = await call("POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: order.totalFee, reason: "v3 refund" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": "v3-refund-1" },
    });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    const refunded = await eventually(async () => {
      const current = await orderOf(token, order.id);
      return current.status === "refunded" ? current : undefined;
    });
    expect(refunded.refundedFee).toBe(order.totalFee);
    const refundDeliveries = await control.listDeliveries({ out_trade_no: order.id, kind: "refund" });
    expect(refundDeliveries.deliveries).toContainEqual(expect.objectContaining({ protocol: "v3", eventType: "REFUND.SUCCESS", outcome: "acknowledged" }));

    // The shop's systems heard of the three changes, in order: as verified webhooks at WEBHOOK_URL, and in process.
    await receiver.waitFor(() => receiver.accepted().length >= 3, 10_000);
    const delivered = receiver.accepted().map((request) => WebhookEventSchema.parse(JSON.parse(request.body)));
    expect(delivered.map((event) => [event.type, "order" in event.data ? event.data.order.id : event.data.refund.orderId])).toEqual([
      ["order.paid", order.id],
      ["refund.succeeded", order.id],
      ["order.refunded", order.id],
    ]);
    expect(delivered[0]).toMatchObject({ data: { order: { status: "paid", transactionId: paid.order.transaction_id, totalFee: order.totalFee } } });
    expect(delivered[1]).toMatchObject({ data: { refund: { status: "succeeded", refundFee: order.totalFee, reason: "v3 refund" } } });
    expect(delivered[2]).toMatchObject({ data: { order: { status: "refunded", refundedFee: order.totalFee } } });
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    await eventually(() => Promise.resolve(handled.length >= 3 ? handled : undefined));
    expect(handled).toEqual(delivered);
  });
});
