import { randomInt } from "node:crypto";
import type { WebhookEvent, WebhookEventType } from "@pay/core/contract";
import type { Logger } from "pino";
import type { NewWebhookEventRow, OrderRow, RefundRow } from "../db/schema.js";
import { orderView, refundView } from "./views.js";

// Order events (docs/webhooks.md). A change and its event are committed together: the writers in db/
// insert the outbox row in the change's own transaction, and only once that has committed is the event
// published in process (the dispatcher is woken, the app's own handlers are called).

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A new event id: evt_ + 24 random letters and digits (about 143 bits). */
export function newEventId(): string {
  let out = "evt_";
  for (let i = 0; i < 24; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

/** An event about to be written with its change: the row for the outbox and the event it holds. */
export interface OutboxEvent {
  readonly event: WebhookEvent;
  readonly row: NewWebhookEventRow;
}

function outboxEvent(event: WebhookEvent, orderId: string, refundId: string | null): OutboxEvent {
  return { event, row: { id: event.id, type: event.type, order_id: orderId, refund_id: refundId, payload: JSON.stringify(event), created_at: event.createdAt } };
}

/** The event of an order's change, with the order as the change left it. */
export function orderEvent(type: "order.paid" | "order.closed" | "order.refunded", order: OrderRow, at: string): OutboxEvent {
  return outboxEvent({ id: newEventId(), type, createdAt: at, data: { order: orderView(order) } }, order.id, null);
}

/** The event of a refund's end, with the refund as the change left it. */
export function refundEvent(type: "refund.succeeded" | "refund.failed", refund: RefundRow, at: string): OutboxEvent {
  return outboxEvent({ id: newEventId(), type, createdAt: at, data: { refund: refundView(refund) } }, refund.order_id, refund.id);
}

/** Handed each committed event, in process. Its failure (thrown or rejected) is logged and changes nothing. */
export type EventHandler = (event: WebhookEvent) => void | Promise<void>;

/** Where committed events are announced in process. */
export interface EventBus {
  /** Announces events whose change has committed; never throws, never waits for a handler. */
  published(events: readonly OutboxEvent[]): void;
  /** Called (synchronously, cheaply) with the types of each published batch: the dispatcher's wake-up. Returns an unsubscribe. */
  onPublished(listener: (types: readonly WebhookEventType[]) => void): () => void;
}

/** How long the bus waits for one handler call before it goes on to the next (default 10 s). */
export const EVENT_HANDLER_TIMEOUT_MS = 10_000;

export interface EventBusOptions {
  /** A handler call that has not settled after this long is logged and left behind; the next call starts. */
  readonly handlerTimeoutMs?: number | undefined;
}

/**
 * The bus of one app: handlers run after the current turn of the event loop, one event at a time in
 * the order published, so a slow or failing handler never delays or fails the request that committed.
 * A handler that never settles is given up on after `handlerTimeoutMs`, so later events still arrive.
 */
export function createEventBus(handlers: readonly EventHandler[], logger: Logger, options: EventBusOptions = {}): EventBus {
  const timeoutMs = options.handlerTimeoutMs ?? EVENT_HANDLER_TIMEOUT_MS;
  const listeners = new Set<(types: readonly WebhookEventType[]) => void>();
  let queue: WebhookEvent[] = [];
  let draining = false;

  // `draining` is set from the moment a drain is scheduled until it has emptied the queue: one drain at a time keeps the order.
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      for (const event of batch) {
        for (const handler of handlers) {
          const failed = (error: unknown): void => {
            logger.error({ err: error, eventId: event.id, eventType: event.type }, "an event handler failed; the change it reports is committed");
          };
          let call: Promise<void>;
          try {
            call = Promise.resolve(handler(event));
          } catch (error) {
            failed(error);
            continue;
          }
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<"late">((resolve) => {
            timer = setTimeout(() => resolve("late"), timeoutMs);
            timer.unref();
          });
          const done = call.then(
            () => "done" as const,
            (error: unknown) => {
              failed(error);
              return "done" as const;
            },
          );
          const outcome = await Promise.race([done, late]);
          clearTimeout(timer);
          if (outcome === "late") logger.warn({ eventId: event.id, eventType: event.type, timeoutMs }, "an event handler did not finish in time; going on with the next");
        }
      }
    }
    draining = false;
  };

  return {
    published(events) {
      if (events.length === 0) return;
      const types = events.map((outbox) => outbox.event.type);
      for (const listener of listeners) {
        try {
          listener(types);
        } catch (error) {
          logger.error({ err: error }, "an event listener failed");
        }
      }
      if (handlers.length === 0) return;
      for (const outbox of events) queue.push(outbox.event);
      if (!draining) {
        draining = true;
        setImmediate(() => void drain());
      }
    },
    onPublished(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
