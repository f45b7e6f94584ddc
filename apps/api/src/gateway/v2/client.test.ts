import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { buildXml, isSignType, parseXml, signParams } from "@pay/core";
import { createSandboxPki, startSandbox, type FaultRuleInput, type RunningSandbox, type SandboxPki } from "@pay/sandbox";
import { DIRECT, INSTITUTION } from "@pay/test-kit/merchants";
import { createSandboxControlClient, type OrdersAnswer, type SandboxControlClient } from "@pay/sandbox/control";
import { Agent, fetch as undiciFetch, request, type Dispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../logging.js";
import type { MerchantCredentials, UnifiedOrderInput, V2Outcome as GatewayOutcome } from "./types.js";
import { createV2Client, MAX_GATEWAY_RESPONSE_BYTES, type LiveV2Client, type V2ClientOptions } from "./client.js";

/** Same merchant ids as DIRECT, another key: a gateway that signs its answers with a key we do not hold. */
const IMPOSTOR_KEY = "ffffffffffffffffffffffffffffffff";
/** Nothing listens on the discard port: the sandbox's pay notifies fail fast and are retried only after we stop. */
const NOTIFY_URL = "http://127.0.0.1:9/wxpay/notify";
const OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";

function credentials(
  merchant: { appId: string; mchId: string; key: string; subAppId?: string; subMchId?: string },
  signType: MerchantCredentials["signType"] = "MD5",
): MerchantCredentials {
  return { appId: merchant.appId, mchId: merchant.mchId, key: merchant.key, subAppId: merchant.subAppId, subMchId: merchant.subMchId, signType };
}

let seq = 0;
function newOutTradeNo(): string {
  seq += 1;
  return `T${Date.now()}${process.pid % 1000}${seq.toString().padStart(4, "0")}`;
}

function jsapiOrder(outTradeNo: string, extra: Partial<UnifiedOrderInput> = {}): UnifiedOrderInput {
  return { body: "Sandbox shop-test goods", outTradeNo, totalFee: 101, spbillCreateIp: "127.0.0.1", notifyUrl: NOTIFY_URL, tradeType: "JSAPI", openid: OPENID, ...extra };
}

/** Lines written by a pino logger into memory. */
function captureLogs(): { logger: ReturnType<typeof createLogger>; text: () => string; entries: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: "trace", destination });
  const text = (): string => chunks.join("");
  return {
    logger,
    text,
    entries: () =>
      text()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Attempt log lines of one gateway method, in order. */
function attempts(logs: ReturnType<typeof captureLogs>, method: string): Array<Record<string, unknown>> {
  return logs.entries().filter((e) => e.method === method && typeof e.attempt === "number");
}

function expectOk<T>(outcome: GatewayOutcome<T>): T {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.error.kind}: ${outcome.error.message}`);
  return outcome.value;
}

function expectError<T>(outcome: GatewayOutcome<T>) {
  if (outcome.ok) throw new Error("expected a failure, got success");
  return outcome.error;
}

const plainDispatcher = new Agent();

/** The sandbox's control API over `dispatcher` (which trusts the TLS sandbox's CA where needed). */
function control(sandbox: RunningSandbox, dispatcher: Dispatcher = plainDispatcher): SandboxControlClient {
  return createSandboxControlClient({ baseUrl: sandbox.url, fetch: (url, init) => undiciFetch(url, { ...init, dispatcher }) });
}

async function queueFault(sandbox: RunningSandbox, rule: FaultRuleInput, dispatcher?: Dispatcher): Promise<void> {
  await control(sandbox, dispatcher).addFault(rule);
}

async function pay(sandbox: RunningSandbox, prepayId: string, dispatcher?: Dispatcher): Promise<void> {
  await control(sandbox, dispatcher).pay({ prepay_id: prepayId, outcome: "success" });
}

async function ordersView(sandbox: RunningSandbox, outTradeNo: string, dispatcher?: Dispatcher): Promise<OrdersAnswer> {
  return control(sandbox, dispatcher).listOrders({ out_trade_no: outTradeNo });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

interface Proxy {
  readonly url: string;
  /** Request bodies as received from the client. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A real HTTP hop in front of a sandbox: it forwards each request (optionally rewritten) and returns
 * the sandbox's answer (optionally rewritten). Used to play a man in the middle and a second host.
 */
interface ProxyOptions {
  readonly request?: (xml: string) => string;
  readonly response?: (xml: string) => string;
  /** How the hop reaches the sandbox (e.g. with the merchant's client certificate). */
  readonly dispatcher?: Dispatcher;
  /** Holds answer n (from 0) this long after the sandbox has processed the request. */
  readonly answerDelayMs?: (index: number) => number;
}

async function startProxy(target: () => string, rewrite: ProxyOptions = {}): Promise<Proxy> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const index = requests.push(body) - 1;
      const upstream = await request(`${target()}${req.url ?? "/"}`, {
        method: "POST",
        dispatcher: rewrite.dispatcher ?? plainDispatcher,
        headers: { "content-type": "text/xml" },
        body: rewrite.request?.(body) ?? body,
      });
      const answer = await upstream.body.text();
      const hold = rewrite.answerDelayMs?.(index) ?? 0;
      if (hold > 0) await delay(hold);
      if (res.destroyed) return;
      res.writeHead(upstream.statusCode, { "content-type": String(upstream.headers["content-type"] ?? "text/xml") });
      res.end(rewrite.response?.(answer) ?? answer);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let sandbox: RunningSandbox;
let impostor: RunningSandbox;
let tlsSandbox: RunningSandbox;
let pki: SandboxPki;
let tlsDispatcher: Agent;
const gateways: LiveV2Client[] = [];
const proxies: Proxy[] = [];

/** A gateway closed after the suite; backoff sleeps are recorded, not waited. */
function gateway(options: Partial<V2ClientOptions> & { sleeps?: number[] } = {}): LiveV2Client {
  const { sleeps, ...rest } = options;
  const created = createV2Client({
    merchant: credentials(DIRECT),
    baseUrl: sandbox.url,
    logger: createLogger({ level: "silent" }),
    sleep: (ms) => {
      sleeps?.push(ms);
      return Promise.resolve();
    },
    ...rest,
  });
  gateways.push(created);
  return created;
}

beforeAll(async () => {
  sandbox = await startSandbox({ merchants: [DIRECT, INSTITUTION] });
  impostor = await startSandbox({ merchants: [{ ...DIRECT, key: IMPOSTOR_KEY }] });
  pki = createSandboxPki({ mchIds: [DIRECT.mchId] });
  tlsSandbox = await startSandbox({
    merchants: [DIRECT],
    requireClientCert: true,
    refundSettleMs: null,
    tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert },
  });
  tlsDispatcher = new Agent({ connect: { ca: pki.ca.cert } });
});

afterEach(async () => {
  await control(sandbox).clearFaults();
  await control(tlsSandbox, tlsDispatcher).clearFaults();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all([sandbox.stop(), impostor.stop(), tlsSandbox.stop()]);
  await Promise.all([plainDispatcher.close(), tlsDispatcher.close()]);
});

describe("createV2Client options", () => {
  const base = (): V2ClientOptions => ({ merchant: credentials(DIRECT), baseUrl: "https://api.mch.weixin.qq.com", logger: createLogger({ level: "silent" }) });

  it.each([
    ["a missing key", { merchant: { ...credentials(DIRECT), key: "" } }, /merchant\.key/],
    ["an unknown sign type", { merchant: { ...credentials(DIRECT), signType: "SHA1" as never } }, /signType/],
    ["sub_appid without sub_mch_id", { merchant: { ...credentials(DIRECT), subAppId: "wxminiprogram0001" } }, /subMchId/],
    ["a relative base URL", { baseUrl: "/pay" }, /baseUrl/],
    ["a base URL with a query", { baseUrl: "https://api.mch.weixin.qq.com/?x=1" }, /baseUrl/],
    ["an ftp failover URL", { failoverBaseUrl: "ftp://api2.mch.weixin.qq.com" }, /failoverBaseUrl/],
    ["zero attempts", { maxAttempts: 0 }, /maxAttempts/],
    ["a fractional timeout", { timeoutMs: 1.5 }, /timeoutMs/],
    ["a negative backoff", { backoffMs: -1 }, /backoffMs/],
    ["a CA that is not PEM", { ca: "not a certificate" }, /ca must be a PEM/],
    ["no logger", { logger: undefined as never }, /logger/],
  ] as const)("throws at construction on %s", (_name, patch, message) => {
    expect(() => createV2Client({ ...base(), ...patch })).toThrow(message);
  });

  it("throws on a p12 with the wrong passphrase, without echoing the material", () => {
    const client = pki.clients[DIRECT.mchId];
    if (client === undefined) throw new Error("no client certificate");
    expect(() => createV2Client({ ...base(), clientCertificate: { pfx: client.pfx, passphrase: "wrong" } })).toThrow(/clientCertificate cannot be loaded/);
  });

  it("throws on a certificate whose key does not match", () => {
    const client = pki.clients[DIRECT.mchId];
    if (client === undefined) throw new Error("no client certificate");
    expect(() => createV2Client({ ...base(), clientCertificate: { certPem: client.cert, keyPem: pki.server.key } })).toThrow(/clientCertificate cannot be loaded/);
  });
});

describe("against the sandbox over HTTP", () => {
  it.each(["MD5", "HMAC-SHA256"] as const)("places a direct unified order signed with %s", async (signType) => {
    const g = gateway({ merchant: credentials(DIRECT, signType) });
    const outcome = await g.unifiedOrder(jsapiOrder(newOutTradeNo()));
    const value = expectOk(outcome);
    expect(value.prepayId).toMatch(/^wx/);
    expect(value.tradeType).toBe("JSAPI");
    // The gateway signs its answer with the request's algorithm: proof that sign_type was sent.
    expect(outcome.ok && outcome.raw.sign?.length).toBe(signType === "MD5" ? 32 : 64);
  });

  it.each(["MD5", "HMAC-SHA256"] as const)("places an institutional order (sub_appid, sub_mch_id, sub_openid) signed with %s", async (signType) => {
    const g = gateway({ merchant: credentials(INSTITUTION, signType) });
    const outTradeNo = newOutTradeNo();
    const outcome = await g.unifiedOrder(jsapiOrder(outTradeNo, { openid: undefined, subOpenid: OPENID, feeType: "HKD", totalFee: 1000 }));
    const value = expectOk(outcome);
    expect(value.subMchId).toBe(INSTITUTION.subMchId);
    expect(value.subAppid).toBe(INSTITUTION.subAppId);
    const view = await ordersView(sandbox, outTradeNo);
    expect(view.orders).toHaveLength(1);
    expect(view.orders[0]?.sub_mch_id).toBe(INSTITUTION.subMchId);

    await pay(sandbox, value.prepayId);
    const paid = expectOk(await g.orderQuery({ outTradeNo }));
    expect(paid).toMatchObject({ tradeState: "SUCCESS", totalFee: 1000, feeType: "HKD", cashFeeType: "CNY", subOpenid: OPENID });
  });

  it("queries an order after paying, by out_trade_no and by transaction_id", async () => {
    const g = gateway();
    const outTradeNo = newOutTradeNo();
    const { prepayId } = expectOk(await g.unifiedOrder(jsapiOrder(outTradeNo)));
    expect(expectOk(await g.orderQuery({ outTradeNo })).tradeState).toBe("NOTPAY");

    await pay(sandbox, prepayId);
    const paid = expectOk(await g.orderQuery({ outTradeNo }));
    expect(paid).toMatchObject({ tradeState: "SUCCESS", outTradeNo, totalFee: 101, cashFee: 101, openid: OPENID });
    expect(paid.transactionId).toMatch(/^4200[0-9]{24}$/);
    const byTransaction = expectOk(await g.orderQuery({ transactionId: paid.transactionId ?? "" }));
    expect(byTransaction.outTradeNo).toBe(outTradeNo);
  });

  it("closes an unpaid order", async () => {
    const g = gateway({ merchant: credentials(DIRECT, "HMAC-SHA256") });
    const outTradeNo = newOutTradeNo();
    expectOk(await g.unifiedOrder(jsapiOrder(outTradeNo)));
    expectOk(await g.closeOrder(outTradeNo));
    expect(expectOk(await g.orderQuery({ outTradeNo })).tradeState).toBe("CLOSED");
  });

  it("surfaces business failures as kind business with the err_code, without retrying them", async () => {
    const logs = captureLogs();
    const g = gateway({ logger: logs.logger });

    const missing = expectError(await g.orderQuery({ outTradeNo: newOutTradeNo() }));
    expect(missing).toMatchObject({ kind: "business", errCode: "ORDERNOTEXIST", retryable: false });
    expect(missing.errCodeDes).toBeTruthy();
    expect(attempts(logs, "orderQuery")).toHaveLength(1);

    const outTradeNo = newOutTradeNo();
    const { prepayId } = expectOk(await g.unifiedOrder(jsapiOrder(outTradeNo)));
    const changed = expectError(await g.unifiedOrder(jsapiOrder(outTradeNo, { totalFee: 202 })));
    expect(changed).toMatchObject({ kind: "business", errCode: "INVALID_REQUEST", retryable: false });

    await pay(sandbox, prepayId);
    const reentry = expectError(await g.unifiedOrder(jsapiOrder(outTradeNo)));
    expect(reentry).toMatchObject({ kind: "business", errCode: "ORDERPAID", retryable: false });
    const close = expectError(await g.closeOrder(outTradeNo));
    expect(close).toMatchObject({ kind: "business", errCode: "ORDERPAID" });
    expect(attempts(logs, "unifiedOrder").map((e) => e.outcome)).toEqual(["ok", "business", "business"]);
  });

  it("answers kind protocol when our key is wrong (the gateway's 签名错误, unsigned)", async () => {
    const g = gateway({ merchant: { ...credentials(DIRECT), key: "0123456789abcdef0123456789abcdef" } });
    const error = expectError(await g.unifiedOrder(jsapiOrder(newOutTradeNo())));
    expect(error).toMatchObject({ kind: "protocol", retryable: false });
    expect(error.returnMsg).toContain("签名错误");
  });

  it("answers kind invalid for an answer signed with a key other than ours", async () => {
    // The hop re-signs our request with the impostor's key, so the impostor gateway accepts it and
    // signs its (otherwise genuine-looking) answer with that key.
    const proxy = await startProxy(() => impostor.url, {
      request: (xml) => {
        const parsed = parseXml(xml);
        if (!parsed.ok) throw new Error("unparseable request");
        const { sign: _sign, ...fields } = parsed.value;
        const signType = isSignType(fields.sign_type) ? fields.sign_type : "MD5";
        return buildXml({ ...fields, sign: signParams(fields, { key: IMPOSTOR_KEY, signType }) });
      },
    });
    proxies.push(proxy);
    const logs = captureLogs();
    const g = gateway({ baseUrl: proxy.url, logger: logs.logger });
    const error = expectError(await g.unifiedOrder(jsapiOrder(newOutTradeNo())));
    expect(error).toMatchObject({ kind: "invalid", retryable: false });
    expect(error.message).toContain("SIGN_MISMATCH");
    expect(proxy.requests).toHaveLength(1);
    const [entry] = attempts(logs, "unifiedOrder");
    expect(entry).toMatchObject({ level: 50, outcome: "invalid", reason: "SIGN_MISMATCH", willRetry: false });
  });

  it("answers kind invalid for a tampered answer", async () => {
    const proxy = await startProxy(() => sandbox.url, { response: (xml) => xml.replace("<prepay_id><![CDATA[wx", "<prepay_id><![CDATA[wy") });
    proxies.push(proxy);
    const error = expectError(await gateway({ baseUrl: proxy.url }).unifiedOrder(jsapiOrder(newOutTradeNo())));
    expect(error).toMatchObject({ kind: "invalid", retryable: false });
  });

  it("stops reading an answer over 1 MiB and answers kind invalid", async () => {
    const proxy = await startProxy(() => sandbox.url, { response: (xml) => xml.replace("</xml>", `<pad>${"a".repeat(MAX_GATEWAY_RESPONSE_BYTES)}</pad></xml>`) });
    proxies.push(proxy);
    const error = expectError(await gateway({ baseUrl: proxy.url }).orderQuery({ outTradeNo: newOutTradeNo() }));
    expect(error).toMatchObject({ kind: "invalid", retryable: false });
    expect(error.message).toContain(`exceeds ${MAX_GATEWAY_RESPONSE_BYTES} bytes`);
  });

  it("retries a held request, then answers kind timeout", async () => {
    await queueFault(sandbox, { path: "/pay/orderquery", faults: [{ kind: "timeout" }], times: 3 });
    const logs = captureLogs();
    const sleeps: number[] = [];
    const started = performance.now();
    const error = expectError(await gateway({ timeoutMs: 300, sleeps, logger: logs.logger }).orderQuery({ outTradeNo: newOutTradeNo() }));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
    expect(sleeps).toEqual([200, 400]);
    expect(attempts(logs, "orderQuery").map((e) => e.outcome)).toEqual(["timeout", "timeout", "timeout"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(850);
  });

  it("succeeds on attempt 3 after two 503 pages", async () => {
    await queueFault(sandbox, { path: "/pay/unifiedorder", faults: [{ kind: "http", status: 503 }], times: 2 });
    const logs = captureLogs();
    const sleeps: number[] = [];
    const outTradeNo = newOutTradeNo();
    expectOk(await gateway({ sleeps, logger: logs.logger }).unifiedOrder(jsapiOrder(outTradeNo)));
    expect(sleeps).toEqual([200, 400]);
    expect(attempts(logs, "unifiedOrder").map((e) => [e.attempt, e.outcome, e.httpStatus])).toEqual([
      [1, "http", 503],
      [2, "http", 503],
      [3, "ok", undefined],
    ]);
    expect((await ordersView(sandbox, outTradeNo)).orders).toHaveLength(1);
  });

  it("gives up with kind http 503, retryable, after maxAttempts", async () => {
    await queueFault(sandbox, { path: "/pay/closeorder", faults: [{ kind: "http", status: 503 }], times: 2 });
    const error = expectError(await gateway({ maxAttempts: 2 }).closeOrder(newOutTradeNo()));
    expect(error).toMatchObject({ kind: "http", httpStatus: 503, retryable: true });
    expect(error.message).toContain("503");
  });

  it("answers kind invalid for a non-XML 200 and does not retry it", async () => {
    await queueFault(sandbox, { path: "/pay/orderquery", faults: [{ kind: "garbage" }], times: 3 });
    const logs = captureLogs();
    const error = expectError(await gateway({ logger: logs.logger }).orderQuery({ outTradeNo: newOutTradeNo() }));
    expect(error).toMatchObject({ kind: "invalid", retryable: false });
    expect(attempts(logs, "orderQuery")).toHaveLength(1);
  });

  it("retries SYSTEMERROR with the identical order and succeeds", async () => {
    await queueFault(sandbox, { path: "/pay/unifiedorder", faults: [{ kind: "systemerror" }], times: 1 });
    const logs = captureLogs();
    const outTradeNo = newOutTradeNo();
    expectOk(await gateway({ logger: logs.logger, merchant: credentials(DIRECT, "HMAC-SHA256") }).unifiedOrder(jsapiOrder(outTradeNo)));
    expect(attempts(logs, "unifiedOrder").map((e) => [e.outcome, e.errCode])).toEqual([
      ["business", "SYSTEMERROR"],
      ["ok", undefined],
    ]);
  });

  it("reports SYSTEMERROR as business and retryable once attempts run out", async () => {
    await queueFault(sandbox, { path: "/pay/refundquery", faults: [{ kind: "systemerror" }], times: 2 });
    const error = expectError(await gateway({ maxAttempts: 2 }).refundQuery({ outRefundNo: "R-none-000001" }));
    expect(error).toMatchObject({ kind: "business", errCode: "SYSTEMERROR", retryable: true });
  });

  it("fails over to failoverBaseUrl when the main host refuses connections", async () => {
    const logs = captureLogs();
    const down = `http://127.0.0.1:${await closedPort()}`;
    const outTradeNo = newOutTradeNo();
    expectOk(await gateway({ baseUrl: down, failoverBaseUrl: sandbox.url, logger: logs.logger }).unifiedOrder(jsapiOrder(outTradeNo)));
    expect(attempts(logs, "unifiedOrder").map((e) => [e.host, e.outcome])).toEqual([
      [down, "network"],
      [sandbox.url, "ok"],
    ]);
  });

  it("fails over after a 5xx, but keeps the host after a business failure", async () => {
    const backup = await startProxy(() => sandbox.url);
    proxies.push(backup);
    await queueFault(sandbox, { path: "/pay/orderquery", faults: [{ kind: "http", status: 502 }], times: 1 });
    const logs = captureLogs();
    const g = gateway({ failoverBaseUrl: backup.url, logger: logs.logger });
    const outTradeNo = newOutTradeNo();
    expectOk(await g.unifiedOrder(jsapiOrder(outTradeNo)));
    expectOk(await g.orderQuery({ outTradeNo }));
    expect(attempts(logs, "orderQuery").map((e) => [e.host, e.outcome])).toEqual([
      [sandbox.url, "http"],
      [backup.url, "ok"],
    ]);

    await queueFault(sandbox, { path: "/pay/orderquery", faults: [{ kind: "systemerror" }], times: 1 });
    expectOk(await g.orderQuery({ outTradeNo }));
    expect(
      attempts(logs, "orderQuery")
        .slice(2)
        .map((e) => [e.host, e.outcome]),
    ).toEqual([
      [sandbox.url, "business"],
      [sandbox.url, "ok"],
    ]);
  });

  it("answers kind network, retryable, when no host is reachable", async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const error = expectError(await gateway({ baseUrl: down, maxAttempts: 2 }).orderQuery({ outTradeNo: newOutTradeNo() }));
    expect(error).toMatchObject({ kind: "network", retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("throws on a request the gateway would refuse (a caller bug), before sending", async () => {
    await expect(gateway().unifiedOrder(jsapiOrder("bad no!"))).rejects.toThrow(/out_trade_no/);
  });
});

describe("refunds over mutual TLS", () => {
  function tlsGateway(options: Partial<V2ClientOptions> & { sleeps?: number[] } = {}): LiveV2Client {
    const client = pki.clients[DIRECT.mchId];
    if (client === undefined) throw new Error("no client certificate");
    return gateway({ baseUrl: tlsSandbox.url, ca: pki.ca.cert, clientCertificate: { certPem: client.cert, keyPem: client.key }, ...options });
  }

  async function paidOrder(g: LiveV2Client, totalFee = 500): Promise<{ outTradeNo: string; transactionId: string }> {
    const outTradeNo = newOutTradeNo();
    const { prepayId } = expectOk(await g.unifiedOrder(jsapiOrder(outTradeNo, { totalFee })));
    await pay(tlsSandbox, prepayId, tlsDispatcher);
    const paid = expectOk(await g.orderQuery({ outTradeNo }));
    return { outTradeNo, transactionId: paid.transactionId ?? "" };
  }

  it("refunds with the PEM certificate and key, then finds the refund", async () => {
    const g = tlsGateway({ merchant: credentials(DIRECT, "HMAC-SHA256") });
    const { outTradeNo, transactionId } = await paidOrder(g);
    const refund = expectOk(await g.refund({ outTradeNo, outRefundNo: `R${outTradeNo}`, totalFee: 500, refundFee: 200, refundDesc: "partial" }));
    expect(refund).toMatchObject({ outTradeNo, transactionId, outRefundNo: `R${outTradeNo}`, refundFee: 200, totalFee: 500 });
    expect(refund.refundId).toBeTruthy();

    const query = expectOk(await g.refundQuery({ outRefundNo: `R${outTradeNo}` }));
    expect(query.refunds).toHaveLength(1);
    expect(query.refunds[0]).toMatchObject({ outRefundNo: `R${outTradeNo}`, refundId: refund.refundId, refundStatus: "PROCESSING" });
    expect(expectOk(await g.refundQuery({ refundId: refund.refundId })).refunds[0]?.refundFee).toBe(200);
  });

  it("refunds with the p12 and its passphrase", async () => {
    const client = pki.clients[DIRECT.mchId];
    if (client === undefined) throw new Error("no client certificate");
    const g = gateway({ baseUrl: tlsSandbox.url, ca: pki.ca.cert, clientCertificate: { pfx: client.pfx, passphrase: client.passphrase } });
    const { outTradeNo } = await paidOrder(g);
    const refund = expectOk(await g.refund({ outTradeNo, outRefundNo: `P${outTradeNo}`, totalFee: 500, refundFee: 500 }));
    expect(refund.refundFee).toBe(500);
    expect(expectOk(await g.refundQuery({ outTradeNo })).refunds.map((r) => r.outRefundNo)).toEqual([`P${outTradeNo}`]);
  });

  it("answers kind http 400 quoting nginx when no client certificate is configured", async () => {
    const logs = captureLogs();
    const g = gateway({ baseUrl: tlsSandbox.url, ca: pki.ca.cert, logger: logs.logger });
    const { outTradeNo } = await paidOrder(g);
    const error = expectError(await g.refund({ outTradeNo, outRefundNo: `N${outTradeNo}`, totalFee: 500, refundFee: 100 }));
    expect(error).toMatchObject({ kind: "http", httpStatus: 400, retryable: false });
    expect(error.message).toContain("No required SSL certificate");
    expect(error.message).toContain("no client certificate is configured");
    expect(attempts(logs, "refund")).toHaveLength(1);
    expect((await ordersView(tlsSandbox, outTradeNo, tlsDispatcher)).orders[0]?.refunds).toEqual([]);
  });

  it("answers kind network, not retried, when the server certificate is not trusted", async () => {
    const error = expectError(await gateway({ baseUrl: tlsSandbox.url }).orderQuery({ outTradeNo: newOutTradeNo() }));
    expect(error).toMatchObject({ kind: "network", retryable: false });
  });

  it("retries a refund after a timeout with the same out_refund_no, over mutual TLS", async () => {
    const setup = tlsGateway();
    const { outTradeNo } = await paidOrder(setup);
    const outRefundNo = `H${outTradeNo}`;
    await queueFault(tlsSandbox, { path: "/secapi/pay/refund", faults: [{ kind: "timeout" }], times: 1 }, tlsDispatcher);
    const logs = captureLogs();
    const refund = expectOk(await tlsGateway({ timeoutMs: 300, logger: logs.logger }).refund({ outTradeNo, outRefundNo, totalFee: 500, refundFee: 250 }));
    expect(refund.outRefundNo).toBe(outRefundNo);
    expect(attempts(logs, "refund").map((e) => [e.outcome, e.outRefundNo])).toEqual([
      ["timeout", outRefundNo],
      ["ok", outRefundNo],
    ]);
    const refunds = (await ordersView(tlsSandbox, outTradeNo, tlsDispatcher)).orders[0]?.refunds;
    expect(refunds).toEqual([expect.objectContaining({ out_refund_no: outRefundNo, refund_id: refund.refundId, refund_fee: 250 })]);
  });

  it("retries a refund whose answer was lost after the gateway refunded, and refunds once", async () => {
    const client = pki.clients[DIRECT.mchId];
    if (client === undefined) throw new Error("no client certificate");
    const setup = tlsGateway();
    const { outTradeNo } = await paidOrder(setup);
    const outRefundNo = `L${outTradeNo}`;
    // A hop that presents the merchant certificate to the sandbox and holds the first answer past
    // the client's timeout: the refund is made, but its answer never arrives.
    const certDispatcher = new Agent({ connect: { ca: pki.ca.cert, cert: client.cert, key: client.key } });
    const lossy = await startProxy(() => tlsSandbox.url, { dispatcher: certDispatcher, answerDelayMs: (index) => (index === 0 ? 1000 : 0) });
    proxies.push(lossy);
    const logs = captureLogs();
    let refundsBeforeRetry: OrdersAnswer["orders"][number]["refunds"] | undefined;
    const g = gateway({
      baseUrl: lossy.url,
      timeoutMs: 300,
      logger: logs.logger,
      sleep: async () => {
        refundsBeforeRetry = (await ordersView(tlsSandbox, outTradeNo, tlsDispatcher)).orders[0]?.refunds;
      },
    });
    const refund = expectOk(await g.refund({ outTradeNo, outRefundNo, totalFee: 500, refundFee: 300 }));
    await certDispatcher.close();

    expect(attempts(logs, "refund").map((e) => [e.outcome, e.outRefundNo])).toEqual([
      ["timeout", outRefundNo],
      ["ok", outRefundNo],
    ]);
    // Two requests carried identical business fields; only the nonce and sign differ.
    const sent = lossy.requests.map((xml) => {
      const parsed = parseXml(xml);
      if (!parsed.ok) throw new Error("unparseable request");
      const { nonce_str: nonce, sign, ...business } = parsed.value;
      return { nonce, sign, business };
    });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.business).toEqual(sent[0]?.business);
    expect(sent[1]?.nonce).not.toBe(sent[0]?.nonce);
    // The lost first attempt did refund; the retry found that refund instead of making a second one.
    expect(refundsBeforeRetry).toEqual([expect.objectContaining({ out_refund_no: outRefundNo, refund_id: refund.refundId })]);
    const after = (await ordersView(tlsSandbox, outTradeNo, tlsDispatcher)).orders[0]?.refunds;
    expect(after).toEqual([expect.objectContaining({ out_refund_no: outRefundNo, refund_id: refund.refundId, refund_fee: 300 })]);
    expect(expectOk(await setup.refundQuery({ outTradeNo })).refundCount).toBe(1);
  });
});

describe("logging", () => {
  it("redacts secrets with the shared rules", () => {
    const logs = captureLogs();
    logs.logger.info(
      {
        key: "k1",
        sign: "s1",
        paySign: "p1",
        session_key: "sk",
        merchant: { key: "k2", appSecret: "as" },
        req: { headers: { authorization: "Bearer t", cookie: "c=1" }, body: "<xml/>" },
        requestXml: "<xml/>",
      },
      "probe",
    );
    const [entry] = logs.entries();
    expect(entry).toMatchObject({
      key: "[redacted]",
      sign: "[redacted]",
      paySign: "[redacted]",
      session_key: "[redacted]",
      merchant: { key: "[redacted]", appSecret: "[redacted]" },
      req: { headers: { authorization: "[redacted]", cookie: "[redacted]" }, body: "[redacted]" },
      requestXml: "[redacted]",
    });
  });

  it("never writes the API key, a sign, the string to sign or client key material during a full sequence", async () => {
    const logs = captureLogs();
    const client = pki.clients[DIRECT.mchId];
    if (client === undefined) throw new Error("no client certificate");
    const recorder = await startProxy(() => sandbox.url);
    proxies.push(recorder);
    const wrongKey = "0123456789abcdef0123456789abcdef";
    const plain = gateway({ baseUrl: recorder.url, logger: logs.logger, merchant: credentials(DIRECT, "HMAC-SHA256") });
    const wrong = gateway({ baseUrl: recorder.url, logger: logs.logger, merchant: { ...credentials(DIRECT), key: wrongKey } });
    const secure = gateway({
      baseUrl: tlsSandbox.url,
      ca: pki.ca.cert,
      clientCertificate: { certPem: client.cert, keyPem: client.key },
      logger: logs.logger,
    });
    const signs: string[] = [];
    const keep = <T>(outcome: GatewayOutcome<T>): GatewayOutcome<T> => {
      if (outcome.ok && outcome.raw.sign !== undefined) signs.push(outcome.raw.sign);
      return outcome;
    };

    const first = newOutTradeNo();
    expectOk(keep(await plain.unifiedOrder(jsapiOrder(first))));
    expectOk(keep(await plain.orderQuery({ outTradeNo: first })));
    expectOk(keep(await plain.closeOrder(first)));
    expectError(await wrong.orderQuery({ outTradeNo: first }));
    await queueFault(sandbox, { path: "/pay/orderquery", faults: [{ kind: "garbage" }], times: 1 });
    expectError(await plain.orderQuery({ outTradeNo: first }));

    const second = newOutTradeNo();
    const { prepayId } = expectOk(keep(await secure.unifiedOrder(jsapiOrder(second))));
    await pay(tlsSandbox, prepayId, tlsDispatcher);
    expectOk(keep(await secure.refund({ outTradeNo: second, outRefundNo: `S${second}`, totalFee: 101, refundFee: 101 })));
    expectOk(keep(await secure.refundQuery({ outRefundNo: `S${second}` })));

    for (const body of recorder.requests) {
      const parsed = parseXml(body);
      if (parsed.ok && parsed.value.sign !== undefined) signs.push(parsed.value.sign);
    }
    const text = logs.text();
    expect(attempts(logs, "refund")).toHaveLength(1);
    expect(signs.length).toBeGreaterThanOrEqual(10);
    for (const secret of [DIRECT.key, wrongKey, ...signs]) expect(text).not.toContain(secret);
    expect(text).not.toContain("&key=");
    expect(text).not.toContain("<xml");
    expect(text).not.toContain("PRIVATE KEY");
    const keyBody = client.key.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));
    for (const line of keyBody) expect(text).not.toContain(line);
  });
});
