// The reconcile CLI as a process: `node <build>/reconcile-cli.js`, as `pnpm --filter @pay/api reconcile` runs it.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { ReconciliationItem, ReconciliationRunSummary } from "@pay/core/contract";
import { startSandbox, type RunningSandbox } from "@pay/sandbox";
import { ADMIN_TOKEN, MERCHANT, SESSION_SECRET, merchantEnv, sandboxMerchant } from "@pay/test-kit/merchants";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/reconcile-cli.js";
import { compileApi } from "../reliability/api-process.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { pendingOrderRow } from "../support/rows.js";

const execFileAsync = promisify(execFile);

describe("the built reconcile CLI", () => {
  it("runs as node dist/reconcile-cli.js and exits 2 on a usage error", async () => {
    const build = await compileApi();
    const cli = join(dirname(build.main), "reconcile-cli.js");
    const failure = await execFileAsync(process.execPath, [cli, "--date", "yesterday"], { env: { PATH: process.env.PATH ?? "" } }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string; stdout: string },
    );
    expect(failure?.code).toBe(EXIT.usage);
    expect(failure?.stderr).toContain("reconcile: --date yesterday: expected a day as YYYY-MM-DD.");
    expect(failure?.stdout).toBe("");
  }, 120_000);
});

describe("the reconcile CLI against the sandbox (sqlite)", () => {
  let sandbox: RunningSandbox;
  let database: TestDatabase;
  let cli: string;
  const DAY = "2026-03-02";

  beforeAll(async () => {
    cli = join(dirname((await compileApi()).main), "reconcile-cli.js");
    sandbox = await startSandbox({ merchants: [sandboxMerchant(MERCHANT)] });
    database = await openTestDatabase("sqlite");
    await database.db.insertInto("users").values({ id: "u-cli", openid: "o-cli", created_at: "2026-03-01T00:00:00.000Z" }).execute();
    // Paid here at 10:00 Beijing on DAY, but WeChat Pay (the sandbox) has no bill for the day: payment_missing_from_bill.
    await database.db
      .insertInto("orders")
      .values(
        pendingOrderRow("P-CLI-PAID-1", "u-cli", {
          status: "paid",
          appid: MERCHANT.appId,
          mch_id: MERCHANT.mchId,
          total_fee: 1234,
          transaction_id: "4200000000202603020000000009",
          paid_at: "2026-03-02T02:00:00.000Z",
        }),
      )
      .execute();
  }, 120_000);
  afterAll(async () => {
    await database.close();
    await sandbox.stop();
  });

  function env(): Record<string, string> {
    return {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: database.url,
      WXPAY_BASE_URL: sandbox.url,
      WX_API_BASE_URL: sandbox.url,
      ...merchantEnv(MERCHANT),
      WXPAY_NOTIFY_URL: "https://shop.example.com/wxpay/notify",
      SESSION_SECRET,
      ADMIN_TOKEN,
      LOG_LEVEL: "warn",
    };
  }

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return execFileAsync(process.execPath, [cli, ...args], { env: env() }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
  }

  it("reconciles the day: exit 0, the run and its items as JSON, stored like any run; a summary for a person", async () => {
    const json = await run(["--date", DAY, "--json"]);
    expect(json.code, json.stderr).toBe(EXIT.succeeded);
    const answer = JSON.parse(json.stdout) as { run: ReconciliationRunSummary; items: ReconciliationItem[] };
    expect(answer.run).toMatchObject({ date: DAY, state: "succeeded", trigger: "cli", attempt: 1, bill: "none", differences: { payment_missing_from_bill: 1 } });
    expect(answer.items).toMatchObject([{ class: "payment_missing_from_bill", resolution: "flagged", orderId: "P-CLI-PAID-1" }]);
    const stored = await database.db.selectFrom("reconciliation_runs").select(["state", "trigger"]).where("bill_date", "=", DAY).executeTakeFirstOrThrow();
    expect(stored).toEqual({ state: "succeeded", trigger: "cli" });

    const text = await run(["--date", DAY]);
    expect(text.code, text.stderr).toBe(EXIT.succeeded);
    expect(text.stdout).toContain(`Reconciliation of ${DAY}: succeeded (attempt 2, cli, bill none)`);
    expect(text.stdout).toContain("Differences: payment_missing_from_bill 1");
    expect(text.stdout).toMatch(/Flagged for a person \(1\):\n {2}payment_missing_from_bill \(order P-CLI-PAID-1, transaction 4200000000202603020000000009\): /);
  }, 60_000);

  it("exits 3 when another process is running the day, and changes nothing", async () => {
    const at = new Date().toISOString();
    await database.db
      .insertInto("reconciliation_runs")
      .values({
        bill_date: "2026-03-03",
        state: "running",
        trigger: "schedule",
        attempt: 1,
        lease_owner: "another-process",
        lease_expires_at: new Date(Date.now() + 300_000).toISOString(),
        started_at: at,
        updated_at: at,
      })
      .execute();
    const busy = await run(["--date", "2026-03-03"]);
    expect(busy.code).toBe(EXIT.busy);
    expect(busy.stderr).toContain("reconcile: another process is running 2026-03-03 (attempt 1");
    expect(busy.stdout).toBe("");
    const row = await database.db.selectFrom("reconciliation_runs").select(["attempt", "lease_owner"]).where("bill_date", "=", "2026-03-03").executeTakeFirstOrThrow();
    expect(row).toEqual({ attempt: 1, lease_owner: "another-process" });
  }, 60_000);
});
