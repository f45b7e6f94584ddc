import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";
import { createSandboxPki, startSandbox, type RunningSandbox, type StartSandboxOptions } from "@pay/sandbox";
import type { RequestPaymentParams } from "@pay/core/contract";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, V3_DIRECT, V3_INSTITUTION, V3_PARTNER, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { createSandboxControlClient, SandboxControlError, type SandboxControlClient, type SandboxControlFetch } from "@pay/sandbox/control";
import { createApp } from "../../src/app.js";
import type { Clock } from "../../src/clock.js";
import type { DatabaseDialect } from "../../src/db/database.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { loadConfig, type AppConfig } from "../../src/env.js";
import { createV2Gateway, type V2Gateway } from "../../src/gateway/v2/gateway.js";
import { v3GatewayOptions } from "../../src/gateway/v3/from-config.js";
import { sandboxKeyFileEnv } from "./v3-gateway.js";
import { createV3Gateway, type V3Gateway } from "../../src/gateway/v3/gateway.js";
import { loadV3Credentials } from "../../src/v3-credentials.js";
import { createLoginClient } from "../../src/gateway/login-client.js";
import type { ServiceContext } from "../../src/services/context.js";
import type { EventHandler } from "../../src/services/events.js";
import { openTestDatabase, type TestDatabase } from "./databases.js";
import { captureLogs } from "./captured-logs.js";
import { RATE_LIMITS_OFF } from "./rate-limits.js";

// The merchant and admin token of @pay/test-kit, re-exported for the suites that import them from here.
export { ADMIN_TOKEN, MERCHANT } from "@pay/test-kit/merchants";

export interface HarnessOptions {
  /** Extra or overriding environment variables for loadConfig. */
  readonly env?: Readonly<Record<string, string>>;
  readonly sandbox?: Partial<StartSandboxOptions>;
  readonly clock?: Clock;
  /** Serve the sandbox over HTTPS and require the merchant's client certificate for refunds, as the real host does. */
  readonly mtls?: boolean;
  /**
   * `lost`: WeChat Pay's notifies go to a dead port, so only queries can find out a payment. On a v3 harness the
   * dead end keeps what it was sent (`lostNotifies`) and drops the connection without an answer.
   */
  readonly notifies?: "delivered" | "lost";
  /** `v3`: the API places new orders with APIv3 (WXPAY_API_VERSION=v3) as the `v3Merchant`, through the real v3 gateway. Default v2. */
  readonly protocol?: "v2" | "v3";
  /** The APIv3 merchant of a `protocol: "v3"` harness; default `direct`. */
  readonly v3Merchant?: V3MerchantKind;
  /** In-process event handlers handed to createApp (and how long the bus waits for one call). */
  readonly eventHandlers?: readonly EventHandler[];
  readonly eventHandlerTimeoutMs?: number;
  /**
   * v3: the clock the gateway signs requests and checks answers with (default real time). A test that moves the
   * sandbox's clock passes the same one, since the sandbox refuses a timestamp 5 minutes off its own.
   */
  readonly gatewayClock?: () => number;
}

/**
 * The APIv3 merchants a harness can be: `direct`, a domestic direct merchant in public-key mode (V3_DIRECT);
 * `partner`, a domestic service provider in platform-certificate mode whose sub-merchant's Mini Program signs in
 * (V3_PARTNER); `institution`, a WeChat Pay Global institution settling in HKD (V3_INSTITUTION, public-key mode).
 */
export type V3MerchantKind = "direct" | "partner" | "institution";

/** The sandbox entry and the API's environment for each v3 merchant kind (key file variables are added from the sandbox's files). */
const V3_MERCHANTS = {
  direct: { sandbox: V3_DIRECT, loginAppId: V3_DIRECT.appId, appSecret: V3_DIRECT.appSecrets.wx3d0000000000v3d1, env: {} },
  partner: {
    sandbox: { ...V3_PARTNER, v3: { ...V3_PARTNER.v3, keyMode: "platform-certificate" as const } },
    loginAppId: V3_PARTNER.subAppId,
    appSecret: V3_PARTNER.appSecrets.wx3p0000000000sub1,
    env: { WXPAY_SUB_APPID: V3_PARTNER.subAppId, WXPAY_SUB_MCHID: V3_PARTNER.subMchId },
  },
  institution: {
    sandbox: { ...V3_INSTITUTION, appSecrets: { [V3_INSTITUTION.subAppId]: "secret-v3-institution-sub" } },
    loginAppId: V3_INSTITUTION.subAppId,
    appSecret: "secret-v3-institution-sub",
    env: {
      WXPAY_SUB_APPID: V3_INSTITUTION.subAppId,
      WXPAY_SUB_MCHID: V3_INSTITUTION.subMchId,
      WXPAY_ACCOUNT: "global",
      WXPAY_MERCHANT_CATEGORY_CODE: "5812",
      WXPAY_FEE_TYPE: "HKD",
    },
  },
} as const;

export interface LostNotify {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

/** The API on a real port against the sandbox on another, with a real database, as the tiers meet in production. */
export interface ApiHarness {
  readonly url: string;
  readonly sandbox: RunningSandbox;
  /** The sandbox's control API (trusting its CA when it serves HTTPS). */
  readonly control: SandboxControlClient;
  /** The app's services, and the gateway the harness built them on (to build another app on the same ones): v2, or v3 with `protocol: "v3"`. */
  readonly services: ServiceContext & { readonly gateway: V2Gateway | undefined; readonly v3Gateway: V3Gateway | undefined };
  /** The protocol new orders use, and the merchant: its mchid and the AppID users sign in under. */
  readonly protocol: "v2" | "v3";
  readonly merchant: { readonly mchId: string; readonly loginAppId: string };
  readonly config: AppConfig;
  readonly database: TestDatabase;
  readonly logs: string[];
  /** The notifies a v3 harness with `notifies: "lost"` kept from going to the API: genuine raw bodies and headers to replay. */
  readonly lostNotifies: readonly LostNotify[];
  /** Signs a user in through wx.login's path: a sandbox login code, then POST /api/session. */
  signIn(user?: string): Promise<string>;
  request(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<JsonAnswer>;
  /**
   * Plays the payer for the payment params the API handed out. A v3 harness hands the sandbox all of them (it checks
   * paySign over `appId`, the Mini Program the payer is in: the order's AppID, sub_appid for a sub-merchant, unless given).
   */
  pay(payment: { package: string; appId?: string } & Partial<RequestPaymentParams>, outcome?: "success" | "cancel" | "fail"): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startApiHarness(kind: DatabaseDialect, options: HarnessOptions = {}): Promise<ApiHarness> {
  if (options.protocol === "v3") return startV3ApiHarness(kind, options);
  const database = await openTestDatabase(kind);
  await seedProducts(database.db, DEFAULT_PRODUCTS);
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const notifyBase = options.notifies === "lost" ? "http://127.0.0.1:9" : apiUrl;

  const pki = options.mtls === true ? createSandboxPki({ mchIds: [MERCHANT.mchId] }) : undefined;
  const sandbox = await startSandbox({
    ...(pki === undefined ? {} : { tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert } }),
    merchants: [sandboxMerchant(MERCHANT)],
    requireClientCert: pki !== undefined,
    refundSettleMs: 20,
    notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
    ...options.sandbox,
  });
  const config = loadConfig({
    DATABASE_URL: database.url,
    WXPAY_BASE_URL: sandbox.url,
    ...merchantEnv(MERCHANT),
    WXPAY_NOTIFY_URL: `${notifyBase}/wxpay/notify`,
    WXPAY_REFUND_NOTIFY_URL: `${notifyBase}/wxpay/refund-notify`,
    WX_API_BASE_URL: sandbox.url,
    SESSION_SECRET,
    ADMIN_TOKEN,
    ...RATE_LIMITS_OFF,
    ...options.env,
  });
  const { logger, logs } = captureLogs();
  const client = pki?.clients[MERCHANT.mchId];
  if (config.v2 === undefined) throw new Error("The API harness runs v2 orders: WXPAY_KEY must be set");
  const gateway: V2Gateway = createV2Gateway({
    merchant: { ...config.merchant, key: config.v2.key },
    baseUrl: sandbox.url,
    logger,
    timeoutMs: 2000,
    backoffMs: 5,
    ...(pki === undefined || client === undefined ? {} : { ca: pki.ca.cert, clientCertificate: { certPem: client.cert, keyPem: client.key } }),
  });
  const login = createLoginClient({ baseUrl: sandbox.url, appId: MERCHANT.appId, appSecret: MERCHANT.appSecret, logger, ...(pki === undefined ? {} : { ca: pki.ca.cert }) });
  // The test's own calls to the sandbox (playing the WeChat client) trust its CA when it serves HTTPS.
  const trust = pki === undefined ? undefined : new Agent({ connect: { ca: [...rootCertificates, pki.ca.cert] } });
  const sandboxFetch: SandboxControlFetch = (url, init) => (trust === undefined ? fetch(url, init) : undiciFetch(url, { ...init, dispatcher: trust }));
  const control = createSandboxControlClient({ baseUrl: sandbox.url, fetch: sandboxFetch });
  const { app, services } = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    gateway,
    login,
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    eventHandlers: options.eventHandlers,
    eventHandlerTimeoutMs: options.eventHandlerTimeoutMs,
  });
  const callback = app.callback();
  handler = (req, res) => void callback(req, res);

  const request = requester(apiUrl);

  return {
    url: apiUrl,
    sandbox,
    control,
    services: { ...services, gateway, v3Gateway: undefined },
    protocol: "v2",
    merchant: { mchId: MERCHANT.mchId, loginAppId: MERCHANT.appId },
    lostNotifies: [],
    config,
    database,
    logs,
    request,
    async signIn(user = "alice") {
      const { code } = await control.createLoginCode({ appid: MERCHANT.appId, user });
      const session = await request("POST", "/api/session", { body: { code } });
      if (session.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(session.body)}`);
      return session.body.token as string;
    },
    async pay(payment, outcome = "success") {
      const prepayId = payment.package.replace(/^prepay_id=/, "");
      try {
        return await control.pay({ prepay_id: prepayId, outcome });
      } catch (error) {
        // A refused payment (closed, expired, already paid) is an answer the tests look at, not a failure.
        if (error instanceof SandboxControlError && error.answer !== undefined) return error.answer;
        throw error;
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sandbox.stop();
      await gateway.close();
      await login.close();
      await trust?.close();
      await services.activity.close();
      await database.close();
    },
  };
}

/**
 * The API as an APIv3 merchant runs it (WXPAY_API_VERSION=v3): the configuration from the v3 variables and the
 * key files the sandbox wrote (as a merchant downloads them), the real v3 gateway started (platform certificates
 * downloaded in certificate mode), notifies at /wxpay/v3/notify and /wxpay/v3/refund-notify over plain HTTP.
 */
async function startV3ApiHarness(kind: DatabaseDialect, options: HarnessOptions): Promise<ApiHarness> {
  if (options.mtls === true) throw new Error("APIv3 has no client certificate: mtls is a v2 option");
  const merchant = V3_MERCHANTS[options.v3Merchant ?? "direct"];
  const dir = mkdtempSync(join(tmpdir(), "pay-v3-harness-"));
  const database = await openTestDatabase(kind);
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const lostNotifies: LostNotify[] = [];
  const deadEnd = options.notifies === "lost" ? await startDeadEnd(lostNotifies) : undefined;
  const notifyBase = deadEnd?.url ?? apiUrl;

  const sandbox = await startSandbox({
    merchants: [merchant.sandbox],
    v3KeysDir: join(dir, "keys"),
    allowHttpNotifyUrl: true,
    refundSettleMs: 20,
    notify: { retryScale: 0.001, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
    ...options.sandbox,
  });
  const config = loadConfig({
    DATABASE_URL: database.url,
    WXPAY_API_VERSION: "v3",
    WXPAY_BASE_URL: sandbox.url,
    WXPAY_APPID: merchant.sandbox.appId,
    WXPAY_MCHID: merchant.sandbox.mchId,
    WXPAY_APIV3_KEY: merchant.sandbox.v3.apiV3Key,
    ...sandboxKeyFileEnv(join(dir, "keys"), merchant.sandbox.mchId, { publicKey: merchant.sandbox.v3.keyMode === "public-key" }),
    ...merchant.env,
    WXPAY_NOTIFY_URL: `${notifyBase}/wxpay/v3/notify`,
    WXPAY_REFUND_NOTIFY_URL: `${notifyBase}/wxpay/v3/refund-notify`,
    WX_API_BASE_URL: sandbox.url,
    WX_APPSECRET: merchant.appSecret,
    SESSION_SECRET,
    ADMIN_TOKEN,
    ...RATE_LIMITS_OFF,
    ...options.env,
  });
  if (config.v3 === undefined) throw new Error("The v3 API harness needs WXPAY_APIV3_KEY");
  // Products in the merchant's currency, as startApi seeds them.
  await seedProducts(
    database.db,
    DEFAULT_PRODUCTS.map((p) => ({ ...p, currency: config.merchant.feeType })),
  );
  const { logger, logs } = captureLogs();
  const v3 = loadV3Credentials(config.v3);
  // Requests are signed with real time unless told (gatewayClock): the sandbox refuses timestamps 5 minutes off its own clock.
  const v3Gateway = createV3Gateway(
    v3GatewayOptions(config, v3, { logger, timeoutMs: 2000, backoffMs: 5, ...(options.gatewayClock === undefined ? {} : { now: options.gatewayClock }) }),
  );
  await v3Gateway.start();
  const login = createLoginClient({ baseUrl: sandbox.url, appId: merchant.loginAppId, appSecret: config.wx.appSecret, logger });
  const control = createSandboxControlClient({ baseUrl: sandbox.url });
  const { app, services } = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    v3Gateway,
    apiVersion: "v3",
    login,
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    eventHandlers: options.eventHandlers,
    eventHandlerTimeoutMs: options.eventHandlerTimeoutMs,
  });
  const callback = app.callback();
  handler = (req, res) => void callback(req, res);
  const request = requester(apiUrl);

  return {
    url: apiUrl,
    sandbox,
    control,
    services: { ...services, gateway: undefined, v3Gateway },
    protocol: "v3",
    merchant: { mchId: merchant.sandbox.mchId, loginAppId: merchant.loginAppId },
    lostNotifies,
    config,
    database,
    logs,
    request,
    async signIn(user = "alice") {
      const { code } = await control.createLoginCode({ appid: merchant.loginAppId, user });
      const session = await request("POST", "/api/session", { body: { code } });
      if (session.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(session.body)}`);
      return session.body.token as string;
    },
    async pay(payment, outcome = "success") {
      const { timeStamp, nonceStr, signType, paySign } = payment;
      if (timeStamp === undefined || nonceStr === undefined || signType === undefined || paySign === undefined)
        throw new Error("a v3 payment needs all the params the API handed out");
      try {
        return await control.pay({
          prepay_id: payment.package.replace(/^prepay_id=/, ""),
          outcome,
          payment: { ...(payment.appId === undefined ? {} : { appId: payment.appId }), timeStamp, nonceStr, package: payment.package, signType, paySign },
        });
      } catch (error) {
        if (error instanceof SandboxControlError && error.answer !== undefined) return error.answer;
        throw error;
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.paidWriter.drain();
      await sandbox.stop();
      await v3Gateway.close();
      await login.close();
      await services.activity.close();
      await database.close();
      await deadEnd?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A notify receiver that is as good as a dead port (it reads each request, keeps it and drops the connection unanswered). */
async function startDeadEnd(kept: LostNotify[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
      kept.push({ path: req.url ?? "/", headers, body: Buffer.concat(chunks) });
      res.socket?.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** JSON requests to the API on `apiUrl`. */
function requester(apiUrl: string): ApiHarness["request"] {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const response = await fetch(`${apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      parsed = { text };
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
}

/** Polls until `check` returns something truthy (real time), failing after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`eventually: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
