import { z } from "zod";
import { CurrencySchema, MinorUnitsSchema, TimestampSchema } from "./common.js";
import { OrderSchema } from "./order.js";

export const REFUND_STATUSES = ["processing", "succeeded", "closed", "abnormal"] as const;
export const RefundStatusSchema = z.enum(REFUND_STATUSES);
export type RefundStatus = z.infer<typeof RefundStatusSchema>;

export const CreateRefundRequestSchema = z
  .object({
    refundFee: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    reason: z.string().max(80).optional(),
  })
  .strict();
export type CreateRefundRequest = z.infer<typeof CreateRefundRequestSchema>;

/** A refund as the API shows it. `id` is the out_refund_no. */
export const RefundSchema = z.object({
  id: z.string(),
  orderId: z.string(),
  refundFee: MinorUnitsSchema,
  currency: CurrencySchema,
  status: RefundStatusSchema,
  reason: z.string().nullable(),
  createdAt: TimestampSchema,
  succeededAt: TimestampSchema.nullable(),
});
export type Refund = z.infer<typeof RefundSchema>;

export const RefundResponseSchema = z.object({ refund: RefundSchema, order: OrderSchema });
export type RefundResponse = z.infer<typeof RefundResponseSchema>;
