import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, startApi, type RunningApi } from "@pay/api";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { pino } from "pino";

/** The merchant both the sandbox and the API are configured with (a test key, not a real one). */
export const MERCHANT = {
  appId: "wx8888888888888888",
  mchId: "1230000109",
  key: "Mp7vTz8PwX2mN7bR4cY6dF9gH1jL5sQ3",
  appSecret: "miniprogram-e2e-app-secret-0001",
} as const;

/** The sandbox (the WeChat Pay gateway and code2session), the API on SQLite, and where notifies go. */
export interface ThreeTiers {
  readonly apiUrl: string;
  readonly sandbox: RunningSandbox;
  readonly api: RunningApi;
  /** The API's warn/error log lines. */
  readonly logs: string[];
  /** Notifies that reached the black hole instead of the API (`notifies: "lost"` only). */
  readonly lostNotifies: { count: number };
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on right now, for the API to take (its notify_url must be known before it starts). */
async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts the tiers on ephemeral ports as they meet in production: the API (startApi: migrations,
 * seeding, gateway, sweep) on a fresh SQLite file, talking to the sandbox for unifiedorder, orderquery
 * and code2session. With `notifies: "lost"` WeChat Pay's notifies go to a server that answers every
 * one with HTTP 503, so the API can learn of a payment only by querying.
 */
export async function startThreeTiers(options: { readonly notifies: "delivered" | "lost" }): Promise<ThreeTiers> {
  const dataDir = mkdtempSync(join(tmpdir(), "pay-miniprogram-e2e-"));
  const lostNotifies = { count: 0 };
  const blackHole = createServer((_req, res) => {
    lostNotifies.count += 1;
    res.writeHead(503).end("lost on the way");
  });
  const blackHolePort = await listen(blackHole);
  const sandbox = await startSandbox({
    merchants: [{ appId: MERCHANT.appId, mchId: MERCHANT.mchId, key: MERCHANT.key, appSecrets: { [MERCHANT.appId]: MERCHANT.appSecret } }],
    requireClientCert: false,
    notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
  });
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const notifyBase = options.notifies === "lost" ? `http://127.0.0.1:${blackHolePort}` : apiUrl;
  const config = loadConfig({
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: join(dataDir, "pay.db"),
    WXPAY_BASE_URL: sandbox.url,
    WXPAY_APPID: MERCHANT.appId,
    WXPAY_MCHID: MERCHANT.mchId,
    WXPAY_KEY: MERCHANT.key,
    WXPAY_NOTIFY_URL: `${notifyBase}/wxpay/notify`,
    WX_API_BASE_URL: sandbox.url,
    WX_APPSECRET: MERCHANT.appSecret,
    SESSION_SECRET: "session-secret-for-miniprogram-e2e-0123456789",
    ADMIN_TOKEN: "admin-token-for-miniprogram-e2e-0123",
    // The smallest the API allows: a pending order is queried at the gateway a second after it was made.
    ORDER_QUERY_AFTER_SECONDS: "1",
  });
  const logs: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void logs.push(line) });
  const api = await startApi(config, logger);
  return {
    apiUrl,
    sandbox,
    api,
    logs,
    lostNotifies,
    async stop() {
      await api.stop();
      await sandbox.stop();
      blackHole.closeAllConnections();
      await new Promise<void>((resolve) => blackHole.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
