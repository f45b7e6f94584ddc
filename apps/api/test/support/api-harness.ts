import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { rootCertificates } from "node:tls";
import { Writable } from "node:stream";
import { Agent, fetch as undiciFetch } from "undici";
import { createSandboxPki, startSandbox, type RunningSandbox, type StartSandboxOptions } from "@pay/sandbox";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { createSandboxControlClient, SandboxControlError, type SandboxControlClient, type SandboxControlFetch } from "@pay/sandbox/control";
import { createApp } from "../../src/app.js";
import type { Clock } from "../../src/clock.js";
import type { DatabaseDialect } from "../../src/db/database.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { loadConfig, type AppConfig } from "../../src/env.js";
import { createV2Gateway, type V2Gateway } from "../../src/gateway/v2/gateway.js";
import { createLoginClient } from "../../src/gateway/login-client.js";
import { createLogger } from "../../src/logging.js";
import type { ServiceContext } from "../../src/services/context.js";
import { openTestDatabase, type TestDatabase } from "./databases.js";

// The merchant and admin token of @pay/test-kit, re-exported for the suites that import them from here.
export { ADMIN_TOKEN, MERCHANT } from "@pay/test-kit/merchants";

export interface HarnessOptions {
  /** Extra or overriding environment variables for loadConfig. */
  readonly env?: Readonly<Record<string, string>>;
  readonly sandbox?: Partial<StartSandboxOptions>;
  readonly clock?: Clock;
  /** Serve the sandbox over HTTPS and require the merchant's client certificate for refunds, as the real host does. */
  readonly mtls?: boolean;
  /** `lost`: WeChat Pay's notifies go to a dead port, so only queries can find out a payment. */
  readonly notifies?: "delivered" | "lost";
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
  /** The app's services, and the v2 gateway the harness built them on (to build another app on the same ones). */
  readonly services: ServiceContext & { readonly gateway: V2Gateway };
  readonly config: AppConfig;
  readonly database: TestDatabase;
  readonly logs: string[];
  /** Signs a user in through wx.login's path: a sandbox login code, then POST /api/session. */
  signIn(user?: string): Promise<string>;
  request(method: string, path: string, options?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<JsonAnswer>;
  /** Plays the payer for the payment params the API handed out. */
  pay(payment: { package: string }, outcome?: "success" | "cancel" | "fail"): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startApiHarness(kind: DatabaseDialect, options: HarnessOptions = {}): Promise<ApiHarness> {
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
    ...options.env,
  });
  const logs: string[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString("utf8"));
        done();
      },
    }),
  });
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
  });
  const callback = app.callback();
  handler = (req, res) => void callback(req, res);

  const request: ApiHarness["request"] = async (method, path, opts = {}) => {
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

  return {
    url: apiUrl,
    sandbox,
    control,
    services: { ...services, gateway },
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
      await database.close();
    },
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
