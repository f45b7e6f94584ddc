import { randomInt } from "node:crypto";
import { ORDER_EVENT_TYPES, type WebhookEvent, type WebhookEventOf, type WebhookEventType } from "../contract/webhook.js";
import type { Order } from "../contract/order.js";
import type { Refund } from "../contract/refund.js";
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_EVENT_TYPE_HEADER, WEBHOOK_SIGNATURE_HEADER, webhookSignatureHeader } from "../webhooks/sign.js";

/** A webhook delivery as the API sends it: the exact body and its three headers. */
export interface SignedTestWebhook {
  readonly body: string;
  readonly headers: Readonly<Record<typeof WEBHOOK_SIGNATURE_HEADER | typeof WEBHOOK_EVENT_ID_HEADER | typeof WEBHOOK_EVENT_TYPE_HEADER, string>>;
}

export interface SignWebhookForTestOptions {
  /** The signing time `t`, whole unix seconds (tests pass their injected clock's). */
  readonly timestamp: number;
}

/**
 * Signs a webhook the way the API's dispatcher does (one `v1` per secret, in order), for a receiver's tests.
 * It ships beside `verifyWebhook` so the two cannot drift. An event is serialised with JSON.stringify; a string
 * is signed as given (a test can sign a body that is not an event). Throws a RangeError for no secret or a
 * timestamp that is not whole unix seconds.
 */
export function signWebhookForTest(event: WebhookEvent | string, secrets: string | readonly string[], options: SignWebhookForTestOptions): SignedTestWebhook {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  const described = typeof event === "string" ? describeBody(event) : { id: event.id, type: event.type };
  return {
    body,
    headers: {
      [WEBHOOK_SIGNATURE_HEADER]: webhookSignatureHeader(body, typeof secrets === "string" ? [secrets] : secrets, options.timestamp),
      [WEBHOOK_EVENT_ID_HEADER]: described.id,
      [WEBHOOK_EVENT_TYPE_HEADER]: described.type,
    },
  };
}

// A hand-written body's id and type when it has them as strings, else "" (the headers are informational; the signature covers the body).
function describeBody(body: string): { id: string; type: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { id: "", type: "" };
  }
  const record = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  return { id: typeof record.id === "string" ? record.id : "", type: typeof record.type === "string" ? record.type : "" };
}

type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

/** What a test may change in a built event: the id, the time, and any field of its order or refund. */
export type TestWebhookEventOverrides<T extends WebhookEventType> = {
  readonly id?: string;
  readonly createdAt?: string;
} & (T extends OrderEventType ? { readonly order?: Partial<Order> } : { readonly refund?: Partial<Refund> });

const EVENT_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ORDER_CREATED_AT = "2024-12-03T07:58:41.000Z";
const PAID_AT = "2024-12-03T07:59:58.000Z";
const REFUND_CREATED_AT = "2024-12-03T08:05:12.000Z";
const REFUND_SETTLED_AT = "2024-12-03T08:06:30.000Z";
// An event is created when its change commits: the payment, the close on expiry (30 minutes), the refund's settlement.
const EVENT_CREATED_AT: Readonly<Record<WebhookEventType, string>> = {
  "order.paid": PAID_AT,
  "order.closed": "2024-12-03T08:28:41.000Z",
  "order.refunded": REFUND_SETTLED_AT,
  "refund.succeeded": REFUND_SETTLED_AT,
  "refund.failed": REFUND_SETTLED_AT,
};

/** A fresh random event id, `evt_` and 24 letters or digits. */
export function testWebhookEventId(): string {
  let id = "evt_";
  for (let i = 0; i < 24; i++) id += EVENT_ID_ALPHABET[randomInt(EVENT_ID_ALPHABET.length)];
  return id;
}

function testOrder(type: OrderEventType): Order {
  const base: Order = {
    id: "P20241203155841K7M2Q9XH4T",
    status: "paid",
    totalFee: 2590,
    refundedFee: 0,
    feeType: "CNY",
    items: [
      { productId: "latte-m", name: "Oat latte (M)", quantity: 2, unitPrice: 1000 },
      { productId: "croissant", name: "Butter croissant", quantity: 1, unitPrice: 590 },
    ],
    createdAt: ORDER_CREATED_AT,
    paidAt: PAID_AT,
    transactionId: "4200002391202412031234567890",
  };
  if (type === "order.closed") return { ...base, status: "closed", paidAt: null, transactionId: null };
  if (type === "order.refunded") return { ...base, status: "refunded", refundedFee: base.totalFee };
  return base;
}

function testRefund(type: "refund.succeeded" | "refund.failed"): Refund {
  const base: Refund = {
    id: "R20241203160512B3N8V6WC2P",
    orderId: "P20241203155841K7M2Q9XH4T",
    refundFee: 1000,
    currency: "CNY",
    status: "succeeded",
    reason: "one latte was not made",
    createdAt: REFUND_CREATED_AT,
    succeededAt: REFUND_SETTLED_AT,
  };
  return type === "refund.failed" ? { ...base, status: "closed", succeededAt: null } : base;
}

/**
 * A schema-valid event of `type` with real-looking data (its order or refund in the state that type reports),
 * a random id and a fixed time (when that change would have committed); overrides are applied as given and not validated, so a test can build a bad one.
 */
export function buildTestWebhookEvent<T extends WebhookEventType>(type: T, overrides?: TestWebhookEventOverrides<T>): WebhookEventOf<T> {
  const head = { id: overrides?.id ?? testWebhookEventId(), type, createdAt: overrides?.createdAt ?? EVENT_CREATED_AT[type] };
  if (isOrderEventType(type)) {
    const order = (overrides as { order?: Partial<Order> } | undefined)?.order;
    return { ...head, data: { order: { ...testOrder(type), ...order } } } as WebhookEventOf<T>;
  }
  const refund = (overrides as { refund?: Partial<Refund> } | undefined)?.refund;
  return { ...head, data: { refund: { ...testRefund(type), ...refund } } } as WebhookEventOf<T>;
}

function isOrderEventType(type: WebhookEventType): type is OrderEventType {
  return (ORDER_EVENT_TYPES as readonly string[]).includes(type);
}
