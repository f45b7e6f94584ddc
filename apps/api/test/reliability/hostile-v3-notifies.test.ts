// Hostile APIv3 notifies at /wxpay/v3/notify and /wxpay/v3/refund-notify, through the production start
// (startApi from environment variables and the sandbox's key files) on both databases: each is refused with
// the status and {"code":"FAIL"} body the adapter gives, logged with its reason, changes nothing (orders,
// payment_events, refunds), and the API keeps answering. The genuine notifies still apply afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { OrderPaymentResponseSchema, type Order } from "@pay/core/contract";
import { buildSignedV3Notify, generateV3TestKeyPair, signV3Answer, type SignedV3Notify, type V3GatewaySigner } from "@pay/core/testing";
import { createSandboxControlClient, type SandboxControlClient } from "@pay/sandbox/control";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, SESSION_SECRET, V3_DIRECT } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.js";
import { createLogger } from "../../src/logging.js";
import { startApi, type RunningApi } from "../../src/server.js";
import { NOTIFY_BODY_TIMEOUT_MS } from "../../src/services/notifies.js";
import { eventually } from "../support/api-harness.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { sandboxKeyFileEnv } from "../support/v3-gateway.js";
import { rawRequest, type RawRequest } from "./raw-http.js";
import { snapshotState } from "./snapshot.js";

const JSON_TYPE = { "content-type": "application/json" } as const;
const ACK = JSON.stringify({ code: "SUCCESS", message: "成功" });
const ANSWER_BOUND_MS = 1000;
/** See hostile-xml.test.ts: a 10 MB upload may lose its answer to a reset; the log line proves the refusal then. */
const LARGE_BOUND_MS = 3000;
const DRIP_BOUND_MS = NOTIFY_BODY_TIMEOUT_MS + 1000;
/**
 * The genuine notifies are checked for their effect, not their speed: a client wait long enough for a busy CI
 * host (a clean-clone run once saw a genuine notify unanswered within 2 s, the suite's other files running beside it).
 */
const GENUINE_BOUND_MS = 15_000;
const OTHER_APIV3_KEY = "AnotherMerchantsApiV3Key00000000";

type Route = "/wxpay/v3/notify" | "/wxpay/v3/refund-notify";
type Resource = Record<string, unknown>;
type Headers = Readonly<Record<string, string>>;

/** A notify the way the tests send it: exact body bytes and headers. */
interface Wire {
  readonly body: string | Buffer;
  readonly headers: Headers;
  readonly drip?: NonNullable<RawRequest["drip"]>;
}

const wire = (notify: SignedV3Notify): Wire => ({ body: notify.body, headers: { ...JSON_TYPE, ...notify.headers } });

describe.each(DATABASES)("hostile APIv3 notifies on %s", (kind) => {
  let dir: string;
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  let control: SandboxControlClient;
  let api: RunningApi;
  let signer: V3GatewaySigner;
  const logs: string[] = [];
  /** Two pending orders of different amounts (A: a mug, B: coffee beans), and a paid order with a refund in processing. */
  let orderA: Order;
  let orderB: Order;
  let paid: Order;
  let refund = { id: "", refundId: "", transactionId: "", fee: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-v3-hostile-"));
    database = await openTestDatabase(kind);
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    sandbox = await startSandbox({
      merchants: [V3_DIRECT],
      v3KeysDir: join(dir, "keys"),
      allowHttpNotifyUrl: true,
      // Refunds stay in processing: their notifies are the tests'.
      refundSettleMs: 3_600_000,
      notify: { retryScale: 0.001, timeoutMs: 3000 },
    });
    control = createSandboxControlClient({ baseUrl: sandbox.url });
    const identity = sandbox.context.v3.get(V3_DIRECT.mchId);
    if (identity?.publicKey === undefined) throw new Error("the sandbox has no public key for V3_DIRECT");
    signer = { privateKey: identity.publicKey.privateKey, serial: identity.publicKey.id };
    const config = loadConfig({
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
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
    });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    api = await startApi(config, createLogger({ level: "info", destination, name: "pay-api" }));

    const { code } = await control.createLoginCode({ appid: V3_DIRECT.appId, user: `hostile-v3-${kind}` });
    const token = (await call("POST", "/api/session", { body: { code } })).body.token as string;
    const place = async (productId: string) => {
      const placed = await call("POST", "/api/orders", { token, body: { items: [{ productId, quantity: 1 }] } });
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      return OrderPaymentResponseSchema.parse(placed.body);
    };
    orderA = (await place("mug")).order;
    orderB = (await place("coffee-beans")).order;
    // Paid through the real flow (the sandbox's own notify), then a partial refund the sandbox keeps in processing.
    const toPay = await place("tote");
    paid = toPay.order;
    await control.pay({ prepay_id: toPay.payment.package.replace(/^prepay_id=/, ""), outcome: "success", payment: toPay.payment });
    await eventually(async () => ((await statusOf(paid.id)) === "paid" ? true : undefined));
    const created = await call("POST", `/api/admin/orders/${paid.id}/refunds`, {
      body: { refundFee: 500, reason: "hostile" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `hostile-v3-${kind}` },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const row = await database.db
      .selectFrom("refunds")
      .innerJoin("orders", "orders.id", "refunds.order_id")
      .select(["refunds.id", "refunds.refund_id", "refunds.status", "orders.transaction_id"])
      .where("refunds.order_id", "=", paid.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("processing");
    refund = { id: row.id, refundId: row.refund_id ?? "50300000000000000000000000001", transactionId: row.transaction_id ?? "", fee: 500 };
  });

  afterAll(async () => {
    await api.stop();
    await sandbox.stop();
    await database.close();
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

  async function statusOf(id: string): Promise<string> {
    return (await database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
  }

  /** The decrypted TRANSACTION.SUCCESS resource the gateway sends for `order`. */
  function transaction(order: Order, overrides: Resource = {}): Resource {
    return {
      appid: V3_DIRECT.appId,
      mchid: V3_DIRECT.mchId,
      out_trade_no: order.id,
      transaction_id: `42000${order.id.replace(/\D/g, "").padEnd(23, "1").slice(0, 23)}`,
      trade_type: "JSAPI",
      trade_state: "SUCCESS",
      trade_state_desc: "支付成功",
      bank_type: "OTHERS",
      attach: "",
      success_time: "2026-01-01T12:00:00+08:00",
      payer: { openid: "oHostile" },
      amount: { total: order.totalFee, payer_total: order.totalFee, currency: "CNY", payer_currency: "CNY" },
      ...overrides,
    };
  }

  /** The decrypted REFUND.SUCCESS resource for the refund in processing. */
  function refundResource(overrides: Resource = {}): Resource {
    return {
      mchid: V3_DIRECT.mchId,
      transaction_id: refund.transactionId,
      out_trade_no: paid.id,
      refund_id: refund.refundId,
      out_refund_no: refund.id,
      refund_status: "SUCCESS",
      success_time: "2026-01-01T12:30:00+08:00",
      user_received_account: "支付用户零钱",
      amount: { total: paid.totalFee, refund: refund.fee, payer_total: paid.totalFee, payer_refund: refund.fee },
      ...overrides,
    };
  }

  function signed(eventType: string, resource: Resource | string, options: { now?: number; apiV3Key?: string; by?: V3GatewaySigner; signature?: string } = {}): SignedV3Notify {
    return buildSignedV3Notify({
      eventType,
      resource,
      apiV3Key: options.apiV3Key ?? V3_DIRECT.v3.apiV3Key,
      signer: options.by ?? signer,
      now: options.now ?? Date.now(),
      ...(options.signature === undefined ? {} : { signature: options.signature }),
    });
  }

  /** Exact body text signed genuinely: what a gateway-signed body that is itself hostile looks like. */
  function signedText(body: string): Wire {
    return { body, headers: { ...JSON_TYPE, ...signV3Answer(body, { signer, now: Date.now() }) } };
  }

  /** A genuine notify whose encrypted resource is changed by `tamper`, then signed again (the signature holds; the decryption must not). */
  function tampered(eventType: string, resource: Resource, tamper: (r: { ciphertext: string; associated_data: string; nonce: string }) => void): Wire {
    const envelope = JSON.parse(signed(eventType, resource).body) as { resource: { ciphertext: string; associated_data: string; nonce: string } };
    tamper(envelope.resource);
    return signedText(JSON.stringify(envelope));
  }

  const flipByte = (base64: string, index: number): string => {
    const bytes = Buffer.from(base64, "base64");
    const at = index < 0 ? bytes.length + index : index;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    return bytes.toString("base64");
  };

  /** An encrypted resource given as exact JSON text (duplicate keys, `__proto__`), genuinely signed and encrypted. */
  const rawResource = (eventType: string, text: string): Wire => wire(signed(eventType, text));

  interface HostileCase {
    readonly name: string;
    readonly build: () => Wire;
    readonly status: number;
    readonly reason: string;
  }

  const SIX_MINUTES = 6 * 60_000;
  const other = generateV3TestKeyPair();

  /** Cases both routes share: the envelope's signature, timing, encryption and JSON. */
  function commonCases(eventType: string, resource: () => Resource): HostileCase[] {
    return [
      { name: "a bad signature", build: () => wire(signed(eventType, resource(), { signature: Buffer.alloc(256, 7).toString("base64") })), status: 401, reason: "BAD_SIGNATURE" },
      {
        name: "a valid signature over a different body",
        build: () => {
          const genuine = signed(eventType, resource());
          const other = signed(eventType, resource());
          return { body: other.body, headers: { ...JSON_TYPE, ...genuine.headers } };
        },
        status: 401,
        reason: "BAD_SIGNATURE",
      },
      {
        name: "an unknown serial",
        build: () => wire(signed(eventType, resource(), { by: { privateKey: other.privateKey, serial: "PUB_KEY_ID_0000000000000000000000000000" } })),
        status: 401,
        reason: "UNKNOWN_SERIAL",
      },
      { name: "a timestamp 6 minutes behind", build: () => wire(signed(eventType, resource(), { now: Date.now() - SIX_MINUTES })), status: 401, reason: "TIMESTAMP_SKEW" },
      { name: "a timestamp 6 minutes ahead", build: () => wire(signed(eventType, resource(), { now: Date.now() + SIX_MINUTES })), status: 401, reason: "TIMESTAMP_SKEW" },
      {
        name: "a probe signature (WECHATPAY/SIGNTEST/)",
        build: () => wire(signed(eventType, resource(), { signature: `WECHATPAY/SIGNTEST/${Buffer.alloc(256, 1).toString("base64")}` })),
        status: 401,
        reason: "SIGNATURE_PROBE",
      },
      { name: "a tampered ciphertext", build: () => tampered(eventType, resource(), (r) => (r.ciphertext = flipByte(r.ciphertext, 0))), status: 500, reason: "DECRYPT_FAILED" },
      { name: "a tampered tag", build: () => tampered(eventType, resource(), (r) => (r.ciphertext = flipByte(r.ciphertext, -1))), status: 500, reason: "DECRYPT_FAILED" },
      { name: "a tampered AAD", build: () => tampered(eventType, resource(), (r) => (r.associated_data = `${r.associated_data}x`)), status: 500, reason: "DECRYPT_FAILED" },
      {
        name: "a tampered nonce",
        build: () => tampered(eventType, resource(), (r) => (r.nonce = `${r.nonce.slice(0, -1)}${r.nonce.endsWith("a") ? "b" : "a"}`)),
        status: 500,
        reason: "DECRYPT_FAILED",
      },
      {
        name: "a resource encrypted with another APIv3 key",
        build: () => wire(signed(eventType, resource(), { apiV3Key: OTHER_APIV3_KEY })),
        status: 500,
        reason: "DECRYPT_FAILED",
      },
      { name: "non-JSON (signed)", build: () => signedText("this is not JSON"), status: 400, reason: "NOT_JSON" },
      {
        name: "duplicate keys in the envelope (signed)",
        build: () => {
          const body = signed(eventType, resource()).body;
          return signedText(body.replace('"event_type":', `"event_type":"${eventType}","event_type":`));
        },
        status: 400,
        reason: "DUPLICATE_KEY",
      },
      {
        name: "a __proto__ key in the envelope (signed)",
        build: () => signedText(signed(eventType, resource()).body.replace("{", '{"__proto__":{"polluted":true},')),
        status: 400,
        reason: "FORBIDDEN_KEY",
      },
      {
        name: "duplicate keys inside the encrypted resource",
        build: () => {
          const text = JSON.stringify(resource());
          return rawResource(eventType, text.replace('"out_trade_no":', '"out_trade_no":"someone-else","out_trade_no":'));
        },
        status: 400,
        reason: "DUPLICATE_KEY",
      },
      {
        name: "a __proto__ key inside the encrypted resource",
        build: () => rawResource(eventType, JSON.stringify(resource()).replace("{", '{"__proto__":{"amount":1},')),
        status: 400,
        reason: "FORBIDDEN_KEY",
      },
      // The route's own refusals (content type, size) carry a text message, not a parse code: the adapter answers them 500, so WeChat Pay would retry.
      {
        name: "Content-Type text/xml",
        build: () => ({ ...wire(signed(eventType, resource())), headers: { ...signed(eventType, resource()).headers, "content-type": "text/xml" } }),
        status: 500,
        reason: "WRONG_CONTENT_TYPE",
      },
      { name: "no Wechatpay headers", build: () => ({ body: signed(eventType, resource()).body, headers: JSON_TYPE }), status: 401, reason: "MISSING_HEADER" },
      {
        name: "a 10 MB body",
        build: () => ({
          body: signed(eventType, resource()).body.replace('"summary":', `"padding":"${"A".repeat(10 * 1024 * 1024)}","summary":`),
          headers: JSON_TYPE,
          drip: { bytes: 64 * 1024, everyMs: 10 },
        }),
        status: 500,
        reason: "TOO_LARGE",
      },
    ];
  }

  const PAY_CASES: HostileCase[] = [
    ...commonCases("TRANSACTION.SUCCESS", () => transaction(orderB)),
    { name: "another merchant's payment", build: () => wire(signed("TRANSACTION.SUCCESS", transaction(orderB, { mchid: "1900399999" }))), status: 500, reason: "MCH_ID_MISMATCH" },
    {
      name: "another app's payment",
      build: () => wire(signed("TRANSACTION.SUCCESS", transaction(orderB, { appid: "wx3d0000000000other" }))),
      status: 500,
      reason: "APPID_MISMATCH",
    },
    {
      name: "a smaller amount",
      build: () =>
        wire(
          signed("TRANSACTION.SUCCESS", transaction(orderB, { amount: { total: orderB.totalFee - 1, payer_total: orderB.totalFee - 1, currency: "CNY", payer_currency: "CNY" } })),
        ),
      status: 500,
      reason: "AMOUNT_MISMATCH",
    },
    {
      name: "another currency",
      build: () =>
        wire(signed("TRANSACTION.SUCCESS", transaction(orderB, { amount: { total: orderB.totalFee, payer_total: orderB.totalFee, currency: "USD", payer_currency: "USD" } }))),
      status: 500,
      reason: "CURRENCY_MISMATCH",
    },
    {
      name: "an unknown order",
      build: () => wire(signed("TRANSACTION.SUCCESS", transaction(orderB, { out_trade_no: "NOSUCHORDER0000000000000001" }))),
      status: 500,
      reason: "UNKNOWN_ORDER",
    },
    {
      name: "A's resource carrying B's amount while B is pending",
      build: () =>
        wire(signed("TRANSACTION.SUCCESS", transaction(orderA, { amount: { total: orderB.totalFee, payer_total: orderB.totalFee, currency: "CNY", payer_currency: "CNY" } }))),
      status: 500,
      reason: "AMOUNT_MISMATCH",
    },
    { name: "a refund event at the pay route", build: () => wire(signed("REFUND.SUCCESS", refundResource())), status: 400, reason: "WRONG_EVENT" },
  ];

  const REFUND_CASES: HostileCase[] = [
    ...commonCases("REFUND.SUCCESS", () => refundResource()),
    { name: "another merchant's refund", build: () => wire(signed("REFUND.SUCCESS", refundResource({ mchid: "1900399999" }))), status: 400, reason: "MERCHANT_MISMATCH" },
    {
      name: "a smaller amount",
      build: () =>
        wire(signed("REFUND.SUCCESS", refundResource({ amount: { total: paid.totalFee, refund: refund.fee - 1, payer_total: paid.totalFee, payer_refund: refund.fee - 1 } }))),
      status: 500,
      reason: "REFUND_MISMATCH",
    },
    { name: "another order's refund number", build: () => wire(signed("REFUND.SUCCESS", refundResource({ out_trade_no: orderA.id }))), status: 500, reason: "REFUND_MISMATCH" },
    {
      name: "an unknown refund",
      build: () => wire(signed("REFUND.SUCCESS", refundResource({ out_refund_no: "NOSUCHREFUND00000000000001" }))),
      status: 500,
      reason: "UNKNOWN_REFUND",
    },
    { name: "a payment event at the refund route", build: () => wire(signed("TRANSACTION.SUCCESS", transaction(orderB))), status: 400, reason: "WRONG_EVENT" },
  ];

  /** Sends one hostile notify and checks the refusal, its log line, that nothing changed and that the API still answers. */
  async function expectRefused(route: Route, request: Wire, expected: { status: number; reason: string }): Promise<void> {
    const large = request.drip !== undefined;
    const bound = large ? LARGE_BOUND_MS : ANSWER_BOUND_MS;
    const before = await snapshotState(database.db);
    const mark = logs.length;
    const answer = await rawRequest(api.url, {
      path: route,
      headers: request.headers,
      body: request.body,
      ...(request.drip === undefined ? {} : { drip: request.drip }),
      timeoutMs: bound + 5000,
    });
    const lines = logs.slice(mark).map((line) => JSON.parse(line) as { msg: string; reason?: string; acknowledged?: boolean; status?: number; path?: string });
    const logged = lines.find((line) => line.msg === "notify" && line.path === route);
    if (answer.status === undefined && large && /EPIPE|ECONNRESET/.test(answer.error ?? "")) {
      expect(logged).toMatchObject({ status: expected.status });
    } else {
      expect(answer.error).toBeUndefined();
      expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({
        status: expected.status,
        body: { code: "FAIL", message: expect.any(String) as string },
      });
      expect(answer.headers["content-type"]).toContain("application/json");
    }
    expect(answer.ms).toBeLessThan(bound);
    expect(logged).toMatchObject({ acknowledged: false, reason: expected.reason });
    expect(await snapshotState(database.db)).toBe(before);
    const health = await rawRequest(api.url, { method: "GET", path: "/healthz", timeoutMs: 2000 });
    expect(health.status).toBe(200);
  }

  it.each(PAY_CASES.map((c) => [c.name, c] as const))("/wxpay/v3/notify: %s -> refused, nothing changed, still serving", async (_name, c) => {
    await expectRefused("/wxpay/v3/notify", c.build(), c);
  });

  it.each(REFUND_CASES.map((c) => [c.name, c] as const))("/wxpay/v3/refund-notify: %s -> refused, nothing changed, still serving", async (_name, c) => {
    await expectRefused("/wxpay/v3/refund-notify", c.build(), c);
  });

  it("an unknown event type is acknowledged on both routes and changes nothing", async () => {
    for (const route of ["/wxpay/v3/notify", "/wxpay/v3/refund-notify"] as const) {
      const before = await snapshotState(database.db);
      const answer = await rawRequest(api.url, { path: route, ...wire(signed("MARKETING.COUPON_USED", transaction(orderB))), timeoutMs: 2000 });
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: ACK });
      expect(await snapshotState(database.db)).toBe(before);
    }
  });

  it("a genuine resource of order A pays only A, with A's amount, while B stays pending; its replay changes nothing", async () => {
    const genuineA = wire(signed("TRANSACTION.SUCCESS", transaction(orderA)));
    const first = await rawRequest(api.url, { path: "/wxpay/v3/notify", ...genuineA, timeoutMs: GENUINE_BOUND_MS });
    expect({ status: first.status, body: first.body }).toEqual({ status: 200, body: ACK });
    const rows = await database.db.selectFrom("orders").select(["id", "status", "total_fee"]).where("id", "in", [orderA.id, orderB.id]).orderBy("id").execute();
    expect(rows).toEqual(
      expect.arrayContaining([
        { id: orderA.id, status: "paid", total_fee: orderA.totalFee },
        { id: orderB.id, status: "pending", total_fee: orderB.totalFee },
      ]),
    );
    const before = await snapshotState(database.db);
    // The same delivery again, and the same resource re-sent later under a new envelope: duplicates, acknowledged, nothing changes.
    for (const again of [genuineA, wire(signed("TRANSACTION.SUCCESS", transaction(orderA)))]) {
      const answer = await rawRequest(api.url, { path: "/wxpay/v3/notify", ...again, timeoutMs: GENUINE_BOUND_MS });
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: ACK });
    }
    expect(await snapshotState(database.db)).toBe(before);
    const events = await database.db.selectFrom("payment_events").select("order_id").where("order_id", "in", [orderA.id, orderB.id]).execute();
    expect(events.map((e) => e.order_id)).toEqual([orderA.id]);
  });

  // The body deadline is the same whatever the database, and costs 5 s: checked once.
  if (kind === "sqlite") {
    it("a slow-drip body on both routes is cut off after the body deadline, and the API answers meanwhile", async () => {
      const before = await snapshotState(database.db);
      const drips = (["/wxpay/v3/notify", "/wxpay/v3/refund-notify"] as const).map((route) =>
        rawRequest(api.url, {
          path: route,
          headers: { ...JSON_TYPE, ...signed("TRANSACTION.SUCCESS", transaction(orderB)).headers, connection: "keep-alive" },
          body: signed("TRANSACTION.SUCCESS", transaction(orderB)).body,
          drip: { bytes: 1, everyMs: 50, endless: true },
          timeoutMs: DRIP_BOUND_MS + 5000,
        }),
      );
      const health = await rawRequest(api.url, { method: "GET", path: "/healthz", timeoutMs: 2000 });
      expect(health.status).toBe(200);
      for (const answer of await Promise.all(drips)) {
        expect(answer.status).toBeGreaterThanOrEqual(400);
        expect(JSON.parse(answer.body)).toMatchObject({ code: "FAIL" });
        expect(answer.ms).toBeGreaterThanOrEqual(NOTIFY_BODY_TIMEOUT_MS - 50);
        expect(answer.ms).toBeLessThan(DRIP_BOUND_MS);
        expect(answer.headers.connection).toBe("close");
      }
      expect(logs.filter((line) => line.includes('"reason":"TOO_SLOW"'))).toHaveLength(2);
      expect(await snapshotState(database.db)).toBe(before);
    });
  }

  it("after all of it, the genuine notifies apply: B is paid with its amount and the refund succeeds", async () => {
    const pay = await rawRequest(api.url, { path: "/wxpay/v3/notify", ...wire(signed("TRANSACTION.SUCCESS", transaction(orderB))), timeoutMs: GENUINE_BOUND_MS });
    expect({ status: pay.status, body: pay.body }).toEqual({ status: 200, body: ACK });
    expect(await statusOf(orderB.id)).toBe("paid");
    const refunded = await rawRequest(api.url, { path: "/wxpay/v3/refund-notify", ...wire(signed("REFUND.SUCCESS", refundResource())), timeoutMs: GENUINE_BOUND_MS });
    expect({ status: refunded.status, body: refunded.body }).toEqual({ status: 200, body: ACK });
    const row = await database.db.selectFrom("orders").select("refunded_fee").where("id", "=", paid.id).executeTakeFirstOrThrow();
    expect(row.refunded_fee).toBe(refund.fee);
  });
});
