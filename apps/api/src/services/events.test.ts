import { Writable } from "node:stream";
import { WebhookEventIdSchema, WebhookEventSchema, type WebhookEvent, type WebhookEventType } from "@pay/core/contract";
import { afterEach, describe, expect, it, vi } from "vitest";
import { pendingOrderRow, processingRefundRow } from "../../test/support/rows.js";
import type { OrderRow, RefundRow } from "../db/schema.js";
import { createLogger } from "../logging.js";
import { createEventBus, newEventId, orderEvent, refundEvent, type EventHandler, type OutboxEvent } from "./events.js";
import { orderView, refundView } from "./views.js";

const AT = "2025-01-02T03:10:00.000Z";
const ORDER = { ...pendingOrderRow("2025010203040500000000000001", "user_1"), refunded_fee: 0, reserved_refund_fee: 0 } as OrderRow;
const REFUND: RefundRow = processingRefundRow("R2025010203040500000000000001", ORDER.id, { status: "succeeded", succeeded_at: AT }) as RefundRow;

/** A logger whose lines (parsed) the test reads. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
        done();
      },
    }),
  });
  return { logger, lines };
}

let sequence = 0;
/** Order events of distinct orders, for the bus (the bus only passes them on). */
const events = (count: number, type: "order.paid" | "order.closed" = "order.paid"): OutboxEvent[] =>
  Array.from({ length: count }, () => orderEvent(type, { ...ORDER, id: `2025010203040500000000${String((sequence += 1)).padStart(6, "0")}` }, AT));

/** Resolves once the bus has had time to run what is queued (a few turns of the event loop). */
const settle = async (turns = 5): Promise<void> => {
  for (let n = 0; n < turns; n++) await new Promise((resolve) => setImmediate(resolve));
};

const until = async (check: () => boolean, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("until: not within the time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("event ids and outbox rows", () => {
  it("newEventId: evt_ and 24 letters or digits, as the contract says, never repeated", () => {
    const ids = Array.from({ length: 2000 }, () => newEventId());
    for (const id of ids) expect(WebhookEventIdSchema.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each(["order.paid", "order.closed", "order.refunded"] as const)("orderEvent(%s): the row holds the event as its payload, about the order as the contract shows it", (type) => {
    const { event, row } = orderEvent(type, ORDER, AT);
    expect(event).toEqual({ id: row.id, type, createdAt: AT, data: { order: orderView(ORDER) } });
    expect(row).toEqual({ id: event.id, type, order_id: ORDER.id, refund_id: null, payload: JSON.stringify(event), created_at: AT });
    expect(WebhookEventSchema.parse(JSON.parse(row.payload))).toEqual(event);
  });

  it.each(["refund.succeeded", "refund.failed"] as const)("refundEvent(%s): about the refund, filed under its order and refund", (type) => {
    const { event, row } = refundEvent(type, REFUND, AT);
    expect(event).toEqual({ id: row.id, type, createdAt: AT, data: { refund: refundView(REFUND) } });
    expect(row).toEqual({ id: event.id, type, order_id: ORDER.id, refund_id: REFUND.id, payload: JSON.stringify(event), created_at: AT });
    expect(WebhookEventSchema.parse(JSON.parse(row.payload))).toEqual(event);
  });
});

describe("createEventBus", () => {
  it("without handlers: the listeners hear each batch's types, and nothing is scheduled", async () => {
    const { logger, lines } = capturedLogger();
    const immediate = vi.spyOn(globalThis, "setImmediate");
    const bus = createEventBus([], logger);
    const heard: (readonly WebhookEventType[])[] = [];
    bus.onPublished((types) => heard.push(types));
    bus.published([...events(2), ...events(1, "order.closed")]);
    bus.published([]);
    expect(heard).toEqual([["order.paid", "order.paid", "order.closed"]]);
    expect(immediate).not.toHaveBeenCalled();
    immediate.mockRestore();
    await settle();
    expect(lines).toEqual([]);
  });

  it("handlers run after the current turn, each event through every handler, in the order published, across batches published while draining", async () => {
    const { logger } = capturedLogger();
    const seen: string[] = [];
    const first = events(2);
    const second = events(2);
    const third = events(1);
    const slow: EventHandler = async (event) => {
      seen.push(`slow ${event.id}`);
      // While the first event is being handled, more batches arrive: one from outside, one from a handler itself.
      if (event.id === first[0]?.event.id) {
        bus.published(second);
        await new Promise((resolve) => setTimeout(resolve, 20));
        bus.published(third);
      }
    };
    const quick: EventHandler = (event) => {
      seen.push(`quick ${event.id}`);
    };
    const bus = createEventBus([slow, quick], logger);
    bus.published(first);
    // Nothing runs in the request's own turn.
    expect(seen).toEqual([]);
    const all = [...first, ...second, ...third].map((outbox) => outbox.event.id);
    await until(() => seen.length === all.length * 2);
    expect(seen).toEqual(all.flatMap((id) => [`slow ${id}`, `quick ${id}`]));
  });

  it("a handler that throws or rejects is logged with the event and skipped; the next handler and the next events still run", async () => {
    const { logger, lines } = capturedLogger();
    const handled: string[] = [];
    const throwing: EventHandler = (event) => {
      throw new Error(`thrown at ${event.id}`);
    };
    const rejecting: EventHandler = (event) => Promise.reject(new Error(`rejected at ${event.id}`));
    const recording: EventHandler = (event) => {
      handled.push(event.id);
    };
    const bus = createEventBus([throwing, rejecting, recording], logger);
    const published = events(3);
    bus.published(published.slice(0, 2));
    bus.published(published.slice(2));
    await until(() => handled.length === 3);
    expect(handled).toEqual(published.map((outbox) => outbox.event.id));
    const failures = lines.filter((line) => line.msg === "an event handler failed; the change it reports is committed");
    expect(failures).toHaveLength(6);
    expect(failures.map((line) => line.eventId)).toEqual(published.flatMap((outbox) => [outbox.event.id, outbox.event.id]));
    expect(failures.every((line) => line.eventType === "order.paid" && line.level === 50)).toBe(true);
  });

  it("a listener that throws is logged; the other listeners and the handlers still get the batch; an unsubscribed listener hears nothing more", async () => {
    const { logger, lines } = capturedLogger();
    const handled: WebhookEvent[] = [];
    const bus = createEventBus([(event) => void handled.push(event)], logger);
    const heard: number[] = [];
    bus.onPublished(() => {
      throw new Error("listener down");
    });
    const unsubscribe = bus.onPublished((types) => heard.push(types.length));
    const batch = events(2);
    bus.published(batch);
    expect(heard).toEqual([2]);
    expect(lines.filter((line) => line.msg === "an event listener failed")).toHaveLength(1);
    unsubscribe();
    bus.published(events(1));
    expect(heard).toEqual([2]);
    await until(() => handled.length === 3);
    expect(handled.slice(0, 2)).toEqual(batch.map((outbox) => outbox.event));
  });

  it("a handler that never settles is given up on after handlerTimeoutMs and logged; later events still arrive, in order", async () => {
    const { logger, lines } = capturedLogger();
    const handled: string[] = [];
    const hung = events(1);
    const later = events(2);
    const hanging: EventHandler = (event) => (event.id === hung[0]?.event.id ? new Promise<void>(() => undefined) : undefined);
    const bus = createEventBus([hanging, (event) => void handled.push(event.id)], logger, { handlerTimeoutMs: 50 });
    const started = Date.now();
    bus.published(hung);
    bus.published(later);
    await until(() => handled.length === 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(handled).toEqual([...hung, ...later].map((outbox) => outbox.event.id));
    expect(lines.filter((line) => line.msg === "an event handler did not finish in time; going on with the next")).toEqual([
      expect.objectContaining({ eventId: hung[0]?.event.id, eventType: "order.paid", timeoutMs: 50 }),
    ]);
  });

  it("a handler that settles after its time is up: a late rejection is logged, never unhandled, and does not disturb the order", async () => {
    const { logger, lines } = capturedLogger();
    const handled: string[] = [];
    const slow = events(1);
    const next = events(1);
    const late: EventHandler = async (event) => {
      if (event.id !== slow[0]?.event.id) return;
      await new Promise((resolve) => setTimeout(resolve, 80));
      throw new Error("too late");
    };
    const bus = createEventBus([late, (event) => void handled.push(event.id)], logger, { handlerTimeoutMs: 20 });
    bus.published([...slow, ...next]);
    await until(() => handled.length === 2 && lines.some((line) => line.msg === "an event handler failed; the change it reports is committed"));
    expect(handled).toEqual([...slow, ...next].map((outbox) => outbox.event.id));
    expect(lines.map((line) => line.msg)).toEqual([
      "an event handler did not finish in time; going on with the next",
      "an event handler failed; the change it reports is committed",
    ]);
  });
});
