// Issue 21: the rate limits hold across API processes. Two real API processes (`node <build>/main.js`) on one
// database (one PostgreSQL database, or one SQLite file), the sandbox as WeChat Pay and WeChat login in the test
// process. Requests are fired at once and spread over both processes: exactly the limit is accepted in total.
// A real process cannot take an injected clock, so the windows (600 s) are far longer than the test.
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { createSandboxControlClient } from "@pay/sandbox/control";
import { sandboxMerchant } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MERCHANT } from "../support/api-harness.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { compileApi, sandboxApiEnv, startApiProcess, type ApiBuild, type ApiProcess } from "./api-process.js";
import { requestJson, signInAt } from "./fixtures.js";

const ORDERS_LIMIT = 3;
const SIGN_INS_LIMIT = 4;
const ATTEMPTS = 12;

let build: ApiBuild;
beforeAll(async () => {
  build = await compileApi();
}, 120_000);

describe.each(["postgres", "sqlite"] as const)("rate limits shared by two API processes on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: RunningSandbox;
  const processes: ApiProcess[] = [];
  const processUrl = (i: number): string => processes[i % processes.length]?.url ?? "http://127.0.0.1:9";

  beforeAll(async () => {
    database = await openTestDatabase(kind);
    sandbox = await startSandbox({
      merchants: [sandboxMerchant(MERCHANT)],
      requireClientCert: false,
      notify: { retryScale: 0.001, omitSignTypeForHmac: true, duplicates: 0, concurrent: 1, timeoutMs: 3000 },
    });
    const env = sandboxApiEnv({
      databaseUrl: database.url,
      sandboxUrl: sandbox.url,
      notifyBaseUrl: "http://127.0.0.1:9",
      extra: { RATE_LIMIT_ORDERS: `${ORDERS_LIMIT}/600`, RATE_LIMIT_SIGN_INS: `${SIGN_INS_LIMIT}/600` },
    });
    for (let i = 0; i < 2; i++) processes.push(await startApiProcess(build.main, env));
    expect(new Set(processes.map((p) => p.pid)).size).toBe(2);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await sandbox.stop();
    await database.close();
  });

  it(`${ATTEMPTS} orders of one payer at once over both processes with RATE_LIMIT_ORDERS=${ORDERS_LIMIT}/600: exactly ${ORDERS_LIMIT} placed, the rest 429 with nothing written`, async () => {
    const token = await signInAt(processUrl(0), sandbox.url, "flood-payer");
    const answers = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) => requestJson(processUrl(i), "POST", "/api/orders", { token, body: { items: [{ productId: "tote", quantity: 1 }] } })),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(ORDERS_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(ATTEMPTS - ORDERS_LIMIT);
    // Both processes refused some: the count is the database's, not one process's.
    expect(new Set(answers.flatMap((answer, i) => (answer.status === 429 ? [i % 2] : [])))).toEqual(new Set([0, 1]));
    for (const answer of answers.filter((a) => a.status === 429)) {
      expect(answer.body).toMatchObject({ error: { code: "RATE_LIMITED", retryAfterSeconds: expect.any(Number) as unknown } });
    }
    const orders = await database.db.selectFrom("orders").select("id").execute();
    expect(orders).toHaveLength(ORDERS_LIMIT);
  }, 30_000);

  it(`${ATTEMPTS} sign-ins from one address at once over both processes with RATE_LIMIT_SIGN_INS=${SIGN_INS_LIMIT}/600: exactly ${SIGN_INS_LIMIT} in all (one was the payer's above)`, async () => {
    const control = createSandboxControlClient({ baseUrl: sandbox.url });
    const codes = await Promise.all(Array.from({ length: ATTEMPTS }, (_, i) => control.createLoginCode({ appid: MERCHANT.appId, user: `signer-${i}` })));
    const answers = await Promise.all(codes.map(({ code }, i) => requestJson(processUrl(i), "POST", "/api/session", { body: { code } })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(SIGN_INS_LIMIT - 1);
    expect(statuses.filter((status) => status === 429)).toHaveLength(ATTEMPTS - (SIGN_INS_LIMIT - 1));
    // The refused sign-ins never reached WeChat login: no user was made for them.
    expect(await database.db.selectFrom("users").select("id").execute()).toHaveLength(SIGN_INS_LIMIT);
  }, 30_000);
});
