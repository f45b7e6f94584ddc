import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join, resolve } from "node:path";
import { ConfigError, createLogger, loadConfig, startApi, type AppConfig, type RunningApi } from "@pay/api";
import type { Currency } from "@pay/core";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { pino, type DestinationStream, type Level } from "pino";
import { startFulfilmentReceiver, type FulfilmentReceiver } from "./fulfilment.js";
import { ensureDevConfig, readEnvFile, STACK_OWNED_KEYS, type EnvFile } from "./env-file.js";
import { DevError } from "./errors.js";
import { MODE_PROFILES, modeOfMerchant, type DevMode } from "./modes.js";
import { ensureDevPki, type DevPki } from "./pki.js";
import { assertPortsFree, choosePort, explainListenError, type WantedPort } from "./ports.js";

/** The listeners: the API, the sandbox for people (cashier, control API, wx.login), its HTTPS gateway, and the shop's fulfilment receiver (webhooks). */
export interface DevPorts {
  readonly api: number;
  readonly sandbox: number;
  readonly gateway: number;
  readonly fulfilment: number;
}

/** Fixed, so the README's URLs and a mini-program build stay valid from one start to the next. */
export const DEFAULT_PORTS: DevPorts = { api: 3000, sandbox: 8790, gateway: 8791, fulfilment: 8792 };

/** The flag that moves each port, named in the error when one is taken. */
export const PORT_FLAGS: Readonly<Record<keyof DevPorts, string>> = { api: "--api-port", sandbox: "--sandbox-port", gateway: "--gateway-port", fulfilment: "--fulfilment-port" };

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
  /** Where the fulfilment receiver's lines go ("fulfilment: order.paid ... verified"); stdout when absent. */
  readonly fulfilmentOutput?: (line: string) => void;
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
  /** The protocol new orders use (WXPAY_API_VERSION). */
  readonly apiVersion: "v2" | "v3";
}

/** How the sandbox signs for a v3 merchant, read from WXPAY_PLATFORM_CERTIFICATES (the public key itself comes from the sandbox). */
export type StackV3KeyMode = "public-key" | "platform-certificate" | "migration";

/** The APIv3 side of a running v3 stack: the key mode and the files the sandbox wrote for the API. */
export interface DevStackV3 {
  readonly keyMode: StackV3KeyMode;
  readonly account: "domestic" | "global";
  /** `<dataDir>/sandbox-v3-keys/<mode>/<mchid>`: apiclient_key.pem, apiclient_cert.pem, wxp_pub.pem, pub_key_id.txt, wechatpay_<serial>.pem. */
  readonly keysDir: string;
  readonly merchantSerial: string;
  readonly publicKeyId: string | undefined;
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
  /** APIv3 modes: the key mode and the key files; undefined for v2. */
  readonly v3: DevStackV3 | undefined;
  /** The shop's fulfilment receiver: the API delivers every order event to it (WEBHOOK_URL, with a WEBHOOK_SECRET made at each start). */
  readonly fulfilment: FulfilmentReceiver;
  /** Variables of the env file the stack replaced with its own ports, files and URLs. */
  readonly overridden: readonly string[];
  stop(): Promise<void>;
}

function configError(file: EnvFile, error: unknown): never {
  if (error instanceof ConfigError) throw new DevError("INVALID_CONFIG", `${file.path}: ${error.message}`);
  throw error;
}

/** The key mode an env file asks for: WXPAY_PLATFORM_CERTIFICATES=off a public key alone, on both, unset certificates. */
function v3KeyModeOf(file: EnvFile): StackV3KeyMode {
  const setting = file.values.WXPAY_PLATFORM_CERTIFICATES;
  return setting === "off" ? "public-key" : setting === "on" ? "migration" : "platform-certificate";
}

/** Reads the merchant out of the env file before anything starts, so a bad file fails first and by variable. */
function checkEnvFile(file: EnvFile): AppConfig {
  const v3 = file.values.WXPAY_API_VERSION === "v3" || (file.values.WXPAY_APIV3_KEY ?? "") !== "";
  const publicKey = v3 && v3KeyModeOf(file) !== "platform-certificate";
  // The stack's own files are not there yet; loadConfig reads no file, so paths that name them are enough here.
  const placeholders: Record<string, string> = {
    WXPAY_BASE_URL: "https://127.0.0.1",
    WX_API_BASE_URL: "http://127.0.0.1",
    WXPAY_NOTIFY_URL: v3 ? "http://127.0.0.1/wxpay/v3/notify" : "http://127.0.0.1/wxpay/notify",
    WXPAY_REFUND_NOTIFY_URL: "",
    WXPAY_PFX_PATH: "",
    WXPAY_CERT_PATH: v3 ? "/dev-stack/apiclient_cert.pem" : "",
    WXPAY_CERT_KEY_PATH: v3 ? "/dev-stack/apiclient_key.pem" : "",
    WXPAY_CERT_SERIAL_NO: "",
    WXPAY_PUBLIC_KEY_ID: publicKey ? "PUB_KEY_ID_0100000000000000000000000000000000" : "",
    WXPAY_PUBLIC_KEY_PATH: publicKey ? "/dev-stack/wxp_pub.pem" : "",
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

/** The key files the sandbox wrote for `mchId` (its v3 identity) and what the banner shows of them. */
async function readV3Keys(root: string, mchId: string, keyMode: StackV3KeyMode, account: "domestic" | "global", sandbox: RunningSandbox): Promise<DevStackV3> {
  const keysDir = join(root, mchId);
  const identity = sandbox.context.v3.get(mchId);
  if (identity === undefined) throw new DevError("INVALID_CONFIG", `The sandbox has no APIv3 identity for mch_id ${mchId}.`);
  const publicKeyId = keyMode === "platform-certificate" ? undefined : (await readFile(join(keysDir, "pub_key_id.txt"), "utf8")).trim();
  return { keyMode, account, keysDir, merchantSerial: identity.merchantCertificate.serial, publicKeyId };
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
  const fulfilmentPort = wanted("fulfilment", "the fulfilment receiver (webhooks)");

  await mkdir(dataDir, { recursive: true });
  const envFile = options.envFile === undefined ? await ensureDevConfig(dataDir, options.mode ?? "domestic") : await readEnvFile(resolve(options.envFile));
  const fileConfig = checkEnvFile(envFile);
  const mode = options.envFile === undefined ? (options.mode ?? "domestic") : modeOfMerchant(fileConfig.merchant, fileConfig.apiVersion === "v3" ? fileConfig.v3 : undefined);
  const v3 = fileConfig.apiVersion === "v3" ? fileConfig.v3 : undefined;
  const v3KeyMode = v3 === undefined ? undefined : options.envFile === undefined ? (MODE_PROFILES[mode].v3?.keyMode ?? v3KeyModeOf(envFile)) : v3KeyModeOf(envFile);
  await assertPortsFree(host, [apiPort, sandboxPort, gatewayPort, fulfilmentPort]);

  const { merchant: fileMerchant } = fileConfig;
  const merchant: DevMerchant = {
    appId: fileMerchant.appId,
    mchId: fileMerchant.mchId,
    subAppId: fileMerchant.subAppId,
    subMchId: fileMerchant.subMchId,
    miniProgramAppId: fileMerchant.subAppId ?? fileMerchant.appId,
    feeType: fileMerchant.feeType,
    profile: fileMerchant.feeType === "CNY" && v3?.account !== "global" ? "domestic" : "global",
    apiVersion: fileConfig.apiVersion,
  };
  const pki = await ensureDevPki(join(dataDir, "sandbox-pki", mode), merchant.mchId);
  const v3KeysRoot = join(dataDir, "sandbox-v3-keys", mode);

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
          ...(v3 === undefined || v3KeyMode === undefined ? {} : { v3: { apiV3Key: v3.apiV3Key, keyMode: v3KeyMode } }),
        },
      ],
      notify: { retryScale: options.notifyRetryScale ?? 0.01 },
      // APIv3: the merchant's key, certificate and WeChat Pay's keys, generated at each start and written as the
      // merchant platform hands them out; notifies go to the API's plain-http local URL.
      ...(v3 === undefined ? {} : { v3KeysDir: v3KeysRoot, allowHttpNotifyUrl: true }),
      // Derived from the persisted app secret, so a restarted sandbox gives each user the same openid.
      openidSeed: createHash("sha256").update(`sandbox-openids|${fileConfig.wx.appSecret}`).digest("hex"),
      // v2 refunds travel over mutual TLS; APIv3 signs every request instead and uses no client certificate.
      requireClientCert: v3 === undefined,
      tls: pki.tls,
      host,
      port: gatewayPort.port,
    });
  } catch (error) {
    throw explainListenError(error, host, gatewayPort);
  }
  const handle = sandbox.app.callback();
  const plain = createServer((req, res) => void handle(req, res));
  let fulfilment: FulfilmentReceiver | undefined;
  try {
    const sandboxUrl = urlOf("http", host, await listenPlain(plain, host, sandboxPort));
    // The shop's side: every order event the API commits is delivered here, signed with a secret made for this start.
    const webhookSecret = randomBytes(24).toString("base64url");
    const output = options.fulfilmentOutput ?? ((line: string) => void process.stdout.write(`${line}\n`));
    fulfilment = await startFulfilmentReceiver({ secret: webhookSecret, host, port: fulfilmentPort, output });
    const apiUrl = urlOf("http", host, await choosePort(host, apiPort));
    const stackV3 = v3 === undefined || v3KeyMode === undefined ? undefined : await readV3Keys(v3KeysRoot, merchant.mchId, v3KeyMode, v3.account, sandbox);
    const notifyPath = stackV3 === undefined ? "/wxpay" : "/wxpay/v3";
    const stackEnv: Record<string, string> = {
      PORT: new URL(apiUrl).port,
      HOST: host,
      WXPAY_BASE_URL: sandbox.url,
      WXPAY_FAILOVER_BASE_URL: "",
      WX_API_BASE_URL: sandboxUrl,
      WXPAY_NOTIFY_URL: `${apiUrl}${notifyPath}/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${apiUrl}${notifyPath}/refund-notify`,
      WXPAY_CA_PATH: pki.caPath,
      WXPAY_CERT_PATH: stackV3 === undefined ? pki.clientCertPath : join(stackV3.keysDir, "apiclient_cert.pem"),
      WXPAY_CERT_KEY_PATH: stackV3 === undefined ? pki.clientKeyPath : join(stackV3.keysDir, "apiclient_key.pem"),
      WXPAY_PFX_PATH: "",
      WXPAY_PFX_PASSPHRASE: "",
      WXPAY_CERT_SERIAL_NO: "",
      WXPAY_PUBLIC_KEY_ID: stackV3?.publicKeyId ?? "",
      WXPAY_PUBLIC_KEY_PATH: stackV3?.publicKeyId === undefined ? "" : join(stackV3.keysDir, "wxp_pub.pem"),
      WEBHOOK_URL: fulfilment.url,
      WEBHOOK_SECRET: webhookSecret,
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
    const receiver = fulfilment;
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
      v3: stackV3,
      fulfilment,
      overridden,
      async stop() {
        // The API first, so nothing new reaches the gateway or the receiver; then the sandbox, whose stop ends notify retries.
        await running.stop();
        await receiver.stop();
        await closeServer(plain);
        await sandbox.stop();
      },
    };
  } catch (error) {
    await fulfilment?.stop();
    if (plain.listening) await closeServer(plain);
    await sandbox.stop();
    throw error;
  }
}
