// Many deliverers on one database: two dispatchers on separate connections (SQLite) or pools (PostgreSQL,
// where their claims meet FOR UPDATE SKIP LOCKED) sharing 1,000 events; a lease taken over from a holder
// that stalled; and a real API process killed with SIGKILL mid-delivery, restarted, nothing lost.
import type { WebhookEventType } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenedDatabase } from "../../src/db/database.js";
import { createWebhookDispatcher } from "../../src/services/webhooks/dispatcher.js";
import { createWebhookSender, type WebhookSender } from "../../src/services/webhooks/sender.js";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "../reliability/api-process.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { addEndpoint, addEvents, createDeliveryWorld, deliveryRows, SECRET, USER_ID, type DeliveryWorld } from "./delivery-fixtures.js";

const TYPES: readonly WebhookEventType[] = ["order.paid", "refund.succeeded", "refund.failed", "refund.succeeded", "order.refunded"];

/** A sender that counts what it sends. */
function countingSender(): WebhookSender & { sent: number } {
  const inner = createWebhookSender({ timeoutMs: 5_000 });
  const counting = {
    sent: 0,
    send: async (request: Parameters<WebhookSender["send"]>[0]) => {
      counting.sent++;
      return inner.send(request);
    },
    close: () => inner.close(),
  };
  return counting;
}

/** For each order, the event ids in the order they first arrived. */
function firstArrivalsByOrder(receiver: WebhookReceiver): Map<string, string[]> {
  const seen = new Set<string>();
  const byOrder = new Map<string, string[]>();
  for (const request of receiver.accepted()) {
    if (seen.has(request.eventId)) continue;
    seen.add(request.eventId);
    const orderId = (JSON.parse(request.body) as { data: { order: { id: string } } }).data.order.id;
    byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), request.eventId]);
  }
  return byOrder;
}

describe.each(DATABASES)("webhook delivery by several deliverers (%s)", (dialect) => {
  let world: DeliveryWorld;
  let receiver: WebhookReceiver;
  let handles: OpenedDatabase[];

  beforeAll(async () => {
    world = await createDeliveryWorld(dialect);
    receiver = await startWebhookReceiver({ secrets: [SECRET], answer: { kind: "delay", ms: 2, status: 200 } });
    // PostgreSQL: a pool each, so their claims really race (SKIP LOCKED). SQLite: one connection shared, because two
    // connections in ONE process can deadlock (a synchronous busy wait blocks the event loop the lock holder needs);
    // separate processes on one SQLite file are tested below with real API processes.
    handles = dialect === "postgres" ? [await world.openHandle(), await world.openHandle()] : [world.database, world.database];
  });

  afterAll(async () => {
    await receiver.close();
    await world.close();
  });

  it("two dispatchers deliver 1,000 events: every one, exactly once, each order's in order", async () => {
    await addEndpoint(world.database, { id: "we_shared", url: receiver.url });
    const senders = [countingSender(), countingSender()];
    const dispatchers = handles.map((handle, n) =>
      createWebhookDispatcher(world.context(handle), { ownerId: `process-${n}`, sender: senders[n], pollIntervalMs: 20, batchSize: 50, fanOutBatch: 40 }),
    );
    const expected = new Map<string, string[]>();
    try {
      for (const dispatcher of dispatchers) dispatcher.start();
      // 200 orders x 5 events, written while both deliver.
      for (let batch = 0; batch < 10; batch++) {
        for (let n = 0; n < 20; n++) {
          const orderId = `multi-${dialect}-${batch}-${n}`;
          expected.set(orderId, await addEvents(world.database, orderId, TYPES));
        }
      }
      await receiver.waitFor(() => receiver.acceptedCounts().size >= 1000, 90_000);
    } finally {
      for (const dispatcher of dispatchers) await dispatcher.stop();
      for (const sender of senders) await sender.close();
    }
    // The clock never moves here, so no lease ever expires: a second receipt would be a second claim.
    const counts = receiver.acceptedCounts();
    expect(counts.size).toBe(1000);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(receiver.requests.filter((request) => !request.verified)).toEqual([]);
    expect(senders.map((sender) => sender.sent).reduce((a, b) => a + b)).toBe(1000);
    expect(senders.every((sender) => sender.sent > 0)).toBe(true);
    expect(firstArrivalsByOrder(receiver)).toEqual(expected);
    const rows = await deliveryRows(world.database);
    expect(rows.filter((row) => row.state !== "delivered" || row.attempts !== 1)).toEqual([]);
    await world.database.db.updateTable("webhook_endpoints").set({ enabled: 0 }).where("id", "=", "we_shared").execute();
  }, 120_000);

  it("a stalled holder loses its delivery after the lease: another dispatcher claims it, and the stale result is not recorded", async () => {
    const stalled = await startWebhookReceiver({ secrets: [SECRET], answer: (_request, index) => (index === 0 ? { kind: "hang" } : { kind: "status", status: 200 }) });
    const slowSender = createWebhookSender({ timeoutMs: 1_500 });
    const sender = createWebhookSender();
    try {
      await addEndpoint(world.database, { id: "we_lease", url: stalled.url });
      const [event] = await addEvents(world.database, `lease-${dialect}`, ["order.paid"]);
      const a = createWebhookDispatcher(world.context(handles[0]), { ownerId: "holder-a", sender: slowSender, leaseMs: 60_000 });
      const b = createWebhookDispatcher(world.context(handles[1]), { ownerId: "holder-b", sender, leaseMs: 60_000 });
      const first = a.runOnce();
      await stalled.waitFor(() => stalled.requests.length === 1);
      // The lease holds: nothing for B, even 59.9 s later.
      expect((await b.runOnce()).claimed).toBe(0);
      world.now += 59_900;
      expect((await b.runOnce()).claimed).toBe(0);
      world.now += 100;
      expect(await b.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
      // A's attempt times out now, with its lease long gone: B's outcome stands.
      expect(await first).toMatchObject({ claimed: 1, unrecorded: 1, retrying: 0 });
      const row = (await deliveryRows(world.database)).find((candidate) => candidate.endpoint_id === "we_lease");
      expect(row).toMatchObject({ event_id: event, state: "delivered", attempts: 2, last_status: 200, lease_owner: null });
      expect(world.logs.some((line) => line.includes("the lease passed to another process") && line.includes(event as string))).toBe(true);
    } finally {
      await slowSender.close();
      await sender.close();
      await stalled.close();
    }
  });
});

/** The environment of an API process that delivers to `receiverUrl` (through WEBHOOK_URL) and otherwise stays idle. */
function deliveringApiEnv(databaseUrl: string, receiverUrl: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return sandboxApiEnv({
    databaseUrl,
    sandboxUrl: "http://127.0.0.1:9",
    notifyBaseUrl: "http://127.0.0.1:9",
    extra: {
      // http to loopback is allowed outside production only.
      NODE_ENV: "development",
      WEBHOOK_URL: receiverUrl,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_POLL_INTERVAL_MS: "50",
      // No sweep, no gateway queries: the events written by the test are all there is.
      ORDER_QUERY_AFTER_SECONDS: "86400",
      SWEEP_INTERVAL_SECONDS: "86400",
      ...extra,
    },
  });
}

describe.each(DATABASES)("two API processes delivering 1,000 events to one receiver (%s)", (dialect) => {
  let build: ApiBuild;
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  const apis: ApiProcess[] = [];

  beforeAll(async () => {
    build = await compileApi();
    database = await openTestDatabase(dialect);
    await database.db.insertInto("users").values({ id: USER_ID, openid: "o-multi", created_at: new Date().toISOString() }).execute();
    receiver = await startWebhookReceiver({ secrets: [SECRET], answer: { kind: "delay", ms: 2, status: 200 } });
  }, 120_000);

  afterAll(async () => {
    for (const api of apis) await api.stop();
    await receiver.close();
    await database.close();
  });

  it("every event delivered, none twice (no lease expires), each order's in order, both processes sharing the work", async () => {
    const env = deliveringApiEnv(database.url, receiver.url);
    apis.push(await startApiProcess(build.main, env), await startApiProcess(build.main, env));
    const expected = new Map<string, string[]>();
    for (let n = 0; n < 200; n++) {
      const orderId = `procs-${dialect}-${n}`;
      expected.set(orderId, await addEvents(database, orderId, TYPES));
    }
    await receiver.waitFor(() => receiver.acceptedCounts().size >= 1000, 90_000);
    const stopped = apis.splice(0);
    for (const api of stopped) expect(await api.stop()).toBe("0");
    // Both shared the work: each logged deliveries of its own (one line per attempt).
    expect(stopped.map((api) => api.output.filter((line) => line.includes('"webhook delivered"')).length).every((count) => count > 0)).toBe(true);
    const counts = receiver.acceptedCounts();
    expect(counts.size).toBe(1000);
    expect([...counts.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect(receiver.requests.filter((request) => !request.verified)).toEqual([]);
    expect(firstArrivalsByOrder(receiver)).toEqual(expected);
    const rows = await deliveryRows(database);
    expect(rows).toHaveLength(1000);
    expect(rows.filter((row) => row.state !== "delivered" || row.attempts !== 1)).toEqual([]);
  }, 150_000);
});

describe.each(DATABASES)("kill -9 of an API process mid-delivery (%s)", (dialect) => {
  const EVENTS_PER_ORDER = 5;
  const ORDERS = 30;
  const LEASE_SECONDS = 5;
  let build: ApiBuild;
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  let api: ApiProcess | undefined;
  let env: Record<string, string>;
  const expected = new Map<string, string[]>();

  beforeAll(async () => {
    build = await compileApi();
    database = await openTestDatabase(dialect);
    await database.db.insertInto("users").values({ id: USER_ID, openid: "o-crash", created_at: new Date().toISOString() }).execute();
    for (let n = 0; n < ORDERS; n++) {
      const orderId = `crash-${dialect}-${n}`;
      expected.set(orderId, await addEvents(database, orderId, TYPES.slice(0, EVENTS_PER_ORDER)));
    }
    // Each delivery is held open 300 ms, so many are in flight when the process dies.
    receiver = await startWebhookReceiver({ secrets: [SECRET], answer: { kind: "delay", ms: 300, status: 204 } });
    env = deliveringApiEnv(database.url, receiver.url, { WEBHOOK_LEASE_SECONDS: String(LEASE_SECONDS) });
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await receiver.close();
    await database.close();
  });

  it("every event is delivered after a restart; only the ones in flight at the kill arrive twice, after their lease", async () => {
    api = await startApiProcess(build.main, env);
    await receiver.waitFor(() => receiver.requests.length >= 40, 30_000);
    await api.crash();
    const killedAt = performance.now();
    const beforeKill = receiver.requests.length;
    const held = await database.db.selectFrom("webhook_deliveries").select("event_id").where("state", "=", "pending").where("lease_owner", "is not", null).execute();
    // Killed mid-delivery: some deliveries were claimed and not recorded, and some events not yet sent at all.
    expect(held.length).toBeGreaterThan(0);
    expect(receiver.acceptedCounts().size).toBeLessThan(ORDERS * EVENTS_PER_ORDER);

    api = await startApiProcess(build.main, env);
    await receiver.waitFor(() => receiver.acceptedCounts().size === ORDERS * EVENTS_PER_ORDER, 60_000);
    await api.stop();
    api = undefined;

    const rows = await deliveryRows(database);
    expect(rows).toHaveLength(ORDERS * EVENTS_PER_ORDER);
    expect(rows.filter((row) => row.state !== "delivered")).toEqual([]);
    // Held and already at the receiver when the process died: sent again (at least once); every other event once.
    const arrivedBeforeKill = new Set(receiver.requests.slice(0, beforeKill).map((request) => request.eventId));
    const twice = new Set(held.map((row) => row.event_id).filter((eventId) => arrivedBeforeKill.has(eventId)));
    expect(twice.size).toBeGreaterThan(0);
    for (const [eventId, count] of receiver.acceptedCounts()) expect(count, eventId).toBe(twice.has(eventId) ? 2 : 1);
    // The second copies waited for the dead process's lease (5 s from its claim, made just before the kill).
    const seconds = receiver.requests.slice(beforeKill).filter((request) => twice.has(request.eventId));
    expect(seconds.length).toBe(twice.size);
    for (const request of seconds) expect(request.at - killedAt).toBeGreaterThan((LEASE_SECONDS - 1.5) * 1000);
    expect(firstArrivalsByOrder(receiver)).toEqual(expected);
  }, 120_000);
});
