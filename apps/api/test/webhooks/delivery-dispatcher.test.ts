// The dispatcher against real HTTP receivers on 127.0.0.1, well-behaved and hostile, with the clock moved
// by the test: signatures, retries on the backoff schedule, giving up after 3 days, per-order ordering.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isoAt } from "../../src/clock.js";
import { insertOutboxEvents } from "../../src/db/orders.js";
import { fanOutEvents } from "../../src/db/webhook-deliveries.js";
import type { ServiceContext } from "../../src/services/context.js";
import { orderEvent } from "../../src/services/events.js";
import { createWebhookDispatcher, type WebhookDispatcher, type WebhookDispatcherOptions } from "../../src/services/webhooks/dispatcher.js";
import { replayFailedDeliveries } from "../../src/services/webhooks/endpoints.js";
import { createWebhookSender, type WebhookSender } from "../../src/services/webhooks/sender.js";
import { DATABASES, openTestDatabase } from "../support/databases.js";
import { ANSWER_OK, startWebhookReceiver, type ReceiverAnswer, type WebhookReceiver } from "../support/webhook-receiver.js";
import { addEndpoint, addEvents, createDeliveryWorld, deliveryRows, SECRET, START, type DeliveryWorld } from "./delivery-fixtures.js";

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

describe.each(DATABASES)("webhook dispatcher (%s)", (dialect) => {
  let world: DeliveryWorld;
  let ctx: ServiceContext;
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;
  let sender: WebhookSender;
  let endpoints = 0;
  let orders = 0;
  const dispatchers: WebhookDispatcher[] = [];

  beforeAll(async () => {
    world = await createDeliveryWorld(dialect);
    ctx = world.context();
    receiver = await startWebhookReceiver({ secrets: [SECRET] });
    other = await startWebhookReceiver({ secrets: [SECRET] });
    // A short timeout, so a receiver that never answers costs the tests little.
    sender = createWebhookSender({ timeoutMs: 400 });
  });

  afterAll(async () => {
    await sender.close();
    await receiver.close();
    await other.close();
    await world.close();
  });

  afterEach(async () => {
    for (const dispatcher of dispatchers.splice(0)) await dispatcher.stop();
    receiver.answerWith(ANSWER_OK);
    // Each test sees only its own endpoint.
    await world.database.db.updateTable("webhook_endpoints").set({ enabled: 0 }).execute();
    await world.database.db.updateTable("webhook_deliveries").set({ state: "delivered" }).where("state", "=", "pending").execute();
    world.now = START;
  });

  const dispatcher = (options: WebhookDispatcherOptions = {}): WebhookDispatcher => {
    const made = createWebhookDispatcher(ctx, { sender, random: () => 0.5, ownerId: `test-${dialect}`, ...options });
    dispatchers.push(made);
    return made;
  };
  const newEndpoint = async (url = receiver.url, extra: Partial<Parameters<typeof addEndpoint>[1]> = {}): Promise<string> => {
    const id = `we_${dialect}_${++endpoints}`;
    await addEndpoint(world.database, { id, url, ...extra });
    return id;
  };
  const newOrder = (): string => `wh-${dialect}-${++orders}`;
  const rowsOf = async (endpointId: string) => (await deliveryRows(world.database)).filter((row) => row.endpoint_id === endpointId);
  const acceptedOf = (ids: readonly string[]) => receiver.accepted().filter((request) => ids.includes(request.eventId));

  it("POSTs each event once, signed over the stored body, to every enabled endpoint subscribed to its type", async () => {
    const all = await newEndpoint();
    const paidOnly = await newEndpoint(other.url, { eventTypes: ["order.paid"] });
    const disabled = await newEndpoint(other.url, { enabled: false });
    const [paid, closed] = await addEvents(world.database, newOrder(), ["order.paid", "order.closed"]);
    const run = dispatcher();
    // order.closed waits until the order.paid before it has been delivered to the same endpoint.
    expect(await run.runOnce()).toEqual({ fannedOut: 2, claimed: 2, delivered: 2, retrying: 0, failed: 0, unrecorded: 0 });
    expect(await run.runOnce()).toEqual({ fannedOut: 0, claimed: 1, delivered: 1, retrying: 0, failed: 0, unrecorded: 0 });
    const received = acceptedOf([paid as string, closed as string]);
    expect(received.map((request) => [request.eventId, request.eventType, request.signatures])).toEqual([
      [paid, "order.paid", 1],
      [closed, "order.closed", 1],
    ]);
    const stored = await world.database.db
      .selectFrom("webhook_events")
      .select(["id", "payload"])
      .where("id", "in", [paid as string, closed as string])
      .orderBy("seq")
      .execute();
    expect(received.map((request) => request.body)).toEqual(stored.map((event) => event.payload));
    // t is the injected clock's, in unix seconds.
    expect(received[0]?.timestamp).toBe(START / 1000);
    expect(other.accepted().map((request) => request.eventId)).toEqual([paid]);
    expect((await rowsOf(all)).map((row) => [row.state, row.attempts, row.last_status, row.delivered_at, row.lease_owner])).toEqual([
      ["delivered", 1, 204, isoAt(START), null],
      ["delivered", 1, 204, isoAt(START), null],
    ]);
    expect(await rowsOf(paidOnly)).toHaveLength(1);
    expect(await rowsOf(disabled)).toEqual([]);
    // One info line per attempt with what an operator needs, and never a secret or a signature.
    const lines = world.logs.filter((line) => line.includes(paid as string)).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: "webhook delivered", eventId: paid, endpointId: all, status: 204, attempts: 1, durationMs: expect.any(Number) as number }),
      ]),
    );
    const text = world.logs.join("\n");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(received[0]?.signatureHeader.split("v1=")[1]);
    expect(text).not.toContain("Pay-Signature");
  });

  it("signs with the previous secret too while it has not expired (two v1 values), then with the new one only", async () => {
    const previous = "whsec_previous_secret_0123456789ab";
    const old = await startWebhookReceiver({ secrets: [previous] });
    try {
      await newEndpoint(old.url, { previousSecret: previous, previousSecretExpiresAt: isoAt(START + HOUR) });
      const [first] = await addEvents(world.database, newOrder(), ["order.paid"]);
      await dispatcher().runOnce();
      expect(old.requests.map((request) => [request.eventId, request.signatures, request.verified])).toEqual([[first, 2, true]]);
      world.now = START + HOUR;
      const [second] = await addEvents(world.database, newOrder(), ["order.paid"]);
      await dispatcher().runOnce();
      // Only the new secret signs now: a receiver that knows only the old one refuses it.
      expect(old.requests.slice(1).map((request) => [request.eventId, request.signatures, request.verified])).toEqual([[second, 1, false]]);
    } finally {
      await old.close();
    }
  });

  it("an endpoint created after an event was fanned out does not receive it", async () => {
    await newEndpoint();
    const [before] = await addEvents(world.database, newOrder(), ["order.paid"]);
    await dispatcher().runOnce();
    const late = await newEndpoint(other.url);
    const [after] = await addEvents(world.database, newOrder(), ["order.paid"]);
    await dispatcher().runOnce();
    expect((await rowsOf(late)).map((row) => row.event_id)).toEqual([after]);
    expect(other.accepted().map((request) => request.eventId)).not.toContain(before);
  });

  it("retries on the backoff schedule: 10 s after the first failure, doubling, at most 1 h apart", async () => {
    const endpoint = await newEndpoint();
    receiver.answerWith({ kind: "status", status: 500 });
    const [event] = await addEvents(world.database, newOrder(), ["order.paid"]);
    const run = dispatcher();
    const gaps: number[] = [];
    let last = world.now;
    for (let attempt = 1; attempt <= 12; attempt++) {
      const counts = await run.runOnce();
      expect(counts.claimed, `attempt ${attempt}`).toBe(1);
      const [row] = await rowsOf(endpoint);
      expect(row?.attempts).toBe(attempt);
      const next = Date.parse(row?.next_attempt_at ?? "");
      gaps.push((next - world.now) / 1000);
      // Not a moment early.
      world.now = next - 1;
      expect((await run.runOnce()).claimed).toBe(0);
      world.now = next;
      last = next;
    }
    expect(gaps).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]);
    expect(last).toBeGreaterThan(START);
    expect(receiver.requests.filter((request) => request.eventId === event).length).toBe(12);
  });

  it("jitter from the injected random moves each retry within 0.8x to 1.2x", async () => {
    const endpoint = await newEndpoint();
    receiver.answerWith({ kind: "status", status: 503 });
    await addEvents(world.database, newOrder(), ["order.paid"]);
    const randoms = [0, 0.999_999, 0.25];
    const run = dispatcher({ random: () => randoms.shift() ?? 0.5 });
    const gaps: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await run.runOnce();
      const next = Date.parse((await rowsOf(endpoint))[0]?.next_attempt_at ?? "");
      gaps.push(next - world.now);
      world.now = next;
    }
    expect(gaps).toEqual([8_000, 24_000, 36_000]);
  });

  const hostile: Array<[string, ReceiverAnswer, RegExp, number | null]> = [
    ["answers 500", { kind: "status", status: 500 }, /^HTTP 500/, 500],
    ["never answers", { kind: "hang" }, /no complete answer within 400 ms/, null],
    ["resets the connection", { kind: "reset" }, /socket|ECONNRESET|other side closed/i, null],
    ["answers 10 MB with a 500", { kind: "huge", status: 500, bytes: 10 * 1024 * 1024 }, /^HTTP 500: x{100}/, 500],
  ];

  it.each(hostile)("a receiver that %s: the attempt fails and is retried 10 s later, nothing else waits", async (_name, answer, error, status) => {
    const endpoint = await newEndpoint();
    const healthy = await newEndpoint(other.url);
    receiver.answerWith(answer);
    const [event] = await addEvents(world.database, newOrder(), ["order.paid"]);
    const started = performance.now();
    const counts = await dispatcher().runOnce();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(counts).toMatchObject({ claimed: 2, delivered: 1, retrying: 1 });
    const [row] = await rowsOf(endpoint);
    expect(row).toMatchObject({ state: "pending", attempts: 1, last_status: status, next_attempt_at: isoAt(START + 10_000), lease_owner: null });
    expect(row?.last_error).toMatch(error);
    // The kind of failure and at most 512 characters of the answer.
    expect((row?.last_error ?? "").length).toBeLessThanOrEqual(530);
    expect((await rowsOf(healthy))[0]?.state).toBe("delivered");
    // It comes back: delivered on the retry.
    receiver.answerWith(ANSWER_OK);
    world.now = START + 10_000;
    expect(await dispatcher().runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(receiver.acceptedCounts().get(event as string)).toBe(1);
  });

  it("a receiver answering 10 MB with a 200 is delivered: only the start of the answer is read", async () => {
    const endpoint = await newEndpoint();
    receiver.answerWith({ kind: "huge", status: 200, bytes: 10 * 1024 * 1024 });
    await addEvents(world.database, newOrder(), ["order.paid"]);
    expect(await dispatcher().runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect((await rowsOf(endpoint))[0]).toMatchObject({ state: "delivered", last_status: 200 });
  });

  it("a receiver answering 302 to another receiver: the redirect is not followed and the other gets nothing", async () => {
    const endpoint = await newEndpoint();
    receiver.answerWith({ kind: "redirect", location: other.url });
    const before = other.requests.length;
    const [event] = await addEvents(world.database, newOrder(), ["order.paid"]);
    expect(await dispatcher().runOnce()).toMatchObject({ claimed: 1, retrying: 1 });
    const [row] = await rowsOf(endpoint);
    expect(row).toMatchObject({ state: "pending", last_status: 302 });
    expect(row?.last_error).toContain(`redirect to ${other.url} not followed`);
    expect(other.requests.length).toBe(before);
    expect(other.requests.map((request) => request.eventId)).not.toContain(event);
  });

  it("a receiver down for an hour: retried on the schedule while down, delivered when it is back, nothing lost", async () => {
    const down = await startWebhookReceiver({ secrets: [SECRET] });
    try {
      const endpoint = await newEndpoint(down.url);
      const events = [
        ...(await addEvents(world.database, newOrder(), ["order.paid", "refund.succeeded"])),
        ...(await addEvents(world.database, newOrder(), ["order.paid"])),
        ...(await addEvents(world.database, newOrder(), ["order.closed"])),
      ];
      await down.down();
      const run = dispatcher();
      const attemptsAt: number[] = [];
      while (world.now < START + HOUR) {
        const counts = await run.runOnce();
        if (counts.claimed > 0) attemptsAt.push((world.now - START) / 1000);
        expect(counts.delivered).toBe(0);
        const pending = (await rowsOf(endpoint)).filter((row) => row.state === "pending" && row.attempts > 0);
        world.now = Math.min(...pending.map((row) => Date.parse(row.next_attempt_at)));
      }
      expect(attemptsAt).toEqual([0, 10, 30, 70, 150, 310, 630, 1270, 2550]);
      const rows = await rowsOf(endpoint);
      // The refund waited behind its order's order.paid: never tried while that was failing.
      expect(rows.map((row) => row.attempts)).toEqual([9, 0, 9, 9]);
      expect(rows.map((row) => [row.state, row.last_error === null])).toEqual([
        ["pending", false],
        ["pending", true],
        ["pending", false],
        ["pending", false],
      ]);
      await down.listen();
      world.now = START + 5110 * 1000;
      await run.runOnce();
      await run.runOnce();
      const arrived = down.accepted().map((request) => request.eventId);
      // The three due ones in one pass (concurrently), then the refund that waited for its order.paid.
      expect(arrived.slice(0, 3).sort()).toEqual([events[0], events[2], events[3]].sort());
      expect(arrived.slice(3)).toEqual([events[1]]);
      expect((await rowsOf(endpoint)).map((row) => row.state)).toEqual(["delivered", "delivered", "delivered", "delivered"]);
    } finally {
      await down.close();
    }
  });

  it("3 days of failures: given up (failed) at the first failed attempt past the window, never tried again", async () => {
    const endpoint = await newEndpoint();
    receiver.answerWith({ kind: "status", status: 500 });
    await addEvents(world.database, newOrder(), ["order.paid"]);
    const run = dispatcher();
    let attempts = 0;
    for (;;) {
      const counts = await run.runOnce();
      attempts += counts.claimed;
      const [row] = await rowsOf(endpoint);
      if (row?.state !== "pending") break;
      world.now = Date.parse(row.next_attempt_at);
      expect(attempts).toBeLessThan(200);
    }
    const [row] = await rowsOf(endpoint);
    expect(row).toMatchObject({ state: "failed", failed_at: isoAt(world.now), last_status: 500, expires_at: isoAt(START + 3 * DAY) });
    expect(world.now).toBeGreaterThanOrEqual(START + 3 * DAY);
    expect(world.now).toBeLessThan(START + 3 * DAY + HOUR + 1);
    // 9 attempts in the first 42.5 minutes, then one an hour.
    expect(row?.attempts).toBe(attempts);
    expect(attempts).toBe(9 + Math.ceil((3 * DAY - 2_550_000) / HOUR));
    expect(world.logs.some((line) => line.includes('"webhook delivery given up"') && line.includes(row?.event_id ?? "?"))).toBe(true);
    world.now += 30 * DAY;
    expect((await run.runOnce()).claimed).toBe(0);
  });

  it("a failed delivery replayed through the admin service is delivered again with a fresh window, once, signed", async () => {
    const endpoint = await newEndpoint();
    receiver.answerWith({ kind: "status", status: 500 });
    const [event] = await addEvents(world.database, newOrder(), ["order.paid"]);
    const run = dispatcher();
    // Fanned out at START; the receiver is still failing when the window has run out: given up.
    await fanOutEvents(world.database.db, dialect, isoAt(START), isoAt(START + 3 * DAY), 100);
    world.now = START + 3 * DAY + 1;
    expect(await run.runOnce()).toMatchObject({ claimed: 1, failed: 1 });
    expect((await rowsOf(endpoint))[0]).toMatchObject({ state: "failed", event_id: event });

    receiver.answerWith(ANSWER_OK);
    world.now += HOUR;
    const replayed = await replayFailedDeliveries(ctx, { since: isoAt(START), endpointId: endpoint });
    expect(replayed).toEqual({ ok: true, value: { replayed: 1 } });
    expect((await rowsOf(endpoint))[0]).toMatchObject({ state: "pending", next_attempt_at: isoAt(world.now), expires_at: isoAt(world.now + 3 * DAY), failed_at: null });
    expect(await run.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(receiver.accepted().filter((request) => request.eventId === event)).toHaveLength(1);
    expect((await rowsOf(endpoint))[0]).toMatchObject({ state: "delivered", last_status: 204 });
    // Replayed once, delivered once: nothing more to send.
    expect((await run.runOnce()).claimed).toBe(0);
  });

  it("per-order ordering across retries: A's refund waits behind A's failing order.paid while B's events go through", async () => {
    const endpoint = await newEndpoint();
    const a = newOrder();
    const b = newOrder();
    const [aPaid, aRefund] = await addEvents(world.database, a, ["order.paid", "refund.succeeded"]);
    const [bPaid, bRefund] = await addEvents(world.database, b, ["order.paid", "refund.succeeded"]);
    let aPaidFailures = 0;
    receiver.answerWith((request) => (request.eventId === aPaid && aPaidFailures++ < 2 ? { kind: "status", status: 500 } : ANSWER_OK));
    // One POST at a time, so the order of arrival is the order of the claims.
    const run = dispatcher({ maxConcurrent: 1 });
    await run.runOnce();
    await run.runOnce();
    const mine = (): string[] => receiver.requests.filter((request) => [aPaid, aRefund, bPaid, bRefund].includes(request.eventId)).map((request) => request.eventId);
    expect(mine()).toEqual([aPaid, bPaid, bRefund]);
    world.now += 10_000;
    await run.runOnce();
    await run.runOnce();
    expect(mine()).toEqual([aPaid, bPaid, bRefund, aPaid]);
    world.now += 20_000;
    await run.runOnce();
    await run.runOnce();
    expect(mine()).toEqual([aPaid, bPaid, bRefund, aPaid, aPaid, aRefund]);
    expect(acceptedOf([aPaid as string, aRefund as string]).map((request) => request.eventId)).toEqual([aPaid, aRefund]);
    expect((await rowsOf(endpoint)).map((row) => [row.event_id, row.state, row.attempts])).toEqual([
      [aPaid, "delivered", 3],
      [aRefund, "delivered", 1],
      [bPaid, "delivered", 1],
      [bRefund, "delivered", 1],
    ]);
  });

  it("a disabled endpoint's pending deliveries wait until it is enabled again", async () => {
    const endpoint = await newEndpoint();
    const [event] = await addEvents(world.database, newOrder(), ["order.paid"]);
    const run = dispatcher();
    expect(await fanOutEvents(world.database.db, dialect, isoAt(world.now), isoAt(world.now + 3 * DAY), 100)).toMatchObject({ events: 1, deliveries: 1 });
    await world.database.db.updateTable("webhook_endpoints").set({ enabled: 0 }).where("id", "=", endpoint).execute();
    expect((await run.runOnce()).claimed).toBe(0);
    world.now += DAY;
    expect((await run.runOnce()).claimed).toBe(0);
    expect((await rowsOf(endpoint))[0]).toMatchObject({ state: "pending", attempts: 0 });
    await world.database.db.updateTable("webhook_endpoints").set({ enabled: 1 }).where("id", "=", endpoint).execute();
    expect(await run.runOnce()).toMatchObject({ claimed: 1, delivered: 1 });
    expect(receiver.acceptedCounts().get(event as string)).toBe(1);
  });

  it("the commits of a busy moment share one pass: 50 publishes in a burst cost one fan-out, not 50", async () => {
    let fanOuts = 0;
    const counted: ServiceContext = {
      ...ctx,
      db: ctx.db.withPlugin({
        transformQuery(args) {
          const node = args.node as { kind: string; sqlFragments?: readonly string[] };
          if (node.kind === "RawNode" && (node.sqlFragments ?? []).join("").includes("set fanned_out = 1")) fanOuts++;
          return args.node;
        },
        transformResult: (args) => Promise.resolve(args.result),
      }),
    };
    const made = createWebhookDispatcher(counted, { sender, random: () => 0.5, ownerId: `burst-${dialect}`, pollIntervalMs: 60_000 });
    dispatchers.push(made);
    made.start();
    // The first pass has run; the next poll is a minute away.
    await new Promise((resolve) => setTimeout(resolve, 100));
    fanOuts = 0;
    const orderId = newOrder();
    await addEvents(world.database, orderId, []);
    const order = await world.database.db.selectFrom("orders").selectAll().where("id", "=", orderId).executeTakeFirstOrThrow();
    const outboxes = Array.from({ length: 50 }, () => orderEvent("order.paid", order, isoAt(world.now)));
    await insertOutboxEvents(world.database.db, [outboxes[0]!.row]);
    for (const outbox of outboxes) ctx.events.published([outbox]);
    // No endpoint is enabled: the pass marks the event fanned out and claims nothing.
    for (let waited = 0; waited < 2_000 && fanOuts === 0; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fanOuts).toBe(1);
    expect(await world.database.db.selectFrom("webhook_events").select("fanned_out").where("id", "=", outboxes[0]!.row.id).executeTakeFirst()).toEqual({ fanned_out: 1 });
  });

  it("started, it is woken by a published commit at once (not at the next poll), and stop() waits for the attempt in flight", async () => {
    const endpoint = await newEndpoint();
    const run = dispatcher({ pollIntervalMs: 60_000 });
    run.start();
    // The first pass has found nothing; the next poll is a minute away.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const orderId = newOrder();
    await addEvents(world.database, orderId, []);
    const order = await world.database.db.selectFrom("orders").selectAll().where("id", "=", orderId).executeTakeFirstOrThrow();
    const outbox = orderEvent("order.paid", order, isoAt(world.now));
    await insertOutboxEvents(world.database.db, [outbox.row]);
    const published = performance.now();
    ctx.events.published([outbox]);
    await receiver.waitFor(() => receiver.acceptedCounts().has(outbox.event.id), 5_000);
    expect(performance.now() - published).toBeLessThan(2_000);
    // A hanging receiver: stop() returns once the attempt has timed out and been recorded.
    receiver.answerWith({ kind: "hang" });
    const [hanging] = await addEvents(world.database, newOrder(), ["order.closed"]);
    ctx.events.published([outbox]);
    await receiver.waitFor(() => receiver.requests.some((request) => request.eventId === hanging), 5_000);
    await run.stop();
    const row = (await rowsOf(endpoint)).find((candidate) => candidate.event_id === hanging);
    expect(row).toMatchObject({ state: "pending", attempts: 1, lease_owner: null });
    expect(row?.last_error).toMatch(/no complete answer/);
  });

  it("a sender that throws counts as a failed attempt, retried later; a stopped dispatcher cannot be started again", async () => {
    const endpoint = await newEndpoint();
    await addEvents(world.database, newOrder(), ["order.paid"]);
    const throwing: WebhookSender = { send: () => Promise.reject(new Error("no route")), close: () => Promise.resolve() };
    const run = dispatcher({ sender: throwing });
    expect(await run.runOnce()).toMatchObject({ claimed: 1, retrying: 1 });
    expect((await rowsOf(endpoint))[0]).toMatchObject({
      state: "pending",
      attempts: 1,
      last_status: null,
      last_error: "not sent: no route",
      next_attempt_at: isoAt(START + 10_000),
    });
    await run.stop();
    expect(() => run.start()).toThrow("stopped");
    await expect(run.runOnce()).rejects.toThrow("stopped");
  });

  it("a database failure in the loop is logged and retried on the next tick, never thrown", async () => {
    // A database without the webhook tables: every statement fails.
    const unmigrated = await openTestDatabase(dialect, { migrate: false });
    const run = createWebhookDispatcher(world.context(unmigrated), { sender, pollIntervalMs: 20, ownerId: "broken" });
    const before = world.logs.length;
    try {
      run.start();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await run.stop();
    } finally {
      await unmigrated.close();
    }
    const failures = world.logs.slice(before).filter((line) => line.includes("webhook dispatch pass failed"));
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });
});
