// The reconciliation routes' app: the real API (createApp) on a real database and an ephemeral port, a
// fake v2 gateway whose bill downloads a test can hold back (to force the 202), a moved clock.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReconciliationState } from "@pay/core/contract";
import { createApp } from "../../src/app.js";
import { loadConfig } from "../../src/env.js";
import { createFakeGateway, type FakeGateway } from "../../src/gateway/fake.js";
import type { ServiceContext } from "../../src/services/context.js";
import { captureLogs } from "../support/captured-logs.js";
import type { TestDatabase } from "../support/databases.js";
import { FAKE_MERCHANT, fakeGatewayEnv } from "../support/fake-app.js";

export const ADMIN = "admin-token-for-tests-0123456789";

/** 2026-03-10 12:00 in Beijing: yesterday there is 2026-03-09. */
export const NOW = Date.UTC(2026, 2, 10, 4, 0, 0);

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

export interface ReconciliationApp {
  readonly services: ServiceContext;
  readonly gateway: FakeGateway;
  readonly logs: string[];
  /** The clock the app reads; tests move it. */
  now: number;
  /** Holds every bill download until release() (to keep a run going past the route's wait). */
  hold(): void;
  release(): void;
  /** A JSON request with the admin token unless `token` says otherwise (null: no Authorization header). */
  request(method: string, path: string, options?: { readonly token?: string | null }): Promise<Answer>;
  close(): Promise<void>;
}

/** Starts the API on `database` with a fake v2 gateway; `waitMs` is how long POST .../run waits before its 202. */
export async function startReconciliationApp(
  database: TestDatabase,
  options: { readonly waitMs?: number; readonly env?: Readonly<Record<string, string>> } = {},
): Promise<ReconciliationApp> {
  const config = loadConfig({ ...fakeGatewayEnv(database.url), RECONCILE_SCHEDULE: "off", ...options.env });
  const { logger, logs } = captureLogs();
  const fake = createFakeGateway({ merchant: FAKE_MERCHANT, protocol: "v2" });
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const gateway: FakeGateway = {
    ...fake,
    async openBill(date) {
      if (gate !== undefined) await gate.promise;
      return fake.openBill(date);
    },
  };
  const harness: ReconciliationApp = {
    services: undefined as unknown as ServiceContext,
    gateway,
    logs,
    now: NOW,
    hold() {
      let open: () => void = () => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
    request: () => Promise.reject(new Error("not started")),
    close: () => Promise.resolve(),
  };
  const { app, services } = createApp({
    config,
    db: database.db,
    dialect: database.dialect,
    gateway,
    login: { code2Session: () => Promise.resolve({ ok: true as const, openid: "o-reconciliation" }) },
    logger,
    clock: () => harness.now,
    ...(options.waitMs === undefined ? {} : { reconciliationWaitMs: options.waitMs }),
  });
  const callback = app.callback();
  const server: Server = createServer((req, res) => void callback(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(harness, {
    services,
    async request(method: string, path: string, requestOptions: { readonly token?: string | null } = {}): Promise<Answer> {
      const token = requestOptions.token === undefined ? ADMIN : requestOptions.token;
      const response = await fetch(`${url}${path}`, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
      const text = await response.text();
      return { status: response.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>), text };
    },
    async close() {
      harness.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await services.paidWriter.drain();
    },
  });
}

/** Inserts a day's run row directly, as a finished (or running) run leaves it, with `items` flagged unknown payments. */
export async function insertRun(
  database: TestDatabase,
  date: string,
  state: ReconciliationState,
  options: { readonly items?: number; readonly leaseOwner?: string; readonly leaseExpiresAt?: string } = {},
): Promise<void> {
  const at = new Date(NOW - 3600_000).toISOString();
  const items = options.items ?? 0;
  await database.db
    .insertInto("reconciliation_runs")
    .values({
      bill_date: date,
      state,
      trigger: "schedule",
      attempt: 1,
      lease_owner: options.leaseOwner ?? null,
      lease_expires_at: options.leaseExpiresAt ?? null,
      started_at: at,
      finished_at: state === "running" ? null : at,
      error_code: state === "failed" ? "BILL_NOT_READY" : null,
      error_message: state === "failed" ? "The bill of the day is not ready yet." : null,
      bill: state === "succeeded" ? "file" : null,
      protocol: state === "succeeded" ? "v2" : null,
      totals:
        state === "succeeded"
          ? JSON.stringify({
              currency: "CNY",
              bill: { paymentCount: items, paymentAmount: items * 100, refundCount: 0, refundAmount: 0 },
              summary: { lineCount: items, paymentAmount: items * 100, refundAmount: 0, fee: 0 },
              ours: { paymentCount: 0, paymentAmount: 0, refundCount: 0, refundAmount: 0 },
              feeLines: 0,
              feeSummary: 0,
            })
          : null,
      differences: state === "succeeded" ? JSON.stringify({ unknown_payment: items }) : null,
      result_at: state === "succeeded" ? at : null,
      updated_at: at,
    })
    .execute();
  for (let i = 1; i <= items; i++) {
    await database.db
      .insertInto("reconciliation_items")
      .values({
        bill_date: date,
        class: i % 2 === 0 ? "amount_mismatch" : "unknown_payment",
        resolution: "flagged",
        order_id: `P-${date}-${i}`,
        refund_id: null,
        transaction_id: `4200${i}`,
        bill_line: i,
        bill_amount: 100,
        bill_currency: "CNY",
        our_amount: null,
        our_currency: null,
        detail: `line ${i}`,
        created_at: at,
      })
      .execute();
  }
}
