import { WebhookEventSchema, type WebhookEvent, type WebhookEventType } from "@pay/core/contract";
import type { Kysely } from "kysely";
import type { Database } from "../../src/db/schema.js";
import type { EventHandler } from "../../src/services/events.js";

/** An outbox row with its payload parsed by the contract's schema. */
export interface StoredEvent {
  readonly seq: number;
  readonly id: string;
  readonly type: WebhookEventType;
  readonly orderId: string;
  readonly refundId: string | null;
  readonly createdAt: string;
  readonly event: WebhookEvent;
}

/**
 * The outbox rows (of one order, or all), oldest seq first. Each payload must parse with WebhookEventSchema
 * to exactly itself (no field the contract does not know) and name the row's own id, type and created_at;
 * otherwise this throws, naming the row.
 */
export async function storedEvents(db: Kysely<Database>, orderId?: string): Promise<StoredEvent[]> {
  let select = db.selectFrom("webhook_events").selectAll();
  if (orderId !== undefined) select = select.where("order_id", "=", orderId);
  const rows = await select.orderBy("seq").execute();
  return rows.map((row) => {
    const raw: unknown = JSON.parse(row.payload);
    const event = WebhookEventSchema.parse(raw);
    if (JSON.stringify(event) !== row.payload) throw new Error(`event ${row.id}: the payload holds more than the contract's event: ${row.payload}`);
    if (event.id !== row.id || event.type !== row.type || event.createdAt !== row.created_at)
      throw new Error(`event ${row.id}: the payload does not name its row (${row.payload})`);
    const subject = "order" in event.data ? event.data.order.id : event.data.refund.orderId;
    if (subject !== row.order_id) throw new Error(`event ${row.id}: the payload is about ${subject}, the row about ${row.order_id}`);
    const refundId = "refund" in event.data ? event.data.refund.id : null;
    if (refundId !== row.refund_id) throw new Error(`event ${row.id}: refund_id ${row.refund_id} but the payload names ${refundId}`);
    return { seq: row.seq, id: row.id, type: row.type, orderId: row.order_id, refundId: row.refund_id, createdAt: row.created_at, event };
  });
}

/** The types of an order's events, oldest first. */
export async function eventTypes(db: Kysely<Database>, orderId: string): Promise<WebhookEventType[]> {
  return (await storedEvents(db, orderId)).map((stored) => stored.type);
}

/** What an in-process handler was handed: each event, and whether its outbox row existed at the time. */
export interface HandledEvent {
  readonly event: WebhookEvent;
  readonly rowExisted: boolean;
}

/** The order an event is about. */
export function orderIdOf(event: WebhookEvent): string {
  return "order" in event.data ? event.data.order.id : event.data.refund.orderId;
}

export type HandlerBehaviour = "ok" | "throw" | "reject" | "hang";

/**
 * An in-process handler for a harness that records each event (checking its row is committed when it is
 * called) and then does what `misbehave` says for the event's order: throw, reject or hang (else nothing).
 */
export function recordingHandler(db: () => Kysely<Database> | undefined): {
  readonly handler: EventHandler;
  readonly handled: HandledEvent[];
  readonly misbehave: Map<string, HandlerBehaviour>;
  handledFor(orderId: string): HandledEvent[];
} {
  const handled: HandledEvent[] = [];
  const misbehave = new Map<string, HandlerBehaviour>();
  return {
    handled,
    misbehave,
    handledFor: (orderId: string) => handled.filter(({ event }) => orderIdOf(event) === orderId),
    handler: async (event: WebhookEvent): Promise<void> => {
      const behaviour = misbehave.get(orderIdOf(event)) ?? "ok";
      const database = db();
      const row = database === undefined ? undefined : await database.selectFrom("webhook_events").select("id").where("id", "=", event.id).executeTakeFirst();
      handled.push({ event, rowExisted: row !== undefined });
      if (behaviour === "throw") throw new Error(`a handler that throws, at ${event.id}`);
      if (behaviour === "reject") return Promise.reject(new Error(`a handler that rejects, at ${event.id}`));
      if (behaviour === "hang") return new Promise<void>(() => undefined);
    },
  };
}
