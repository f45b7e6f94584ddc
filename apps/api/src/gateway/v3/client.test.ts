import { createServer } from "node:http";
import { gunzipSync, gzipSync } from "node:zlib";
import { BillFailure, createBillReader } from "@pay/core";
import type { AddressInfo } from "node:net";
import { buildSignedV3Notify, signV3Answer } from "@pay/core/testing";
import { createManualClock, createSandboxPki, startSandbox, type ManualClock, type RunningSandbox } from "@pay/sandbox";
import { V3_CERTIFICATE, V3_DIRECT } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { clearFaults, payAtSandbox, queueFault, recordingTransport, sandboxCredentials } from "../../../test/support/v3-gateway.js";
import { createLogger } from "../../logging.js";
import type { PlaceOrderInput } from "../port.js";
import type { V3Transport } from "./client.js";
import { createV3Gateway, type V3Gateway, type V3GatewayOptions } from "./gateway.js";

const START = Date.UTC(2026, 0, 1, 4, 0, 0);
const logger = createLogger({ level: "silent" });

let sandbox: RunningSandbox;
let clock: ManualClock;
let sequence = 0;

function order(overrides: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  return {
    orderId: `v3fault${Date.now()}${++sequence}`,
    description: "Tea",
    amount: 800,
    currency: "CNY",
    payer: { openid: "o-fault-payer", scope: "merchant" },
    clientIp: "127.0.0.1",
    startsAt: clock.now(),
    expiresAt: clock.now() + 30 * 60 * 1000,
    notifyUrl: "http://127.0.0.1:9/wxpay/v3/notify",
    ...overrides,
  };
}

function direct(extra: Partial<V3GatewayOptions> = {}): { gateway: V3Gateway; sent: ReturnType<typeof recordingTransport>["sent"] } {
  const { transport, sent } = recordingTransport();
  const gateway = createV3Gateway({
    ...sandboxCredentials(sandbox, V3_DIRECT.mchId, "public-key"),
    account: "domestic",
    appId: V3_DIRECT.appId,
    mchId: V3_DIRECT.mchId,
    apiV3Key: V3_DIRECT.v3.apiV3Key,
    logger,
    now: () => clock.now(),
    backoffMs: 0,
    timeoutMs: 400,
    transport,
    ...extra,
  });
  return { gateway, sent };
}

function certificateMode(): { gateway: V3Gateway; sent: ReturnType<typeof recordingTransport>["sent"] } {
  const { transport, sent } = recordingTransport();
  const gateway = createV3Gateway({
    ...sandboxCredentials(sandbox, V3_CERTIFICATE.mchId, "platform-certificate"),
    account: "domestic",
    appId: V3_CERTIFICATE.appId,
    mchId: V3_CERTIFICATE.mchId,
    apiV3Key: V3_CERTIFICATE.v3.apiV3Key,
    logger,
    now: () => clock.now(),
    backoffMs: 0,
    timeoutMs: 400,
    transport,
  });
  return { gateway, sent };
}

const queryPath = (orderId: string) => `/v3/pay/transactions/out-trade-no/${orderId}`;

beforeAll(async () => {
  clock = createManualClock(START);
  sandbox = await startSandbox({ clock, merchants: [V3_DIRECT, V3_CERTIFICATE], allowHttpNotifyUrl: true });
});

beforeEach(async () => {
  await clearFaults(sandbox);
});

afterAll(async () => {
  await sandbox.stop();
});

describe("v3 requests", () => {
  it("are signed, ask for JSON, name the client, carry Content-Type only with a body, and Wechatpay-Serial only in public-key mode", async () => {
    const { gateway, sent } = direct({ userAgent: "pay-api-test/1" });
    const input = order();
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: true });
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "pending" } });
    const [post, get] = sent;
    expect(post?.headers).toMatchObject({ accept: "application/json", "content-type": "application/json", "user-agent": "pay-api-test/1" });
    expect(post?.headers.authorization).toMatch(
      /^WECHATPAY2-SHA256-RSA2048 mchid="1900300001",nonce_str="[0-9A-Za-z]{32}",signature="[^"]+",timestamp="\d+",serial_no="[0-9A-F]+"$/,
    );
    expect(post?.headers["wechatpay-serial"]).toBe(sandbox.context.v3.get(V3_DIRECT.mchId)?.publicKey?.id);
    expect(get).toMatchObject({ method: "GET", path: `${queryPath(input.orderId)}?mchid=${V3_DIRECT.mchId}`, body: undefined });
    expect(get?.headers["content-type"]).toBeUndefined();
    await gateway.close();

    const certs = certificateMode();
    await certs.gateway.start();
    expect(certs.sent.map((s) => s.path)).toEqual(["/v3/certificates"]);
    expect(await certs.gateway.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "not-found" } });
    expect(certs.sent.every((s) => s.headers["wechatpay-serial"] === undefined)).toBe(true);
    await certs.gateway.close();
  });
});

describe("answers that do not verify are never acted upon", () => {
  it.each(["badsignature", "unknownserial", "skew", "signtest"])("a %s answer to a query is kind invalid, not retried", async (kind) => {
    const { gateway, sent } = direct({ maxAttempts: 3 });
    const input = order();
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: true });
    await queueFault(sandbox, queryPath(input.orderId), { kind });
    const before = sent.length;
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "invalid", retryable: false } });
    expect(sent.length - before).toBe(1);
    // The next answer is good again.
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "pending" } });
    await gateway.close();
  });

  it("a forged paid answer is refused, and re-entering the order is safe afterwards", async () => {
    const { gateway } = direct();
    const input = order();
    await queueFault(sandbox, "/v3/pay/transactions/jsapi", { kind: "badsignature" });
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: false, error: { kind: "invalid" } });
    const again = await gateway.placeOrder(input);
    expect(again).toMatchObject({ ok: true });
    if (!again.ok) return;
    await payAtSandbox(sandbox, again.value.prepayId, V3_DIRECT.appId, gateway.paymentParams({ prepayId: again.value.prepayId, now: clock.now() }));
    await queueFault(sandbox, queryPath(input.orderId), { kind: "badsignature" });
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "invalid" } });
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "paid" } });
    await gateway.close();
  });
});

describe("retries repeat the identical request, only where that is safe", () => {
  it("a timeout on a query is retried and the second attempt answers", async () => {
    const { gateway, sent } = direct();
    const input = order();
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: true });
    await queueFault(sandbox, queryPath(input.orderId), { kind: "timeout" });
    const before = sent.length;
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "pending" } });
    expect(sent.length - before).toBe(2);
    await gateway.close();
  });

  it("a 503 on an order is retried with the same body, which the gateway takes as one order", async () => {
    const { gateway, sent } = direct();
    const input = order();
    await queueFault(sandbox, "/v3/pay/transactions/jsapi", { kind: "http", status: 503 });
    const placed = await gateway.placeOrder(input);
    expect(placed).toMatchObject({ ok: true });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.body).toBe(sent[0]?.body);
    expect(sent[1]?.headers.authorization).not.toBe(sent[0]?.headers.authorization);
    expect(await gateway.placeOrder(input)).toEqual(placed);
    await gateway.close();
  });

  it("a 500 SYSTEM_ERROR on a refund is retried with the same out_refund_no and refunds once", async () => {
    const { gateway, sent } = direct();
    const input = order();
    const placed = await gateway.placeOrder(input);
    if (!placed.ok) throw new Error("not placed");
    await payAtSandbox(sandbox, placed.value.prepayId, V3_DIRECT.appId, gateway.paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    await queueFault(sandbox, "/v3/refund/domestic/refunds", { kind: "systemerror" });
    const before = sent.length;
    const request = { orderId: input.orderId, refundId: `R${input.orderId}`, orderAmount: 800, amount: 800, currency: "CNY" as const };
    expect(await gateway.refund(request)).toMatchObject({ ok: true });
    const attempts = sent.slice(before);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]?.body).toBe(attempts[1]?.body);
    const stored = sandbox.context.store.findOrder(V3_DIRECT.mchId, undefined, input.orderId);
    expect(stored?.refunds).toHaveLength(1);
    await gateway.close();
  });

  it("a lasting 5xx ends after maxAttempts as a retryable http error; a 4xx is never retried", async () => {
    const { gateway, sent } = direct({ maxAttempts: 3 });
    const input = order();
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: true });
    await queueFault(sandbox, queryPath(input.orderId), { kind: "http", status: 502 }, 5);
    let before = sent.length;
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "http", httpStatus: 502, retryable: true } });
    expect(sent.length - before).toBe(3);
    await clearFaults(sandbox);
    before = sent.length;
    expect(await gateway.refund({ orderId: input.orderId, refundId: `R${input.orderId}`, orderAmount: 800, amount: 800, currency: "CNY" })).toMatchObject({
      ok: false,
      error: { kind: "business", httpStatus: 404, retryable: false },
    });
    expect(sent.length - before).toBe(1);
    await gateway.close();
  });

  it("goes to the failover host after a connection error", async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const { port } = dead.address() as AddressInfo;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const { gateway, sent } = direct({ baseUrl: `http://127.0.0.1:${port}`, failoverBaseUrl: sandbox.url });
    expect(await gateway.queryOrder("v3faultunknown01")).toEqual({ ok: true, value: { state: "not-found" } });
    expect(sent).toHaveLength(2);
    await gateway.close();
  });
});

describe("a gateway over HTTPS with a private CA (WXPAY_CA_PATH, as the local sandbox runs it)", () => {
  it("trusts the CA given as `ca` and refuses the connection without it", async () => {
    const pki = createSandboxPki({ mchIds: [V3_DIRECT.mchId] });
    const https = await startSandbox({ clock, merchants: [V3_DIRECT], allowHttpNotifyUrl: true, tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert } });
    try {
      expect(https.url.startsWith("https://")).toBe(true);
      const options = { ...sandboxCredentials(https, V3_DIRECT.mchId, "public-key"), account: "domestic" as const, appId: V3_DIRECT.appId, mchId: V3_DIRECT.mchId };
      const common = { apiV3Key: V3_DIRECT.v3.apiV3Key, logger, now: () => clock.now(), backoffMs: 0, maxAttempts: 1, timeoutMs: 2000 };
      const trusting = createV3Gateway({ ...options, ...common, ca: pki.ca.cert });
      const input = order();
      expect(await trusting.placeOrder(input)).toMatchObject({ ok: true });
      expect(await trusting.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "pending" } });
      await trusting.close();
      const untrusting = createV3Gateway({ ...options, ...common });
      expect(await untrusting.queryOrder(input.orderId)).toMatchObject({ ok: false });
      await untrusting.close();
    } finally {
      await https.stop();
    }
  });
});

describe("platform certificates", () => {
  it("are downloaded again on an unknown serial after a rotation, at most once a minute, and every 12 hours", async () => {
    const { gateway, sent } = certificateMode();
    await gateway.start();
    const fetches = () => sent.filter((s) => s.path === "/v3/certificates").length;
    expect(fetches()).toBe(1);
    const input = order();
    expect(await gateway.placeOrder(input)).toMatchObject({ ok: true });

    // A rotation in the middle of the run: the answer is signed with a certificate the adapter never saw.
    await clock.advance(61_000);
    await queueFault(sandbox, queryPath(input.orderId), { kind: "rotate" });
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true, value: { state: "pending" } });
    expect(fetches()).toBe(2);
    const serials = sandbox.context.v3.get(V3_CERTIFICATE.mchId)?.platformCertificates.map((c) => c.serial);
    expect([...(gateway.keys.store()?.serials ?? [])].sort()).toEqual([...(serials ?? [])].sort());
    expect(serials).toHaveLength(2);

    // Another rotation within the minute: no download, so the answer stays unverifiable.
    await queueFault(sandbox, queryPath(input.orderId), { kind: "rotate" });
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: false, error: { kind: "invalid" } });
    expect(fetches()).toBe(2);
    // A minute later the unknown serial is fetched once more.
    await clock.advance(61_000);
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true });
    expect(fetches()).toBe(3);

    await clock.advance(12 * 3600 * 1000);
    expect(await gateway.queryOrder(input.orderId)).toMatchObject({ ok: true });
    expect(fetches()).toBe(4);
    await gateway.close();
  });

  it("a notify with an unknown serial is refused and asks for a download; once loaded the redelivery verifies", async () => {
    const { gateway, sent } = certificateMode();
    const identity = sandbox.context.v3.get(V3_CERTIFICATE.mchId);
    const newest = identity?.platformCertificates.at(-1);
    if (newest === undefined) throw new Error("no certificate");
    const resource = {
      mchid: V3_CERTIFICATE.mchId,
      appid: V3_CERTIFICATE.appId,
      out_trade_no: "v3faultnotify01",
      transaction_id: "4200000000202601010000000001",
      trade_type: "JSAPI",
      trade_state: "SUCCESS",
      amount: { total: 800, currency: "CNY" },
    };
    const notify = buildSignedV3Notify({
      eventType: "TRANSACTION.SUCCESS",
      resource,
      apiV3Key: V3_CERTIFICATE.v3.apiV3Key,
      signer: { privateKey: newest.privateKey, serial: newest.serial },
      now: clock.now(),
    });
    const body = new TextEncoder().encode(notify.body);
    expect(gateway.parsePayNotify(body, notify.headers)).toMatchObject({ ok: false, error: { code: "UNKNOWN_SERIAL" } });
    await gateway.keys.ensureFresh();
    expect(sent.filter((s) => s.path === "/v3/certificates")).toHaveLength(1);
    expect(gateway.parsePayNotify(body, notify.headers)).toMatchObject({ ok: true, value: { kind: "paid", report: { orderId: "v3faultnotify01", amount: 800 } } });
    // A byte changed after signing, and an event type the API does not handle.
    const tampered = new TextEncoder().encode(notify.body.replace("encrypt-resource", "encrypt-resourcf"));
    expect(gateway.parsePayNotify(tampered, notify.headers)).toMatchObject({ ok: false, error: { code: "BAD_SIGNATURE" } });
    const other = buildSignedV3Notify({
      eventType: "PAYSCORE.USER_OPEN_SERVICE",
      resource: {},
      apiV3Key: V3_CERTIFICATE.v3.apiV3Key,
      signer: { privateKey: newest.privateKey, serial: newest.serial },
      now: clock.now(),
    });
    expect(gateway.parseRefundNotify(new TextEncoder().encode(other.body), other.headers)).toEqual({
      ok: true,
      value: { kind: "ignored", reason: "event_type PAYSCORE.USER_OPEN_SERVICE" },
    });
    expect(gateway.parsePayNotify(new TextEncoder().encode(other.body), other.headers)).toEqual({
      ok: true,
      value: { kind: "ignored", reason: "event_type PAYSCORE.USER_OPEN_SERVICE" },
    });
    await gateway.close();
  });
});

describe("bills", () => {
  /** Replaces answers on `path` with `change(body)`, re-signed with the sandbox's WeChat Pay public key pair (so only the content is wrong). */
  function tampering(
    path: string,
    change: (body: string) => string,
    resign: boolean,
    gzip = false,
  ): { transport: V3Transport; sent: ReturnType<typeof recordingTransport>["sent"] } {
    const inner = recordingTransport();
    const identity = sandbox.context.v3.get(V3_DIRECT.mchId);
    const key = identity?.publicKey;
    if (key === undefined) throw new Error("no public key");
    const transport: V3Transport = async (exchange) => {
      const answer = await inner.transport(exchange);
      if (!new URL(exchange.url).pathname.startsWith(path)) return answer;
      const body = change(new TextDecoder().decode(gzip ? gunzipSync(answer.body) : answer.body));
      const headers = resign ? signV3Answer(body, { signer: { privateKey: key.privateKey, serial: key.id }, now: clock.now() }) : {};
      return { status: answer.status, headers, body: gzip ? gzipSync(body) : new TextEncoder().encode(body) };
    };
    return { transport, sent: inner.sent };
  }

  async function paidYesterday(gateway: V3Gateway): Promise<string> {
    const input = order();
    const placed = await gateway.placeOrder(input);
    if (!placed.ok) throw new Error("not placed");
    await payAtSandbox(sandbox, placed.value.prepayId, V3_DIRECT.appId, gateway.paymentParams({ prepayId: placed.value.prepayId, now: clock.now() }));
    const day = new Date(clock.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    // The bill is ready the next morning, Beijing time (09:00 is safely past the gateway's hour).
    const nextMorning = Date.parse(`${day}T00:00:00+08:00`) + 33 * 3600 * 1000;
    await clock.advance(nextMorning - clock.now());
    return day;
  }

  it("follows a download_url only on the configured gateway origin: a signed answer pointing elsewhere is refused unsent", async () => {
    const { transport, sent } = tampering("/v3/bill/tradebill", (body) => body.replace(/"download_url":"http:\/\/[^/]+/, '"download_url":"https://api.mch.weixin.qq.com'), true);
    const { gateway } = direct({ transport });
    const day = await paidYesterday(gateway);
    expect(await gateway.openBill(day)).toMatchObject({ ok: false, error: { kind: "invalid", message: expect.stringMatching(/not the configured gateway/) as string } });
    expect(sent.some((s) => s.path.startsWith("/v3/billdownload"))).toBe(false);
    await gateway.close();
  });

  it("checks the file's SHA1: a changed byte is refused", async () => {
    const raise = (body: string): string => {
      // The order's 8.00 becomes 9.00: the money changes, the SHA1 no longer matches.
      if (!body.includes("8.00")) throw new Error("the bill does not show the order");
      return body.replaceAll("8.00", "9.00");
    };
    // The file arrives gzipped (tar_type GZIP); the change is made inside the archive, which stays valid.
    const { transport } = tampering("/v3/billdownload/file", raise, false, true);
    const { gateway } = direct({ transport });
    const day = await paidYesterday(gateway);
    const opened = await gateway.openBill(day);
    if (!opened.ok || opened.value.kind !== "file") throw new Error(`expected a file: ${JSON.stringify(opened)}`);
    const reader = createBillReader();
    const rows = [];
    for await (const chunk of opened.value.body) rows.push(...reader.push(chunk));
    reader.end();
    expect(rows.some((row) => row.totalFee?.amount === 900)).toBe(true);
    // The rows read, but nothing may act on them: finish() refuses the file.
    expect(opened.value.finish()).toMatchObject({ ok: false, error: { kind: "invalid", code: "HASH_MISMATCH", message: expect.stringMatching(/HASH_MISMATCH/) as string } });
    await gateway.close();
  });
  it("refuses a broken archive while reading the body (BillFailure MALFORMED_BILL), before finish", async () => {
    const inner = recordingTransport();
    const transport: V3Transport = async (exchange) => {
      const answer = await inner.transport(exchange);
      if (!new URL(exchange.url).pathname.startsWith("/v3/billdownload/file")) return answer;
      return { ...answer, body: answer.body.subarray(0, Math.floor(answer.body.length / 2)) };
    };
    const { gateway } = direct({ transport });
    const day = await paidYesterday(gateway);
    const opened = await gateway.openBill(day);
    if (!opened.ok || opened.value.kind !== "file") throw new Error(`expected a file: ${JSON.stringify(opened)}`);
    const { body } = opened.value;
    const error = await (async () => {
      try {
        for await (const chunk of body) expect(chunk.length).toBeGreaterThan(0);
      } catch (cause) {
        return cause;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BillFailure);
    expect(error).toMatchObject({ code: "MALFORMED_BILL" });
    expect(opened.value.finish()).toMatchObject({ ok: false, error: { code: "HASH_MISMATCH" } });
    await gateway.close();
  });
});

describe("a merchant configured for certificates that has none (public-key mode at the gateway)", () => {
  it("starts without hanging on the signed 404, keeps no keys, and treats answers as unverifiable", async () => {
    const { transport } = recordingTransport();
    const gateway = createV3Gateway({
      ...sandboxCredentials(sandbox, V3_DIRECT.mchId, "platform-certificate"),
      account: "domestic",
      appId: V3_DIRECT.appId,
      mchId: V3_DIRECT.mchId,
      apiV3Key: V3_DIRECT.v3.apiV3Key,
      logger,
      now: () => clock.now(),
      backoffMs: 0,
      transport,
    });
    await gateway.start();
    expect(gateway.keys.store()).toBeUndefined();
    expect(await gateway.queryOrder("v3faultunknown02")).toMatchObject({ ok: false, error: { kind: "invalid" } });
    await gateway.close();
  });
});

describe("options", () => {
  it.each<[string, Partial<V3GatewayOptions>, RegExp]>([
    ["a base URL with a path", { baseUrl: "https://api.mch.weixin.qq.com/v3" }, /baseUrl must be an origin/],
    ["an APIv3 key of the wrong length", { apiV3Key: "short" }, /apiV3Key must be 32 bytes/],
    ["a Global account without a category code", { account: "global" }, /merchantCategoryCode/],
    ["a category code on a domestic account", { merchantCategoryCode: "5812" }, /Global account only/],
    ["a public key in platform-certificate mode", { keyMode: "platform-certificate" }, /takes no publicKey/],
    ["public-key mode without a key", { publicKey: undefined }, /needs publicKey/],
    ["a public key ID without the prefix", { publicKey: { id: "KEY_1", pem: "x" } }, /PUB_KEY_ID_/],
    ["a fractional certificate refresh interval", { certificateRefreshMs: 1.5 }, /refreshIntervalMs must be a whole number/],
    ["a sub_appid without a sub-merchant", { subAppId: "wx3d0000000000sub9" }, /subAppId needs subMchId/],
  ])("refuses %s at construction", (_, change, message) => {
    expect(() => direct(change)).toThrow(message);
  });
});
