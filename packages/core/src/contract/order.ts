import { z } from "zod";
import { CurrencySchema, MinorUnitsSchema, TimestampSchema } from "./common.js";
import { RequestPaymentParamsSchema } from "./payment.js";

export const ORDER_STATUSES = ["pending", "paid", "closed", "refunded"] as const;
export const OrderStatusSchema = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

/** The most items and units of one product an order may hold. */
export const MAX_ORDER_LINES = 20;
export const MAX_LINE_QUANTITY = 99;

export const OrderItemSchema = z.object({
  productId: z.string().min(1).max(64),
  name: z.string(),
  quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY),
  unitPrice: MinorUnitsSchema,
});
export type OrderItem = z.infer<typeof OrderItemSchema>;

/** An order as the API shows it. `id` is the out_trade_no. Partly refunded orders stay `paid`. */
export const OrderSchema = z.object({
  id: z.string().regex(/^[0-9A-Za-z_\-|*]{6,32}$/),
  status: OrderStatusSchema,
  totalFee: MinorUnitsSchema,
  refundedFee: MinorUnitsSchema,
  feeType: CurrencySchema,
  items: z.array(OrderItemSchema),
  createdAt: TimestampSchema,
  paidAt: TimestampSchema.nullable(),
  transactionId: z.string().nullable(),
});
export type Order = z.infer<typeof OrderSchema>;

export const CreateOrderRequestSchema = z
  .object({
    items: z
      .array(
        z
          .object({
            productId: z.string().min(1).max(64),
            quantity: z.number().int().min(1).max(MAX_LINE_QUANTITY),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_ORDER_LINES),
  })
  .strict();
export type CreateOrderRequest = z.infer<typeof CreateOrderRequestSchema>;

/** Answer to creating an order or asking for fresh payment params. */
export const OrderPaymentResponseSchema = z.object({ order: OrderSchema, payment: RequestPaymentParamsSchema });
export type OrderPaymentResponse = z.infer<typeof OrderPaymentResponseSchema>;

export const OrderResponseSchema = z.object({ order: OrderSchema });
export type OrderResponse = z.infer<typeof OrderResponseSchema>;

export const OrderListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type OrderListQuery = z.infer<typeof OrderListQuerySchema>;

export const OrderListResponseSchema = z.object({ orders: z.array(OrderSchema), nextCursor: z.string().nullable() });
export type OrderListResponse = z.infer<typeof OrderListResponseSchema>;
