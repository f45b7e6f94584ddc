import { CURRENCIES, notifyUrlProblem, SIGN_TYPES, type Currency, type SignType } from "@pay/core";
import { z } from "zod";

/** Thrown when the environment cannot run the API; names the variable, never echoes a secret. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const text = z.string().trim().min(1, "must not be empty");
const url = text.url("must be an absolute URL");
const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().min(1);
const notifyUrl = text.superRefine((value, ctx) => {
  const problem = notifyUrlProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});

/** Every variable the API reads, validated in one place. process.env is read nowhere else. */
export const EnvSchema = z
  .object({
    PORT: port.default(3000),
    HOST: text.default("127.0.0.1"),
    /** A SQLite file path, or a postgres:// URL. */
    DATABASE_URL: text.default("./data/pay.db"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    WXPAY_BASE_URL: url.default("https://api.mch.weixin.qq.com"),
    WXPAY_FAILOVER_BASE_URL: url.optional(),
    WXPAY_APPID: text.max(32),
    WXPAY_MCHID: text.max(32),
    WXPAY_KEY: z.string().regex(/^[0-9A-Za-z]{32}$/, "must be the 32-character v2 API key (letters and digits)"),
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
    ORDER_QUERY_AFTER_SECONDS: seconds.default(5),
    /** Unpaid orders expire (time_expire) this long after creation and are then closed. */
    ORDER_TTL_MINUTES: z.coerce
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(30),
    SWEEP_INTERVAL_SECONDS: seconds.default(10),
  })
  .superRefine((env, ctx) => {
    if ((env.WXPAY_SUB_APPID === undefined) !== (env.WXPAY_SUB_MCHID === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [env.WXPAY_SUB_APPID === undefined ? "WXPAY_SUB_APPID" : "WXPAY_SUB_MCHID"],
        message: "institutional mode needs both WXPAY_SUB_APPID and WXPAY_SUB_MCHID",
      });
    }
    if ((env.WXPAY_CERT_PATH === undefined) !== (env.WXPAY_CERT_KEY_PATH === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [env.WXPAY_CERT_PATH === undefined ? "WXPAY_CERT_PATH" : "WXPAY_CERT_KEY_PATH"],
        message: "set both WXPAY_CERT_PATH and WXPAY_CERT_KEY_PATH, or use WXPAY_PFX_PATH",
      });
    }
    if (env.WXPAY_CERT_PATH !== undefined && env.WXPAY_PFX_PATH !== undefined) {
      ctx.addIssue({ code: "custom", path: ["WXPAY_PFX_PATH"], message: "set either the PEM pair or WXPAY_PFX_PATH, not both" });
    }
  });

export type Env = z.output<typeof EnvSchema>;

/** The API's configuration, derived from the environment once at start. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly logLevel: Env["LOG_LEVEL"];
  readonly merchant: {
    readonly appId: string;
    readonly mchId: string;
    readonly subAppId: string | undefined;
    readonly subMchId: string | undefined;
    readonly key: string;
    readonly signType: SignType;
    readonly feeType: Currency;
    readonly notifyUrl: string;
    readonly refundNotifyUrl: string | undefined;
    readonly spbillCreateIp: string;
  };
  readonly gateway: {
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
  readonly orderQueryAfterSeconds: number;
  readonly orderTtlMinutes: number;
  readonly sweepIntervalSeconds: number;
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
  return {
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    logLevel: env.LOG_LEVEL,
    merchant: {
      appId: env.WXPAY_APPID,
      mchId: env.WXPAY_MCHID,
      subAppId: env.WXPAY_SUB_APPID,
      subMchId: env.WXPAY_SUB_MCHID,
      key: env.WXPAY_KEY,
      signType: env.WXPAY_SIGN_TYPE,
      feeType: env.WXPAY_FEE_TYPE as Currency,
      notifyUrl: env.WXPAY_NOTIFY_URL,
      refundNotifyUrl: env.WXPAY_REFUND_NOTIFY_URL,
      spbillCreateIp: env.WXPAY_SPBILL_CREATE_IP,
    },
    gateway: {
      baseUrl: env.WXPAY_BASE_URL,
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
    orderQueryAfterSeconds: env.ORDER_QUERY_AFTER_SECONDS,
    orderTtlMinutes: env.ORDER_TTL_MINUTES,
    sweepIntervalSeconds: env.SWEEP_INTERVAL_SECONDS,
  };
}
