import { ok, type Result, type V3RequestParseErrorCode } from "@pay/core";
import type { SandboxContext } from "../context.js";

/**
 * Parses a received body with one of core's parsers. With `allowHttpNotifyUrl`, an `http://` notify_url is
 * checked as its `https://` twin (core demands https, as the gateway does: same host, path and length rules)
 * and the original is kept for delivery. Orders and refunds both read their notify_url this way.
 */
export function parseWithNotifyUrlAllowance<T extends { readonly notifyUrl?: string | undefined }>(
  sandbox: SandboxContext,
  body: string,
  parse: (text: string) => Result<T, V3RequestParseErrorCode>,
): Result<T, V3RequestParseErrorCode> {
  if (!sandbox.options.allowHttpNotifyUrl) return parse(body);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return parse(body);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return parse(body);
  const original = (json as Record<string, unknown>).notify_url;
  if (typeof original !== "string" || !original.startsWith("http://")) return parse(body);
  const parsed = parse(JSON.stringify({ ...json, notify_url: `https://${original.slice("http://".length)}` }));
  return parsed.ok ? ok({ ...parsed.value, notifyUrl: original }) : parsed;
}
