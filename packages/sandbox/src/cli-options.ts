import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { resolveOptions, SandboxOptionsSchema, type MerchantInput, type SandboxOptions, type SandboxOptionsInput } from "./options.js";

export const DEFAULT_PORT = 8790;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PKI_DIR = "./data/sandbox-pki";
/** The merchant simulated when no config file names any. */
export const DEMO_MERCHANT = { appId: "wx0000sandbox0001", mchId: "1900000001" } as const;

export const HELP_TEXT = `Usage: pay-sandbox [options]

A local WeChat Pay v2 gateway (unifiedorder, orderquery, closeorder, refund, refundquery,
downloadbill, jscode2session) with a cashier page and a control API.

Options:
  --config <file.json>  Sandbox options as JSON (merchants, notify, requireClientCert, ...).
                        Without it (or without "merchants"), one demo merchant is simulated.
  --port <n>            Port to listen on (default ${DEFAULT_PORT}; 0 picks a free port).
  --host <address>      Address to listen on (default ${DEFAULT_HOST}).
  --https               Serve HTTPS with a fresh CA, server and merchant client certificates,
                        written to --pki-dir; refunds then check the client certificate.
  --pki-dir <dir>       Where --https writes the certificates (default ${DEFAULT_PKI_DIR}).
  --no-client-cert      Accept refunds without a client certificate (requireClientCert false).
  --retry-scale <x>     Multiply the notify retry schedule (0.001 runs 24 hours in ~86 s).
  -h, --help            Show this help.
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
  help: { type: "boolean", short: "h" },
} as const;

const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A 32-character random string from [A-Za-z0-9], the shape of a v2 API key. */
export function randomSecret(): string {
  let out = "";
  for (let i = 0; i < 32; i++) out += SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)];
  return out;
}

/**
 * Turns the command line (without `node` and the script) into a command. `readFile` reads the config
 * file as text; `newSecret` makes the demo merchant's API key and app secret.
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

  let config: Record<string, unknown> = {};
  if (values.config !== undefined) {
    const loaded = loadConfig(values.config, readFile);
    if (!loaded.ok) return configError(loaded.message);
    config = loaded.value;
  }
  const demo = config.merchants === undefined;
  const input: Record<string, unknown> = { ...config };
  if (demo) input.merchants = [demoMerchant(newSecret)];
  if (values["no-client-cert"] === true) input.requireClientCert = false;
  if (retryScale !== undefined) {
    const notify = config.notify ?? {};
    // A notify value that is not an object is left alone so validation reports it.
    if (isPlainObject(notify)) input.notify = { ...notify, retryScale };
  }

  let options: SandboxOptions;
  try {
    options = resolveOptions(input as SandboxOptionsInput);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return configError(values.config === undefined ? message : `${values.config}: ${message}`);
  }
  return { ok: true, value: { kind: "start", host, port, https: values.https === true, pkiDir, options, demo } };
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

function demoMerchant(newSecret: () => string): MerchantInput {
  return { appId: DEMO_MERCHANT.appId, mchId: DEMO_MERCHANT.mchId, key: newSecret(), profile: "domestic", appSecrets: { [DEMO_MERCHANT.appId]: newSecret() } };
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
