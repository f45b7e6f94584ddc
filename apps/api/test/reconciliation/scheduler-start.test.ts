// startApi starts the reconciliation scheduler with RECONCILE_SCHEDULE=on (the default) and stops it with the
// API: a real API process on the v2 sandbox runs the due days by itself (trigger schedule), none twice.
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { MERCHANT, sandboxMerchant } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/env.js";
import { startApi } from "../../src/server.js";
import { captureLogs } from "../support/captured-logs.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startApiEnv } from "../support/start-env.js";

describe("the API's reconciliation scheduler (sqlite)", () => {
  let sandbox: RunningSandbox;
  let database: TestDatabase;

  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)] });
    database = await openTestDatabase("sqlite");
  });
  afterAll(async () => {
    await database.close();
    await sandbox.stop();
  });

  function config(env: Readonly<Record<string, string>>) {
    return loadConfig(startApiEnv({ databaseUrl: database.url, sandboxUrl: sandbox.url }, env));
  }

  const runs = () => database.db.selectFrom("reconciliation_runs").select(["bill_date", "state", "trigger", "attempt"]).orderBy("bill_date").execute();

  it("runs nothing with RECONCILE_SCHEDULE=off", async () => {
    const { logger } = captureLogs();
    const api = await startApi(config({ RECONCILE_SCHEDULE: "off", RECONCILE_POLL_SECONDS: "5", RECONCILE_AT: "00:00" }), logger);
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    await api.stop();
    expect(await runs()).toEqual([]);
  }, 30_000);

  it("runs the last RECONCILE_CATCH_UP_DAYS days once their bill time has passed, each once, and stops with the API", async () => {
    const { logger } = captureLogs();
    const api = await startApi(config({ RECONCILE_POLL_SECONDS: "5", RECONCILE_AT: "00:00", RECONCILE_CATCH_UP_DAYS: "2" }), logger);
    try {
      await expect.poll(async () => (await runs()).filter((run) => run.state === "succeeded").length, { timeout: 20_000, interval: 250 }).toBe(2);
    } finally {
      await api.stop();
    }
    const done = await runs();
    expect(done.map((run) => [run.state, run.trigger, run.attempt])).toEqual([
      ["succeeded", "schedule", 1],
      ["succeeded", "schedule", 1],
    ]);
  }, 40_000);
});
