// A v2 shop moving to v3 with the real gateways (startApi from environment variables, the real sandbox over
// HTTP) on both databases: orders placed by a v2-only process, the process restarted on the same database
// and port with v3 for new orders and both credentials (V3_MIGRATING: a v2 key, and v3 in migration key
// mode). The old orders keep settling through v2: a notify lost while the process was down is recovered by
// the v2 query, a late v2 notify pays, a v2 refund settles, while a new order is placed and paid with v3.
// A refund reads WXPAY_REFUND_NOTIFY_URL when it is made, so a v2 refund after the move names the v3 route:
// its XML notify is handed to the v2 gateway there, which verifies it (a forged one changes nothing).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { OrderPaymentResponseSchema, type OrderPaymentResponse } from "@pay/core/contract";
import { buildRefundNotify } from "@pay/core/testing";
import { createSandboxControlClient, type SandboxControlClient } from "@pay/sandbox/control";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, SESSION_SECRET, V3_MIGRATING } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.js";
import { createLogger } from "../../src/logging.js";
import { startApi, type RunningApi } from "../../src/server.js";
import { sandboxKeyFileEnv } from "../support/v3-gateway.js";
import { eventually } from "../support/api-harness.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { rawRequest } from "./raw-http.js";
import { snapshotState } from "./snapshot.js";

const APP_SECRET = "secret-v3-migrating";
const MERCHANT = { ...V3_MIGRATING, appSecrets: { [V3_MIGRATING.appId]: APP_SECRET } };

describe.each(DATABASES)("migrating from v2 to v3 with the real gateways on %s", (kind) => {
  let dir: string;
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let port: number;
  let api: RunningApi | undefined;
  let token = "";
  const logs: string[] = [];
  /** Old v2 orders by what happens to them after the restart. */
  const old: Record<"notified" | "recovered" | "refunded", OrderPaymentResponse | undefined> = { notified: undefined, recovered: undefined, refunded: undefined };
  let newOrder: OrderPaymentResponse | undefined;

  /** The environment of the process: v2 only, or v3 for new orders with both credentials. */
  function start(version: "v2" | "v3"): Promise<RunningApi> {
    const apiUrl = `http://127.0.0.1:${port}`;
    const common = {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      WXPAY_BASE_URL: sandbox.url,
      WXPAY_APPID: MERCHANT.appId,
      WXPAY_MCHID: MERCHANT.mchId,
      WXPAY_KEY: MERCHANT.key,
      ...sandboxKeyFileEnv(join(dir, "keys"), MERCHANT.mchId, { publicKey: false }),
      WX_API_BASE_URL: sandbox.url,
      WX_APPSECRET: APP_SECRET,
      SESSION_SECRET,
      ADMIN_TOKEN,
      ORDER_QUERY_AFTER_SECONDS: "1",
      SWEEP_INTERVAL_SECONDS: "3600",
    };
    const env =
      version === "v2"
        ? { ...common, WXPAY_API_VERSION: "v2", WXPAY_NOTIFY_URL: `${apiUrl}/wxpay/notify`, WXPAY_REFUND_NOTIFY_URL: `${apiUrl}/wxpay/refund-notify` }
        : {
            ...common,
            WXPAY_API_VERSION: "v3",
            WXPAY_APIV3_KEY: MERCHANT.v3.apiV3Key,
            ...sandboxKeyFileEnv(join(dir, "keys"), MERCHANT.mchId, { publicKey: true }),
            WXPAY_PLATFORM_CERTIFICATES: "on",
            WXPAY_NOTIFY_URL: `${apiUrl}/wxpay/v3/notify`,
            WXPAY_REFUND_NOTIFY_URL: `${apiUrl}/wxpay/v3/refund-notify`,
          };
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    return startApi(loadConfig(env), createLogger({ level: "info", destination, name: "pay-api" }));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-v3-migration-"));
    database = await openTestDatabase(kind);
    port = await freePort();
    sandbox = await startSandbox({
      merchants: [MERCHANT],
      v3KeysDir: join(dir, "keys"),
      allowHttpNotifyUrl: true,
      // Plain HTTP, as the harness without mTLS: the v2 refund's client certificate is tested elsewhere.
      requireClientCert: false,
      refundSettleMs: 20,
      // A notify missed while the process is down is retried 15 s later: the query must find the payment first.
      notify: { retryScale: 1, timeoutMs: 3000 },
    });
    control = createSandboxControlClient({ baseUrl: sandbox.url });
  });

  afterAll(async () => {
    await api?.stop();
    await sandbox.stop();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...options.headers };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    const text = await response.text();
    return { status: response.status, body: (text === "" ? {} : JSON.parse(text)) as Record<string, unknown> };
  }

  async function place(): Promise<OrderPaymentResponse> {
    const placed = await call("POST", "/api/orders", { body: { items: [{ productId: "mug", quantity: 1 }] } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    return OrderPaymentResponseSchema.parse(placed.body);
  }

  const row = (id: string) => database.db.selectFrom("orders").select(["status", "protocol", "refunded_fee", "total_fee"]).where("id", "=", id).executeTakeFirstOrThrow();
  const prepayOf = (placed: OrderPaymentResponse) => placed.payment.package.replace(/^prepay_id=/, "");
  const must = (placed: OrderPaymentResponse | undefined): OrderPaymentResponse => {
    if (placed === undefined) throw new Error("an earlier step did not place this order");
    return placed;
  };

  it("a v2-only process places v2 orders; one is paid and notified before the stop", async () => {
    api = await start("v2");
    const { code } = await control.createLoginCode({ appid: MERCHANT.appId, user: `migrating-${kind}` });
    token = (await call("POST", "/api/session", { body: { code } })).body.token as string;
    old.notified = await place();
    old.recovered = await place();
    old.refunded = await place();
    for (const placed of [old.notified, old.recovered, old.refunded]) {
      expect(placed.payment.signType).not.toBe("RSA");
      expect((await row(placed.order.id)).protocol).toBe("v2");
    }
    await control.pay({ prepay_id: prepayOf(old.refunded), outcome: "success" });
    await eventually(async () => ((await row(must(old.refunded).order.id)).status === "paid" ? true : undefined));
  });

  it("paid while the process is down (the notify lost), then restarted with v3 and both credentials: the v2 query recovers the old order", async () => {
    await api?.stop();
    api = undefined;
    const recovered = must(old.recovered);
    await control.pay({ prepay_id: prepayOf(recovered), outcome: "success" });
    const missed = await eventually(async () => (await control.listDeliveries({ out_trade_no: recovered.order.id })).deliveries[0]);
    expect(missed).toMatchObject({ protocol: "v2", outcome: "network-error" });
    api = await start("v3");
    const listening = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === "API listening");
    expect(listening.at(-1)).toMatchObject({ apiVersion: "v3", v3: { keyMode: "migration" } });
    const read = await eventually(async () => {
      const answer = await call("GET", `/api/orders/${recovered.order.id}`);
      return (answer.body.order as { status: string } | undefined)?.status === "paid" ? answer : undefined;
    });
    expect(read.status).toBe(200);
    expect(await row(recovered.order.id)).toMatchObject({ status: "paid", protocol: "v2" });
    // Recovered by the query, not by a redelivery.
    expect((await control.listDeliveries({ out_trade_no: recovered.order.id })).deliveries.every((d) => d.outcome !== "acknowledged")).toBe(true);
  });

  it("a v2 notify of an old order, paid after the restart, pays it through the v2 route", async () => {
    const notified = must(old.notified);
    await control.pay({ prepay_id: prepayOf(notified), outcome: "success" });
    await eventually(async () => ((await row(notified.order.id)).status === "paid" ? true : undefined));
    const deliveries = (await control.listDeliveries({ out_trade_no: notified.order.id })).deliveries;
    expect(deliveries).toEqual([expect.objectContaining({ protocol: "v2", outcome: "acknowledged", url: `http://127.0.0.1:${port}/wxpay/notify` })]);
  });

  it("a v2 refund of an old order names the v3 refund route; a forged XML notify there changes nothing, the genuine one settles it through the v2 gateway", async () => {
    const refunded = must(old.refunded);
    const before = await snapshotState(database.db);
    const forged = buildRefundNotify(
      { appid: MERCHANT.appId, mch_id: MERCHANT.mchId },
      {
        out_trade_no: refunded.order.id,
        out_refund_no: "R-FORGED",
        refund_fee: refunded.order.totalFee,
        total_fee: refunded.order.totalFee,
        refund_status: "SUCCESS",
        transaction_id: "1",
        refund_id: "1",
      },
      "an0therkeyan0therkeyan0therkey12",
    );
    const refusal = await rawRequest(`http://127.0.0.1:${port}`, { path: "/wxpay/v3/refund-notify", headers: { "content-type": "text/xml" }, body: forged, timeoutMs: 2000 });
    expect(refusal.status).toBe(200);
    expect(refusal.body).toContain("<return_code><![CDATA[FAIL]]></return_code>");
    expect(await snapshotState(database.db)).toBe(before);

    const created = await call("POST", `/api/admin/orders/${refunded.order.id}/refunds`, {
      body: { refundFee: refunded.order.totalFee, reason: "migrated" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `migration-${kind}` },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await eventually(async () => ((await row(refunded.order.id)).refunded_fee === refunded.order.totalFee ? true : undefined));
    const deliveries = (await control.listDeliveries({ out_trade_no: refunded.order.id, kind: "refund" })).deliveries;
    expect(deliveries).toEqual([expect.objectContaining({ protocol: "v2", outcome: "acknowledged", url: `http://127.0.0.1:${port}/wxpay/v3/refund-notify` })]);
    const refund = await database.db.selectFrom("refunds").select("status").where("order_id", "=", refunded.order.id).executeTakeFirstOrThrow();
    expect(refund.status).toBe("succeeded");
    expect(await row(refunded.order.id)).toMatchObject({ protocol: "v2", status: "refunded" });
  });

  it("a new order is placed and paid with v3 in the same process", async () => {
    const placed = await place();
    expect(placed.payment.signType).toBe("RSA");
    expect((await row(placed.order.id)).protocol).toBe("v3");
    await control.pay({ prepay_id: prepayOf(placed), outcome: "success", payment: placed.payment });
    await eventually(async () => ((await row(placed.order.id)).status === "paid" ? true : undefined));
    const deliveries = (await control.listDeliveries({ out_trade_no: placed.order.id })).deliveries;
    expect(deliveries).toEqual([
      expect.objectContaining({ protocol: "v3", eventType: "TRANSACTION.SUCCESS", outcome: "acknowledged", url: `http://127.0.0.1:${port}/wxpay/v3/notify` }),
    ]);
    newOrder = placed;
  });

  it("a JSON refund notify at the v2 refund route goes to the v3 gateway, which refuses an unsigned one; the v3 refund of the new order settles through the v3 route", async () => {
    const placed = must(newOrder);
    const before = await snapshotState(database.db);
    const unsigned = await rawRequest(`http://127.0.0.1:${port}`, {
      path: "/wxpay/refund-notify",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: "x", event_type: "REFUND.SUCCESS", resource: {} }),
      timeoutMs: 2000,
    });
    expect({ status: unsigned.status, body: JSON.parse(unsigned.body) as unknown }).toEqual({ status: 401, body: { code: "FAIL", message: "MISSING_HEADER" } });
    expect(await snapshotState(database.db)).toBe(before);
    const created = await call("POST", `/api/admin/orders/${placed.order.id}/refunds`, {
      body: { refundFee: placed.order.totalFee, reason: "v3 after the move" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `migration-v3-${kind}` },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await eventually(async () => ((await row(placed.order.id)).status === "refunded" ? true : undefined));
    const deliveries = (await control.listDeliveries({ out_trade_no: placed.order.id, kind: "refund" })).deliveries;
    expect(deliveries).toEqual([
      expect.objectContaining({ protocol: "v3", eventType: "REFUND.SUCCESS", outcome: "acknowledged", url: `http://127.0.0.1:${port}/wxpay/v3/refund-notify` }),
    ]);
  });
});
