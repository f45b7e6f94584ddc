/** HTTP headers as Node (lower-cased names), Koa, undici or fetch hand them over. */
export type V3Headers = Readonly<Record<string, string | readonly string[] | undefined>> | { get(name: string): string | null };

/** The `Wechatpay-*` headers an answer or a notify carries. */
export const WECHATPAY_HEADERS = {
  timestamp: "Wechatpay-Timestamp",
  nonce: "Wechatpay-Nonce",
  signature: "Wechatpay-Signature",
  serial: "Wechatpay-Serial",
  signatureType: "Wechatpay-Signature-Type",
} as const;

// The Wechatpay-* names as Node hands them over, so the common lookup lower-cases nothing.
const LOWER_CASE: Readonly<Record<string, string>> = Object.fromEntries(Object.values(WECHATPAY_HEADERS).map((name) => [name, name.toLowerCase()]));

/** Reads one header case-insensitively; undefined when absent, null when repeated with different values. */
export function readHeader(headers: V3Headers, name: string): string | undefined | null {
  if (typeof headers.get === "function") return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const lower = LOWER_CASE[name] ?? name.toLowerCase();
  let value = record[lower] ?? record[name];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) {
        value = record[key];
        break;
      }
    }
  }
  if (value === undefined || typeof value === "string") return value;
  if (value.length === 0) return undefined;
  return value.every((v) => v === value[0]) ? value[0] : null;
}
