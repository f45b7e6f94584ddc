import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { ConfigError, createLogger, loadConfig, startApi, type AppConfig, type RunningApi } from "@pay/api";
import type { Currency } from "@pay/core";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { pino, type DestinationStream, type Level } from "pino";
import { ensureDevConfig, readEnvFile, STACK_OWNED_KEYS, type EnvFile } from "./env-file.js";
import { DevError } from "./errors.js";
import { modeOfMerchant, type DevMode } from "./modes.js";
import { ensureDevPki, type DevPki } from "./pki.js";
import { assertPortsFree, choosePort, explainListenError, type WantedPort } from "./ports.js";

/** The three listeners: the API, the sandbox for people (cashier, control API, wx.login) and its HTTPS gateway. */
export interface DevPorts {
  readonly api: number;
  readonly sandbox: number;
  readonly gateway: number;
}

/** Fixed, so the README's URLs and a mini-program build stay valid from one start to the next. */
export const DEFAULT_PORTS: DevPorts = { api: 3000, sandbox: 8790, gateway: 8791 };

/** The flag that moves each port, named in the error when one is taken. */
export const PORT_FLAGS: Readonly<Record<keyof DevPorts, string>> = { api: "--api-port", sandbox: "--sandbox-port", gateway: "--gateway-port" };

export interface DevStackOptions {
  /** Which generated config to use (`<dataDir>/dev.<mode>.env`); default domestic. Ignored with envFile. */
  readonly mode?: DevMode;
  /** A config of your own instead of the generated one; its merchant decides the mode. */
  readonly envFile?: string;
  /** Holds the generated config, the SQLite database and the sandbox PKI. */
  readonly dataDir: string;
  /** Default DEFAULT_PORTS; 0 picks a free port. */
  readonly ports?: Partial<DevPorts>;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Where the API's JSON log lines go; stdout when absent. */
  readonly logDestination?: DestinationStream;
  /** Overrides LOG_LEVEL. */
  readonly logLevel?: Level | "silent";
  /** Multiplies the sandbox's notify retry schedule (15 s ... 6 h); default 0.01. */
  readonly notifyRetryScale?: number;
}

/** The merchant both tiers were configured with. */
export interface DevMerchant {
  readonly appId: string;
  readonly mchId: string;
  readonly subAppId: string | undefined;
  readonly subMchId: string | undefined;
  /** The appid wx.login codes are issued for: the sub-merchant's Mini Program in institutional mode. */
  readonly miniProgramAppId: string;
  readonly feeType: Currency;
  readonly profile: "domestic" | "global";
}

/** A running sandbox + API pair and everything a banner or a demo needs to know about it. */
export interface DevStack {
  readonly mode: DevMode;
  readonly dataDir: string;
  readonly envFile: EnvFile;
  /** DATABASE_URL as the API got it. */
  readonly databaseUrl: string;
  readonly config: AppConfig;
  readonly merchant: DevMerchant;
  readonly apiUrl: string;
  /** Plain HTTP: the cashier page, the control API and /sns/jscode2session (WX_API_BASE_URL). */
  readonly sandboxUrl: string;
  /** HTTPS with client certificates: the API's WXPAY_BASE_URL. */
  readonly gatewayUrl: string;
  readonly sandbox: RunningSandbox;
  readonly pki: DevPki;
  /** Variables of the env file the stack replaced with its own ports, files and URLs. */
  readonly overridden: readonly string[];
  stop(): Promise<void>;
}

function configError(file: EnvFile, error: unknown): never {
  if (error instanceof ConfigError) throw new DevError("INVALID_CONFIG", `${file.path}: ${error.message}`);
  throw error;
}

/** Reads the merchant out of the env file before anything starts, so a bad file fails first and by variable. */
function checkEnvFile(file: EnvFile): AppConfig {
  const placeholders: Record<string, string> = {
    WXPAY_BASE_URL: "https://127.0.0.1",
    WX_API_BASE_URL: "http://127.0.0.1",
    WXPAY_NOTIFY_URL: "http://127.0.0.1/wxpay/notify",
    WXPAY_PFX_PATH: "",
    WXPAY_CERT_PATH: "",
    WXPAY_CERT_KEY_PATH: "",
  };
  try {
    return loadConfig({ ...file.values, ...placeholders });
  } catch (error) {
    return configError(file, error);
  }
}

function listenPlain(server: Server, host: string, wanted: WantedPort): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once("error", (error) => reject(explainListenError(error, host, wanted)));
    server.listen(wanted.port, host, () => {
      const address = server.address();
      resolvePort(typeof address === "object" && address !== null ? address.port : wanted.port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

function urlOf(scheme: "http" | "https", host: string, port: number): string {
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/**
 * Starts the sandbox (in process: an HTTPS gateway with a generated PKI, so refunds use mutual TLS, plus a
 * plain HTTP listener on the same state for people and wx.login) and the API against it, with the
 * generated (or given) config and SQLite under `dataDir`. Busy ports and bad configs fail before anything runs.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const host = options.host ?? "127.0.0.1";
  const dataDir = resolve(options.dataDir);
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const wanted = (name: keyof DevPorts, role: string): WantedPort => ({ port: ports[name], role, flag: PORT_FLAGS[name] });
  const apiPort = wanted("api", "the API");
  const sandboxPort = wanted("sandbox", "the sandbox: cashier, control API, wx.login");
  const gatewayPort = wanted("gateway", "the sandbox's HTTPS gateway");

  await mkdir(dataDir, { recursive: true });
  const envFile = options.envFile === undefined ? await ensureDevConfig(dataDir, options.mode ?? "domestic") : await readEnvFile(resolve(options.envFile));
  const fileConfig = checkEnvFile(envFile);
  const mode = options.envFile === undefined ? (options.mode ?? "domestic") : modeOfMerchant(fileConfig.merchant);
  await assertPortsFree(host, [apiPort, sandboxPort, gatewayPort]);

  const { merchant: fileMerchant } = fileConfig;
  const merchant: DevMerchant = {
    appId: fileMerchant.appId,
    mchId: fileMerchant.mchId,
    subAppId: fileMerchant.subAppId,
    subMchId: fileMerchant.subMchId,
    miniProgramAppId: fileMerchant.subAppId ?? fileMerchant.appId,
    feeType: fileMerchant.feeType,
    profile: fileMerchant.feeType === "CNY" ? "domestic" : "global",
  };
  const pki = await ensureDevPki(join(dataDir, "sandbox-pki", mode), merchant.mchId);

  let sandbox: RunningSandbox;
  try {
    sandbox = await startSandbox({
      merchants: [
        {
          appId: merchant.appId,
          mchId: merchant.mchId,
          ...(fileConfig.v2 === undefined ? {} : { key: fileConfig.v2.key }),
          ...(merchant.subAppId === undefined ? {} : { subAppId: merchant.subAppId }),
          ...(merchant.subMchId === undefined ? {} : { subMchId: merchant.subMchId }),
          profile: merchant.profile,
          appSecrets: { [merchant.miniProgramAppId]: fileConfig.wx.appSecret },
        },
      ],
      notify: { retryScale: options.notifyRetryScale ?? 0.01 },
      // Derived from the persisted app secret, so a restarted sandbox gives each user the same openid.
      openidSeed: createHash("sha256").update(`sandbox-openids|${fileConfig.wx.appSecret}`).digest("hex"),
      requireClientCert: true,
      tls: pki.tls,
      host,
      port: gatewayPort.port,
    });
  } catch (error) {
    throw explainListenError(error, host, gatewayPort);
  }
  const handle = sandbox.app.callback();
  const plain = createServer((req, res) => void handle(req, res));
  try {
    const sandboxUrl = urlOf("http", host, await listenPlain(plain, host, sandboxPort));
    const apiUrl = urlOf("http", host, await choosePort(host, apiPort));
    const stackEnv: Record<string, string> = {
      PORT: new URL(apiUrl).port,
      HOST: host,
      WXPAY_BASE_URL: sandbox.url,
      WXPAY_FAILOVER_BASE_URL: "",
      WX_API_BASE_URL: sandboxUrl,
      WXPAY_NOTIFY_URL: `${apiUrl}/wxpay/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${apiUrl}/wxpay/refund-notify`,
      WXPAY_CA_PATH: pki.caPath,
      WXPAY_CERT_PATH: pki.clientCertPath,
      WXPAY_CERT_KEY_PATH: pki.clientKeyPath,
      WXPAY_PFX_PATH: "",
      WXPAY_PFX_PASSPHRASE: "",
    } satisfies Record<(typeof STACK_OWNED_KEYS)[number], string>;
    const env = { DATABASE_URL: join(dataDir, `pay.${mode}.db`), ...envFile.values, ...stackEnv };
    let config: AppConfig;
    try {
      config = loadConfig(env);
    } catch (error) {
      configError(envFile, error);
    }
    const destination = options.logDestination ?? pino.destination(1);
    // The API's own logger: the same redaction of keys, signatures and tokens as in production.
    const logger = createLogger({ level: options.logLevel ?? config.logLevel, name: "pay-api", destination });
    let running: RunningApi;
    try {
      running = await startApi(config, logger);
    } catch (error) {
      throw explainListenError(error, host, { ...apiPort, port: config.port });
    }
    const overridden = STACK_OWNED_KEYS.filter((key) => {
      const given = envFile.values[key];
      return given !== undefined && given !== "" && given !== stackEnv[key];
    });
    return {
      mode,
      dataDir,
      envFile,
      databaseUrl: config.databaseUrl,
      config,
      merchant,
      apiUrl: running.url,
      sandboxUrl,
      gatewayUrl: sandbox.url,
      sandbox,
      pki,
      overridden,
      async stop() {
        // The API first, so nothing new reaches the gateway; then the sandbox, whose stop ends notify retries.
        await running.stop();
        await closeServer(plain);
        await sandbox.stop();
      },
    };
  } catch (error) {
    if (plain.listening) await closeServer(plain);
    await sandbox.stop();
    throw error;
  }
}
