import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, startApi, type RunningApi } from "@pay/api";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, V3_DIRECT, V3_PARTNER, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { pino } from "pino";

/** The merchant both the sandbox and the API are configured with (@pay/test-kit's; a test key, not a real one). */
export { MERCHANT };

/**
 * The protocol new orders use and the merchant: v2 (MERCHANT, HMAC-SHA256), v3 (V3_DIRECT, domestic direct in
 * public-key mode) or v3-partner (V3_PARTNER, a service provider whose sub-merchant runs the Mini Program); RSA in v3.
 */
export type Protocol = "v2" | "v3" | "v3-partner";

/** The Mini Program's appid and, for v2, the key WeChat checks paySign with (v3 paySigns are checked by the sandbox). */
export function merchantOf(protocol: Protocol): { readonly appId: string; readonly key: string | undefined } {
  if (protocol === "v2") return { appId: MERCHANT.appId, key: MERCHANT.key };
  return { appId: protocol === "v3" ? V3_DIRECT.appId : V3_PARTNER.subAppId, key: undefined };
}

/** The sandbox (the WeChat Pay gateway and code2session), the API on SQLite, and where notifies go. */
export interface ThreeTiers {
  readonly protocol: Protocol;
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

/** The v3 merchant's variables, with the files the sandbox wrote under `keysDir` as the merchant platform's downloads. */
function v3Env(protocol: "v3" | "v3-partner", keysDir: string): Record<string, string> {
  const merchant = protocol === "v3" ? V3_DIRECT : V3_PARTNER;
  const keys = join(keysDir, merchant.mchId);
  return {
    WXPAY_API_VERSION: "v3",
    WXPAY_APPID: merchant.appId,
    WXPAY_MCHID: merchant.mchId,
    ...(protocol === "v3-partner" ? { WXPAY_SUB_APPID: V3_PARTNER.subAppId, WXPAY_SUB_MCHID: V3_PARTNER.subMchId } : {}),
    WXPAY_APIV3_KEY: merchant.v3.apiV3Key,
    WXPAY_CERT_KEY_PATH: join(keys, "apiclient_key.pem"),
    WXPAY_CERT_PATH: join(keys, "apiclient_cert.pem"),
    WXPAY_PUBLIC_KEY_ID: readFileSync(join(keys, "pub_key_id.txt"), "utf8").trim(),
    WXPAY_PUBLIC_KEY_PATH: join(keys, "wxp_pub.pem"),
    // Sign-in is at the Mini Program's own appid: the sub-merchant's in partner mode.
    WX_APPSECRET: protocol === "v3" ? V3_DIRECT.appSecrets.wx3d0000000000v3d1 : V3_PARTNER.appSecrets.wx3p0000000000sub1,
  };
}

/**
 * Starts the tiers on ephemeral ports as they meet in production: the API (startApi: migrations,
 * seeding, gateway, sweep) on a fresh SQLite file, talking to the sandbox for unifiedorder, orderquery
 * and code2session. With `notifies: "lost"` WeChat Pay's notifies go to a server that answers every
 * one with HTTP 503, so the API can learn of a payment only by querying. With `protocol: "v3"` (or
 * "v3-partner") the API runs as a v3 merchant from the key files the sandbox wrote (WXPAY_API_VERSION=v3,
 * public-key mode), and the notifies go to /wxpay/v3/notify over plain http (allowHttpNotifyUrl).
 */
export async function startThreeTiers(options: {
  readonly notifies: "delivered" | "lost";
  readonly protocol?: Protocol;
  /** More of the API's variables (e.g. a tight RATE_LIMIT_ORDERS), over the defaults below. */
  readonly env?: Readonly<Record<string, string>>;
}): Promise<ThreeTiers> {
  const protocol = options.protocol ?? "v2";
  const dataDir = mkdtempSync(join(tmpdir(), "pay-miniprogram-e2e-"));
  const lostNotifies = { count: 0 };
  const blackHole = createServer((_req, res) => {
    lostNotifies.count += 1;
    res.writeHead(503).end("lost on the way");
  });
  const blackHolePort = await listen(blackHole);
  const keysDir = join(dataDir, "v3-keys");
  const sandbox = await startSandbox({
    merchants: protocol === "v2" ? [sandboxMerchant(MERCHANT)] : protocol === "v3" ? [V3_DIRECT] : [V3_PARTNER],
    requireClientCert: false,
    notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
    ...(protocol === "v2" ? {} : { v3KeysDir: keysDir, allowHttpNotifyUrl: true }),
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
    ...(protocol === "v2" ? merchantEnv(MERCHANT) : v3Env(protocol, keysDir)),
    WXPAY_NOTIFY_URL: `${notifyBase}/wxpay/${protocol === "v2" ? "" : "v3/"}notify`,
    WX_API_BASE_URL: sandbox.url,
    SESSION_SECRET,
    ADMIN_TOKEN,
    // The smallest the API allows: a pending order is queried at the gateway a second after it was made.
    ORDER_QUERY_AFTER_SECONDS: "1",
    ...options.env,
  });
  const logs: string[] = [];
  const logger = pino({ level: "warn" }, { write: (line: string) => void logs.push(line) });
  const api = await startApi(config, logger);
  return {
    protocol,
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
