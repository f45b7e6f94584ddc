// The orders benchmark's create-order contender, in this process against a real sandbox: it must place a
// real order (stored, then its prepay id) and hand back params signed with the merchant key, and refuse
// what the API refuses before the gateway (no session, an unknown product).
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signParams } from "@pay/core";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MERCHANT, SESSION_SECRET } from "../data/merchant.js";
import type { HttpMeasurement } from "../load/rounds.js";
import { createLabel, lookupLabel, ORDER_REFERENCES, orderChecks } from "../orders.js";
import { CREATE_ORDER_PATH, createTenpayCreateApp, prepareTenpayCreateDatabase, type TenpayCreateApp } from "./tenpay-create.js";

const USER_ID = "u_benchtenpaycreate01";

function token(userId: string, expiresAt: number, secret = SESSION_SECRET): string {
  const payload = Buffer.from(JSON.stringify({ u: userId, e: expiresAt })).toString("base64url");
  return `${payload}.${createHmac("sha256", secret).update(payload).digest("base64url")}`;
}

describe("the tenpay create-order contender", () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let contender: TenpayCreateApp;
  let server: Server;
  let url: string;
  let dbFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pay-bench-tenpay-create-"));
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)], requireClientCert: false });
    const { openid } = await createSandboxControlClient({ baseUrl: sandbox.url }).createLoginCode({ appid: MERCHANT.appId, user: "tenpay-create-user" });
    dbFile = join(dir, "contender.sqlite");
    await prepareTenpayCreateDatabase(dbFile, [{ id: USER_ID, openid }]);
    contender = createTenpayCreateApp({ sandboxUrl: sandbox.url, dbFile, sessionSecret: SESSION_SECRET, merchant: MERCHANT, notifyUrl: "http://127.0.0.1:9/wxpay/notify" });
    const handle = contender.app.callback();
    server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    contender.close();
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, authorization: string): Promise<Response> =>
    fetch(`${url}${CREATE_ORDER_PATH}`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body) });

  it("stores the order, calls unifiedorder on the sandbox and answers signed requestPayment params", async () => {
    const answer = await post({ items: [{ productId: "mug", quantity: 2 }] }, `Bearer ${token(USER_ID, Date.now() + 60_000)}`);
    expect(answer.status).toBe(201);
    const { order, payment } = (await answer.json()) as { order: { id: string; totalFee: number }; payment: Record<string, string> };
    expect(order.totalFee).toBe(7980);
    expect(payment.package).toMatch(/^prepay_id=.+/);
    expect(payment.signType).toBe("HMAC-SHA256");
    const signed = { appId: payment.appId ?? "", timeStamp: payment.timeStamp ?? "", nonceStr: payment.nonceStr ?? "", package: payment.package ?? "", signType: "HMAC-SHA256" };
    expect(payment.paySign).toBe(signParams(signed, { key: MERCHANT.key, signType: "HMAC-SHA256" }));
    const db = new BetterSqlite3(dbFile, { readonly: true });
    try {
      const row = db.prepare("select user_id, status, total_fee, fee_type, prepay_id, protocol, items from orders where id = ?").get(order.id) as Record<string, unknown>;
      expect(row).toMatchObject({ user_id: USER_ID, status: "pending", total_fee: 7980, fee_type: "CNY", protocol: "v2", prepay_id: payment.package?.slice("prepay_id=".length) });
      expect(JSON.parse(row.items as string)).toEqual([{ productId: "mug", name: "Ceramic mug", quantity: 2, unitPrice: 3990 }]);
    } finally {
      db.close();
    }
  });

  it("refuses a forged or expired session and an unknown product before calling the gateway", async () => {
    const body = { items: [{ productId: "mug", quantity: 1 }] };
    expect((await post(body, `Bearer ${token(USER_ID, Date.now() + 60_000, "x".repeat(40))}`)).status).toBe(401);
    expect((await post(body, `Bearer ${token(USER_ID, Date.now() - 1)}`)).status).toBe(401);
    expect((await post(body, "")).status).toBe(401);
    expect((await post({ items: [{ productId: "no-such", quantity: 1 }] }, `Bearer ${token(USER_ID, Date.now() + 60_000)}`)).status).toBe(400);
    expect((await post({ items: [] }, `Bearer ${token(USER_ID, Date.now() + 60_000)}`)).status).toBe(400);
  });
});

describe("the orders section's targets", () => {
  const row = (name: string, cpuMicrosPerRequest: number): HttpMeasurement => ({
    name,
    requestsPerSecond: 1,
    p50Ms: 1,
    p99Ms: 1,
    cpuMicrosPerRequest,
    rounds: [],
    failures: 0,
    problems: [],
  });
  const { hello, tenpayCreate: tenpay } = ORDER_REFERENCES;

  it("compares create with the contender and lookups with (a), as CPU per request in the same run", () => {
    const passing = orderChecks([row(hello, 40), row(lookupLabel("sqlite"), 144), row(lookupLabel("postgres"), 280), row(createLabel("sqlite"), 600), row(tenpay, 900)]);
    expect(passing.map((c) => c.pass)).toEqual([true, true, true]);
    expect(passing[0]?.label).toContain("measured 1.50x");
    const failing = orderChecks([row(hello, 40), row(lookupLabel("sqlite"), 145), row(lookupLabel("postgres"), 281), row(createLabel("sqlite"), 601), row(tenpay, 900)]);
    expect(failing.map((c) => c.pass)).toEqual([false, false, false]);
  });

  it("fails a check whose row is missing", () => {
    expect(orderChecks([row(hello, 40)]).every((c) => !c.pass)).toBe(true);
  });
});
