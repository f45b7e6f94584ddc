// Sign-in throttling, session expiry and idle timeout on an injected clock, and the production cookie, on both databases.
import { API_ROUTES } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { consoleRequest, createAccount, PASSWORD, signIn } from "./staff-support.js";

const WRONG = "certainly not the password";

describe.each(DATABASES)("staff sign-in throttling and session lifetimes on %s (production, injected clock)", (kind) => {
  let h: ApiHarness;
  const clock = { now: Date.now() };

  beforeAll(async () => {
    h = await startApiHarness(kind, { clock: () => clock.now, env: { NODE_ENV: "production", STAFF_SESSION_TTL_SECONDS: "7200", STAFF_SESSION_IDLE_SECONDS: "900" } });
    for (const name of ["tess", "ivan", "eve"]) await createAccount(h, name, "operator", clock.now);
  }, 60_000);
  afterAll(async () => {
    await h.close();
  });

  const attempt = (username: string, password: string): ReturnType<ApiHarness["request"]> => h.request("POST", API_ROUTES.staffSignIn.path, { body: { username, password } });

  it("sets a Secure cookie in production, with STAFF_SESSION_TTL_SECONDS as its Max-Age", async () => {
    const session = await signIn(h, "ivan");
    expect(session.setCookie).toMatch(/^pay_console_session=[A-Za-z0-9_-]{43}; Path=\/api\/admin; Max-Age=7200; HttpOnly; SameSite=Strict; Secure$/);
    const answer = await consoleRequest(h, session, "GET", "/api/admin/session");
    expect(answer.body.expiresAt).toBe(new Date(clock.now + 7200 * 1000).toISOString());
  });

  it("ends a session after its idle timeout, and at its expiry even when used", async () => {
    const idle = await signIn(h, "ivan");
    clock.now += 899 * 1000;
    expect((await consoleRequest(h, idle, "GET", "/api/admin/audit-log")).status).toBe(200);
    // Used just now: another 899 s is fine, 900 s without use is not.
    clock.now += 899 * 1000;
    expect((await consoleRequest(h, idle, "GET", "/api/admin/audit-log")).status).toBe(200);
    clock.now += 900 * 1000;
    const timedOut = await consoleRequest(h, idle, "GET", "/api/admin/audit-log");
    expect(timedOut.status).toBe(401);
    expect(timedOut.body.error).toMatchObject({ code: "UNAUTHORIZED" });

    const busy = await signIn(h, "ivan");
    for (let used = 0; used < 8; used++) {
      clock.now += 800 * 1000;
      expect((await consoleRequest(h, busy, "GET", "/api/admin/audit-log")).status).toBe(200);
    }
    // 8 × 800 s = 6400 s; at 7200 s the session expires however busy it is.
    clock.now += 800 * 1000;
    expect((await consoleRequest(h, busy, "GET", "/api/admin/audit-log")).status).toBe(401);
  });

  it("after 5 failures refuses even the right password with 429 and Retry-After, doubling per further failure; success clears the username", async () => {
    for (let i = 0; i < 5; i++) {
      const failed = await attempt("tess", WRONG);
      expect(failed.status).toBe(401);
      expect(failed.body.error).toMatchObject({ code: "SIGN_IN_FAILED", message: "The username or password is wrong, or the account is disabled." });
    }
    const throttled = await attempt("tess", PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toMatchObject({ code: "RATE_LIMITED" });
    expect(throttled.headers.get("retry-after")).toBe("30");
    clock.now += 10 * 1000;
    expect((await attempt("tess", PASSWORD)).headers.get("retry-after")).toBe("20");
    clock.now += 20 * 1000;
    // The wait is over: a 6th failure doubles it.
    expect((await attempt("tess", WRONG)).status).toBe(401);
    const doubled = await attempt("tess", PASSWORD);
    expect(doubled.status).toBe(429);
    expect(doubled.headers.get("retry-after")).toBe("60");
    clock.now += 60 * 1000;
    expect((await attempt("tess", WRONG)).status).toBe(401);
    expect((await attempt("tess", PASSWORD)).headers.get("retry-after")).toBe("120");
    clock.now += 120 * 1000;
    expect((await attempt("tess", PASSWORD)).status).toBe(200);
    const rows = await h.database.db.selectFrom("staff_sign_in_failures").select(["key", "failures"]).orderBy("key").execute();
    // The username's count is gone; the address's stays (7 failures from it).
    expect(rows).toEqual([{ key: "ip:127.0.0.1", failures: 7 }]);
    const audited = await h.database.db.selectFrom("audit_log").select("outcome").where("action", "=", "staffSignIn").where("actor_name", "=", "tess").execute();
    expect(audited.map((row) => row.outcome)).toEqual(expect.arrayContaining(["SIGN_IN_FAILED", "RATE_LIMITED", "ok"]));
  });

  it("counts unknown usernames too (under the address), and caps the wait at 15 minutes", async () => {
    // Let the address's count from the last test lapse (15 minutes after its last failure).
    clock.now += 15 * 60 * 1000 + 1000;
    for (let i = 0; i < 5; i++) expect((await attempt(`nobody-${i}`, WRONG)).body.error).toMatchObject({ code: "SIGN_IN_FAILED" });
    // The address is throttled now, for every username.
    const throttled = await attempt("eve", PASSWORD);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("30");
    // Failures 6 to 10, each once the previous wait (60, 120, 240, 480 s) is over: the 10th's would be 960 s, capped at 900.
    for (let i = 0; i < 5; i++) {
      clock.now += 15 * 60 * 1000 - 1000;
      expect((await attempt("nobody-x", WRONG)).status).toBe(401);
    }
    expect((await attempt("eve", PASSWORD)).headers.get("retry-after")).toBe(String(15 * 60));
    clock.now += 15 * 60 * 1000;
    expect((await attempt("eve", PASSWORD)).status).toBe(200);
  });

  it("spends as long on an unknown username as on a known one (a dummy hash)", async () => {
    clock.now += 16 * 60 * 1000;
    const time = async (username: string): Promise<number> => {
      const started = performance.now();
      await h.request("POST", API_ROUTES.staffSignIn.path, { body: { username, password: WRONG } });
      return performance.now() - started;
    };
    // The dummy hash uses the default cost, at least the cost of the test accounts (N=1024): never faster.
    await time("no-such-user");
    const unknown = await time("no-such-user-2");
    const known = await time("ivan");
    expect(unknown).toBeGreaterThanOrEqual(known * 0.5);
  });
});
