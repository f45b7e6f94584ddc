import { z } from "zod";
import type { Result } from "../result.js";
import { buildRequestFields, checkPartnerIds, parseRequestFields, REQUEST_COMMON_SHAPE, type ParseRequestErrorCode } from "./request.js";

/** Which trades a bill lists. */
export const BILL_TYPES = ["ALL", "SUCCESS", "REFUND", "RECHARGE_REFUND"] as const;
export const BillTypeSchema = z.enum(BILL_TYPES);
export type BillType = z.infer<typeof BillTypeSchema>;

/** `yyyyMMdd` that is a real calendar date. */
const BillDateSchema = z
  .string()
  .regex(/^[0-9]{8}$/, "expected yyyyMMdd")
  .refine((text) => {
    const y = Number(text.slice(0, 4));
    const m = Number(text.slice(4, 6));
    const d = Number(text.slice(6, 8));
    const date = new Date(Date.UTC(y, m - 1, d));
    return y >= 1970 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }, "is not a real date");

/**
 * A downloadbill request (§5.5). `billType` is always sent: pages disagree on whether it may be
 * left out, and stating it removes the question. `tarType: "GZIP"` asks for a gzip body.
 * A successful answer is CSV text (see parseBill), not XML.
 */
export const DownloadBillRequestSchema = z
  .object({
    ...REQUEST_COMMON_SHAPE,
    billDate: BillDateSchema,
    billType: BillTypeSchema,
    tarType: z.literal("GZIP").optional(),
  })
  .superRefine(checkPartnerIds);
export type DownloadBillRequest = z.input<typeof DownloadBillRequestSchema>;

/** Validates a downloadbill request and maps it to the snake_case record to sign (throws INVALID_FIELD). */
export function buildDownloadBillFields(request: DownloadBillRequest): Record<string, string | number> {
  return buildRequestFields(DownloadBillRequestSchema, request);
}

/** Parses received downloadbill fields (the simulator's side) into the typed request. */
export function parseDownloadBillRequest(raw: Readonly<Record<string, string>>): Result<DownloadBillRequest, ParseRequestErrorCode> {
  return parseRequestFields(DownloadBillRequestSchema, raw, []);
}
