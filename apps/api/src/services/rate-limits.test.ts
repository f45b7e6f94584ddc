import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { captureLogs } from "../../test/support/captured-logs.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { openDatabase } from "../db/database.js";
import type { RateLimitConfig } from "../env.js";
import { addressSubject, createRateLimiter, gcraOf, PRUNE_BATCH, PRUNE_INTERVAL_MS, retryAfterSecondsOf, type RateLimiter } from "./rate-limits.js";

const START = Date.UTC(2026, 11, 4, 2, 0, 0);
const LIMITS: RateLimitConfig = { orders: { count: 3, periodSeconds: 60 }, renewals: { count: 1, periodSeconds: 5 }, signIns: undefined, trustProxyHops: 0 };

describe("GCRA arithmetic", () => {
  it("allows count at once and one more every period / count (rounded up to the ms, never faster)", () => {
    expect(gcraOf({ count: 3, periodSeconds: 60 })).toEqual({ intervalMs: 20_000, toleranceMs: 40_000 });
    expect(gcraOf({ count: 1, periodSeconds: 5 })).toEqual({ intervalMs: 5000, toleranceMs: 0 });
    expect(gcraOf({ count: 7, periodSeconds: 60 })).toEqual({ intervalMs: 8572, toleranceMs: 6 * 8572 });
  });

  it("answers whole seconds of wait, at least 1", () => {
    expect(retryAfterSecondsOf(START + 60_000, 40_000, START)).toBe(20);
    expect(retryAfterSecondsOf(START + 40_001, 40_000, START)).toBe(1);
    expect(retryAfterSecondsOf(START + 59_001, 40_000, START)).toBe(20);
  });
});

describe("addressSubject", () => {
  it("keeps an IPv4 address, unwraps an IPv4-mapped one", () => {
    expect(addressSubject("203.0.113.7")).toBe("203.0.113.7");
    expect(addressSubject("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressSubject("::FFFF:203.0.113.7")).toBe("203.0.113.7");
  });

  it("counts an IPv6 address by its /64, however it is written", () => {
    expect(addressSubject("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressSubject("2001:0db8:0001:0002::1")).toBe("2001:db8:1:2::/64");
    expect(addressSubject("2001:db8:1:2::5")).toBe("2001:db8:1:2::/64");
    expect(addressSubject("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressSubject("2001:DB8:1::")).toBe("2001:db8:1:0::/64");
    expect(addressSubject("::1")).toBe("0:0:0:0::/64");
    expect(addressSubject("::")).toBe("0:0:0:0::/64");
    expect(addressSubject("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressSubject("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  });

  it("keeps anything else as it is (an empty address, a unix socket)", () => {
    expect(addressSubject("")).toBe("");
    expect(addressSubject("not-an-address")).toBe("not-an-address");
  });
});

describe.each(DATABASES)("the rate limiter on %s", (kind) => {
  let database: TestDatabase;
  let now: number;
  let limiter: RateLimiter;
  const { logger } = captureLogs();
  const rows = async (): Promise<{ key: string; tat: number }[]> => database.db.selectFrom("rate_limits").selectAll().orderBy("key").execute();

  beforeEach(async () => {
    database = await openTestDatabase(kind);
    now = START;
    limiter = createRateLimiter({ db: database.db, clock: () => now, logger, limits: LIMITS });
  });
  afterEach(async () => {
    await database.close();
  });

  it("allows the burst, then refuses with the exact wait without counting the refusal, and allows again once the clock has moved", async () => {
    for (let i = 0; i < 3; i++) expect(await limiter.check("orders", "user-1")).toEqual({ allowed: true });
    expect(await limiter.check("orders", "user-1")).toEqual({ allowed: false, retryAfterSeconds: 20 });
    now += 5000;
    expect(await limiter.check("orders", "user-1")).toEqual({ allowed: false, retryAfterSeconds: 15 });
    // Refusals did not move the state: one interval after the burst, exactly one more is allowed.
    expect(await rows()).toEqual([{ key: "orders:user-1", tat: START + 60_000 }]);
    now = START + 20_000;
    expect(await limiter.check("orders", "user-1")).toEqual({ allowed: true });
    expect(await limiter.check("orders", "user-1")).toEqual({ allowed: false, retryAfterSeconds: 20 });
    // A whole period idle: the full burst again.
    now = START + 20_000 + 60_000;
    for (let i = 0; i < 3; i++) expect(await limiter.check("orders", "user-1")).toEqual({ allowed: true });
    expect((await limiter.check("orders", "user-1")).allowed).toBe(false);
  });

  it("keeps each subject and each limit apart", async () => {
    for (let i = 0; i < 3; i++) await limiter.check("orders", "user-1");
    expect((await limiter.check("orders", "user-1")).allowed).toBe(false);
    expect(await limiter.check("orders", "user-2")).toEqual({ allowed: true });
    expect(await limiter.check("renewals", "user-1")).toEqual({ allowed: true });
    expect(await limiter.check("renewals", "user-1")).toEqual({ allowed: false, retryAfterSeconds: 5 });
  });

  it("allows everything and writes nothing for a limit that is off", async () => {
    for (let i = 0; i < 50; i++) expect(await limiter.check("sign-ins", "203.0.113.7")).toEqual({ allowed: true });
    expect(await rows()).toEqual([]);
  });

  it("lets exactly the burst through when checks race (one statement each, no lost update)", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => limiter.check("orders", "racer")));
    expect(answers.filter((answer) => answer.allowed)).toHaveLength(3);
  });

  it("shares the count between limiters on separate handles of one database, as two processes hold", async () => {
    const second = await openDatabase(database.url);
    try {
      const limiter2 = createRateLimiter({ db: second.db, clock: () => now, logger, limits: LIMITS });
      const answers = [
        await limiter.check("orders", "shared"),
        await limiter2.check("orders", "shared"),
        await limiter.check("orders", "shared"),
        await limiter2.check("orders", "shared"),
      ];
      expect(answers.map((answer) => answer.allowed)).toEqual([true, true, true, false]);
    } finally {
      await second.close();
    }
  });

  it("prunes only rows whose time has passed, at most PRUNE_BATCH at a time", async () => {
    await database.db
      .insertInto("rate_limits")
      .values(Array.from({ length: PRUNE_BATCH + 5 }, (_, i) => ({ key: `orders:old-${i}`, tat: START - 1 - i })))
      .execute();
    await limiter.check("orders", "fresh");
    expect(await limiter.prune()).toBe(PRUNE_BATCH);
    expect(await limiter.prune()).toBe(5);
    expect(await limiter.prune()).toBe(0);
    expect((await rows()).map((row) => row.key)).toEqual(["orders:fresh"]);
  });

  it("prunes by itself now and then, off the request path", async () => {
    await database.db
      .insertInto("rate_limits")
      .values([
        { key: "orders:gone", tat: START },
        { key: "orders:later", tat: START + 10 * PRUNE_INTERVAL_MS },
      ])
      .execute();
    await limiter.check("orders", "user-1");
    expect((await rows()).map((row) => row.key)).toEqual(["orders:gone", "orders:later", "orders:user-1"]);
    // A minute on: user-1's one request no longer holds anything back either.
    now = START + PRUNE_INTERVAL_MS;
    await limiter.check("orders", "user-2");
    await expect.poll(async () => (await rows()).map((row) => row.key)).toEqual(["orders:later", "orders:user-2"]);
  });
});
