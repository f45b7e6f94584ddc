// The whole system the console runs in, for the Chromium suites: the sandbox (the WeChat Pay gateway,
// wx.login), the API started as production starts it (startApi: migrations, gateway, sweep, webhook
// dispatcher) on a fresh SQLite file or PostgreSQL database, serving the built console at /console
// (CONSOLE_DIR), and a webhook receiver that every order event is delivered to.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createLogger, loadConfig, startApi, type RunningApi } from "@pay/api";
import { migrateToLatest, openDatabase, seedProducts, type OpenedDatabase, type ProductRow } from "@pay/api/db";
import { startSandbox, type Clock, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient, type SandboxControlClient } from "@pay/sandbox/control";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { startPostgres, type ThrowawayPostgres } from "@pay/test-kit/postgres";
import { startWebhookReceiver, type WebhookReceiver } from "./receiver.js";

export { ADMIN_TOKEN, MERCHANT };

/** The console's build output (`vite build`; turbo's test task builds it first). */
export const CONSOLE_DIST = resolve(fileURLToPath(new URL("../../../dist", import.meta.url)));

/** The secret the API signs webhook deliveries to the receiver with (test value, at least 24 characters). */
export const WEBHOOK_SECRET = "whsec-console-e2e-0123456789abcdef";

/** The catalogue the suites order from: the demo products, and one whose name is markup (it must render as text). */
export const HOSTILE_NAME = `<img src=x onerror="window.__injected=1"><b id="injected">bold</b> mug`;
export const PRODUCTS: readonly ProductRow[] = [
  { id: "coffee-beans", name: "Coffee beans 250 g", price: 6800, currency: "CNY", active: 1, sort_order: 10 },
  { id: "mug", name: "Ceramic mug", price: 3990, currency: "CNY", active: 1, sort_order: 20 },
  { id: "hostile", name: HOSTILE_NAME, price: 1200, currency: "CNY", active: 1, sort_order: 30 },
];

/**
 * The sandbox's time: real time and real timers, shifted by an offset the suite moves. A reconciliation
 * needs a day that is over, whose bill is ready (08:00 Beijing the next day): the suite pays an order with
 * the gateway two days back, then brings it to the present, while the API keeps real time throughout.
 */
export interface ShiftedClock extends Clock {
  /** Milliseconds the gateway's time is ahead of real time (negative: behind). */
  offsetMs: number;
}

export function createShiftedClock(offsetMs = 0): ShiftedClock {
  const clock: ShiftedClock = {
    offsetMs,
    now: () => Date.now() + clock.offsetMs,
    setTimer(fn, ms) {
      const timer = setTimeout(fn, ms);
      timer.unref();
      return timer;
    },
    clearTimer(handle) {
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
  return clock;
}

export interface JsonAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface ConsoleStack {
  readonly database: "sqlite" | "postgres";
  readonly apiUrl: string;
  /** Where the console is served: `${apiUrl}/console/`. */
  readonly consoleUrl: string;
  /** The API's DATABASE_URL (a file path for SQLite). */
  readonly databaseUrl: string;
  readonly sandbox: RunningSandbox;
  readonly sandboxClock: ShiftedClock;
  /** The sandbox's control API: login codes, paying, refunds, bill discrepancies, deliveries. */
  readonly control: SandboxControlClient;
  /** Receives every order event the API delivers (an env endpoint, WEBHOOK_URL). */
  readonly receiver: WebhookReceiver;
  /** A connection of the suite's own to the API's database, to count rows behind the console. */
  readonly db: OpenedDatabase["db"];
  /** The API's log lines (warn and above). */
  readonly logs: string[];
  /** A JSON call to the API; `admin: true` sends ADMIN_TOKEN, `token` a shopper's session. */
  request(method: string, path: string, options?: { body?: unknown; admin?: boolean; token?: string }): Promise<JsonAnswer>;
  stop(): Promise<void>;
}

export interface ConsoleStackOptions {
  readonly database?: "sqlite" | "postgres";
}

/** Starts the sandbox, the receiver and the API with the console; `stop()` ends them and deletes their files. */
export async function startConsoleStack(options: ConsoleStackOptions = {}): Promise<ConsoleStack> {
  const database = options.database ?? "sqlite";
  if (!existsSync(join(CONSOLE_DIST, "index.html")))
    throw new Error(`${CONSOLE_DIST}/index.html is missing: build the console first (npx -y pnpm@10.34.9 --filter @pay/console build).`);
  const dataDir = mkdtempSync(join(tmpdir(), "pay-console-e2e-"));
  const cleanups: (() => Promise<void>)[] = [() => Promise.resolve(rmSync(dataDir, { recursive: true, force: true }))];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    let postgres: ThrowawayPostgres | undefined;
    let databaseUrl = join(dataDir, "pay.db");
    if (database === "postgres") {
      postgres = await startPostgres({ prefix: "pay-console-e2e-pg-", settings: { fsync: "off" } });
      const server = postgres;
      cleanups.push(() => server.stop());
      databaseUrl = (await postgres.createDatabase()).url;
    }
    // The catalogue goes in before the API starts (it seeds the demo products only into an empty one).
    const opened = await openDatabase(databaseUrl);
    cleanups.push(() => opened.close());
    await migrateToLatest(opened.db);
    await seedProducts(opened.db, PRODUCTS);

    const sandboxClock = createShiftedClock();
    const sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      clock: sandboxClock,
      requireClientCert: false,
      // A refund settles at the gateway shortly after it is asked for, then its notify goes out.
      refundSettleMs: 300,
      notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
    });
    cleanups.push(() => sandbox.stop());
    const receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    cleanups.push(() => receiver.close());

    // The notify URLs name the API's own port, so it is chosen before the API starts.
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      PORT: String(port),
      HOST: "127.0.0.1",
      NODE_ENV: "test",
      DATABASE_URL: databaseUrl,
      WXPAY_BASE_URL: sandbox.url,
      ...merchantEnv(MERCHANT),
      WXPAY_NOTIFY_URL: `${apiUrl}/wxpay/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${apiUrl}/wxpay/refund-notify`,
      WX_API_BASE_URL: sandbox.url,
      SESSION_SECRET,
      ADMIN_TOKEN,
      ORDER_QUERY_AFTER_SECONDS: "1",
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET,
      WEBHOOK_POLL_INTERVAL_MS: "100",
      // The suites start the runs they look at (POST /api/admin/reconciliations/:date/run).
      RECONCILE_SCHEDULE: "off",
      CONSOLE_DIR: CONSOLE_DIST,
    });
    const logs: string[] = [];
    const logger = createLogger({
      level: "warn",
      name: "pay-api",
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString("utf8"));
          done();
        },
      }),
    });
    const api: RunningApi = await startApi(config, logger);
    cleanups.push(() => api.stop());

    const request: ConsoleStack["request"] = async (method, path, opts = {}) => {
      const headers: Record<string, string> = {};
      if (opts.admin === true) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
      if (opts.body !== undefined) headers["content-type"] = "application/json";
      const response = await fetch(`${apiUrl}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
      const text = await response.text();
      let body: Record<string, unknown>;
      try {
        body = text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
      } catch {
        body = { text };
      }
      return { status: response.status, body };
    };

    return {
      database,
      apiUrl,
      consoleUrl: `${apiUrl}/console/`,
      databaseUrl,
      sandbox,
      sandboxClock,
      control: createSandboxControlClient({ baseUrl: sandbox.url }),
      receiver,
      db: opened.db,
      logs,
      request,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
