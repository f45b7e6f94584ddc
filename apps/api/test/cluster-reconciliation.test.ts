// The scheduler's lease (API_WORKERS, or any processes sharing a database): a scheduler that read a day as
// due takes it only while it still is, so a day another process reconciled in between is not run again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireRunLease } from "../src/db/reconciliation.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "./support/databases.js";

const NOW = "2026-03-05T02:00:00.000Z";
const LATER = "2026-03-05T02:10:00.000Z";
const LEASE = "2026-03-05T02:05:00.000Z";

describe.each(DATABASES)("acquireRunLease with onlyIfDue (%s)", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });

  afterAll(async () => {
    await database.close();
  });

  const take = (date: string, owner: string, onlyIfDue: boolean, now = NOW) =>
    acquireRunLease(database.db, { date, trigger: "schedule", owner, now, leaseUntil: LEASE, onlyIfDue });
  const finish = (date: string, state: "succeeded" | "failed", nextAttemptAt: string | null) =>
    database.db
      .updateTable("reconciliation_runs")
      .set({ state, lease_owner: null, lease_expires_at: null, next_attempt_at: nextAttemptAt })
      .where("bill_date", "=", date)
      .execute();

  it("a day never run is taken (attempt 1); a day that succeeded meanwhile is not taken again, though an admin's run may", async () => {
    expect(await take("2026-03-01", "worker-a", true)).toMatchObject({ attempt: 1, lease_owner: "worker-a" });
    await finish("2026-03-01", "succeeded", null);
    // Worker B read the day as never run before A's run: it must not run it a second time.
    expect(await take("2026-03-01", "worker-b", true)).toBeUndefined();
    const row = await database.db.selectFrom("reconciliation_runs").select(["attempt", "state"]).where("bill_date", "=", "2026-03-01").executeTakeFirstOrThrow();
    expect(row).toEqual({ attempt: 1, state: "succeeded" });
    // Without onlyIfDue (an admin's or the CLI's run) a released day is run again, as before.
    expect(await take("2026-03-01", "admin", false)).toMatchObject({ attempt: 2, lease_owner: "admin" });
  });

  it("a failed day is taken once its retry time has come, not before; a running day only once its lease ran out", async () => {
    await take("2026-03-02", "worker-a", true);
    await finish("2026-03-02", "failed", LATER);
    expect(await take("2026-03-02", "worker-b", true)).toBeUndefined();
    expect(await take("2026-03-02", "worker-b", true, LATER)).toMatchObject({ attempt: 2, lease_owner: "worker-b" });
    // Held until LEASE: nobody else; after it (the holder died), the next attempt.
    expect(await take("2026-03-02", "worker-a", true, "2026-03-05T02:04:00.000Z")).toBeUndefined();
    expect(await take("2026-03-02", "worker-a", true, "2026-03-05T02:06:00.000Z")).toMatchObject({ attempt: 3, lease_owner: "worker-a" });
  });
});
