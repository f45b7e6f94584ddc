import { MAX_WEBHOOK_URL_LENGTH } from "@pay/core/contract";

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);

/** True for a loopback host: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return LOOPBACK_HOSTS.has(host) || host.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Why `value` cannot be a webhook endpoint URL, or undefined when it can: an absolute https URL; plain
 * http only outside production and only to this machine (loopback). No credentials in the URL: the
 * receiver authenticates us by the signature.
 */
export function webhookUrlProblem(value: string, options: { readonly production: boolean }): string | undefined {
  if (value.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL (https://...)";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `must be an https URL, not ${url.protocol}`;
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password: receivers check the Pay-Signature header instead";
  if (url.protocol === "http:") {
    if (options.production) return "must use https when NODE_ENV=production";
    if (!isLoopbackHost(url.hostname)) return "must use https (plain http is allowed only to a loopback host, outside production)";
  }
  return undefined;
}
