import { randomBytes, randomInt } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { DevError } from "./errors.js";
import { MODE_PROFILES, type DevMode } from "./modes.js";

/** Variables the dev stack always sets itself, because they name its own ports and files. */
export const STACK_OWNED_KEYS = [
  "PORT",
  "HOST",
  "WXPAY_BASE_URL",
  "WXPAY_FAILOVER_BASE_URL",
  "WX_API_BASE_URL",
  "WXPAY_NOTIFY_URL",
  "WXPAY_REFUND_NOTIFY_URL",
  "WXPAY_CA_PATH",
  "WXPAY_CERT_PATH",
  "WXPAY_CERT_KEY_PATH",
  "WXPAY_PFX_PATH",
  "WXPAY_PFX_PASSPHRASE",
  // APIv3: the merchant key and certificate (WXPAY_CERT_*) and WeChat Pay's public key are the files the sandbox writes.
  "WXPAY_CERT_SERIAL_NO",
  "WXPAY_PUBLIC_KEY_ID",
  "WXPAY_PUBLIC_KEY_PATH",
  // Order events go to the stack's own fulfilment receiver, signed with a secret made at each start.
  "WEBHOOK_URL",
  "WEBHOOK_SECRET",
] as const;

/** An env file as read: where it is, its variables, and whether this run created it. */
export interface EnvFile {
  readonly path: string;
  readonly values: Readonly<Record<string, string>>;
  readonly created: boolean;
}

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `length` random letters and digits (the v2 API key's alphabet). */
export function randomAlphanumeric(length: number): string {
  let text = "";
  for (let n = 0; n < length; n++) text += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return text;
}

/** Reads a KEY=VALUE file (comments, quotes and `export` allowed, as Node's --env-file reads them). */
export async function readEnvFile(path: string): Promise<EnvFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new DevError("ENV_FILE", `The env file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}).`);
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parseEnv(text))) if (value !== undefined) values[key] = value;
  return { path, values, created: false };
}

/** The text of a new development config for `mode`: the mode's sandbox identity and fresh random secrets. */
export function buildDevConfig(mode: DevMode): string {
  const profile = MODE_PROFILES[mode];
  const lines = [
    `# Development configuration for \`pnpm start --mode ${mode}\` (${profile.title}).`,
    "# Generated on first run with random secrets and reused afterwards; data/ is kept out of git.",
    "# Delete this file for new secrets (sessions signed with the old SESSION_SECRET then stop working).",
    `# The dev stack sets ${STACK_OWNED_KEYS.join(", ")} itself.`,
    "# Every variable is described in docs/configuration.md.",
    "",
    `WXPAY_APPID=${profile.appId}`,
    `WXPAY_MCHID=${profile.mchId}`,
  ];
  if (profile.subAppId !== undefined && profile.subMchId !== undefined) lines.push(`WXPAY_SUB_APPID=${profile.subAppId}`, `WXPAY_SUB_MCHID=${profile.subMchId}`);
  lines.push(`WXPAY_FEE_TYPE=${profile.feeType}`);
  if (profile.v3 === undefined) lines.push("WXPAY_SIGN_TYPE=HMAC-SHA256", `WXPAY_KEY=${randomAlphanumeric(32)}`);
  else {
    lines.push(
      `# APIv3, ${profile.v3.keyMode} mode: the sandbox generates the merchant key, its certificate and WeChat Pay's keys at each start.`,
      "WXPAY_API_VERSION=v3",
      `WXPAY_APIV3_KEY=${randomAlphanumeric(32)}`,
      `WXPAY_ACCOUNT=${profile.v3.account}`,
      // The key mode, as the API reads it: off trusts WeChat Pay's public key alone; unset downloads platform certificates.
      ...(profile.v3.keyMode === "public-key" ? ["WXPAY_PLATFORM_CERTIFICATES=off"] : []),
    );
    if (profile.v3.merchantCategoryCode !== undefined) lines.push(`WXPAY_MERCHANT_CATEGORY_CODE=${profile.v3.merchantCategoryCode}`);
  }
  lines.push(
    `WX_APPSECRET=${randomBytes(16).toString("hex")}`,
    `SESSION_SECRET=${randomBytes(32).toString("base64url")}`,
    `ADMIN_TOKEN=${randomAlphanumeric(40)}`,
    "LOG_LEVEL=info",
    "",
  );
  return lines.join("\n");
}

/**
 * The development config of `mode` under `dataDir` (`dev.<mode>.env`): read when it exists, else
 * created with mode 0600. Creation is exclusive, so two starts at once cannot write two sets of secrets.
 */
export async function ensureDevConfig(dataDir: string, mode: DevMode): Promise<EnvFile> {
  const path = join(dataDir, `dev.${mode}.env`);
  try {
    await writeFile(path, buildDevConfig(mode), { mode: 0o600, flag: "wx" });
    return { ...(await readEnvFile(path)), created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return readEnvFile(path);
  }
}
