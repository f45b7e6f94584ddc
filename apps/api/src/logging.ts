import { pino, type Bindings, type DestinationStream, type Level, type Logger } from "pino";

/**
 * Field names whose values never reach a log line: API keys and signatures, credentials and
 * session material, certificate material, and raw XML bodies (a signed body plus a leaked key is a
 * forged notify). Redacted at the top level and one object deep.
 */
const SECRET_FIELD_NAMES = [
  "key",
  "apiKey",
  "sign",
  "paySign",
  "stringToSign",
  "authorization",
  "cookie",
  "token",
  "accessToken",
  "access_token",
  "session_key",
  "sessionKey",
  "secret",
  "appSecret",
  "app_secret",
  "password",
  "js_code",
  "jsCode",
  "cert",
  "certPem",
  "keyPem",
  "pfx",
  "passphrase",
  "clientCert",
  "xml",
  "requestXml",
  "responseXml",
  "requestBody",
  "responseBody",
] as const;

/** pino `redact` paths shared by every logger of the API (fast-redact syntax). */
export const LOG_REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELD_NAMES.flatMap((name) => [name, `*.${name}`]),
  "req.headers.authorization",
  "req.headers.cookie",
  'res.headers["set-cookie"]',
  "req.body",
  "res.body",
  "request.body",
  "response.body",
];

/** What a redacted value is replaced with. */
export const LOG_REDACT_CENSOR = "[redacted]";

/** The redact option to hand pino (also for child loggers built from a foreign parent). */
export function logRedactOptions(): { paths: string[]; censor: string } {
  return { paths: [...LOG_REDACT_PATHS], censor: LOG_REDACT_CENSOR };
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const satisfies readonly (Level | "silent")[];
export type LogLevel = (typeof LEVELS)[number];

export interface CreateLoggerOptions {
  /** Default `info`. */
  readonly level?: LogLevel;
  /** Where JSON lines go; stdout when absent (tests pass a stream to read them back). */
  readonly destination?: DestinationStream;
  /** Bound as `name` on every line. */
  readonly name?: string;
}

/** The API's pino logger, with the shared redaction rules. Throws on an unknown level. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new Error(`createLogger: unknown level ${JSON.stringify(level)}; use one of ${LEVELS.join(", ")}.`);
  }
  const config = { level, redact: logRedactOptions(), ...(options.name === undefined ? {} : { name: options.name }) };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/**
 * A child of `parent` that applies the shared redaction itself, so a component stays safe even when
 * handed a logger that was not built by createLogger.
 */
export function childLogger(parent: Logger, bindings: Bindings): Logger {
  return parent.child(bindings, { redact: logRedactOptions() });
}
