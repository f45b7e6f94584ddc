// The API against a real sandbox on one moved clock, for the reconciliation tests: every class of
// difference is made through the sandbox's control calls, and the day's bill is the sandbox's own.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OrderPaymentResponseSchema, type OrderPaymentResponse } from "@pay/core/contract";
import { createManualClock, startSandbox, type ManualClock, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { ADMIN_TOKEN, SESSION_SECRET, V3_DIRECT } from "@pay/test-kit/merchants";
import { createApp } from "../../src/app.js";
import type { DatabaseDialect } from "../../src/db/database.js";
import { seedProducts } from "../../src/db/migrate.js";
import { DEFAULT_PRODUCTS } from "../../src/db/products.js";
import { loadConfig } from "../../src/env.js";
import { createLoginClient } from "../../src/gateway/login-client.js";
import { v3GatewayOptions } from "../../src/gateway/v3/from-config.js";
import { createV3Gateway } from "../../src/gateway/v3/gateway.js";
import { loadV3Credentials } from "../../src/v3-credentials.js";
import { startApiHarness, type ApiHarness, type JsonAnswer } from "../support/api-harness.js";
import { captureLogs } from "../support/captured-logs.js";
import { openTestDatabase } from "../support/databases.js";
import { sandboxKeyFileEnv } from "../support/v3-gateway.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** 2026-11-20 00:00 Beijing: the first bill day of the suites. */
export const FIRST_DAY_START = Date.UTC(2026, 10, 19, 16, 0, 0);

/** The Beijing day (YYYY-MM-DD) `n` days after the first one. */
export function billDate(n: number): string {
  return new Date(FIRST_DAY_START + n * DAY + 8 * HOUR).toISOString().slice(0, 10);
}

/** The API and its sandbox sharing one manual clock (the API's clock, the sandbox's, and the v3 signatures'). */
export interface ReconciliationHarness extends ApiHarness {
  readonly clock: ManualClock;
  /** Moves the shared clock to `hours` past the start of day `n` (Beijing), firing the sandbox's due timers. */
  moveTo(n: number, hours: number): Promise<void>;
}

/**
 * Starts the API (v2, or v3 as the direct APIv3 merchant) on `kind` against a real sandbox, at 12:00 Beijing
 * on the first bill day. Refunds stay PROCESSING at the sandbox until a test settles them.
 *
 * The v2 harness takes the clock as is. The v3 one is built here: the shared harness signs v3 requests with
 * real time, and the sandbox checks a request's timestamp against its own clock, which these tests move a
 * day at a time; here the v3 gateway signs and verifies with the moved clock too.
 */
export async function startReconciliationHarness(kind: DatabaseDialect, protocol: "v2" | "v3"): Promise<ReconciliationHarness> {
  const clock = createManualClock(FIRST_DAY_START + 12 * HOUR);
  const moveTo = async (n: number, hours: number): Promise<void> => {
    const target = FIRST_DAY_START + n * DAY + hours * HOUR;
    if (target < clock.now()) throw new Error(`moveTo: the clock only moves forward (${new Date(target).toISOString()})`);
    await clock.advance(target - clock.now());
  };
  if (protocol === "v2") {
    const h = await startApiHarness(kind, { clock: () => clock.now(), sandbox: { clock, refundSettleMs: null } });
    return { ...h, clock, moveTo };
  }
  return { ...(await startV3Harness(kind, clock)), clock, moveTo };
}

async function startV3Harness(kind: DatabaseDialect, clock: ManualClock): Promise<ApiHarness> {
  const dir = mkdtempSync(join(tmpdir(), "pay-reconcile-v3-"));
  const database = await openTestDatabase(kind);
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sandbox: RunningSandbox = await startSandbox({
    merchants: [V3_DIRECT],
    v3KeysDir: join(dir, "keys"),
    allowHttpNotifyUrl: true,
    requireClientCert: false,
    refundSettleMs: null,
    clock,
    notify: { retryScale: 0.001, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
  });
  const config = loadConfig({
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
    WX_APPSECRET: V3_DIRECT.appSecrets.wx3d0000000000v3d1,
    SESSION_SECRET,
    ADMIN_TOKEN,
  });
  if (config.v3 === undefined) throw new Error("the v3 reconciliation harness needs WXPAY_APIV3_KEY");
  await seedProducts(database.db, DEFAULT_PRODUCTS);
  const { logger, logs } = captureLogs();
  const v3Gateway = createV3Gateway(v3GatewayOptions(config, loadV3Credentials(config.v3), { logger, timeoutMs: 2000, backoffMs: 5, now: () => clock.now() }));
  await v3Gateway.start();
  const login = createLoginClient({ baseUrl: sandbox.url, appId: V3_DIRECT.appId, appSecret: config.wx.appSecret, logger });
  const control = createSandboxControlClient({ baseUrl: sandbox.url });
  const { app, services } = createApp({ config, db: database.db, dialect: database.dialect, v3Gateway, apiVersion: "v3", login, logger, clock: () => clock.now() });
  const callback = app.callback();
  handler = (req, res) => void callback(req, res);
  const request = jsonRequester(apiUrl);
  return {
    url: apiUrl,
    sandbox,
    control,
    services: { ...services, gateway: undefined, v3Gateway },
    protocol: "v3",
    merchant: { mchId: V3_DIRECT.mchId, loginAppId: V3_DIRECT.appId },
    lostNotifies: [],
    config,
    database,
    logs,
    request,
    async signIn(user = "alice") {
      const { code } = await control.createLoginCode({ appid: V3_DIRECT.appId, user });
      const session = await request("POST", "/api/session", { body: { code } });
      if (session.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(session.body)}`);
      return session.body.token as string;
    },
    async pay(payment, outcome = "success") {
      return control.pay({ prepay_id: payment.package.replace(/^prepay_id=/, ""), outcome, payment: v3PaymentFields(payment) });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.paidWriter.drain();
      await sandbox.stop();
      await v3Gateway.close();
      await login.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function v3PaymentFields(payment: Partial<OrderPaymentResponse["payment"]> & { package: string }) {
  const { timeStamp, nonceStr, signType, paySign } = payment;
  if (timeStamp === undefined || nonceStr === undefined || signType === undefined || paySign === undefined) throw new Error("a v3 payment needs all the params the API handed out");
  return { timeStamp, nonceStr, package: payment.package, signType, paySign };
}

function jsonRequester(apiUrl: string): ApiHarness["request"] {
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
    return { status: response.status, body: parsed, headers: response.headers } satisfies JsonAnswer;
  };
}

/** An order placed through the API by a signed-in user: the order and the wx.requestPayment params. */
export async function placeOrder(h: ApiHarness, token: string, productId = "coffee-beans", quantity = 1): Promise<OrderPaymentResponse> {
  const answer = await h.request("POST", "/api/orders", { token, body: { items: [{ productId, quantity }] } });
  if (answer.status !== 201) throw new Error(`order refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  return OrderPaymentResponseSchema.parse(answer.body);
}

/** Plays the payer at the sandbox; with `notify: false` the API never hears of the payment. */
export async function payAtSandbox(h: ApiHarness, placed: OrderPaymentResponse, notify = true): Promise<void> {
  const prepayId = placed.payment.package.replace(/^prepay_id=/, "");
  await h.control.pay({ prepay_id: prepayId, outcome: "success", notify, ...(h.protocol === "v3" ? { payment: v3PaymentFields(placed.payment) } : {}) });
}
