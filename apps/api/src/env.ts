import { CURRENCIES, MerchantCategoryCodeSchema, notifyUrlProblem, SIGN_TYPES, type Currency, type SignType } from "@pay/core";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { DEFAULT_API_MAX_IN_FLIGHT, DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http/limits.js";
import { webhookUrlProblem } from "./services/webhooks/url.js";

/** Thrown when the environment cannot run the API; names the variable, never echoes a secret. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const text = z.string().trim().min(1, "must not be empty");
const url = text.url("must be an absolute URL");
const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().min(1);
/** A whole number from `min` to `max`, with one message for every way of missing it. */
function wholeNumber(min: number, max: number, unit: string) {
  const message = `must be a whole number of ${unit} from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
}
const notifyUrl = text.superRefine((value, ctx) => {
  const problem = notifyUrlProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

// ---- issue 21, rate limits (part "ratelimit"): RATE_LIMIT_*, TRUST_PROXY_HOPS
/** The most requests one rate limit may allow at once, and its longest period (a day). */
export const MAX_RATE_LIMIT_COUNT = 100_000;
export const MAX_RATE_LIMIT_SECONDS = 86_400;
const RATE_LIMIT_MESSAGE = `must be off or <count>/<seconds>, e.g. 20/60 (count 1 to ${MAX_RATE_LIMIT_COUNT}, seconds 1 to ${MAX_RATE_LIMIT_SECONDS})`;
const rateLimit = z
  .string()
  .trim()
  .regex(/^(off|[0-9]{1,6}\/[0-9]{1,6})$/, RATE_LIMIT_MESSAGE)
  .refine((value) => parseRateLimit(value) !== null, RATE_LIMIT_MESSAGE);
/** The most proxies TRUST_PROXY_HOPS may name. */
export const MAX_TRUST_PROXY_HOPS = 16;
const TRUST_PROXY_HOPS_MESSAGE = `must be a whole number of proxies in front of the API, from 0 to ${MAX_TRUST_PROXY_HOPS}`;

/** `<count>/<seconds>` as a limit, `off` as undefined; null when out of range (the schema's message then names the variable). */
function parseRateLimit(value: string): RateLimit | undefined | null {
  if (value === "off") return undefined;
  const [count, seconds] = value.split("/").map(Number);
  if (count === undefined || seconds === undefined || !Number.isInteger(count) || !Number.isInteger(seconds)) return null;
  if (count < 1 || count > MAX_RATE_LIMIT_COUNT || seconds < 1 || seconds > MAX_RATE_LIMIT_SECONDS) return null;
  return { count, periodSeconds: seconds };
}
// ---- end issue 21, rate limits

/** NODE_ENV values: production tightens what is accepted (webhook endpoints must use https). */
export const NODE_ENVS = ["development", "production", "test"] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

/** The protocols an order can be placed with; `WXPAY_API_VERSION` picks the one new orders use. */
export const API_VERSIONS = ["v2", "v3"] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

/** The v3 path families: `/v3/pay/...` + `/v3/refund/domestic/...`, or `/v3/global/...` (WeChat Pay Global). */
export const V3_ACCOUNTS = ["domestic", "global"] as const;
export type V3Account = (typeof V3_ACCOUNTS)[number];

/** How WeChat Pay's signatures are verified: its public key, its platform certificates, or both while a merchant moves between them. */
export type V3KeyMode = "public-key" | "platform-certificate" | "migration";

const DOMESTIC_BASE_URL = "https://api.mch.weixin.qq.com";
const GLOBAL_BASE_URL = "https://apihk.mch.weixin.qq.com";

/** WeChat Pay's own API hosts (the five the SDKs name); any host under these domains counts too (apius.mch.weixin.qq.com, ...). */
export const WECHAT_PAY_HOSTS = ["api.mch.weixin.qq.com", "api2.mch.weixin.qq.com", "apihk.mch.weixin.qq.com", "api.wechatpay.cn", "api2.wechatpay.cn"] as const;
const WECHAT_PAY_DOMAINS = ["weixin.qq.com", "wechatpay.cn"] as const;

/** True when `url` points at WeChat Pay itself rather than a local gateway (the sandbox). */
export function isWechatPayHost(url: string): boolean {
  const host = new URL(url).hostname.toLowerCase().replace(/\.$/, "");
  return (WECHAT_PAY_HOSTS as readonly string[]).includes(host) || WECHAT_PAY_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

/** API_WORKER_NICENESS unset: the API workers' nice value above the notify worker's (Linux's range is 0 to 19 above). */
export const DEFAULT_API_WORKER_NICENESS = 10;

/** The most API worker processes API_WORKERS may ask for (and what `auto` is capped at). */
export const MAX_API_WORKERS = 64;
const WORKERS_MESSAGE = `must be auto or a whole number of processes from 1 to ${MAX_API_WORKERS}`;

/** apps/console/dist beside this package (from src/ when run by tsx or vitest, from dist/ when built: both one level down). */
const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../console/dist", import.meta.url));

/** Every variable the API reads, validated in one place. process.env is read nowhere else. */
export const EnvSchema = z
  .object({
    PORT: port.default(3000),
    HOST: text.default("127.0.0.1"),
    /** The port of GET /metrics (Prometheus text), its own server; unset: no metrics server. Never the public port. */
    METRICS_PORT: port.optional(),
    METRICS_HOST: text.default("127.0.0.1"),
    /**
     * Issue 21, notifies first: a port of their own for the notify routes (/wxpay/...), served by a process of its own
     * (a primary, API_WORKERS API workers and one notify worker: docs/workers.md). Unset: notifies share PORT's process.
     */
    NOTIFY_PORT: port.optional(),
    /** Where NOTIFY_PORT listens; default HOST. */
    NOTIFY_HOST: text.optional(),
    /**
     * With NOTIFY_PORT: how much nicer (lower CPU priority, Linux nice) the API workers run than the notify worker, so
     * that on a saturated host the notifies get a core first (docs/workers.md). 0 leaves them equal.
     */
    API_WORKER_NICENESS: wholeNumber(0, 19, "nice levels").default(DEFAULT_API_WORKER_NICENESS),
    /** 1: one process (the default); N: a primary forks N workers sharing PORT (node:cluster); auto: one per core (docs/workers.md). */
    API_WORKERS: z
      .string()
      .trim()
      .regex(/^(auto|[0-9]{1,4})$/, WORKERS_MESSAGE)
      .refine((value) => value === "auto" || (Number(value) >= 1 && Number(value) <= MAX_API_WORKERS), WORKERS_MESSAGE)
      .default("1"),
    /** A SQLite file path, or a postgres:// URL. */
    DATABASE_URL: text.default("./data/pay.db"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** Unset: https://api.mch.weixin.qq.com, or https://apihk.mch.weixin.qq.com with WXPAY_ACCOUNT=global (decided in loadConfig). */
    WXPAY_BASE_URL: url.optional(),
    WXPAY_FAILOVER_BASE_URL: url.optional(),
    WXPAY_APPID: text.max(32),
    WXPAY_MCHID: text.max(32),
    /** Required while new orders use v2 (WXPAY_API_VERSION=v2); a v3 process needs it only while v2 orders still settle. */
    WXPAY_KEY: z
      .string()
      .regex(/^[0-9A-Za-z]{32}$/, "must be the 32-character v2 API key (letters and digits)")
      .optional(),
    WXPAY_API_VERSION: z.enum(API_VERSIONS, { error: "must be v2 or v3" }).default("v2"),
    /** Exactly 32 printable ASCII characters, so its UTF-8 bytes are an AES-256 key. */
    WXPAY_APIV3_KEY: z
      .string()
      .regex(/^[\x21-\x7E]{32}$/, "must be the 32-character APIv3 key from the merchant platform (printable ASCII, no spaces or line breaks)")
      .optional(),
    WXPAY_ACCOUNT: z.enum(V3_ACCOUNTS, { error: "must be domestic or global" }).default("domestic"),
    WXPAY_MERCHANT_CATEGORY_CODE: MerchantCategoryCodeSchema.optional(),
    WXPAY_CERT_SERIAL_NO: z
      .string()
      .regex(/^[0-9A-Fa-f]{1,64}$/, "must be the merchant API certificate's serial number in hex (40 digits, as `openssl x509 -noout -serial` prints after serial=)")
      .optional(),
    WXPAY_PUBLIC_KEY_ID: z
      .string()
      .regex(/^PUB_KEY_ID_[0-9A-Za-z]{1,64}$/, "must be the WeChat Pay public key ID: PUB_KEY_ID_ followed by its digits")
      .optional(),
    WXPAY_PUBLIC_KEY_PATH: text.optional(),
    WXPAY_PLATFORM_CERTIFICATES: z.enum(["on", "off"], { error: "must be on or off" }).optional(),
    WXPAY_SIGN_TYPE: z.enum(SIGN_TYPES).default("HMAC-SHA256"),
    WXPAY_NOTIFY_URL: notifyUrl,
    WXPAY_REFUND_NOTIFY_URL: notifyUrl.optional(),
    WXPAY_SUB_APPID: text.max(32).optional(),
    WXPAY_SUB_MCHID: text.max(32).optional(),
    WXPAY_FEE_TYPE: z
      .string()
      .refine((c) => (CURRENCIES as readonly string[]).includes(c), "must be an ISO 4217 code @pay/core knows (CNY, HKD, USD, JPY, ...)")
      .default("CNY"),
    WXPAY_CERT_PATH: text.optional(),
    WXPAY_CERT_KEY_PATH: text.optional(),
    WXPAY_PFX_PATH: text.optional(),
    WXPAY_PFX_PASSPHRASE: z.string().optional(),
    /** An extra CA to trust for the gateway (the sandbox's own CA over HTTPS). */
    WXPAY_CA_PATH: text.optional(),
    /** The server's IP as sent in spbill_create_ip. */
    WXPAY_SPBILL_CREATE_IP: z.union([z.ipv4(), z.ipv6()]).default("127.0.0.1"),
    WX_API_BASE_URL: url.default("https://api.weixin.qq.com"),
    WX_APPSECRET: text,
    SESSION_SECRET: z.string().min(32, "must be at least 32 characters"),
    SESSION_TTL_SECONDS: seconds.default(7 * 24 * 3600),
    ADMIN_TOKEN: z.string().min(24, "must be at least 24 characters"),
    /** How long a console (staff) session lasts from sign-in, at most. */
    STAFF_SESSION_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(8 * 3600),
    /** A console session unused this long ends before its expiry. */
    STAFF_SESSION_IDLE_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(3600),
    ORDER_QUERY_AFTER_SECONDS: seconds.default(5),
    /** Unpaid orders expire (time_expire) this long after creation and are then closed. */
    ORDER_TTL_MINUTES: z.coerce
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(30),
    SWEEP_INTERVAL_SECONDS: seconds.default(10),
    /** production: webhook endpoints must use https. */
    NODE_ENV: z.enum(NODE_ENVS, { error: "must be development, production or test" }).default("development"),
    /** One webhook endpoint, receiving every event type, without any admin call (kept in step at each start). */
    WEBHOOK_URL: text.optional(),
    WEBHOOK_SECRET: z.string().min(24, "must be at least 24 characters").max(256, "must be at most 256 characters").optional(),
    /** on: this process delivers webhooks (with every other process that does); off: it only writes events. */
    WEBHOOK_DELIVERY: z.enum(["on", "off"], { error: "must be on or off" }).default("on"),
    /** How often a process looks for due deliveries besides being woken by its own commits. */
    WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** How long a claimed delivery is held before another process may take it over (a process killed mid-delivery). */
    WEBHOOK_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
    /** on: this process's scheduler reconciles each day once its bill is out (with every other process that does, one at a time per day). */
    RECONCILE_SCHEDULE: z.enum(["on", "off"], { error: "must be on or off" }).default("on"),
    /** The Beijing time of the next day after which a day is reconciled (WeChat Pay's bills are out from about 10:00). */
    RECONCILE_AT: z
      .string()
      .regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, "must be a Beijing time of day as HH:MM (00:00 to 23:59)")
      .default("10:00"),
    /** How long after a failed run (bill not ready, gateway unreachable) the scheduler tries the day again. */
    RECONCILE_RETRY_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
    /** How many days back the scheduler looks for days not yet reconciled (yesterday is 1). */
    RECONCILE_CATCH_UP_DAYS: z.coerce.number().int().min(1).max(31).default(3),
    /** How long a run holds its day before another process may take the day over (renewed while it works). */
    RECONCILE_LEASE_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    /** How often the scheduler looks for due days. */
    RECONCILE_POLL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
    /** The built merchant console served at /console (default: the monorepo's apps/console/dist). */
    CONSOLE_DIR: text.optional(),
    // Issue 21, graceful shutdown (server.ts, src/shutdown.ts, docs/reliability.md "Graceful shutdown").
    /** After SIGTERM/SIGINT, how long /readyz answers 503 while everything is still served, before the listener closes (a load balancer stops sending). */
    SHUTDOWN_READINESS_DELAY_MS: z.coerce.number().int().min(0).max(300_000).default(5000),
    /** From the first SIGTERM/SIGINT, how long the whole drain may take before the process is forced out (exit 1). */
    SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(25),
    // ---- issue 21, rate limits (docs/api.md "Rate limits"): `<count>/<seconds>` (a burst of count, refilled at count per seconds) or off.
    /** Per signed-in user: POST /api/orders. */
    RATE_LIMIT_ORDERS: rateLimit.default("20/60"),
    /** Per signed-in user: POST /api/orders/:id/payment. */
    RATE_LIMIT_RENEWALS: rateLimit.default("30/60"),
    /** Per client address: POST /api/session (generous: many payers can share one address behind a carrier's NAT). */
    RATE_LIMIT_SIGN_INS: rateLimit.default("120/60"),
    /** 0: the client address is the connection's; N: the Nth address from the right of X-Forwarded-For (N proxies of yours in front). */
    TRUST_PROXY_HOPS: z
      .string()
      .trim()
      .regex(/^[0-9]{1,2}$/, TRUST_PROXY_HOPS_MESSAGE)
      .refine((value) => Number(value) <= MAX_TRUST_PROXY_HOPS, TRUST_PROXY_HOPS_MESSAGE)
      .default("0"),
    // ---- end issue 21, rate limits
    // Issue 21, gateway guard (gateway/guard.ts): the bulkhead and the breaker in front of WeChat Pay.
    /** Calls to WeChat Pay in flight at once in this process, both protocols together. */
    GATEWAY_MAX_CONCURRENT_CALLS: wholeNumber(1, 10_000, "calls").default(64),
    /** Calls that may wait for a free slot; 0: a call finding every slot taken is refused at once. */
    GATEWAY_MAX_QUEUED_CALLS: wholeNumber(0, 10_000, "calls").default(64),
    /** How long a call waits for a slot before it is refused. */
    GATEWAY_MAX_QUEUE_WAIT_MS: wholeNumber(1, 60_000, "milliseconds").default(1000),
    /** Consecutive gateway failures (timeouts, no connection, 5xx, SYSTEMERROR) that open a protocol's breaker; off: no breaker. */
    GATEWAY_BREAKER_FAILURES: z
      .string()
      .trim()
      .regex(/^(off|[0-9]{1,4})$/, "must be off or a whole number of failures from 1 to 1000")
      .refine((value) => value === "off" || (Number(value) >= 1 && Number(value) <= 1000), "must be off or a whole number of failures from 1 to 1000")
      .default("5"),
    /** How long an open breaker refuses calls before one probe call may go through. */
    GATEWAY_BREAKER_OPEN_SECONDS: wholeNumber(1, 3600, "seconds").default(10),
    /** Each failed probe opens the breaker for twice as long as the last time, at most this long. */
    GATEWAY_BREAKER_MAX_OPEN_SECONDS: wholeNumber(1, 3600, "seconds").default(60),
    // Issue 21, server timeouts and limits (http/limits.ts): what one client may hold of a process.
    /** The whole request (headers and body) must arrive within this, in ms; else 408. */
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    /** The headers must arrive within this, in ms (at most HTTP_REQUEST_TIMEOUT_MS); else 408. */
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(DEFAULT_HTTP_LIMITS.headersTimeoutMs),
    /** An idle keep-alive connection is closed after this, in ms. */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
    /** A connection with no traffic either way for this long, in ms, is destroyed. */
    HTTP_SOCKET_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(DEFAULT_HTTP_LIMITS.socketIdleTimeoutMs),
    /** A keep-alive connection is closed after serving this many requests. */
    HTTP_MAX_REQUESTS_PER_SOCKET: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_HTTP_LIMITS.maxRequestsPerSocket),
    /** Request line and headers, in bytes; larger gets 431. */
    HTTP_MAX_HEADER_BYTES: z.coerce.number().int().min(4096).max(65_536).default(DEFAULT_HTTP_LIMITS.maxHeaderBytes),
    /** A JSON body must arrive within this, in ms, once its route reads it (at most HTTP_REQUEST_TIMEOUT_MS); else 400 and the connection closes. */
    HTTP_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(DEFAULT_HTTP_LIMITS.jsonBodyTimeoutMs),
    /** /api requests one process works on at once; beyond it 503 OVERLOADED at once (notifies, /healthz, /readyz never count). */
    API_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_API_MAX_IN_FLIGHT),
  })
  .superRefine((env, ctx) => {
    const issue = (variable: string, message: string): void => ctx.addIssue({ code: "custom", path: [variable], message });
    // The public port never serves /metrics: the two servers cannot share a port.
    if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT)
      issue("METRICS_PORT", "must differ from PORT (the public port never serves /metrics)");
    // The notify port is a listener of its own; two listeners asking for port 0 in one cluster would share one port.
    if (env.NOTIFY_PORT !== undefined && env.NOTIFY_PORT === env.PORT)
      issue("NOTIFY_PORT", env.NOTIFY_PORT === 0 ? "cannot be 0 while PORT is 0 (the two would share one port)" : "must differ from PORT (the notifies' listener is their own)");
    if (env.NOTIFY_PORT !== undefined && env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.NOTIFY_PORT === env.METRICS_PORT)
      issue("NOTIFY_PORT", "must differ from METRICS_PORT");
    if (env.NOTIFY_HOST !== undefined && env.NOTIFY_PORT === undefined) issue("NOTIFY_HOST", "is set but NOTIFY_PORT is not (NOTIFY_HOST only says where NOTIFY_PORT listens)");
    // Issue 21, gateway guard: the back-off's ceiling cannot be below its first step.
    if (env.GATEWAY_BREAKER_MAX_OPEN_SECONDS < env.GATEWAY_BREAKER_OPEN_SECONDS)
      issue("GATEWAY_BREAKER_MAX_OPEN_SECONDS", `must be at least GATEWAY_BREAKER_OPEN_SECONDS (${env.GATEWAY_BREAKER_OPEN_SECONDS})`);
    // Issue 21, server limits: Node refuses a headers timeout longer than the request timeout, and a longer body deadline would never fire.
    if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS)
      issue("HTTP_HEADERS_TIMEOUT_MS", `must be at most HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS}): the headers are part of the request`);
    if (env.HTTP_BODY_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS)
      issue("HTTP_BODY_TIMEOUT_MS", `must be at most HTTP_REQUEST_TIMEOUT_MS (${env.HTTP_REQUEST_TIMEOUT_MS}): the body is part of the request`);
    if (env.WEBHOOK_URL !== undefined) {
      const problem = webhookUrlProblem(env.WEBHOOK_URL, { production: env.NODE_ENV === "production" });
      if (problem !== undefined) issue("WEBHOOK_URL", problem);
      if (env.WEBHOOK_SECRET === undefined) issue("WEBHOOK_SECRET", "is required with WEBHOOK_URL: it signs every delivery (at least 24 characters)");
    } else if (env.WEBHOOK_SECRET !== undefined) issue("WEBHOOK_URL", "is required with WEBHOOK_SECRET");
    // v3 is configured when new orders use it, or when its key is given (a process back on v2 still settling v3 orders).
    const v3 = env.WXPAY_API_VERSION === "v3" || env.WXPAY_APIV3_KEY !== undefined;
    if ((env.WXPAY_SUB_APPID === undefined) !== (env.WXPAY_SUB_MCHID === undefined)) {
      issue(env.WXPAY_SUB_APPID === undefined ? "WXPAY_SUB_APPID" : "WXPAY_SUB_MCHID", "institutional mode needs both WXPAY_SUB_APPID and WXPAY_SUB_MCHID");
    }
    if (env.WXPAY_CERT_PATH !== undefined && env.WXPAY_CERT_KEY_PATH === undefined) {
      issue("WXPAY_CERT_KEY_PATH", "set both WXPAY_CERT_PATH and WXPAY_CERT_KEY_PATH, or use WXPAY_PFX_PATH");
    }
    if (env.WXPAY_CERT_KEY_PATH !== undefined && env.WXPAY_CERT_PATH === undefined && !(v3 && env.WXPAY_CERT_SERIAL_NO !== undefined)) {
      issue(
        "WXPAY_CERT_PATH",
        v3
          ? "is required with WXPAY_CERT_KEY_PATH unless WXPAY_CERT_SERIAL_NO gives the merchant certificate's serial"
          : "set both WXPAY_CERT_PATH and WXPAY_CERT_KEY_PATH, or use WXPAY_PFX_PATH",
      );
    }
    if (env.WXPAY_CERT_PATH !== undefined && env.WXPAY_PFX_PATH !== undefined) {
      issue("WXPAY_PFX_PATH", "set either the PEM pair or WXPAY_PFX_PATH, not both");
    }
    if (env.WXPAY_API_VERSION === "v2" && env.WXPAY_KEY === undefined) {
      issue("WXPAY_KEY", "is required while new orders use v2 (WXPAY_API_VERSION=v2)");
    }
    if (!v3) {
      // A v3 setting without the APIv3 key would be silently ignored; say so instead.
      for (const variable of ["WXPAY_CERT_SERIAL_NO", "WXPAY_PUBLIC_KEY_ID", "WXPAY_PUBLIC_KEY_PATH", "WXPAY_PLATFORM_CERTIFICATES", "WXPAY_MERCHANT_CATEGORY_CODE"] as const) {
        if (env[variable] !== undefined) issue(variable, "is an APIv3 setting: set WXPAY_APIV3_KEY (and WXPAY_API_VERSION=v3 to place orders with v3) or remove it");
      }
      return;
    }
    if (env.WXPAY_APIV3_KEY === undefined) issue("WXPAY_APIV3_KEY", "is required with WXPAY_API_VERSION=v3 (it decrypts notifies and certificates)");
    if (env.WXPAY_CERT_KEY_PATH === undefined) {
      issue(
        "WXPAY_CERT_KEY_PATH",
        env.WXPAY_PFX_PATH === undefined
          ? "is required for APIv3: the merchant API private key (apiclient_key.pem) signs every request"
          : "is required for APIv3: the merchant API private key (apiclient_key.pem) signs every request; APIv3 does not sign with WXPAY_PFX_PATH (extract the key: openssl pkcs12 -in apiclient_cert.p12 -nocerts -nodes)",
      );
    } else if (env.WXPAY_CERT_PATH === undefined && env.WXPAY_CERT_SERIAL_NO === undefined) {
      issue("WXPAY_CERT_SERIAL_NO", "is required for APIv3 when WXPAY_CERT_PATH is not set: the merchant certificate's serial names the signing key");
    }
    if ((env.WXPAY_PUBLIC_KEY_ID === undefined) !== (env.WXPAY_PUBLIC_KEY_PATH === undefined)) {
      issue(env.WXPAY_PUBLIC_KEY_ID === undefined ? "WXPAY_PUBLIC_KEY_ID" : "WXPAY_PUBLIC_KEY_PATH", "public-key mode needs both WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY_PATH");
    }
    if (env.WXPAY_PLATFORM_CERTIFICATES === "off" && env.WXPAY_PUBLIC_KEY_ID === undefined) {
      issue("WXPAY_PLATFORM_CERTIFICATES", "must not be off without WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY_PATH: nothing else could verify WeChat Pay");
    }
    if (env.WXPAY_ACCOUNT === "global" && env.WXPAY_MERCHANT_CATEGORY_CODE === undefined) {
      issue("WXPAY_MERCHANT_CATEGORY_CODE", "is required with WXPAY_ACCOUNT=global (every Global order carries merchant_category_code)");
    }
    if (env.WXPAY_ACCOUNT === "domestic" && env.WXPAY_FEE_TYPE !== "CNY") {
      issue("WXPAY_FEE_TYPE", "must be CNY for a domestic APIv3 merchant; a WeChat Pay Global merchant sets WXPAY_ACCOUNT=global");
    }
    const gatewayUrls = [
      ["WXPAY_BASE_URL", env.WXPAY_BASE_URL ?? (env.WXPAY_ACCOUNT === "global" ? GLOBAL_BASE_URL : DOMESTIC_BASE_URL)],
      ["WXPAY_FAILOVER_BASE_URL", env.WXPAY_FAILOVER_BASE_URL],
    ] as const;
    for (const [variable, value] of gatewayUrls) {
      if (value !== undefined && isWechatPayHost(value) && !value.startsWith("https://")) issue(variable, "must use https for WeChat Pay");
    }
    if (!allowsHttpNotifyUrl(env)) {
      for (const variable of ["WXPAY_NOTIFY_URL", "WXPAY_REFUND_NOTIFY_URL"] as const) {
        const value = env[variable];
        if (value !== undefined && !value.startsWith("https://")) {
          issue(variable, "must use https for APIv3 (http is accepted only when WXPAY_BASE_URL and WXPAY_FAILOVER_BASE_URL are not WeChat Pay hosts, e.g. the local sandbox)");
        }
      }
    }
  });

/** v3 notify URLs may be plain http only when no configured gateway is WeChat Pay itself (the sandbox calls back over http). */
function allowsHttpNotifyUrl(env: { WXPAY_BASE_URL?: string | undefined; WXPAY_FAILOVER_BASE_URL?: string | undefined }): boolean {
  return env.WXPAY_BASE_URL !== undefined && !isWechatPayHost(env.WXPAY_BASE_URL) && (env.WXPAY_FAILOVER_BASE_URL === undefined || !isWechatPayHost(env.WXPAY_FAILOVER_BASE_URL));
}

export type Env = z.output<typeof EnvSchema>;

/** The variable the cluster primary sets on a worker it forks to say what it serves (src/cluster.ts); not an operator's setting. */
export const WORKER_ROLE_VARIABLE = "PAY_API_WORKER_ROLE";

/** What a process of the API serves: the whole API on PORT, or the notify routes on NOTIFY_PORT (src/cluster.ts). */
export type WorkerRole = "api" | "notify";

/** The role a forked worker was given: the notify worker of NOTIFY_PORT when the primary said so, else an API worker. */
export function workerRoleOf(source: Readonly<Record<string, string | undefined>> = process.env): WorkerRole {
  return source[WORKER_ROLE_VARIABLE] === "notify" ? "notify" : "api";
}

/** The API's configuration, derived from the environment once at start. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /** Where GET /metrics listens (its own server), or undefined: no metrics server. */
  readonly metrics: { readonly port: number; readonly host: string } | undefined;
  /** API_WORKERS resolved: 1 is one process; more is a primary and this many workers on one port (`auto`: the host's cores, at most MAX_API_WORKERS). */
  readonly workers: number;
  /**
   * NOTIFY_PORT: the notify routes' own listener, served by a notify worker beside the API workers (notifies then never
   * share an event loop with order creation; PORT still answers them too, for notify URLs given out before). Undefined:
   * notifies are served on PORT only.
   */
  readonly notifyListener: { readonly port: number; readonly host: string } | undefined;
  /**
   * API_WORKER_NICENESS: with a notify worker, what each API worker adds to its nice value at start (0: nothing), so
   * the notify worker is scheduled first when the host's cores are all busy. Without NOTIFY_PORT it is never applied.
   */
  readonly apiWorkerNiceness: number;
  readonly databaseUrl: string;
  readonly logLevel: Env["LOG_LEVEL"];
  readonly merchant: {
    readonly appId: string;
    readonly mchId: string;
    readonly subAppId: string | undefined;
    readonly subMchId: string | undefined;
    /** How v2 requests, orders and paySign are signed (v2 only). */
    readonly signType: SignType;
    readonly feeType: Currency;
    readonly notifyUrl: string;
    readonly refundNotifyUrl: string | undefined;
    readonly spbillCreateIp: string;
  };
  /** The protocol new orders are placed with; an order keeps the protocol it was placed with. */
  readonly apiVersion: ApiVersion;
  /**
   * The v2 credential, or undefined when WXPAY_KEY is unset (allowed only with WXPAY_API_VERSION=v3). The
   * configuration cannot know whether the database still holds v2 orders: whoever serves one must refuse it
   * when this is undefined.
   */
  readonly v2: { readonly key: string } | undefined;
  /** APIv3, or undefined when it is not configured (no WXPAY_APIV3_KEY and WXPAY_API_VERSION=v2). Key files are read by loadV3Credentials. */
  readonly v3: V3Config | undefined;
  readonly gateway: {
    /** Shared by v2 and v3; by default https://api.mch.weixin.qq.com, or https://apihk.mch.weixin.qq.com with WXPAY_ACCOUNT=global. */
    readonly baseUrl: string;
    readonly failoverBaseUrl: string | undefined;
    readonly caPath: string | undefined;
    readonly clientCert:
      { readonly kind: "pem"; readonly certPath: string; readonly keyPath: string } | { readonly kind: "pfx"; readonly pfxPath: string; readonly passphrase: string } | undefined;
  };
  readonly wx: { readonly apiBaseUrl: string; readonly appSecret: string };
  readonly sessionSecret: string;
  readonly sessionTtlSeconds: number;
  readonly adminToken: string;
  /** The console's staff sessions (docs/console.md "Security"). */
  readonly staff: StaffConfig;
  readonly orderQueryAfterSeconds: number;
  readonly orderTtlMinutes: number;
  readonly sweepIntervalSeconds: number;
  readonly nodeEnv: NodeEnv;
  readonly webhooks: WebhookConfig;
  readonly reconciliation: ReconciliationConfig;
  /** CONSOLE_DIR, absolute: the built console's folder, read once at start (routes/console.ts). */
  readonly consoleDir: string;
  /** Issue 21: the graceful shutdown on SIGTERM/SIGINT (src/shutdown.ts). */
  readonly shutdown: ShutdownConfig;
  /** Issue 21: the public routes' rate limits and where the client address comes from. */
  readonly rateLimits: RateLimitConfig;
  /** Issue 21: the bulkhead and breaker in front of WeChat Pay (gateway/guard.ts). */
  readonly gatewayGuard: GatewayGuardConfig;
  /** Issue 21: the public server's timeouts and limits (HTTP_*). */
  readonly http: HttpLimits;
  /** API_MAX_IN_FLIGHT: /api requests this process works on at once before answering 503 OVERLOADED. */
  readonly apiMaxInFlight: number;
}

/** The drain on SIGTERM/SIGINT: readiness first, then the listener, then everything in flight, within a deadline. */
export interface ShutdownConfig {
  /** SHUTDOWN_READINESS_DELAY_MS: /readyz answers 503 this long before the listener closes. */
  readonly readinessDelayMs: number;
  /** SHUTDOWN_TIMEOUT_SECONDS in ms: from the first signal to a forced exit. */
  readonly timeoutMs: number;
}

/** One rate limit: a burst of `count` requests, refilled at `count` per `periodSeconds`. */
export interface RateLimit {
  readonly count: number;
  readonly periodSeconds: number;
}

/** The rate limits of the public routes (undefined: off) and TRUST_PROXY_HOPS (docs/api.md "Rate limits"). */
export interface RateLimitConfig {
  /** RATE_LIMIT_ORDERS, per user. */
  readonly orders: RateLimit | undefined;
  /** RATE_LIMIT_RENEWALS, per user. */
  readonly renewals: RateLimit | undefined;
  /** RATE_LIMIT_SIGN_INS, per client address. */
  readonly signIns: RateLimit | undefined;
  /** TRUST_PROXY_HOPS: 0, the connection's address; N, the Nth address from the right of X-Forwarded-For. */
  readonly trustProxyHops: number;
}

/** The gateway guard (docs/reliability.md "Gateway bulkhead and breaker"). */
export interface GatewayGuardConfig {
  readonly maxConcurrentCalls: number;
  readonly maxQueuedCalls: number;
  readonly maxQueueWaitMs: number;
  /** undefined: GATEWAY_BREAKER_FAILURES=off. */
  readonly breaker: { readonly failures: number; readonly openSeconds: number; readonly maxOpenSeconds: number } | undefined;
}

/** Console sessions: an absolute lifetime from sign-in and an idle timeout. */
export interface StaffConfig {
  readonly sessionTtlSeconds: number;
  readonly sessionIdleSeconds: number;
}

/** Daily reconciliation (docs/reconciliation.md). */
export interface ReconciliationConfig {
  /** RECONCILE_SCHEDULE: whether this process's scheduler starts runs (routes and the CLI work either way). */
  readonly schedule: boolean;
  /** RECONCILE_AT as minutes after Beijing midnight of the day after the one reconciled. */
  readonly atMinutes: number;
  readonly retryMinutes: number;
  readonly catchUpDays: number;
  readonly leaseSeconds: number;
  readonly pollSeconds: number;
}

/** Order events delivered to the shop's own systems (docs/webhooks.md). */
export interface WebhookConfig {
  /** WEBHOOK_URL + WEBHOOK_SECRET: an endpoint for every event type, kept in step with the environment at start. The secret is never logged. */
  readonly endpoint: { readonly url: string; readonly secret: string } | undefined;
  /** WEBHOOK_DELIVERY: whether this process delivers (every process writes events either way). */
  readonly delivery: boolean;
  readonly pollIntervalMs: number;
  /** WEBHOOK_LEASE_SECONDS in ms: how long a claim holds a delivery. */
  readonly leaseMs: number;
}

/** The APIv3 settings as validated from the environment: values and file paths (the files are read at start by loadV3Credentials). */
export interface V3Config {
  readonly account: V3Account;
  /** The 32-character APIv3 key. Never logged. */
  readonly apiV3Key: string;
  /** WXPAY_CERT_KEY_PATH: the merchant API private key, apiclient_key.pem. */
  readonly merchantKeyPath: string;
  /** WXPAY_CERT_PATH: the merchant API certificate, when given; the signing serial is read from it. */
  readonly merchantCertPath: string | undefined;
  /** WXPAY_CERT_SERIAL_NO in upper case, when given; must equal the certificate's serial when both are set. */
  readonly merchantSerialNo: string | undefined;
  /** WXPAY_PUBLIC_KEY_ID + WXPAY_PUBLIC_KEY_PATH (wxp_pub.pem). */
  readonly publicKey: { readonly id: string; readonly path: string } | undefined;
  /** Download and trust platform certificates (/v3/certificates): without a public key always; with one only when WXPAY_PLATFORM_CERTIFICATES=on. */
  readonly platformCertificates: boolean;
  readonly mode: V3KeyMode;
  /** WXPAY_MERCHANT_CATEGORY_CODE: set (and required) for a Global account. */
  readonly merchantCategoryCode: string | undefined;
  /** Plain-http notify URLs may be sent: only when neither gateway URL is a WeChat Pay host (the local sandbox). */
  readonly allowHttpNotifyUrl: boolean;
}

/** Turns the first schema issue into a message naming the variable; secret values are never quoted. */
function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const message = issue.code === "invalid_type" && issue.message.includes("undefined") ? "is required" : issue.message;
      return `${name} ${message}`;
    })
    .join("; ");
}

/** Validates the environment (the process's by default) and builds the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(source: Readonly<Record<string, string | undefined>> = process.env): AppConfig {
  // Empty variables count as unset, as shells and env files often leave them.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${describe(parsed.error)}`);
  const env = parsed.data;
  // Defaulted by the schema, so only the source tells whether it was asked for: without a notify worker it would do nothing.
  if (cleaned.API_WORKER_NICENESS !== undefined && env.NOTIFY_PORT === undefined)
    throw new ConfigError("Invalid configuration: API_WORKER_NICENESS is set but NOTIFY_PORT is not (it lowers the API workers' priority below the notify worker's)");
  const baseUrl = env.WXPAY_BASE_URL ?? (env.WXPAY_ACCOUNT === "global" ? GLOBAL_BASE_URL : DOMESTIC_BASE_URL);
  return {
    port: env.PORT,
    host: env.HOST,
    metrics: env.METRICS_PORT === undefined ? undefined : { port: env.METRICS_PORT, host: env.METRICS_HOST },
    workers: env.API_WORKERS === "auto" ? Math.min(availableParallelism(), MAX_API_WORKERS) : Number(env.API_WORKERS),
    notifyListener: env.NOTIFY_PORT === undefined ? undefined : { port: env.NOTIFY_PORT, host: env.NOTIFY_HOST ?? env.HOST },
    apiWorkerNiceness: env.API_WORKER_NICENESS,
    databaseUrl: env.DATABASE_URL,
    logLevel: env.LOG_LEVEL,
    merchant: {
      appId: env.WXPAY_APPID,
      mchId: env.WXPAY_MCHID,
      subAppId: env.WXPAY_SUB_APPID,
      subMchId: env.WXPAY_SUB_MCHID,
      signType: env.WXPAY_SIGN_TYPE,
      feeType: env.WXPAY_FEE_TYPE as Currency,
      notifyUrl: env.WXPAY_NOTIFY_URL,
      refundNotifyUrl: env.WXPAY_REFUND_NOTIFY_URL,
      spbillCreateIp: env.WXPAY_SPBILL_CREATE_IP,
    },
    apiVersion: env.WXPAY_API_VERSION,
    v2: env.WXPAY_KEY === undefined ? undefined : { key: env.WXPAY_KEY },
    v3: v3Config(env, baseUrl),
    gateway: {
      baseUrl,
      failoverBaseUrl: env.WXPAY_FAILOVER_BASE_URL,
      caPath: env.WXPAY_CA_PATH,
      clientCert:
        env.WXPAY_CERT_PATH !== undefined && env.WXPAY_CERT_KEY_PATH !== undefined
          ? { kind: "pem", certPath: env.WXPAY_CERT_PATH, keyPath: env.WXPAY_CERT_KEY_PATH }
          : env.WXPAY_PFX_PATH !== undefined
            ? { kind: "pfx", pfxPath: env.WXPAY_PFX_PATH, passphrase: env.WXPAY_PFX_PASSPHRASE ?? env.WXPAY_MCHID }
            : undefined,
    },
    wx: { apiBaseUrl: env.WX_API_BASE_URL, appSecret: env.WX_APPSECRET },
    sessionSecret: env.SESSION_SECRET,
    sessionTtlSeconds: env.SESSION_TTL_SECONDS,
    adminToken: env.ADMIN_TOKEN,
    staff: { sessionTtlSeconds: env.STAFF_SESSION_TTL_SECONDS, sessionIdleSeconds: env.STAFF_SESSION_IDLE_SECONDS },
    orderQueryAfterSeconds: env.ORDER_QUERY_AFTER_SECONDS,
    orderTtlMinutes: env.ORDER_TTL_MINUTES,
    sweepIntervalSeconds: env.SWEEP_INTERVAL_SECONDS,
    nodeEnv: env.NODE_ENV,
    webhooks: {
      endpoint: env.WEBHOOK_URL === undefined || env.WEBHOOK_SECRET === undefined ? undefined : { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET },
      delivery: env.WEBHOOK_DELIVERY === "on",
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
      leaseMs: env.WEBHOOK_LEASE_SECONDS * 1000,
    },
    reconciliation: {
      schedule: env.RECONCILE_SCHEDULE === "on",
      atMinutes: Number(env.RECONCILE_AT.slice(0, 2)) * 60 + Number(env.RECONCILE_AT.slice(3)),
      retryMinutes: env.RECONCILE_RETRY_MINUTES,
      catchUpDays: env.RECONCILE_CATCH_UP_DAYS,
      leaseSeconds: env.RECONCILE_LEASE_SECONDS,
      pollSeconds: env.RECONCILE_POLL_SECONDS,
    },
    consoleDir: resolve(env.CONSOLE_DIR ?? DEFAULT_CONSOLE_DIR),
    shutdown: { readinessDelayMs: env.SHUTDOWN_READINESS_DELAY_MS, timeoutMs: env.SHUTDOWN_TIMEOUT_SECONDS * 1000 },
    rateLimits: {
      orders: parseRateLimit(env.RATE_LIMIT_ORDERS) ?? undefined,
      renewals: parseRateLimit(env.RATE_LIMIT_RENEWALS) ?? undefined,
      signIns: parseRateLimit(env.RATE_LIMIT_SIGN_INS) ?? undefined,
      trustProxyHops: Number(env.TRUST_PROXY_HOPS),
    },
    gatewayGuard: {
      maxConcurrentCalls: env.GATEWAY_MAX_CONCURRENT_CALLS,
      maxQueuedCalls: env.GATEWAY_MAX_QUEUED_CALLS,
      maxQueueWaitMs: env.GATEWAY_MAX_QUEUE_WAIT_MS,
      breaker:
        env.GATEWAY_BREAKER_FAILURES === "off"
          ? undefined
          : { failures: Number(env.GATEWAY_BREAKER_FAILURES), openSeconds: env.GATEWAY_BREAKER_OPEN_SECONDS, maxOpenSeconds: env.GATEWAY_BREAKER_MAX_OPEN_SECONDS },
    },
    http: {
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      socketIdleTimeoutMs: env.HTTP_SOCKET_IDLE_TIMEOUT_MS,
      maxRequestsPerSocket: env.HTTP_MAX_REQUESTS_PER_SOCKET,
      maxHeaderBytes: env.HTTP_MAX_HEADER_BYTES,
      jsonBodyTimeoutMs: env.HTTP_BODY_TIMEOUT_MS,
    },
    apiMaxInFlight: env.API_MAX_IN_FLIGHT,
  };
}

/** The v3 section of a validated environment (the schema's refinements already refused every incomplete combination). */
function v3Config(env: Env, baseUrl: string): V3Config | undefined {
  if (env.WXPAY_API_VERSION !== "v3" && env.WXPAY_APIV3_KEY === undefined) return undefined;
  if (env.WXPAY_APIV3_KEY === undefined || env.WXPAY_CERT_KEY_PATH === undefined)
    throw new ConfigError("Invalid configuration: APIv3 needs WXPAY_APIV3_KEY and WXPAY_CERT_KEY_PATH");
  const publicKey = env.WXPAY_PUBLIC_KEY_ID === undefined || env.WXPAY_PUBLIC_KEY_PATH === undefined ? undefined : { id: env.WXPAY_PUBLIC_KEY_ID, path: env.WXPAY_PUBLIC_KEY_PATH };
  // A public key alone is trusted alone: platform certificates are added only on request (migration), so a
  // merchant without them (every one onboarded since late 2024) starts, and no extra key is trusted by default.
  const platformCertificates = publicKey === undefined || env.WXPAY_PLATFORM_CERTIFICATES === "on";
  return {
    account: env.WXPAY_ACCOUNT,
    apiV3Key: env.WXPAY_APIV3_KEY,
    merchantKeyPath: env.WXPAY_CERT_KEY_PATH,
    merchantCertPath: env.WXPAY_CERT_PATH,
    merchantSerialNo: env.WXPAY_CERT_SERIAL_NO?.toUpperCase(),
    publicKey,
    platformCertificates,
    mode: publicKey === undefined ? "platform-certificate" : platformCertificates ? "migration" : "public-key",
    merchantCategoryCode: env.WXPAY_MERCHANT_CATEGORY_CODE,
    allowHttpNotifyUrl: allowsHttpNotifyUrl({ WXPAY_BASE_URL: baseUrl, WXPAY_FAILOVER_BASE_URL: env.WXPAY_FAILOVER_BASE_URL }),
  };
}

/** What the staff CLI (src/staff-cli.ts) reads: only the database, and the password when given in the environment. */
export interface StaffCliConfig {
  readonly databaseUrl: string;
  /** STAFF_PASSWORD: the password for `create` and `reset-password` instead of stdin (never printed). */
  readonly password: string | undefined;
}

const StaffCliEnvSchema = z.object({
  DATABASE_URL: text.default("./data/pay.db"),
  STAFF_PASSWORD: z.string().optional(),
});

/** Validates the staff CLI's variables (the process's by default); throws ConfigError naming a bad one. */
export function loadStaffCliConfig(source: Readonly<Record<string, string | undefined>> = process.env): StaffCliConfig {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = StaffCliEnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${describe(parsed.error)}`);
  return { databaseUrl: parsed.data.DATABASE_URL, password: parsed.data.STAFF_PASSWORD };
}
