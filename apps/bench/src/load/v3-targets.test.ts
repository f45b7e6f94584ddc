// The notify benchmark's APIv3 contenders in quick form: the API configured as the bench configures it
// (the bench's environment, its generated v3 keys), in this process, on both databases; the requests its
// distinct and duplicate targets hand the load generator, sent one by one. Every distinct notify must be
// acknowledged and write its payment event, duplicates nothing.
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
import { PendingPool } from "../data/pending-pool.js";
import { openPostgresSeed, openSqliteSeed, type SeedDatabase } from "../data/seed.js";
import { createV3BenchMerchant, V3_PUBLIC_KEY_ID, v3ApiEnv, type V3BenchMerchant } from "../data/v3-merchant.js";
import { apiEnv } from "../servers/api-stack.js";
import type { LoadRequest } from "./job.js";
import { distinctNotifyTarget, duplicateNotifyTarget, notifyRequest, SUCCESS_MARK, V3_NOTIFY_PATH, v3NotifyRequest, v3Notifies, type NotifyApi } from "./targets.js";

const PENDING_FROM = 100;
const PENDING = 12;
const DISTINCT = 5;

async function send(url: string, request: LoadRequest): Promise<{ status: number; text: string }> {
  const answer = await fetch(`${url}${request.path}`, { method: request.method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
  return { status: answer.status, text: await answer.text() };
}

describe.each(["sqlite", "postgres"] as const)("the notify benchmark's APIv3 targets on %s", (dialect) => {
  let dir: string;
  let sandbox: RunningSandbox;
  let merchant: V3BenchMerchant;
  let api: RunningApi;
  let db: SeedDatabase;
  let dropDatabase: () => Promise<void> = () => Promise.resolve();
  let target: NotifyApi;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-v3-"));
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)], requireClientCert: false });
    merchant = createV3BenchMerchant(dir);
    let databaseUrl = join(dir, "api.sqlite");
    if (dialect === "postgres") {
      const database = await createTestDatabase();
      databaseUrl = database.url;
      dropDatabase = () => database.drop();
    }
    const port = await freePort();
    const config = loadConfig({ ...apiEnv(port, databaseUrl, sandbox.url), ...v3ApiEnv(merchant, `http://127.0.0.1:${port}`) });
    expect(config.apiVersion).toBe("v3");
    expect(config.v3?.publicKey?.id).toBe(V3_PUBLIC_KEY_ID);
    api = await startApi(config, createLogger({ level: "silent" }));
    // A user signed in through the real path, as the bench's stack does.
    const control = createSandboxControlClient({ baseUrl: sandbox.url });
    const { code, openid } = await control.createLoginCode({ appid: MERCHANT.appId, user: "bench-v3-user" });
    const session = await fetch(`${api.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json", [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION },
      body: JSON.stringify({ code }),
    });
    expect(session.status).toBe(200);
    db = dialect === "sqlite" ? openSqliteSeed(databaseUrl) : await openPostgresSeed(databaseUrl);
    const [id] = await db.userIds([openid]);
    const users = [{ id: id ?? "", openid }];
    await db.insertOrders({ from: 0, count: PENDING_FROM, kind: "mixed", users });
    await db.insertOrders({ from: PENDING_FROM, count: PENDING, kind: "pending", users, protocol: "v3" });
    target = { url: api.url, db, cpuSeconds: () => 0 };
  });

  afterAll(async () => {
    await db.close();
    await api.stop();
    await sandbox.stop();
    await dropDatabase();
    rmSync(dir, { recursive: true, force: true });
  });

  it("builds distinct TRANSACTION.SUCCESS notifies, signed now, that the API acknowledges and applies once each", async () => {
    const pool = new PendingPool(PENDING_FROM, DISTINCT);
    const distinct = distinctNotifyTarget("v3 distinct", target, pool, v3Notifies(merchant));
    const job = await distinct.job("measure", { amount: DISTINCT - 2 }, 1);
    expect(job.requests).toHaveLength(DISTINCT);
    expect(job.expectBodyIncludes).toBe(SUCCESS_MARK);
    const bodies = new Set(job.requests.map((r) => r.body));
    expect(bodies.size).toBe(DISTINCT);
    for (const request of job.requests) {
      expect(request.path).toBe(V3_NOTIFY_PATH);
      expect(request.headers["Wechatpay-Serial"]).toBe(V3_PUBLIC_KEY_ID);
      expect(Math.abs(Number(request.headers["Wechatpay-Timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
      // The payment is encrypted: nothing of it reads in clear.
      expect(request.body).not.toContain("out_trade_no");
    }
    const before = await db.countNotifyEvents();
    for (const request of job.requests) {
      const answer = await send(api.url, request);
      expect(answer).toEqual({ status: 200, text: expect.stringContaining(SUCCESS_MARK) as string });
    }
    expect(await db.countNotifyEvents()).toBe(before + DISTINCT);
    const outcome = { requestsPerSecond: 1, p50Ms: 1, p99Ms: 1, completed: DISTINCT, non2xx: 0, errors: 0, timeouts: 0, mismatches: 0, seconds: 1, used: DISTINCT };
    expect(await distinct.check?.(outcome)).toBeUndefined();
  });

  it("builds duplicates of a paid order that are acknowledged and write nothing, re-signed for each run", async () => {
    const paid = PENDING_FROM + DISTINCT;
    expect((await send(api.url, v3NotifyRequest(paid, merchant))).status).toBe(200);
    const duplicates = duplicateNotifyTarget("v3 duplicates", target, paid, v3Notifies(merchant));
    const first = await duplicates.job("warmup", { amount: 3 }, 1);
    const second = await duplicates.job("measure", { amount: 3 }, 1);
    const [request] = second.requests;
    if (request === undefined) throw new Error("no duplicate request");
    expect(second.requests).toHaveLength(1);
    expect(first.requests[0]?.headers["Wechatpay-Nonce"]).not.toBe(request.headers["Wechatpay-Nonce"]);
    for (let n = 0; n < 3; n++) expect(await send(api.url, request)).toEqual({ status: 200, text: expect.stringContaining(SUCCESS_MARK) as string });
    const outcome = { requestsPerSecond: 1, p50Ms: 1, p99Ms: 1, completed: 3, non2xx: 0, errors: 0, timeouts: 0, mismatches: 0, seconds: 1, used: 3 };
    expect(await duplicates.check?.(outcome)).toBeUndefined();
  });

  it("seeds v3 orders: a v2 notify for one is refused, and a v3 notify signed 6 minutes ago is refused", async () => {
    const index = PENDING_FROM + DISTINCT + 1;
    const before = await db.countNotifyEvents();
    const v2 = await send(api.url, notifyRequest(index));
    expect(v2.text).toContain("FAIL");
    expect(v2.text).not.toContain(SUCCESS_MARK);
    const stale = await send(api.url, v3NotifyRequest(index, merchant, new Date(Date.now() - 6 * 60_000)));
    expect(stale.status).not.toBe(200);
    expect(stale.text).not.toContain(SUCCESS_MARK);
    expect(await db.countNotifyEvents()).toBe(before);
  });
});
