// The endpoint of WEBHOOK_URL + WEBHOOK_SECRET (we_env) across starts, on both databases: the first start
// creates it, the same environment changes nothing, a new secret keeps the old one signing for 24 h, a new
// URL is taken, what an admin changed (disabled, event types) survives, and processes starting together agree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV_ENDPOINT_ID, ENV_SECRET_OVERLAP_MS, upsertEnvEndpoint } from "../../src/db/webhook-endpoints.js";
import { openDatabase } from "../../src/db/database.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startAdminApp, START, type TestClock } from "./admin-harness.js";

const FIRST = { url: "https://shop.example.com/hooks", secret: "whsec_first-environment-secret-0001" };
const ALL_TYPES = JSON.stringify(["order.paid", "order.closed", "order.refunded", "refund.succeeded", "refund.failed"]);

describe.each(DATABASES)("the WEBHOOK_URL endpoint across starts on %s", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database.close();
  });

  async function row() {
    return database.db.selectFrom("webhook_endpoints").selectAll().where("id", "=", ENV_ENDPOINT_ID).executeTakeFirstOrThrow();
  }

  it("first start creates it, a restart with the same environment changes nothing, a new secret overlaps 24 h, a new URL is taken", async () => {
    const created = await upsertEnvEndpoint(database.db, FIRST, START);
    const at = new Date(START).toISOString();
    expect(created).toEqual({
      id: ENV_ENDPOINT_ID,
      url: FIRST.url,
      description: "WEBHOOK_URL",
      event_types: ALL_TYPES,
      secret: FIRST.secret,
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      source: "env",
      created_at: at,
      updated_at: at,
    });

    const restarted = await upsertEnvEndpoint(database.db, FIRST, START + 3600_000);
    expect(restarted).toEqual(created);
    expect(await row()).toEqual(created);

    const rotatedAt = START + 2 * 3600_000;
    const second = { url: FIRST.url, secret: "whsec_second-environment-secret-0002" };
    expect(await upsertEnvEndpoint(database.db, second, rotatedAt)).toMatchObject({
      secret: second.secret,
      previous_secret: FIRST.secret,
      previous_secret_expires_at: new Date(rotatedAt + ENV_SECRET_OVERLAP_MS).toISOString(),
      updated_at: new Date(rotatedAt).toISOString(),
      created_at: at,
    });
    expect(ENV_SECRET_OVERLAP_MS).toBe(24 * 3600_000);
    // Restarting again with the new secret keeps the overlap as it was.
    expect(await upsertEnvEndpoint(database.db, second, rotatedAt + 60_000)).toMatchObject({
      previous_secret: FIRST.secret,
      previous_secret_expires_at: new Date(rotatedAt + ENV_SECRET_OVERLAP_MS).toISOString(),
      updated_at: new Date(rotatedAt).toISOString(),
    });

    const movedAt = rotatedAt + 3600_000;
    expect(await upsertEnvEndpoint(database.db, { url: "https://shop.example.com/v2/hooks", secret: second.secret }, movedAt)).toMatchObject({
      url: "https://shop.example.com/v2/hooks",
      secret: second.secret,
      previous_secret: FIRST.secret,
      previous_secret_expires_at: new Date(rotatedAt + ENV_SECRET_OVERLAP_MS).toISOString(),
      updated_at: new Date(movedAt).toISOString(),
    });
  });

  it("an admin's disable and event types survive a restart (through the admin route)", async () => {
    const clock: TestClock = { now: START + 5 * 3600_000 };
    const env = { url: "https://shop.example.com/v2/hooks", secret: "whsec_second-environment-secret-0002" };
    await upsertEnvEndpoint(database.db, env, clock.now);
    const app = await startAdminApp(database, clock);
    try {
      const patched = await app.request("PATCH", `/api/admin/webhook-endpoints/${ENV_ENDPOINT_ID}`, { body: { enabled: false, eventTypes: ["order.paid", "refund.succeeded"] } });
      expect(patched.status, patched.text).toBe(200);
    } finally {
      await app.close();
    }
    clock.now += 60_000;
    const restarted = await upsertEnvEndpoint(database.db, env, clock.now);
    expect(restarted).toMatchObject({ enabled: 0, event_types: JSON.stringify(["order.paid", "refund.succeeded"]), url: env.url, secret: env.secret });
    const withNewSecret = await upsertEnvEndpoint(database.db, { ...env, secret: "whsec_third-environment-secret-00003" }, clock.now + 1000);
    expect(withNewSecret).toMatchObject({ enabled: 0, event_types: JSON.stringify(["order.paid", "refund.succeeded"]), previous_secret: env.secret });
  });

  it("processes starting together do not fail and agree on one row", async () => {
    const fresh = await openTestDatabase(kind);
    const others = await Promise.all([1, 2, 3].map(() => openDatabase(fresh.url)));
    try {
      const env = { url: "https://shop.example.com/together", secret: "whsec_together-environment-secret-01" };
      const handles = [fresh.db, ...others.map((o) => o.db)];
      const rows = await Promise.all(handles.flatMap((db) => [upsertEnvEndpoint(db, env, START), upsertEnvEndpoint(db, env, START)]));
      for (const result of rows) expect(result).toMatchObject({ id: ENV_ENDPOINT_ID, url: env.url, secret: env.secret, previous_secret: null, enabled: 1 });
      const stored = await fresh.db.selectFrom("webhook_endpoints").selectAll().execute();
      expect(stored).toHaveLength(1);

      // Together again with a new secret: it rotates once (the previous is the old secret, never the new one).
      const next = { ...env, secret: "whsec_together-environment-secret-02" };
      await Promise.all(handles.map((db) => upsertEnvEndpoint(db, next, START + 1000)));
      expect(await fresh.db.selectFrom("webhook_endpoints").selectAll().executeTakeFirstOrThrow()).toMatchObject({ secret: next.secret, previous_secret: env.secret });
    } finally {
      for (const other of others) await other.close();
      await fresh.close();
    }
  });
});
