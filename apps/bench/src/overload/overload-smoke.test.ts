// The overload run in miniature, on both databases: the API configured as the bench configures it (in this
// process), the sandbox answering slowly for the whole run, distinct notifies and a burst of creates sent by the
// open-loop generator at once, the creates classified and every acknowledged notify checked committed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig, startApi, type RunningApi } from "@pay/api";
import { CONTRACT_VERSION, CONTRACT_VERSION_HEADER } from "@pay/core/contract";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import { freePort } from "@pay/test-kit/ports";
import { createTestDatabase } from "@pay/test-kit/postgres/vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MERCHANT } from "../data/merchant.js";
import { orderIdAt } from "../data/orders.js";
import { openPostgresSeed, openSqliteSeed, type SeedDatabase } from "../data/seed.js";
import type { LoadRequest } from "../load/job.js";
import { notifyRequests } from "../load/targets.js";
import { notifyFigures, OVERLOAD_API_ENV } from "../overload.js";
import { apiEnv, clientHeaders } from "../servers/api-stack.js";
import { CREATE_ORDER_PATH } from "../servers/tenpay-create.js";
import { tallyCreates } from "./classify.js";
import { checkCommitted } from "./committed.js";
import { openLoop } from "./open-loop-run.js";

const PENDING_FROM = 100;
const NOTIFIES = 20;
const USERS = 4;
const LATENCY_MS = 200;

describe.each(["sqlite", "postgres"] as const)("the overload run in miniature on %s", (dialect) => {
  let dir: string;
  let sandbox: RunningSandbox;
  let api: RunningApi;
  let db: SeedDatabase;
  let tokens: string[] = [];
  let dropDatabase: () => Promise<void> = () => Promise.resolve();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-overload-"));
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)], requireClientCert: false });
    let databaseUrl = join(dir, "api.sqlite");
    if (dialect === "postgres") {
      const database = await createTestDatabase();
      databaseUrl = database.url;
      dropDatabase = () => database.drop();
    }
    const port = await freePort();
    api = await startApi(loadConfig({ ...apiEnv(port, databaseUrl, sandbox.url), ...OVERLOAD_API_ENV }), createLogger({ level: "silent" }));
    const control = createSandboxControlClient({ baseUrl: sandbox.url });
    const openids: string[] = [];
    for (let n = 0; n < USERS; n++) {
      const { code, openid } = await control.createLoginCode({ appid: MERCHANT.appId, user: `overload-${n}` });
      const session = await fetch(`${api.url}/api/session`, {
        method: "POST",
        headers: { "content-type": "application/json", [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION },
        body: JSON.stringify({ code }),
      });
      tokens.push(((await session.json()) as { token: string }).token);
      openids.push(openid);
    }
    db = dialect === "sqlite" ? openSqliteSeed(databaseUrl) : await openPostgresSeed(databaseUrl);
    const ids = await db.userIds(openids);
    await db.insertOrders({ from: PENDING_FROM, count: NOTIFIES, kind: "pending", users: ids.map((id, n) => ({ id, openid: openids[n] ?? "" })) });
  });

  afterAll(async () => {
    await db.close();
    await api.stop();
    await sandbox.stop();
    await dropDatabase();
    rmSync(dir, { recursive: true, force: true });
    tokens = [];
  });

  it("sends notifies and creates open loop against a slow gateway, classifies every create and finds every acknowledged notify committed", async () => {
    await createSandboxControlClient({ baseUrl: sandbox.url }).setLatency({ latency_ms: LATENCY_MS });
    const body = JSON.stringify({ items: [{ productId: "mug", quantity: 1 }] });
    const creates: LoadRequest[] = tokens.map((token) => ({
      method: "POST",
      path: CREATE_ORDER_PATH,
      headers: { ...clientHeaders(token), "content-type": "application/json" },
      body,
    }));
    const common = { url: api.url, seconds: 0.5, maxPending: 1_000, timeoutMs: 10_000 } as const;
    const [notified, created] = await Promise.all([
      openLoop({ ...common, rate: NOTIFIES / 0.5, requests: notifyRequests(PENDING_FROM, NOTIFIES), maxSockets: 8, keepBodies: "all" }),
      openLoop({ ...common, rate: 40, requests: creates, maxSockets: 50, keepBodies: "non2xx" }),
    ]);
    const figures = notifyFigures(notified);
    expect(figures.acknowledgedIndices).toHaveLength(NOTIFIES);
    expect(figures.p99Ms).toBeLessThan(10_000);
    const tally = tallyCreates(created.answers);
    expect(tally.total).toBe(20);
    // Without refusals configured every create is served; with them, refusals carry documented codes. Either way no violation.
    expect(tally.counts["5xx violation"]).toBe(0);
    expect(tally.counts["201 created"] + tally.counts["429 RATE_LIMITED"] + tally.counts["503 GATEWAY_UNAVAILABLE"] + tally.counts["503 OVERLOADED"]).toBe(20);
    // Each create waited for the slow gateway.
    const servedLatencies = created.answers.filter((a) => a.status === 201).map((a) => a.latencyMs);
    expect(servedLatencies.every((ms) => ms >= LATENCY_MS - 10)).toBe(true);
    const ids = figures.acknowledgedIndices.map((i) => orderIdAt(PENDING_FROM + i));
    expect(await checkCommitted(db, ids)).toEqual({ checked: NOTIFIES, missing: [] });
  });
});
