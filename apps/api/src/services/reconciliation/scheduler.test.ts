import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ReconciliationState } from "@pay/core/contract";
import { captureLogs } from "../../../test/support/captured-logs.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../../test/support/databases.js";
import { beijingDayOf } from "./day.js";
import { dayBounds } from "./day.js";
import { dueDays, reconcileDueDays, startReconciliationScheduler, type DayState, type SchedulerOptions } from "./scheduler.js";

/** 2026-12-03 09:59 in Beijing (01:59 UTC): one minute before the default bill time of 2026-12-02. */
const BEFORE_TEN = Date.UTC(2026, 11, 3, 1, 59);
const AT_TEN = Date.UTC(2026, 11, 3, 2, 0);
const SETTINGS = { atMinutes: 600, catchUpDays: 3 };
const iso = (ms: number): string => new Date(ms).toISOString();

describe("Beijing days", () => {
  it.each([
    [Date.UTC(2026, 11, 2, 15, 59, 59), "2026-12-02"],
    [Date.UTC(2026, 11, 2, 16, 0, 0), "2026-12-03"],
    [Date.UTC(2026, 11, 31, 16, 0, 0), "2027-01-01"],
  ])("the instant %i is in the Beijing day %s", (ms, day) => {
    expect(beijingDayOf(ms)).toBe(day);
  });

  it("starts a day at 16:00 UTC the day before", () => {
    expect(iso(dayBounds("2026-12-03").start)).toBe("2026-12-02T16:00:00.000Z");
  });
});

describe("dueDays", () => {
  const none = (): DayState | undefined => undefined;

  it("waits for RECONCILE_AT of the next day, Beijing, before yesterday is due", () => {
    expect(dueDays(BEFORE_TEN, SETTINGS, none)).toEqual(["2026-11-30", "2026-12-01"]);
    expect(dueDays(AT_TEN, SETTINGS, none)).toEqual(["2026-11-30", "2026-12-01", "2026-12-02"]);
  });

  it("honours another RECONCILE_AT and the catch-up depth", () => {
    expect(dueDays(AT_TEN, { atMinutes: 11 * 60 + 30, catchUpDays: 1 }, none)).toEqual([]);
    expect(dueDays(Date.UTC(2026, 11, 3, 3, 30), { atMinutes: 11 * 60 + 30, catchUpDays: 1 }, none)).toEqual(["2026-12-02"]);
    expect(dueDays(AT_TEN, { atMinutes: 0, catchUpDays: 5 }, none)).toEqual(["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]);
  });

  it("takes a day with no run, a failed one whose retry time has come, and a running one whose lease ran out; nothing else", () => {
    const states: Record<string, DayState> = {
      "2026-11-30": { state: "succeeded", next_attempt_at: null, lease_expires_at: null },
      "2026-12-01": { state: "failed", next_attempt_at: iso(AT_TEN), lease_expires_at: null },
      "2026-12-02": { state: "running", next_attempt_at: null, lease_expires_at: iso(AT_TEN - 1) },
    };
    expect(dueDays(AT_TEN, SETTINGS, (date) => states[date])).toEqual(["2026-12-01", "2026-12-02"]);
    const waiting: Record<string, DayState> = {
      "2026-11-30": { state: "failed", next_attempt_at: null, lease_expires_at: null },
      "2026-12-01": { state: "failed", next_attempt_at: iso(AT_TEN + 1), lease_expires_at: null },
      "2026-12-02": { state: "running", next_attempt_at: null, lease_expires_at: iso(AT_TEN + 1) },
    };
    expect(dueDays(AT_TEN, SETTINGS, (date) => waiting[date])).toEqual([]);
  });
});

describe.each(DATABASES)("the reconciliation scheduler (%s)", (dialect) => {
  let database: TestDatabase;
  const { logger, logs } = captureLogs();

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await database.db.deleteFrom("reconciliation_runs").execute();
  });

  async function addRun(date: string, state: ReconciliationState, fields: { next_attempt_at?: string; lease_expires_at?: string } = {}): Promise<void> {
    const at = iso(BEFORE_TEN - 3600_000);
    await database.db
      .insertInto("reconciliation_runs")
      .values({
        bill_date: date,
        state,
        trigger: "schedule",
        attempt: 1,
        started_at: at,
        updated_at: at,
        ...(state === "running" ? { lease_owner: "other" } : { finished_at: at }),
        ...fields,
      })
      .execute();
  }

  function options(now: () => number, run: (date: string) => Promise<unknown>, pollSeconds = 60): SchedulerOptions {
    return { db: database.db, clock: now, logger, settings: { ...SETTINGS, pollSeconds }, run };
  }

  it("runs the due days one at a time, oldest first, reading their rows", async () => {
    await addRun("2026-11-30", "succeeded");
    await addRun("2026-12-01", "failed", { next_attempt_at: iso(AT_TEN - 60_000) });
    await addRun("2026-12-02", "running", { lease_expires_at: iso(AT_TEN - 1) });
    await addRun("2026-11-29", "failed", { next_attempt_at: iso(AT_TEN - 60_000) });
    const calls: string[] = [];
    let active = 0;
    const ran = await reconcileDueDays(
      options(
        () => AT_TEN,
        async (date) => {
          active++;
          expect(active).toBe(1);
          calls.push(date);
          await new Promise((resolve) => setTimeout(resolve, 5));
          active--;
        },
      ),
    );
    expect(ran).toEqual(["2026-12-01", "2026-12-02"]);
    expect(calls).toEqual(ran);
  });

  it("leaves yesterday alone before RECONCILE_AT and a failed day before its retry time", async () => {
    await addRun("2026-11-30", "succeeded");
    await addRun("2026-12-01", "failed", { next_attempt_at: iso(AT_TEN + 60_000) });
    const calls: string[] = [];
    await reconcileDueDays(
      options(
        () => BEFORE_TEN,
        (date) => {
          calls.push(date);
          return Promise.resolve();
        },
      ),
    );
    expect(calls).toEqual([]);
  });

  it("logs a run that throws and goes on with the next day", async () => {
    const calls: string[] = [];
    const ran = await reconcileDueDays(
      options(
        () => AT_TEN,
        (date) => {
          calls.push(date);
          return date === "2026-11-30" ? Promise.reject(new Error("engine exploded")) : Promise.resolve();
        },
      ),
    );
    expect(ran).toEqual(["2026-11-30", "2026-12-01", "2026-12-02"]);
    expect(calls).toEqual(ran);
    expect(logs.some((line) => line.includes("a scheduled run failed") && line.includes("2026-11-30"))).toBe(true);
  });

  it("looks every poll interval, on the injected clock, and stop() waits for the day in flight", async () => {
    let now = BEFORE_TEN;
    const calls: string[] = [];
    let release: () => void = () => undefined;
    let finished = false;
    const scheduler = startReconciliationScheduler(
      options(
        () => now,
        async (date) => {
          calls.push(date);
          await addRun(date, "succeeded");
          if (date === "2026-12-02") {
            await new Promise<void>((resolve) => (release = resolve));
            finished = true;
          }
        },
        0.02,
      ),
    );
    await expect.poll(() => calls, { timeout: 5000 }).toEqual(["2026-11-30", "2026-12-01"]);
    now = AT_TEN;
    await expect.poll(() => calls.length, { timeout: 5000 }).toBe(3);
    expect(calls[2]).toBe("2026-12-02");
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls).toHaveLength(3);
  });
});
