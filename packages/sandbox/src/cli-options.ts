import { randomInt } from "node:crypto";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveOptions, SandboxOptionsSchema, V3_KEY_MODES, type MerchantInput, type SandboxOptions, type SandboxOptionsInput, type V3KeyMode } from "./options.js";

export const DEFAULT_PORT = 8790;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PKI_DIR = "./data/sandbox-pki";
/** Where v3 merchants' keys and certificates go when any merchant has v3 and neither the flag nor the config names a folder. */
export const DEFAULT_V3_KEYS_DIR = "./data/sandbox-v3-keys";
/** The demo merchant's key mode with --v3: what merchants onboarded since late 2024 get. */
export const DEFAULT_V3_KEY_MODE: V3KeyMode = "public-key";
/** The merchant simulated when no config file names any. */
export const DEMO_MERCHANT = { appId: "wx0000sandbox0001", mchId: "1900000001" } as const;

export const HELP_TEXT = `Usage: pay-sandbox [options]

A local WeChat Pay gateway, APIv2 and APIv3 side by side, with a cashier page and a control API.
  v2: unifiedorder, orderquery, closeorder, refund, refundquery, downloadbill, jscode2session.
  v3: JSAPI orders (direct, service provider, Global), query by transaction_id and by out_trade_no,
      close, refunds and refund query, trade and fund-flow bills with their download, certificates.
A merchant is configured for v2 (a key), v3 (v3 settings) or both.

Options:
  --config <file.json>  Sandbox options as JSON (merchants, notify, requireClientCert, ...).
                        Without it (or without "merchants"), one demo merchant is simulated.
  --port <n>            Port to listen on (default ${DEFAULT_PORT}; 0 picks a free port).
  --host <address>      Address to listen on (default ${DEFAULT_HOST}).
  --https               Serve HTTPS with a fresh CA, server and merchant client certificates,
                        written to --pki-dir; v2 refunds then check the client certificate.
  --pki-dir <dir>       Where --https writes the certificates (default ${DEFAULT_PKI_DIR}).
  --no-client-cert      Accept v2 refunds without a client certificate (requireClientCert false).
  --retry-scale <x>     Multiply the notify retry schedule (0.001 runs 24 hours in ~86 s).
  -h, --help            Show this help.

APIv3:
  --v3                  Make the demo merchant a v2 + v3 merchant with a new APIv3 key.
  --v3-key-mode <mode>  How the sandbox signs for the demo merchant with --v3: public-key (the
                        default), platform-certificate or migration (both).
  --v3-keys-dir <dir>   Where each v3 merchant's keys and certificates are written, one folder per
                        mchid, like the real downloads (default ${DEFAULT_V3_KEYS_DIR}).
  --allow-http-notify-url
                        Accept http:// notify URLs in v3 orders and refunds (local receivers);
                        like the real gateway, the sandbox otherwise demands https.
  --signature-probe     Send each v3 notify first with a WECHATPAY/SIGNTEST/ signature, which a
                        receiver that verifies signatures refuses.
`;

/** What the command line asks for: the help text, or a sandbox to start. */
export type CliCommand = { readonly kind: "help" } | CliStart;

export interface CliStart {
  readonly kind: "start";
  readonly host: string;
  readonly port: number;
  readonly https: boolean;
  readonly pkiDir: string;
  /** Validated sandbox options, flags applied over the config file. */
  readonly options: SandboxOptions;
  /** True when the demo merchant (with freshly generated secrets) is simulated. */
  readonly demo: boolean;
}

/** USAGE: bad flags. CONFIG: the config file cannot be read, is not JSON, or fails validation. */
export type CliErrorCode = "USAGE" | "CONFIG";
export type CliParseResult = { readonly ok: true; readonly value: CliCommand } | { readonly ok: false; readonly error: { readonly code: CliErrorCode; readonly message: string } };

const ARG_OPTIONS = {
  config: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  https: { type: "boolean" },
  "pki-dir": { type: "string" },
  "no-client-cert": { type: "boolean" },
  "retry-scale": { type: "string" },
  v3: { type: "boolean" },
  "v3-key-mode": { type: "string" },
  "v3-keys-dir": { type: "string" },
  "allow-http-notify-url": { type: "boolean" },
  "signature-probe": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A 32-character random string from [A-Za-z0-9], the shape of a v2 API key (and of an APIv3 key: 32 bytes). */
export function randomSecret(): string {
  let out = "";
  for (let i = 0; i < 32; i++) out += SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)];
  return out;
}

/**
 * Turns the command line (without `node` and the script) into a command. `readFile` reads the config
 * file as text; `newSecret` makes the demo merchant's API key, app secret and (with --v3) APIv3 key.
 */
export function parseCliArgs(argv: readonly string[], readFile: (path: string) => string, newSecret: () => string = randomSecret): CliParseResult {
  let values: ReturnType<typeof readFlags>;
  try {
    values = readFlags(argv);
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return { ok: true, value: { kind: "help" } };

  const port = values.port === undefined ? DEFAULT_PORT : parsePort(values.port);
  if (port === undefined) return usageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}.`);
  const host = values.host ?? DEFAULT_HOST;
  if (host.trim() === "") return usageError("--host must not be empty.");
  const pkiDir = values["pki-dir"] ?? DEFAULT_PKI_DIR;
  if (pkiDir.trim() === "") return usageError("--pki-dir must not be empty.");
  const retryScale = values["retry-scale"] === undefined ? undefined : Number(values["retry-scale"]);
  if (retryScale !== undefined && !(Number.isFinite(retryScale) && retryScale > 0)) {
    return usageError(`--retry-scale must be a positive number, got ${JSON.stringify(values["retry-scale"])}.`);
  }
  const v3KeyMode = values["v3-key-mode"];
  if (v3KeyMode !== undefined && !isV3KeyMode(v3KeyMode)) {
    return usageError(`--v3-key-mode must be one of ${V3_KEY_MODES.join(", ")}, got ${JSON.stringify(v3KeyMode)}.`);
  }
  if (v3KeyMode !== undefined && values.v3 !== true) return usageError("--v3-key-mode sets the demo merchant's key mode: give --v3 with it.");
  const v3KeysDirFlag = values["v3-keys-dir"];
  if (v3KeysDirFlag?.trim() === "") return usageError("--v3-keys-dir must not be empty.");

  let config: Record<string, unknown> = {};
  if (values.config !== undefined) {
    const loaded = loadConfig(values.config, readFile);
    if (!loaded.ok) return configError(loaded.message);
    config = loaded.value;
  }
  const demo = config.merchants === undefined;
  if (!demo && values.v3 === true) {
    return usageError("--v3 (and --v3-key-mode) shape the demo merchant, but the config file names merchants: give them v3 settings there.");
  }
  const input: Record<string, unknown> = { ...config };
  if (demo) input.merchants = [demoMerchant(newSecret, values.v3 === true ? (v3KeyMode ?? DEFAULT_V3_KEY_MODE) : undefined)];
  if (values["no-client-cert"] === true) input.requireClientCert = false;
  if (values["allow-http-notify-url"] === true) input.allowHttpNotifyUrl = true;
  const notifyFlags = { ...(retryScale === undefined ? {} : { retryScale }), ...(values["signature-probe"] === true ? { signatureProbe: true } : {}) };
  if (Object.keys(notifyFlags).length > 0) {
    const notify = config.notify ?? {};
    // A notify value that is not an object is left alone so validation reports it.
    if (isPlainObject(notify)) input.notify = { ...notify, ...notifyFlags };
  }

  let options: SandboxOptions;
  try {
    options = resolveOptions(input as SandboxOptionsInput);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return configError(values.config === undefined ? message : `${values.config}: ${message}`);
  }
  const hasV3 = options.merchants.some((m) => m.v3 !== undefined);
  if (!hasV3 && v3KeysDirFlag !== undefined) return usageError("--v3-keys-dir is for v3 merchants, and none is configured (use --v3, or v3 settings in the config file).");
  if (hasV3) {
    const v3KeysDir = v3KeysDirFlag ?? options.v3KeysDir ?? DEFAULT_V3_KEYS_DIR;
    // Both folders hold <mchid>/apiclient_key.pem: the v2 client certificate's key and the v3 API key would overwrite each other.
    if (values.https === true && resolve(v3KeysDir) === resolve(pkiDir))
      return usageError("--v3-keys-dir and --pki-dir must be different folders: both write <mchid>/apiclient_key.pem.");
    options = { ...options, v3KeysDir };
  }
  return { ok: true, value: { kind: "start", host, port, https: values.https === true, pkiDir, options, demo } };
}

function isV3KeyMode(text: string): text is V3KeyMode {
  return (V3_KEY_MODES as readonly string[]).includes(text);
}

function readFlags(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: ARG_OPTIONS, strict: true, allowPositionals: false }).values;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function loadConfig(path: string, readFile: (path: string) => string): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    return { ok: false, message: `Cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `Config file ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (!isPlainObject(value)) return { ok: false, message: `Config file ${path} must hold a JSON object.` };
  // The schema strips unknown keys silently; a misspelt option would then be ignored without a word.
  const known = Object.keys(SandboxOptionsSchema.shape);
  const unknown = Object.keys(value).find((key) => !known.includes(key));
  if (unknown !== undefined) return { ok: false, message: `${path}: unknown option "${unknown}" (known: ${known.join(", ")}).` };
  return { ok: true, value };
}

/** The demo merchant: v2, and v3 too in `v3KeyMode` when given (keys and certificates generated at start). */
function demoMerchant(newSecret: () => string, v3KeyMode: V3KeyMode | undefined): MerchantInput {
  const merchant: MerchantInput = {
    appId: DEMO_MERCHANT.appId,
    mchId: DEMO_MERCHANT.mchId,
    key: newSecret(),
    profile: "domestic",
    appSecrets: { [DEMO_MERCHANT.appId]: newSecret() },
  };
  return v3KeyMode === undefined ? merchant : { ...merchant, v3: { apiV3Key: newSecret(), keyMode: v3KeyMode } };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function usageError(message: string): CliParseResult {
  return { ok: false, error: { code: "USAGE", message } };
}

function configError(message: string): CliParseResult {
  return { ok: false, error: { code: "CONFIG", message } };
}
