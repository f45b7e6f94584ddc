import { z } from "zod";
import { err, ok, type Result } from "../../result.js";
import { checkV3Request, V3_HOSTS, v3Id, v3QueryString, type V3Request } from "../messages/request.js";

/** bill_type of a trade bill (OAPI `tradebill.yaml`). */
export const V3_TRADE_BILL_TYPES = ["ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND", "ALL_SPECIAL", "SUC_SPECIAL", "REF_SPECIAL"] as const;
export type V3TradeBillType = (typeof V3_TRADE_BILL_TYPES)[number];

/** account_type of a fund-flow bill. */
export const V3_FUND_FLOW_ACCOUNT_TYPES = ["BASIC", "OPERATION", "FEES"] as const;
export type V3FundFlowAccountType = (typeof V3_FUND_FLOW_ACCOUNT_TYPES)[number];

/** tar_type: the only compression the gateway offers; absent means the plain CSV. */
export const V3_BILL_TAR_TYPES = ["GZIP"] as const;
export type V3BillTarType = (typeof V3_BILL_TAR_TYPES)[number];

/** `yyyy-MM-dd` naming a real day. */
export const V3BillDateSchema = z
  .string()
  .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, "expected yyyy-MM-dd")
  .refine((text) => {
    const [y, m, d] = text.split("-").map(Number) as [number, number, number];
    const day = new Date(Date.UTC(y, m - 1, d));
    return day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
  }, "is not a real date");

/** A trade-bill request; `subMchid` in partner mode (omitted: the service provider's own bill). */
export const V3TradeBillRequestSchema = z.object({
  billDate: V3BillDateSchema,
  subMchid: v3Id(32).optional(),
  billType: z.enum(V3_TRADE_BILL_TYPES).optional(),
  tarType: z.enum(V3_BILL_TAR_TYPES).optional(),
});
export type V3TradeBillRequest = z.input<typeof V3TradeBillRequestSchema>;

/** A fund-flow bill request. */
export const V3FundFlowBillRequestSchema = z.object({
  billDate: V3BillDateSchema,
  subMchid: v3Id(32).optional(),
  accountType: z.enum(V3_FUND_FLOW_ACCOUNT_TYPES).optional(),
  tarType: z.enum(V3_BILL_TAR_TYPES).optional(),
});
export type V3FundFlowBillRequest = z.input<typeof V3FundFlowBillRequestSchema>;

/** Builds `GET /v3/bill/tradebill?bill_date=…[&sub_mchid=][&bill_type=][&tar_type=GZIP]` (throws INVALID_FIELD). */
export function buildV3TradeBill(request: V3TradeBillRequest): V3Request {
  const r = checkV3Request(V3TradeBillRequestSchema, request);
  const query = v3QueryString([
    ["bill_date", r.billDate],
    ["sub_mchid", r.subMchid],
    ["bill_type", r.billType],
    ["tar_type", r.tarType],
  ]);
  return { method: "GET", host: V3_HOSTS.domestic, path: `/v3/bill/tradebill${query}`, body: "" };
}

/** Builds `GET /v3/bill/fundflowbill?bill_date=…[&sub_mchid=][&account_type=][&tar_type=GZIP]` (throws INVALID_FIELD). */
export function buildV3FundFlowBill(request: V3FundFlowBillRequest): V3Request {
  const r = checkV3Request(V3FundFlowBillRequestSchema, request);
  const query = v3QueryString([
    ["bill_date", r.billDate],
    ["sub_mchid", r.subMchid],
    ["account_type", r.accountType],
    ["tar_type", r.tarType],
  ]);
  return { method: "GET", host: V3_HOSTS.domestic, path: `/v3/bill/fundflowbill${query}`, body: "" };
}

/** The tradebill / fundflowbill answer: where to download the file and the SHA1 of its uncompressed bytes. */
export const V3BillAnswerSchema = z
  .object({
    hash_type: z.literal("SHA1", { error: "expected SHA1" }),
    hash_value: z.string().regex(/^[0-9A-Fa-f]{40}$/, "expected 40 hex digits"),
    download_url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).max(2048),
  })
  .transform((w) => ({ hashType: w.hash_type, hashValue: w.hash_value, downloadUrl: w.download_url }));
export type V3BillAnswer = z.output<typeof V3BillAnswerSchema>;

export interface BuildV3BillDownloadOptions {
  /** Origins besides V3_HOSTS that may serve bills (a local sandbox); the signed request is sent only there. */
  readonly allowedOrigins?: readonly string[];
}

/**
 * The download request for a bill answer: `GET` with the download_url's path and query exactly as
 * given (that is what gets signed; the answer is not signed). A URL on any other origin is refused,
 * since the signed Authorization header would go to it.
 */
export function buildV3BillDownload(answer: Pick<V3BillAnswer, "downloadUrl">, options: BuildV3BillDownloadOptions = {}): Result<V3Request, "UNTRUSTED_DOWNLOAD_URL"> {
  let origin: string;
  try {
    origin = new URL(answer.downloadUrl).origin;
  } catch {
    return err("UNTRUSTED_DOWNLOAD_URL", "The download_url is not a URL.");
  }
  const allowed: readonly string[] = [V3_HOSTS.domestic, V3_HOSTS.global, ...(options.allowedOrigins ?? [])];
  if (!allowed.includes(origin) || !answer.downloadUrl.startsWith(`${origin}/`)) {
    return err("UNTRUSTED_DOWNLOAD_URL", `The download_url is not on an allowed origin (${origin}).`);
  }
  return ok({ method: "GET", host: origin, path: answer.downloadUrl.slice(origin.length), body: "" });
}
