import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, startApi, type RunningApi } from "@pay/api";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { pino } from "pino";

/** The merchant both the sandbox and the API are configured with (@pay/test-kit's; a test key, not a real one). */
export { MERCHANT };

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
    merchants: [sandboxMerchant(MERCHANT)],
    requireClientCert: false,
    notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
  });
  // The API's notify_url names its own port, so the port is chosen before it starts.
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const notifyBase = options.notifies === "lost" ? `http://127.0.0.1:${blackHolePort}` : apiUrl;
  const config = loadConfig({
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: join(dataDir, "pay.db"),
    WXPAY_BASE_URL: sandbox.url,
    ...merchantEnv(MERCHANT),
    WXPAY_NOTIFY_URL: `${notifyBase}/wxpay/notify`,
    WX_API_BASE_URL: sandbox.url,
    SESSION_SECRET,
    ADMIN_TOKEN,
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
