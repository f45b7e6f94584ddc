// startApi serves GET /metrics on METRICS_HOST:METRICS_PORT only (never on the public port), reads the scrape-time
// gauges from the database, writes the buffered activity rows before the database closes, and closes both servers.
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { MERCHANT, sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { ConfigError, loadConfig } from "../../src/env.js";
import { beijingDayOf } from "../../src/services/reconciliation/day.js";
import { startApi } from "../../src/server.js";
import { captureLogs } from "../support/captured-logs.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startApiEnv } from "../support/start-env.js";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

describe.each(DATABASES)("the metrics server started by startApi on %s", (kind) => {
  let sandbox: RunningSandbox;
  let database: TestDatabase;

  beforeAll(async () => {
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)] });
    database = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await database.close();
    await sandbox.stop();
  });

  const env = (extra: Readonly<Record<string, string>>): Record<string, string> =>
    startApiEnv({ databaseUrl: database.url, sandboxUrl: sandbox.url }, { RECONCILE_SCHEDULE: "off", ...extra });

  it("serves Prometheus text on METRICS_PORT, a 404 for /metrics on the public port, and closes both at stop with the activity written", async () => {
    const metricsPort = await freePort();
    const { logger } = captureLogs();
    const api = await startApi(loadConfig(env({ METRICS_PORT: String(metricsPort) })), logger);
    let stopped = false;
    try {
      expect(api.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
      // Today's reconciliation found two differences; one 40 days ago is outside the gauge's 31 days.
      const today = beijingDayOf(Date.now());
      const run = {
        state: "succeeded" as const,
        trigger: "admin" as const,
        attempt: 1,
        started_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
        bill: "file" as const,
      };
      await database.db
        .insertInto("reconciliation_runs")
        .values([
          { ...run, bill_date: today, differences: JSON.stringify({ paid_not_recorded: 2, unknown_refund: 1 }), result_at: new Date().toISOString() },
          { ...run, bill_date: "2000-01-01", differences: JSON.stringify({ paid_not_recorded: 5 }), result_at: new Date().toISOString() },
        ])
        .execute();

      const publicAnswer = await fetch(`${api.url}/metrics`);
      expect(publicAnswer.status).toBe(404);
      expect(await publicAnswer.text()).not.toContain("pay_notifies_total");

      // A refused notify on the public port: counted, and its activity row is buffered.
      const refused = await fetch(`${api.url}/wxpay/notify`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
      expect(refused.status).toBe(200);

      const scraped = await fetch(api.metricsUrl ?? "");
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get("content-type")).toContain("text/plain");
      const samples = parsePrometheusText(await scraped.text());
      expect(sampleValue(samples, "pay_notifies_total", { kind: "pay", protocol: "v2", outcome: "refused", reason: "WRONG_CONTENT_TYPE" })).toBe(1);
      expect(sampleValue(samples, "pay_reconciliation_differences", { class: "paid_not_recorded" })).toBe(2);
      expect(sampleValue(samples, "pay_reconciliation_differences", { class: "unknown_refund" })).toBe(1);
      expect(sampleValue(samples, "pay_reconciliation_differences", { class: "amount_mismatch" })).toBe(0);
      expect(sampleValue(samples, "pay_webhook_pending_deliveries")).toBe(0);
      expect(sampleValue(samples, "pay_webhook_oldest_pending_age_seconds")).toBe(0);
      expect(sampleValue(samples, "pay_activity_dropped_total")).toBe(0);
      expect(samples.some((sample) => sample.name === "process_resident_memory_bytes" || sample.name === "nodejs_heap_size_used_bytes")).toBe(true);
      expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);

      await api.stop();
      stopped = true;
    } finally {
      if (!stopped) await api.stop();
    }
    // Both servers are closed.
    await expect(fetch(`${api.url}/api/health`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    // The refused notify's row was written before the database closed.
    const reopened = await openDatabase(database.url);
    try {
      const rows = await reopened.db.selectFrom("order_activity").selectAll().where("reason", "=", "WRONG_CONTENT_TYPE").execute();
      expect(rows).toMatchObject([{ kind: "pay_notify", protocol: "v2", outcome: "refused", order_id: null }]);
    } finally {
      await reopened.close();
    }
  });

  it("starts no metrics server without METRICS_PORT", async () => {
    const { logger } = captureLogs();
    const api = await startApi(loadConfig(env({})), logger);
    try {
      expect(api.metricsUrl).toBeUndefined();
      expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    } finally {
      await api.stop();
    }
  });

  it("refuses a bad METRICS_PORT, and a taken one stops the start (EADDRINUSE)", async () => {
    expect(() => loadConfig(env({ METRICS_PORT: "70000" }))).toThrow(ConfigError);
    expect(() => loadConfig(env({ METRICS_PORT: "not-a-port" }))).toThrow(/METRICS_PORT/);
    expect(() => loadConfig(env({ PORT: "3000", METRICS_PORT: "3000" }))).toThrow(/METRICS_PORT.*must differ from PORT/);
    const { logger } = captureLogs();
    const holder = await startApi(loadConfig(env({ METRICS_PORT: String(await freePort()) })), logger);
    try {
      const taken = new URL(holder.metricsUrl ?? "").port;
      await expect(startApi(loadConfig(env({ METRICS_PORT: taken })), logger)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await holder.stop();
    }
  });
});
