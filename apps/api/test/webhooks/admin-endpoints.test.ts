// The admin webhook routes through real HTTP on both databases: endpoints (create with the secret shown
// once, list, get, update and disable, rotate with an overlap), every refusal (URL rules, event types,
// unknown ids, the admin token), and the env endpoint's limits. Replays and deliveries: admin-replay.test.ts.
import type { WebhookEndpoint } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertEnvEndpoint } from "../../src/db/webhook-endpoints.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startAdminApp, START, testId, type AdminApp, type Answer, type TestClock } from "./admin-harness.js";

const HOOK = { url: "https://shop.example.com/hooks", eventTypes: ["refund.succeeded", "order.paid"], description: "fulfilment" };
const SECRET = /^whsec_[0-9A-Za-z_-]{43}$/;
const DAY_MS = 24 * 3600 * 1000;

describe.each(DATABASES)("webhook endpoint admin routes on %s", (kind) => {
  let database: TestDatabase;
  let app: AdminApp;
  let production: AdminApp;
  const clock: TestClock = { now: START };

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    app = await startAdminApp(database, clock, { NODE_ENV: "development" });
    production = await startAdminApp(database, clock, { NODE_ENV: "production" });
  });
  afterAll(async () => {
    await app.close();
    await production.close();
    await database.close();
  });

  async function create(body: unknown = HOOK, on: AdminApp = app): Promise<{ endpoint: WebhookEndpoint; secret: string; answer: Answer }> {
    const answer = await on.request("POST", "/api/admin/webhook-endpoints", { body });
    expect(answer.status, answer.text).toBe(201);
    return { ...(answer.body as { endpoint: WebhookEndpoint; secret: string }), answer };
  }

  async function row(id: string) {
    return database.db.selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  }

  function expectRefused(answer: Answer, status: number, code: string, field?: string): void {
    expect(answer.status, answer.text).toBe(status);
    expect(answer.body).toMatchObject({ error: { code, ...(field === undefined ? {} : { field }) } });
  }

  it("creates an endpoint: 201 with its secret, stored as answered, event types in the contract's order", async () => {
    const { endpoint, secret } = await create();
    expect(secret).toMatch(SECRET);
    expect(endpoint).toEqual({
      id: expect.stringMatching(/^we_[0-9A-Za-z]{24}$/) as string,
      url: HOOK.url,
      description: "fulfilment",
      eventTypes: ["order.paid", "refund.succeeded"],
      enabled: true,
      source: "api",
      previousSecretExpiresAt: null,
      createdAt: new Date(clock.now).toISOString(),
      updatedAt: new Date(clock.now).toISOString(),
    });
    const stored = await row(endpoint.id);
    expect(stored).toMatchObject({ secret, previous_secret: null, enabled: 1, source: "api", event_types: JSON.stringify(["order.paid", "refund.succeeded"]) });
  });

  it("shows the secret only once: list and get never carry it", async () => {
    const { endpoint, secret } = await create();
    const other = await create({ url: "https://other.example.com/hooks", eventTypes: ["order.closed"] });
    const list = await app.request("GET", "/api/admin/webhook-endpoints");
    expect(list.status).toBe(200);
    const listed = (list.body as { endpoints: WebhookEndpoint[] }).endpoints;
    expect(listed.map((e) => e.id)).toEqual(expect.arrayContaining([endpoint.id, other.endpoint.id]));
    expect(listed.find((e) => e.id === endpoint.id)).toEqual(endpoint);
    const got = await app.request("GET", `/api/admin/webhook-endpoints/${endpoint.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ endpoint, deliveries: { pending: 0, delivered: 0, failed: 0 } });
    for (const answer of [list, got]) {
      expect(answer.text).not.toContain(secret);
      expect(answer.text).not.toContain(other.secret);
      expect(answer.text.toLowerCase()).not.toContain('"secret"');
      expect(answer.text).not.toContain("whsec_");
    }
  });

  it.each([
    ["not a URL", "shop.example.com/hooks", "must be an absolute URL"],
    ["an empty URL", "", "must not be empty"],
    ["http to a host that is not loopback", "http://shop.example.com/hooks", "plain http is allowed only to a loopback host"],
    ["credentials in the URL", "https://user:pw@shop.example.com/hooks", "must not contain a user name or password"],
    ["another scheme", "ftp://shop.example.com/hooks", "must be an https URL"],
  ])("refuses %s: 400 naming url, nothing stored", async (_what, url, message) => {
    const before = await database.db.selectFrom("webhook_endpoints").select("id").execute();
    const answer = await app.request("POST", "/api/admin/webhook-endpoints", { body: { ...HOOK, url } });
    expectRefused(answer, 400, "VALIDATION_FAILED", "url");
    expect((answer.body as { error: { message: string } }).error.message).toContain(message);
    expect(await database.db.selectFrom("webhook_endpoints").select("id").execute()).toEqual(before);
  });

  it("accepts http to loopback outside production, and refuses it in production (400 naming url)", async () => {
    const { endpoint } = await create({ url: "http://127.0.0.1:4000/hooks", eventTypes: ["order.paid"] });
    expect(endpoint.url).toBe("http://127.0.0.1:4000/hooks");
    const refused = await production.request("POST", "/api/admin/webhook-endpoints", { body: { url: "http://127.0.0.1:4000/hooks", eventTypes: ["order.paid"] } });
    expectRefused(refused, 400, "VALIDATION_FAILED", "url");
    expect(refused.text).toContain("must use https when NODE_ENV=production");
    const patched = await production.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: { url: "http://localhost:4001/hooks" } });
    expectRefused(patched, 400, "VALIDATION_FAILED", "url");
    expect((await create({ url: "https://shop.example.com/prod", eventTypes: ["order.paid"] }, production)).endpoint.url).toBe("https://shop.example.com/prod");
  });

  it.each([
    ["an unknown event type", { ...HOOK, eventTypes: ["order.shipped"] }, "eventTypes.0"],
    ["no event type", { ...HOOK, eventTypes: [] }, "eventTypes"],
    ["an event type twice", { ...HOOK, eventTypes: ["order.paid", "order.paid"] }, "eventTypes"],
    ["event types that are not a list", { ...HOOK, eventTypes: "order.paid" }, "eventTypes"],
    ["a secret of one's own", { ...HOOK, secret: "whsec_mine" }, "body"],
    ["a description over 200 characters", { ...HOOK, description: "d".repeat(201) }, "description"],
  ])("refuses %s: 400 naming the field", async (_what, body, field) => {
    expectRefused(await app.request("POST", "/api/admin/webhook-endpoints", { body }), 400, "VALIDATION_FAILED", field);
  });

  it("every route refuses a request without the admin token (401) or with another token (403), changing nothing", async () => {
    const { endpoint } = await create();
    const event = testId("evt_");
    const routes: Array<[string, string, unknown]> = [
      ["POST", "/api/admin/webhook-endpoints", HOOK],
      ["GET", "/api/admin/webhook-endpoints", undefined],
      ["GET", `/api/admin/webhook-endpoints/${endpoint.id}`, undefined],
      ["PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { enabled: false }],
      ["POST", `/api/admin/webhook-endpoints/${endpoint.id}/rotate-secret`, {}],
      ["GET", `/api/admin/webhook-endpoints/${endpoint.id}/deliveries`, undefined],
      ["POST", `/api/admin/webhook-events/${event}/replay`, {}],
      ["POST", "/api/admin/webhook-deliveries/replay", { since: new Date(START).toISOString() }],
    ];
    const before = JSON.stringify(await database.db.selectFrom("webhook_endpoints").selectAll().orderBy("id").execute());
    for (const [method, path, body] of routes) {
      expectRefused(await app.request(method, path, { body, token: null }), 401, "UNAUTHORIZED");
      expectRefused(await app.request(method, path, { body, token: `${"x".repeat(40)}` }), 403, "FORBIDDEN");
    }
    expect(JSON.stringify(await database.db.selectFrom("webhook_endpoints").selectAll().orderBy("id").execute())).toBe(before);
  });

  it("an unknown endpoint is 404 on every endpoint route; a malformed id is 400 naming id", async () => {
    const missing = testId("we_");
    for (const [method, path, body] of [
      ["GET", `/api/admin/webhook-endpoints/${missing}`, undefined],
      ["PATCH", `/api/admin/webhook-endpoints/${missing}`, { enabled: false }],
      ["POST", `/api/admin/webhook-endpoints/${missing}/rotate-secret`, {}],
      ["GET", `/api/admin/webhook-endpoints/${missing}/deliveries`, undefined],
      ["POST", "/api/admin/webhook-deliveries/replay", { since: new Date(START).toISOString(), endpointId: missing }],
    ] as const) {
      const answer = await app.request(method, path, { body });
      expectRefused(answer, 404, "NOT_FOUND");
      expect(answer.text).toContain(missing);
    }
    expectRefused(await app.request("GET", "/api/admin/webhook-endpoints/we_nope"), 400, "VALIDATION_FAILED", "id");
    expectRefused(await app.request("GET", "/api/admin/webhook-endpoints/..%2Fetc"), 400, "VALIDATION_FAILED", "id");
  });

  it("updates the URL, event types and description; disables and re-enables; needs at least one field", async () => {
    const { endpoint, secret } = await create();
    clock.now += 60_000;
    const answer = await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, {
      body: { url: "https://shop.example.com/v2/hooks", eventTypes: ["refund.failed", "order.closed"], description: null },
    });
    expect(answer.status, answer.text).toBe(200);
    const updated = (answer.body as { endpoint: WebhookEndpoint }).endpoint;
    expect(updated).toEqual({
      ...endpoint,
      url: "https://shop.example.com/v2/hooks",
      eventTypes: ["order.closed", "refund.failed"],
      description: null,
      updatedAt: new Date(clock.now).toISOString(),
    });
    const disabled = await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: { enabled: false } });
    expect((disabled.body as { endpoint: WebhookEndpoint }).endpoint.enabled).toBe(false);
    expect((await row(endpoint.id)).enabled).toBe(0);
    const listed = ((await app.request("GET", "/api/admin/webhook-endpoints")).body as { endpoints: WebhookEndpoint[] }).endpoints;
    expect(listed.find((e) => e.id === endpoint.id)?.enabled).toBe(false);
    await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: { enabled: true } });
    expect((await row(endpoint.id)).enabled).toBe(1);
    expect((await row(endpoint.id)).secret).toBe(secret);

    expectRefused(await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: {} }), 400, "VALIDATION_FAILED", "body");
    expectRefused(await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: { url: "nope" } }), 400, "VALIDATION_FAILED", "url");
    expectRefused(await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: { eventTypes: ["order.lost"] } }), 400, "VALIDATION_FAILED", "eventTypes.0");
    expectRefused(await app.request("PATCH", `/api/admin/webhook-endpoints/${endpoint.id}`, { body: { secret: "x" } }), 400, "VALIDATION_FAILED", "body");
    expect((await row(endpoint.id)).url).toBe("https://shop.example.com/v2/hooks");
  });

  it("rotates the secret: the new one answered once, the previous kept signing for 24 h by default (the row), then hidden from the view", async () => {
    const { endpoint, secret: first } = await create();
    clock.now += 1000;
    const rotatedAt = clock.now;
    const answer = await app.request("POST", `/api/admin/webhook-endpoints/${endpoint.id}/rotate-secret`);
    expect(answer.status, answer.text).toBe(200);
    const { endpoint: view, secret: second } = answer.body as { endpoint: WebhookEndpoint; secret: string };
    expect(second).toMatch(SECRET);
    expect(second).not.toBe(first);
    expect(view.previousSecretExpiresAt).toBe(new Date(rotatedAt + DAY_MS).toISOString());
    expect(await row(endpoint.id)).toMatchObject({ secret: second, previous_secret: first, previous_secret_expires_at: new Date(rotatedAt + DAY_MS).toISOString() });
    const got = await app.request("GET", `/api/admin/webhook-endpoints/${endpoint.id}`);
    expect(got.text).not.toContain(first);
    expect(got.text).not.toContain(second);
    expect((got.body as { endpoint: WebhookEndpoint }).endpoint.previousSecretExpiresAt).toBe(new Date(rotatedAt + DAY_MS).toISOString());

    clock.now = rotatedAt + DAY_MS;
    expect(((await app.request("GET", `/api/admin/webhook-endpoints/${endpoint.id}`)).body as { endpoint: WebhookEndpoint }).endpoint.previousSecretExpiresAt).toBeNull();

    const third = (await app.request("POST", `/api/admin/webhook-endpoints/${endpoint.id}/rotate-secret`, { body: { previousSecretExpiresInSeconds: 3600 } })).body as {
      secret: string;
    };
    expect(await row(endpoint.id)).toMatchObject({ secret: third.secret, previous_secret: second, previous_secret_expires_at: new Date(clock.now + 3600_000).toISOString() });
    const fourth = (await app.request("POST", `/api/admin/webhook-endpoints/${endpoint.id}/rotate-secret`, { body: { previousSecretExpiresInSeconds: 0 } })).body as {
      endpoint: WebhookEndpoint;
      secret: string;
    };
    expect(fourth.endpoint.previousSecretExpiresAt).toBeNull();
    expect(await row(endpoint.id)).toMatchObject({ secret: fourth.secret, previous_secret: null, previous_secret_expires_at: null });
    for (const bad of [-1, 604_801, "3600"]) {
      const refused = await app.request("POST", `/api/admin/webhook-endpoints/${endpoint.id}/rotate-secret`, { body: { previousSecretExpiresInSeconds: bad } });
      expectRefused(refused, 400, "VALIDATION_FAILED", "previousSecretExpiresInSeconds");
    }
    expect((await row(endpoint.id)).secret).toBe(fourth.secret);
  });

  it("the env endpoint (we_env): disable and event types through the API; its URL and secret are the environment's (400)", async () => {
    const envApp = await startAdminApp(database, clock, { WEBHOOK_URL: "https://env.example.com/hooks", WEBHOOK_SECRET: "whsec_environment-secret-0123456789" });
    try {
      await upsertEnvEndpoint(database.db, envApp.services.config.webhooks.endpoint ?? expect.unreachable(), clock.now);
      const got = await envApp.request("GET", "/api/admin/webhook-endpoints/we_env");
      expect(got.status, got.text).toBe(200);
      expect((got.body as { endpoint: WebhookEndpoint }).endpoint).toMatchObject({ id: "we_env", source: "env", url: "https://env.example.com/hooks", enabled: true });
      expect(got.text).not.toContain("whsec_environment-secret");

      const patched = await envApp.request("PATCH", "/api/admin/webhook-endpoints/we_env", { body: { enabled: false, eventTypes: ["order.paid"] } });
      expect((patched.body as { endpoint: WebhookEndpoint }).endpoint).toMatchObject({ enabled: false, eventTypes: ["order.paid"] });
      const url = await envApp.request("PATCH", "/api/admin/webhook-endpoints/we_env", { body: { url: "https://elsewhere.example.com/hooks" } });
      expectRefused(url, 400, "VALIDATION_FAILED", "url");
      expect(url.text).toContain("WEBHOOK_URL");
      // Naming the URL it already has is not a change.
      expect((await envApp.request("PATCH", "/api/admin/webhook-endpoints/we_env", { body: { url: "https://env.example.com/hooks", description: "env" } })).status).toBe(200);
      const rotate = await envApp.request("POST", "/api/admin/webhook-endpoints/we_env/rotate-secret");
      expectRefused(rotate, 400, "VALIDATION_FAILED", "id");
      expect(rotate.text).toContain("WEBHOOK_SECRET");
      expect(await row("we_env")).toMatchObject({ url: "https://env.example.com/hooks", secret: "whsec_environment-secret-0123456789", enabled: 0, description: "env" });
    } finally {
      await envApp.close();
    }
  });

  it("never logs a secret: create and rotate leave no secret in any log line", async () => {
    const lines = app.logs.length;
    const { endpoint, secret } = await create();
    const rotated = (await app.request("POST", `/api/admin/webhook-endpoints/${endpoint.id}/rotate-secret`, { body: {} })).body as { secret: string };
    const written = app.logs.slice(lines).join("");
    expect(written).toContain(endpoint.id);
    expect(written).toContain("webhook secret rotated");
    for (const value of [secret, rotated.secret, secret.slice(6), rotated.secret.slice(6)]) expect(written).not.toContain(value);
    expect(written).not.toContain("whsec_");
    expect(app.logs.join("")).not.toContain("whsec_");
  });
});
