// Replays and the deliveries list through real HTTP on both databases. Delivery rows are inserted directly
// (the dispatcher is another part): a replay of one event makes each of its deliveries due now with a fresh
// 3-day window and adds one for each enabled subscribed endpoint without one; a replay of failed deliveries
// since T touches only failed ones whose failed_at >= T.
import type { WebhookDelivery } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebhookDeliveryRow } from "../../src/db/schema.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { insertDelivery, insertEndpointRow, insertEvent, startAdminApp, START, testId, type AdminApp, type TestClock } from "./admin-harness.js";

const WINDOW_MS = 3 * 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

describe.each(DATABASES)("webhook replays and deliveries on %s", (kind) => {
  let database: TestDatabase;
  let app: AdminApp;
  const clock: TestClock = { now: START };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await startAdminApp(database, clock);
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  async function deliveriesOf(eventId: string): Promise<Map<string, WebhookDeliveryRow>> {
    const rows = await database.db.selectFrom("webhook_deliveries").selectAll().where("event_id", "=", eventId).execute();
    return new Map(rows.map((row) => [row.endpoint_id, row]));
  }

  function expectReplayed(row: WebhookDeliveryRow | undefined, now: number): void {
    expect(row).toMatchObject({
      state: "pending",
      attempts: 0,
      next_attempt_at: new Date(now).toISOString(),
      expires_at: new Date(now + WINDOW_MS).toISOString(),
      delivered_at: null,
      failed_at: null,
    });
  }

  it("replays one event: its deliveries due now with a fresh window, a new one for each enabled subscribed endpoint without one", async () => {
    const order = `P-replay-one-${kind}`;
    const event = await insertEvent(database, order);
    const failed = await insertEndpointRow(database);
    const delivered = await insertEndpointRow(database);
    const pending = await insertEndpointRow(database);
    const fresh = await insertEndpointRow(database);
    const unsubscribed = await insertEndpointRow(database, { event_types: JSON.stringify(["refund.succeeded"]) });
    const disabled = await insertEndpointRow(database, { enabled: 0 });
    const disabledWithDelivery = await insertEndpointRow(database, { enabled: 0 });
    await insertDelivery(database, failed, event, order, "failed", { failedAt: START + HOUR_MS });
    await insertDelivery(database, delivered, event, order, "delivered", { deliveredAt: START + 1000 });
    await insertDelivery(database, pending, event, order, "pending", { attempts: 4 });
    await insertDelivery(database, disabledWithDelivery, event, order, "failed", { failedAt: START + HOUR_MS });
    const other = await insertEvent(database, order);
    await insertDelivery(database, failed, other, order, "failed", { failedAt: START + HOUR_MS });

    clock.now = START + 4 * 24 * HOUR_MS;
    const answer = await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ deliveries: 5 });
    const rows = await deliveriesOf(event.id);
    for (const endpoint of [failed, delivered, pending, fresh, disabledWithDelivery]) expectReplayed(rows.get(endpoint), clock.now);
    expect(rows.get(failed)).toMatchObject({ last_status: 500, last_error: "HTTP 500", event_seq: event.seq, order_id: order });
    expect(rows.get(fresh)).toMatchObject({ event_seq: event.seq, order_id: order, lease_owner: null, last_attempt_at: null });
    expect(rows.has(unsubscribed)).toBe(false);
    expect(rows.has(disabled)).toBe(false);
    expect(rows.size).toBe(5);
    // The other event of the same order is untouched.
    expect((await deliveriesOf(other.id)).get(failed)).toMatchObject({ state: "failed", failed_at: new Date(START + HOUR_MS).toISOString() });

    // Again: nothing is duplicated.
    expect((await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`, { body: {} })).body).toEqual({ deliveries: 5 });
    expect((await deliveriesOf(event.id)).size).toBe(5);
  });

  it("replays one event to one endpoint only, creating its delivery when it is subscribed", async () => {
    const order = `P-replay-to-one-${kind}`;
    const event = await insertEvent(database, order);
    const chosen = await insertEndpointRow(database);
    const bystander = await insertEndpointRow(database);
    const unsubscribed = await insertEndpointRow(database, { event_types: JSON.stringify(["order.closed"]) });
    await insertDelivery(database, chosen, event, order, "failed", { failedAt: START });
    await insertDelivery(database, bystander, event, order, "failed", { failedAt: START });
    clock.now = START + 5 * 24 * HOUR_MS;

    expect((await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`, { body: { endpointId: chosen } })).body).toEqual({ deliveries: 1 });
    const rows = await deliveriesOf(event.id);
    expectReplayed(rows.get(chosen), clock.now);
    expect(rows.get(bystander)).toMatchObject({ state: "failed" });

    // An endpoint that neither has a delivery of it nor receives its type: nothing to replay.
    expect((await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`, { body: { endpointId: unsubscribed } })).body).toEqual({ deliveries: 0 });
    const created = await insertEndpointRow(database);
    expect((await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`, { body: { endpointId: created } })).body).toEqual({ deliveries: 1 });
    expectReplayed((await deliveriesOf(event.id)).get(created), clock.now);
  });

  it("refuses an unknown event or endpoint (404) and malformed ids (400), changing nothing", async () => {
    const order = `P-replay-refused-${kind}`;
    const event = await insertEvent(database, order);
    const endpoint = await insertEndpointRow(database);
    await insertDelivery(database, endpoint, event, order, "failed", { failedAt: START });
    const missingEvent = testId("evt_");
    const unknownEvent = await app.request("POST", `/api/admin/webhook-events/${missingEvent}/replay`);
    expect(unknownEvent.status).toBe(404);
    expect(unknownEvent.body).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect(unknownEvent.text).toContain(missingEvent);
    const unknownEndpoint = await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`, { body: { endpointId: testId("we_") } });
    expect(unknownEndpoint.status).toBe(404);
    expect((await app.request("POST", "/api/admin/webhook-events/evt_short/replay")).body).toMatchObject({ error: { code: "VALIDATION_FAILED", field: "id" } });
    expect((await app.request("POST", `/api/admin/webhook-events/${event.id}/replay`, { body: { endpointId: "x" } })).body).toMatchObject({
      error: { code: "VALIDATION_FAILED", field: "endpointId" },
    });
    expect((await deliveriesOf(event.id)).get(endpoint)).toMatchObject({ state: "failed", failed_at: new Date(START).toISOString() });
  });

  it("replays failed deliveries since T: only failed ones with failed_at >= T, of every endpoint or of one", async () => {
    const since = START + 10 * 24 * HOUR_MS;
    const order = `P-replay-failed-${kind}`;
    const a = await insertEndpointRow(database);
    const b = await insertEndpointRow(database);
    const events = await Promise.all([1, 2, 3, 4, 5].map(() => insertEvent(database, order)));
    const [before, at, after, stillPending, wasDelivered] = events as [(typeof events)[0], (typeof events)[0], (typeof events)[0], (typeof events)[0], (typeof events)[0]];
    await insertDelivery(database, a, before, order, "failed", { failedAt: since - 1 });
    await insertDelivery(database, a, at, order, "failed", { failedAt: since });
    await insertDelivery(database, a, after, order, "failed", { failedAt: since + HOUR_MS });
    await insertDelivery(database, a, stillPending, order, "pending");
    await insertDelivery(database, a, wasDelivered, order, "delivered", { deliveredAt: since + HOUR_MS });
    await insertDelivery(database, b, after, order, "failed", { failedAt: since + 2 * HOUR_MS });
    clock.now = since + 3 * HOUR_MS;

    // One endpoint, with T given in another offset (the same instant).
    const sinceText = new Date(since + 8 * HOUR_MS).toISOString().replace("Z", "+08:00");
    const one = await app.request("POST", "/api/admin/webhook-deliveries/replay", { body: { since: sinceText, endpointId: a } });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual({ replayed: 2 });
    expectReplayed((await deliveriesOf(at.id)).get(a), clock.now);
    expectReplayed((await deliveriesOf(after.id)).get(a), clock.now);
    expect((await deliveriesOf(before.id)).get(a)).toMatchObject({ state: "failed", failed_at: new Date(since - 1).toISOString() });
    expect((await deliveriesOf(after.id)).get(b)).toMatchObject({ state: "failed" });
    expect((await deliveriesOf(stillPending.id)).get(a)).toMatchObject({ state: "pending", attempts: 0, next_attempt_at: new Date(START).toISOString() });
    expect((await deliveriesOf(wasDelivered.id)).get(a)).toMatchObject({ state: "delivered", delivered_at: new Date(since + HOUR_MS).toISOString() });

    // Every endpoint: what is still failed since T.
    const all = await app.request("POST", "/api/admin/webhook-deliveries/replay", { body: { since: new Date(since).toISOString() } });
    expect(all.body).toEqual({ replayed: 1 });
    expectReplayed((await deliveriesOf(after.id)).get(b), clock.now);
    expect((await app.request("POST", "/api/admin/webhook-deliveries/replay", { body: { since: new Date(since).toISOString() } })).body).toEqual({ replayed: 0 });
    for (const body of [{}, { since: "yesterday" }, { since: new Date(since).toISOString(), endpointId: "we_" }]) {
      expect((await app.request("POST", "/api/admin/webhook-deliveries/replay", { body })).status, JSON.stringify(body)).toBe(400);
    }
  });

  it("lists an endpoint's deliveries newest first, by state, a page at a time, and counts them by state", async () => {
    const endpoint = await insertEndpointRow(database);
    const order = `P-list-${kind}`;
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await insertEvent(database, order, i === 4 ? "order.closed" : "order.paid"));
    const states = ["delivered", "failed", "pending", "failed", "pending"] as const;
    for (const [i, event] of events.entries()) {
      await insertDelivery(database, endpoint, event, order, states[i] ?? "pending", {
        ...(states[i] === "failed" ? { failedAt: START + i } : {}),
        ...(states[i] === "delivered" ? { deliveredAt: START + i } : {}),
      });
    }
    const base = `/api/admin/webhook-endpoints/${endpoint}/deliveries`;
    const first = await app.request("GET", `${base}?limit=2`);
    expect(first.status, first.text).toBe(200);
    const page1 = first.body as { deliveries: WebhookDelivery[]; nextCursor: string | null };
    expect(page1.deliveries.map((d) => d.eventId)).toEqual([events[4]?.id, events[3]?.id]);
    expect(page1.deliveries[0]).toEqual({
      eventId: events[4]?.id,
      eventType: "order.closed",
      orderId: order,
      state: "pending",
      attempts: 0,
      nextAttemptAt: new Date(START).toISOString(),
      lastAttemptAt: null,
      lastStatus: null,
      lastError: null,
      deliveredAt: null,
      failedAt: null,
      createdAt: new Date(START).toISOString(),
    });
    expect(page1.deliveries[1]).toMatchObject({ state: "failed", attempts: 3, lastStatus: 500, lastError: "HTTP 500", failedAt: new Date(START + 3).toISOString() });
    expect(page1.nextCursor).not.toBeNull();
    const page2 = (await app.request("GET", `${base}?limit=2&cursor=${page1.nextCursor ?? ""}`)).body as { deliveries: WebhookDelivery[]; nextCursor: string | null };
    expect(page2.deliveries.map((d) => d.eventId)).toEqual([events[2]?.id, events[1]?.id]);
    const page3 = (await app.request("GET", `${base}?limit=2&cursor=${page2.nextCursor ?? ""}`)).body as { deliveries: WebhookDelivery[]; nextCursor: string | null };
    expect(page3).toEqual({ deliveries: [expect.objectContaining({ eventId: events[0]?.id, state: "delivered" }) as WebhookDelivery], nextCursor: null });

    const failedOnly = (await app.request("GET", `${base}?state=failed`)).body as { deliveries: WebhookDelivery[]; nextCursor: string | null };
    expect(failedOnly.deliveries.map((d) => d.eventId)).toEqual([events[3]?.id, events[1]?.id]);
    expect(failedOnly.nextCursor).toBeNull();
    expect((await app.request("GET", `/api/admin/webhook-endpoints/${endpoint}`)).body).toMatchObject({ deliveries: { pending: 2, delivered: 1, failed: 2 } });

    for (const [query, field] of [
      ["cursor=bm9wZQ", "cursor"],
      ["state=lost", "state"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["other=1", "query"],
    ] as const) {
      expect((await app.request("GET", `${base}?${query}`)).body, query).toMatchObject({ error: { code: "VALIDATION_FAILED", field } });
    }
  });
});
