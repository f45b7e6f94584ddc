// Finds secrets in captured text: known values (an API key, a session token, a signature) anywhere, and
// shapes that are secret wherever they appear (PEM private keys, a string-to-sign with its key, secret
// settings). The API's tests scan logs and HTTP answers with it; a build output (the mini-program's
// dist/) is scanned with scanDirectoryForSecrets, which the mini-program's own tests can call as well.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export interface Secret {
  /** What it is, for the report (never the value itself). */
  readonly name: string;
  readonly value: string;
}

export interface Haystack {
  /** Where the text came from: a log, a response, a file path. */
  readonly where: string;
  readonly text: string;
}

export interface SecretFinding {
  readonly secret: string;
  readonly where: string;
  /** Up to 30 characters around the match, with the match itself replaced by `<secret>`. */
  readonly context: string;
}

/** Shorter values would match by chance; a secret this short is a configuration error anyway. */
const MIN_SECRET_LENGTH = 8;

/** Shapes that must never appear in a log, an HTTP answer or a client build, whatever their value. */
export const SECRET_PATTERNS: ReadonlyArray<{ readonly name: string; readonly pattern: RegExp }> = [
  { name: "a PEM private key", pattern: /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/ },
  { name: "a PEM certificate", pattern: /-----BEGIN CERTIFICATE-----/ },
  { name: "a v2 string-to-sign with its key", pattern: /&key=[0-9A-Za-z]{32}(?![0-9A-Za-z])/ },
  {
    name: "a secret setting with a value",
    pattern: /\b(?:WXPAY_KEY|WX_APPSECRET|SESSION_SECRET|ADMIN_TOKEN|WXPAY_PFX_PASSPHRASE)\s*[=:]\s*["'`]?(?![<"'`\s$])[^\s"'`]{8,}/,
  },
];

/**
 * Further shapes a client build (the mini-program) must not contain: it never sees a session_key or an
 * app secret, and never signs anything itself (paySign comes from the API), so it has no HMAC or MD5.
 */
export const CLIENT_BUILD_PATTERNS: ReadonlyArray<{ readonly name: string; readonly pattern: RegExp }> = [
  { name: "a session_key", pattern: /\bsession_?key\b/i },
  { name: "an app secret", pattern: /\bapp_?secret\b/i },
  { name: "client-side signing (HMAC or MD5)", pattern: /\b(?:createHmac|hmac_?sha256|HmacSHA256|md5)\s*\(/i },
];

function context(text: string, index: number, length: number): string {
  return `${text.slice(Math.max(0, index - 30), index)}<secret>${text.slice(index + length, index + length + 30)}`.replace(/\s+/g, " ");
}

/** Every occurrence of every secret value in every haystack (values are also looked for URL-encoded). */
export function findSecrets(haystacks: readonly Haystack[], secrets: readonly Secret[]): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const secret of secrets) {
    if (secret.value.length < MIN_SECRET_LENGTH) throw new Error(`findSecrets: ${secret.name} is shorter than ${MIN_SECRET_LENGTH} characters; it would match by chance.`);
    const forms = [...new Set([secret.value, encodeURIComponent(secret.value)])];
    for (const { where, text } of haystacks) {
      for (const form of forms) {
        const index = text.indexOf(form);
        if (index >= 0) findings.push({ secret: secret.name, where, context: context(text, index, form.length) });
      }
    }
  }
  return findings;
}

/** Every match of `patterns` (SECRET_PATTERNS by default) in every haystack. */
export function findSecretPatterns(
  haystacks: readonly Haystack[],
  patterns: ReadonlyArray<{ readonly name: string; readonly pattern: RegExp }> = SECRET_PATTERNS,
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  for (const { name, pattern } of patterns) {
    for (const { where, text } of haystacks) {
      const match = pattern.exec(text);
      if (match !== null) findings.push({ secret: name, where, context: context(text, match.index, match[0].length) });
    }
  }
  return findings;
}

/** Every file under `dir` as text (binary files read as latin1 so byte patterns still match), paths relative to `dir`. */
export function readTree(dir: string): Haystack[] {
  const files: Haystack[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current)) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push({ where: relative(dir, path), text: readFileSync(path).toString("latin1") });
    }
  };
  walk(dir);
  return files;
}

/**
 * Scans a build output for the given secret values and every SECRET_PATTERNS shape (plus
 * CLIENT_BUILD_PATTERNS for a client build such as the mini-program's dist/). Empty means clean.
 */
export function scanDirectoryForSecrets(dir: string, options: { readonly secrets?: readonly Secret[]; readonly clientBuild?: boolean } = {}): SecretFinding[] {
  const files = readTree(dir);
  return [...findSecrets(files, options.secrets ?? []), ...findSecretPatterns(files), ...(options.clientBuild === true ? findSecretPatterns(files, CLIENT_BUILD_PATTERNS) : [])];
}
