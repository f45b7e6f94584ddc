import { z } from "zod";
import { TimestampSchema } from "./common.js";
import { OrderSchema } from "./order.js";
import { RefundSchema } from "./refund.js";

/**
 * What the API tells the shop's own systems, one event per committed change:
 * - `order.paid`: the order moved from pending to paid (a notify, a query, the sweep);
 * - `order.closed`: a pending order was closed (by its user, on expiry, or because WeChat Pay closed it);
 * - `order.refunded`: refunds that succeeded now add up to the whole order;
 * - `refund.succeeded`: a refund reached the payer;
 * - `refund.failed`: a refund ended without reaching the payer (status `closed`: refused or closed, the
 *   reservation is released; `abnormal`: the payer's account could not take it, the money is with a person now).
 */
export const WEBHOOK_EVENT_TYPES = ["order.paid", "order.closed", "order.refunded", "refund.succeeded", "refund.failed"] as const;
export const WebhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;

/** The event types whose data is an order; the others carry a refund. */
export const ORDER_EVENT_TYPES = ["order.paid", "order.closed", "order.refunded"] as const satisfies readonly WebhookEventType[];
export const REFUND_EVENT_TYPES = ["refund.succeeded", "refund.failed"] as const satisfies readonly WebhookEventType[];

/** An event id: `evt_` and 24 letters or digits. Receivers dedupe by it: delivery is at least once. */
export const WebhookEventIdSchema = z.string().regex(/^evt_[0-9A-Za-z]{24}$/, "an event id is evt_ followed by 24 letters or digits");

const orderEvent = <T extends (typeof ORDER_EVENT_TYPES)[number]>(type: T) =>
  z.object({ id: WebhookEventIdSchema, type: z.literal(type), createdAt: TimestampSchema, data: z.object({ order: OrderSchema }) });
const refundEvent = <T extends (typeof REFUND_EVENT_TYPES)[number]>(type: T) =>
  z.object({ id: WebhookEventIdSchema, type: z.literal(type), createdAt: TimestampSchema, data: z.object({ refund: RefundSchema }) });

/**
 * An event as delivered (the JSON body of a webhook POST): `data.order` or `data.refund` is the order or
 * refund as it stood when the change was committed, in the same shape the API's routes answer with.
 */
export const WebhookEventSchema = z.discriminatedUnion("type", [
  orderEvent("order.paid"),
  orderEvent("order.closed"),
  orderEvent("order.refunded"),
  refundEvent("refund.succeeded"),
  refundEvent("refund.failed"),
]);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
/** The event of one type, e.g. `WebhookEventOf<"order.paid">`. */
export type WebhookEventOf<T extends WebhookEventType> = Extract<WebhookEvent, { type: T }>;
