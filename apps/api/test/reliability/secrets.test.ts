// Secrets never leak: the API started the production way (loadConfig + startApi, trace-level logs, a
// client certificate on disk) runs a full purchase, refunds, refusals and gateway faults behind a
// recording proxy that sees every gateway exchange and every notify. Then the logs and every HTTP answer
// the API gave are searched for the key, its MD5 (the refund-notify AES key), the session secret, the
// admin token, the app secret, certificate material, every signature on the wire, every session_key and
// session token. The mini-program build is scanned too when it exists.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Order, OrderPaymentResponse } from "@pay/core/contract";
import { buildSignedPayNotify } from "@pay/core/testing";
import { createSandboxPki, startSandbox, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.js";
import { createLogger } from "../../src/logging.js";
import { startApi, type RunningApi } from "../../src/server.js";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { recordFigure } from "./figures.js";
import { clearFaults, injectFaults, payAtSandbox, payNotifyFields, waitFor, type JsonAnswer } from "./fixtures.js";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy.js";
import { findSecretPatterns, findSecrets, readTree, scanDirectoryForSecrets, type Haystack, type Secret } from "./secret-scan.js";

const MINIPROGRAM_DIST = fileURLToPath(new URL("../../../miniprogram/dist", import.meta.url));
const CONSOLE_DIST = fileURLToPath(new URL("../../../console/dist", import.meta.url));
/** Every sign (or paySign) value in an XML body. */
const signsIn = (xml: string): string[] => [...xml.matchAll(/<(?:sign|paySign)>(?:<!\[CDATA\[)?([0-9A-Fa-f]{32,64})/g)].map((m) => m[1] ?? "");

describe("secrets in logs, HTTP answers and the mini-program build", () => {
  let sandbox: RunningSandbox;
  let proxy: RecordingProxy;
  let database: TestDatabase;
  let api: RunningApi;
  let pkiDir: string;
  /** Known once the API listens; the proxy reads it per request. */
  let apiUrl: string | undefined;
  const logs: string[] = [];
  /** Every answer the API gave a client, with what was asked. */
  const answers: Array<{ what: string; answer: JsonAnswer; headers: string }> = [];
  const pki = createSandboxPki({ mchIds: [MERCHANT.mchId] });
  const client = pki.clients[MERCHANT.mchId];

  beforeAll(async () => {
    database = await openTestDatabase("sqlite");
    sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      requireClientCert: false,
      refundSettleMs: 30,
      notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 1, concurrent: 1, timeoutMs: 3000 },
    });
    proxy = await startRecordingProxy((path) => (path.startsWith("/wxpay/") ? apiUrl : sandbox.url));
    pkiDir = mkdtempSync(join(tmpdir(), "pay-secrets-"));
    writeFileSync(join(pkiDir, "apiclient_cert.pem"), client?.cert ?? "");
    writeFileSync(join(pkiDir, "apiclient_key.pem"), client?.key ?? "");
    writeFileSync(join(pkiDir, "ca.pem"), pki.ca.cert);
    const config = loadConfig({
      PORT: "0",
      DATABASE_URL: database.url,
      LOG_LEVEL: "trace",
      WXPAY_BASE_URL: proxy.url,
      ...merchantEnv(MERCHANT),
      WXPAY_NOTIFY_URL: `${proxy.url}/wxpay/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${proxy.url}/wxpay/refund-notify`,
      WXPAY_CERT_PATH: join(pkiDir, "apiclient_cert.pem"),
      WXPAY_CERT_KEY_PATH: join(pkiDir, "apiclient_key.pem"),
      WXPAY_CA_PATH: join(pkiDir, "ca.pem"),
      WX_API_BASE_URL: proxy.url,
      SESSION_SECRET,
      ADMIN_TOKEN,
    });
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    });
    api = await startApi(config, createLogger({ level: "trace", destination, name: "pay-api" }));
    apiUrl = api.url;
  });

  afterAll(async () => {
    await api.stop();
    await proxy.close();
    await sandbox.stop();
    await database.close();
    rmSync(pkiDir, { recursive: true, force: true });
  });

  async function call(what: string, method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonAnswer> {
    const response = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        ...options.headers,
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    const headers = [...response.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
    const answer = { status: response.status, body: { text } as Record<string, unknown>, ms: 0 };
    answers.push({ what, answer, headers });
    return { ...answer, body: text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : { text } };
  }

  it("runs the whole money path, refusals and faults, with everything captured", async () => {
    const codeAnswer = await createSandboxControlClient({ baseUrl: sandbox.url }).createLoginCode({ appid: MERCHANT.appId, user: "secret-keeper" });
    const session = await call("session", "POST", "/api/session", { body: { code: codeAnswer.code } });
    expect(session.status).toBe(200);
    const token = session.body.token as string;
    await call("session with a used code", "POST", "/api/session", { body: { code: codeAnswer.code } });
    await call("products", "GET", "/api/products");

    const created = await call("create order", "POST", "/api/orders", {
      token,
      body: { items: [{ productId: "coffee-beans", quantity: 1 }] },
      headers: { "idempotency-key": "secrets-1" },
    });
    expect(created.status).toBe(201);
    const { order, payment } = created.body as unknown as OrderPaymentResponse;
    await call("renew payment", "POST", `/api/orders/${order.id}/payment`, { token });
    await call("replay order", "POST", "/api/orders", { token, body: { items: [{ productId: "coffee-beans", quantity: 1 }] }, headers: { "idempotency-key": "secrets-1" } });
    await payAtSandbox(sandbox.url, payment);
    await waitFor("paid", async () => ((await call("get order", "GET", `/api/orders/${order.id}`, { token })).body.order as Order).status === "paid", 5000);
    await call("list orders", "GET", "/api/orders", { token });

    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect(
      (
        await call("refund", "POST", `/api/admin/orders/${order.id}/refunds`, {
          body: { refundFee: 800, reason: "partial" },
          headers: { ...admin, "idempotency-key": "secrets-r1" },
        })
      ).status,
    ).toBe(201);
    await waitFor("refund settled", async () => ((await call("get order", "GET", `/api/orders/${order.id}`, { token })).body.order as Order).refundedFee === 800, 5000);
    await call("refund too much", "POST", `/api/admin/orders/${order.id}/refunds`, { body: { refundFee: 999_999 }, headers: { ...admin, "idempotency-key": "secrets-r2" } });
    await call("refund with a user token", "POST", `/api/admin/orders/${order.id}/refunds`, { token, body: { refundFee: 1 }, headers: { "idempotency-key": "secrets-r3" } });
    await injectFaults(sandbox.url, "/secapi/pay/refund", [{ kind: "garbage" }]);
    await call("refund under a garbage fault", "POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: 100 },
      headers: { ...admin, "idempotency-key": "secrets-r4" },
    });
    await clearFaults(sandbox.url);
    await injectFaults(sandbox.url, "/pay/unifiedorder", [{ kind: "systemerror" }]);
    await call("order under SYSTEMERROR", "POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 1 }] } });
    await clearFaults(sandbox.url);

    await call("bad token", "GET", "/api/orders", { token: `${token.slice(0, -4)}AAAA` });
    await call("no token", "GET", "/api/orders");
    await call("bad body", "POST", "/api/orders", { token, body: { items: [{ productId: "mug", quantity: 0 }] } });
    await call("bad JSON", "POST", "/api/session", { headers: { "content-type": "application/json" } });
    const forged = buildSignedPayNotify(payNotifyFields(order, { total_fee: 1 }), { key: MERCHANT.key, signType: "HMAC-SHA256" });
    const forgedAnswer = await fetch(`${api.url}/wxpay/notify`, { method: "POST", body: forged, headers: { "content-type": "text/xml" } });
    answers.push({ what: "forged notify", answer: { status: forgedAnswer.status, body: { text: await forgedAnswer.text() }, ms: 0 }, headers: "" });
    const other = await call("close a paid order", "POST", `/api/orders/${order.id}/close`, { token });
    expect(other.status).toBe(409);

    // What was captured is worth checking: gateway calls with signatures, logins with session keys, notifies.
    const gatewayCalls = proxy.exchanges.filter((e) => e.path.startsWith("/pay/") || e.path.startsWith("/secapi/"));
    expect(gatewayCalls.length).toBeGreaterThanOrEqual(4);
    expect(proxy.exchanges.some((e) => e.path.startsWith("/sns/jscode2session") && e.responseBody.includes("session_key"))).toBe(true);
    expect(proxy.exchanges.some((e) => e.path === "/wxpay/notify")).toBe(true);
    expect(proxy.exchanges.some((e) => e.path === "/wxpay/refund-notify")).toBe(true);
    expect(logs.length).toBeGreaterThan(30);
  });

  it("no secret appears in any log line or HTTP answer; session tokens and paySign only where they belong", () => {
    const md5 = createHash("md5").update(MERCHANT.key).digest("hex");
    const pemBody = (pem: string): string => pem.split("\n").filter((line) => line.length > 40 && !line.startsWith("-----"))[2] ?? pem;
    const exchanges = proxy.exchanges;
    const wireSigns = [...new Set(exchanges.flatMap((e) => [...signsIn(e.requestBody), ...signsIn(e.responseBody)]))];
    const sessionKeys = exchanges.flatMap((e) => [...e.responseBody.matchAll(/"session_key":"([^"]+)"/g)].map((m) => m[1] ?? ""));
    const openids = exchanges.flatMap((e) => [...e.responseBody.matchAll(/"openid":"([^"]+)"/g)].map((m) => m[1] ?? ""));
    const tokens = answers.filter((a) => a.what === "session" && a.answer.status === 200).map((a) => (JSON.parse(a.answer.body.text as string) as { token: string }).token);
    const paySigns = answers.flatMap((a) => [...String(a.answer.body.text).matchAll(/"paySign":"([0-9A-F]+)"/g)].map((m) => m[1] ?? ""));
    expect(wireSigns.length).toBeGreaterThanOrEqual(8);
    expect(sessionKeys.length).toBeGreaterThanOrEqual(1);
    expect(paySigns.length).toBeGreaterThanOrEqual(2);

    const always: Secret[] = [
      { name: "the API key", value: MERCHANT.key },
      { name: "the MD5 of the API key (refund-notify AES key)", value: md5 },
      { name: "the MD5 of the API key, upper case", value: md5.toUpperCase() },
      { name: "SESSION_SECRET", value: SESSION_SECRET },
      { name: "ADMIN_TOKEN", value: ADMIN_TOKEN },
      { name: "the app secret", value: MERCHANT.appSecret },
      { name: "the client certificate", value: pemBody(client?.cert ?? "") },
      { name: "the client private key", value: pemBody(client?.key ?? "") },
      ...wireSigns.map((value, i) => ({ name: `gateway/notify signature #${i + 1}`, value })),
      ...sessionKeys.map((value, i) => ({ name: `session_key #${i + 1}`, value })),
    ];
    const logHaystacks: Haystack[] = logs.map((text, i) => ({ where: `log line ${i + 1}`, text }));
    const answerHaystacks: Haystack[] = [
      ...answers.map((a, i) => ({ where: `answer ${i + 1} (${a.what})`, text: `${a.headers}\n${String(a.answer.body.text)}` })),
      ...exchanges
        .filter((e) => e.path.startsWith("/wxpay/"))
        .map((e, i) => ({ where: `notify answer ${i + 1}`, text: `${JSON.stringify(e.responseHeaders)}\n${e.responseBody}` })),
    ];
    const nonSessionAnswers = answerHaystacks.filter((h) => !h.where.endsWith("(session)"));
    const nonPaymentAnswers = answerHaystacks.filter((h) => !/\((create order|renew payment|replay order)\)$/.test(h.where));

    const findings = [
      ...findSecrets([...logHaystacks, ...answerHaystacks], always),
      ...findSecretPatterns([...logHaystacks, ...answerHaystacks]),
      ...findSecrets(
        [...logHaystacks, ...nonSessionAnswers],
        tokens.map((value, i) => ({ name: `session token #${i + 1}`, value })),
      ),
      ...findSecrets(
        [...logHaystacks, ...nonPaymentAnswers],
        paySigns.map((value, i) => ({ name: `paySign #${i + 1}`, value })),
      ),
      ...findSecrets(
        answerHaystacks,
        openids.map((value, i) => ({ name: `openid #${i + 1}`, value })),
      ),
    ];
    recordFigure("secrets.api", {
      logLines: logs.length,
      httpAnswers: answerHaystacks.length,
      secretValuesSearched: always.length + tokens.length + paySigns.length + openids.length,
      wireSignatures: wireSigns.length,
      sessionKeys: sessionKeys.length,
      findings: findings.length,
    });
    expect(findings).toEqual([]);
  });

  // turbo.json makes this suite wait for @pay/miniprogram#build; a missing build is a failure, never a skip.
  it("the mini-program build (apps/miniprogram/dist) holds no secret value, key material, secret setting, session_key, app secret or signing code", () => {
    expect(existsSync(MINIPROGRAM_DIST), `${MINIPROGRAM_DIST} does not exist: build @pay/miniprogram first`).toBe(true);
    const findings = scanDirectoryForSecrets(MINIPROGRAM_DIST, {
      clientBuild: true,
      secrets: [
        { name: "the test API key", value: MERCHANT.key },
        { name: "the test app secret", value: MERCHANT.appSecret },
        { name: "the test admin token", value: ADMIN_TOKEN },
        { name: "the test session secret", value: SESSION_SECRET },
      ],
    });
    recordFigure("secrets.miniprogram-dist", { filesScanned: readTree(MINIPROGRAM_DIST).length, findings: findings.length });
    expect(findings).toEqual([]);
  });
});

// turbo.json makes this suite wait for @pay/console#build too; a missing build is a failure, never a skip.
describe("the merchant console's build", () => {
  it("apps/console/dist holds no secret value, key material, secret setting, session_key, app secret or signing code", () => {
    expect(existsSync(CONSOLE_DIST), `${CONSOLE_DIST} does not exist: build @pay/console first`).toBe(true);
    const findings = scanDirectoryForSecrets(CONSOLE_DIST, {
      clientBuild: true,
      secrets: [
        { name: "the test API key", value: MERCHANT.key },
        { name: "the test app secret", value: MERCHANT.appSecret },
        { name: "the test admin token", value: ADMIN_TOKEN },
        { name: "the test session secret", value: SESSION_SECRET },
      ],
    });
    recordFigure("secrets.console-dist", { filesScanned: readTree(CONSOLE_DIST).length, findings: findings.length });
    expect(readTree(CONSOLE_DIST).length).toBeGreaterThan(0);
    expect(findings).toEqual([]);
  });
});
