import { z } from "zod";
import { CurrencySchema, TimestampSchema } from "./common.js";

/** A Beijing calendar day, `YYYY-MM-DD`, naming a real date: the day a bill covers. */
export const ReconciliationDateSchema = z
  .string()
  .regex(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, "expected a day as YYYY-MM-DD")
  .refine((text) => {
    const [y, m, d] = text.split("-").map(Number) as [number, number, number];
    const day = new Date(Date.UTC(y, m - 1, d));
    return y >= 2000 && day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
  }, "is not a real date");

/**
 * What kind of difference an item is. Payments: paid at WeChat Pay but not paid here
 * (`paid_not_recorded`), paid for an order this API never created (`unknown_payment`), paid here but
 * absent from the bill (`payment_missing_from_bill`). Refunds: succeeded at WeChat Pay but not here
 * (`refund_not_recorded`), a refund this API never asked for (`unknown_refund`), succeeded here but
 * absent from the bill (`refund_missing_from_bill`). Either: the amount, the currency or the WeChat Pay
 * transaction id differs from ours; a bill line of a kind we never make (`unexpected_row`, e.g. a
 * REVOKED payment); the bill's own summary disagrees with the sum of its lines (`summary_mismatch`).
 */
export const RECONCILIATION_CLASSES = [
  "paid_not_recorded",
  "unknown_payment",
  "payment_missing_from_bill",
  "refund_not_recorded",
  "unknown_refund",
  "refund_missing_from_bill",
  "amount_mismatch",
  "currency_mismatch",
  "transaction_mismatch",
  "unexpected_row",
  "summary_mismatch",
] as const;
export const ReconciliationClassSchema = z.enum(RECONCILIATION_CLASSES);
export type ReconciliationClass = z.infer<typeof ReconciliationClassSchema>;

/**
 * What the run did about an item: `recovered` when a verified query answer confirmed the bill and the
 * change was applied through the same path as a notify (the order is paid, the refund settled, with
 * their events); `flagged` when it needs a person (nothing is ever changed from the bill alone).
 */
export const RECONCILIATION_RESOLUTIONS = ["recovered", "flagged"] as const;
export const ReconciliationResolutionSchema = z.enum(RECONCILIATION_RESOLUTIONS);
export type ReconciliationResolution = z.infer<typeof ReconciliationResolutionSchema>;

/**
 * Where a day stands: `running` (a process holds the day's lease), `succeeded` (the bill was read and
 * compared; `none` bills included), `failed` (the last run stopped with `error`; the items and totals
 * shown are those of the last run that succeeded, if any).
 */
export const RECONCILIATION_STATES = ["running", "succeeded", "failed"] as const;
export const ReconciliationStateSchema = z.enum(RECONCILIATION_STATES);
export type ReconciliationState = z.infer<typeof ReconciliationStateSchema>;

/** Who started a run. */
export const RECONCILIATION_TRIGGERS = ["schedule", "admin", "cli"] as const;
export const ReconciliationTriggerSchema = z.enum(RECONCILIATION_TRIGGERS);
export type ReconciliationTrigger = z.infer<typeof ReconciliationTriggerSchema>;

/**
 * Why a run failed. BILL_NOT_READY: WeChat Pay is still making the bill (retried by the scheduler).
 * BILL_UNAVAILABLE: the gateway could not be reached or refused the download (retried).
 * BILL_MALFORMED: the file is not a bill (bad layout, truncated, mixed currencies). BILL_HASH_MISMATCH:
 * the v3 file does not match its SHA1. BILL_WRONG_MERCHANT / BILL_WRONG_DAY: a line of another merchant
 * or another day. LEASE_LOST: another process took the day over. INTERNAL: anything else (logged).
 */
export const RECONCILIATION_ERROR_CODES = [
  "BILL_NOT_READY",
  "BILL_UNAVAILABLE",
  "BILL_MALFORMED",
  "BILL_HASH_MISMATCH",
  "BILL_WRONG_MERCHANT",
  "BILL_WRONG_DAY",
  "LEASE_LOST",
  "INTERNAL",
] as const;
export const ReconciliationErrorCodeSchema = z.enum(RECONCILIATION_ERROR_CODES);
export type ReconciliationErrorCode = z.infer<typeof ReconciliationErrorCodeSchema>;

const Count = z.number().int().nonnegative();
/** A sum in minor units; may be negative only where a bill sums negative lines (fees of refunds). */
const Sum = z.number().int();

/** Counts and sums of one side (the bill's lines, or our records of the day), in `currency` minor units. */
export const ReconciliationSideTotalsSchema = z.object({
  paymentCount: Count,
  paymentAmount: Sum,
  refundCount: Count,
  refundAmount: Sum,
});
export type ReconciliationSideTotals = z.infer<typeof ReconciliationSideTotalsSchema>;

/**
 * A day's totals. `bill`: sums of the bill's payment and refund lines; `summary`: what the bill's own
 * summary row says (count of all lines, payment total, refund total), null for a day without a bill;
 * `ours`: our payments and refunds of the day. Fees are at scale 5 (10^-5 of the major unit), as the bill
 * writes them: `feeLines` sums the lines, `feeSummary` is the summary's figure.
 */
export const ReconciliationTotalsSchema = z.object({
  currency: CurrencySchema,
  bill: ReconciliationSideTotalsSchema,
  summary: z.object({ lineCount: Count, paymentAmount: Sum, refundAmount: Sum, fee: Sum }).nullable(),
  ours: ReconciliationSideTotalsSchema,
  feeLines: Sum,
  feeSummary: Sum.nullable(),
});
export type ReconciliationTotals = z.infer<typeof ReconciliationTotalsSchema>;

/** One difference: its class, what was done, and the order or refund it concerns. Amounts in minor units of their currencies. */
export const ReconciliationItemSchema = z.object({
  id: z.number().int().positive(),
  class: ReconciliationClassSchema,
  resolution: ReconciliationResolutionSchema,
  orderId: z.string().nullable(),
  refundId: z.string().nullable(),
  transactionId: z.string().nullable(),
  /** The bill line it comes from (1-based), null for a record absent from the bill. */
  billLine: z.number().int().positive().nullable(),
  billAmount: Sum.nullable(),
  billCurrency: CurrencySchema.nullable(),
  ourAmount: Sum.nullable(),
  ourCurrency: CurrencySchema.nullable(),
  /** What was found and done, in one sentence for the operator. */
  detail: z.string(),
});
export type ReconciliationItem = z.infer<typeof ReconciliationItemSchema>;

/** A day's reconciliation, without its items. */
export const ReconciliationRunSummarySchema = z.object({
  date: ReconciliationDateSchema,
  state: ReconciliationStateSchema,
  trigger: ReconciliationTriggerSchema,
  /** How many runs this day has had. */
  attempt: z.number().int().positive(),
  startedAt: TimestampSchema,
  finishedAt: TimestampSchema.nullable(),
  /** `file`: a bill was read; `none`: WeChat Pay has no bill for the day (no trades): a clean, empty run. Null before any run succeeded. */
  bill: z.enum(["file", "none"]).nullable(),
  error: z.object({ code: ReconciliationErrorCodeSchema, message: z.string() }).nullable(),
  /** Of the last run that succeeded; null before one did. */
  totals: ReconciliationTotalsSchema.nullable(),
  /** Items of the last run that succeeded, by class (every class present, zero when none). */
  differences: z.record(ReconciliationClassSchema, Count),
  /** When the last successful run finished; null before one did. */
  resultAt: TimestampSchema.nullable(),
});
export type ReconciliationRunSummary = z.infer<typeof ReconciliationRunSummarySchema>;

/** The most days one list may span (a year, leap day included). */
export const MAX_RECONCILIATION_LIST_DAYS = 366;
/** Items per page of a day: default and most. */
export const DEFAULT_RECONCILIATION_ITEMS = 100;
export const MAX_RECONCILIATION_ITEMS = 500;

/** Whole days from `from` to `to` (both valid YYYY-MM-DD), negative when `to` is earlier. */
function daysBetween(from: string, to: string): number {
  return (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
}

/**
 * The days of `GET /api/admin/reconciliations`, both ends included: `from` <= `to`, at most 366 days.
 * Unset ends are filled by the server: `to` yesterday (Beijing), `from` 30 days before `to`. Neither may
 * be today or later (a day is reconciled once it is over).
 */
export const ReconciliationListQuerySchema = z
  .object({ from: ReconciliationDateSchema.optional(), to: ReconciliationDateSchema.optional() })
  .strict()
  .superRefine((query, ctx) => {
    if (query.from === undefined || query.to === undefined) return;
    const span = daysBetween(query.from, query.to);
    if (span < 0) ctx.addIssue({ code: "custom", path: ["from"], message: "must not be after to" });
    else if (span + 1 > MAX_RECONCILIATION_LIST_DAYS)
      ctx.addIssue({ code: "custom", path: ["to"], message: `must be at most ${MAX_RECONCILIATION_LIST_DAYS} days from from, both included` });
  });
export type ReconciliationListQuery = z.infer<typeof ReconciliationListQuerySchema>;

/** The days that had a run, newest first (days without one are absent). */
export const ReconciliationListResponseSchema = z.object({ runs: z.array(ReconciliationRunSummarySchema) });
export type ReconciliationListResponse = z.infer<typeof ReconciliationListResponseSchema>;

/** The `:date` of the one-day routes. */
export const ReconciliationDateParamsSchema = z.object({ date: ReconciliationDateSchema });
export type ReconciliationDateParams = z.infer<typeof ReconciliationDateParamsSchema>;

/** A page of a day's items, oldest first: `class` keeps one class, `cursor` is a previous page's `nextCursor`. */
export const ReconciliationDetailQuerySchema = z
  .object({
    cursor: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_RECONCILIATION_ITEMS).default(DEFAULT_RECONCILIATION_ITEMS),
    class: ReconciliationClassSchema.optional(),
  })
  .strict();
export type ReconciliationDetailQuery = z.infer<typeof ReconciliationDetailQuerySchema>;

/**
 * One day: its run and a page of the items of its last successful run; `nextCursor` fetches the next
 * page (null on the last). The 202 of `runReconciliation` carries the running run and no items.
 */
export const ReconciliationDetailResponseSchema = z.object({
  run: ReconciliationRunSummarySchema,
  items: z.array(ReconciliationItemSchema),
  nextCursor: z.string().nullable(),
});
export type ReconciliationDetailResponse = z.infer<typeof ReconciliationDetailResponseSchema>;
