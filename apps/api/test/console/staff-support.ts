import type { StaffRole } from "@pay/core/contract";
import { CSRF_HEADER, STAFF_SESSION_COOKIE } from "@pay/core/contract";
import type { ApiHarness, JsonAnswer } from "../support/api-harness.js";
import { createStaffAccount } from "../../src/services/staff/accounts.js";

/** A cheap scrypt cost for test accounts (the hash names its cost, so sign-in checks with it). */
export const TEST_COST = { N: 1024, r: 8, p: 1 } as const;
export const PASSWORD = "a long enough password";

export async function createAccount(h: ApiHarness, username: string, role: StaffRole, now = h.services.clock()): Promise<void> {
  const created = await createStaffAccount({ db: h.database.db, now, cost: TEST_COST }, username, role, PASSWORD);
  if (!created.ok) throw new Error(created.message);
}

/** A signed-in console: its cookie (as the browser sends it back), its CSRF token and the Set-Cookie header it got. */
export interface Console {
  readonly cookie: string;
  csrf: string;
  readonly setCookie: string;
}

export async function signIn(h: ApiHarness, username: string, password = PASSWORD): Promise<Console> {
  const answer = await h.request("POST", "/api/admin/session", { body: { username, password } });
  if (answer.status !== 200) throw new Error(`staff sign-in failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  const setCookie = answer.headers.get("set-cookie") ?? "";
  const value = new RegExp(`^${STAFF_SESSION_COOKIE}=([^;]*)`).exec(setCookie)?.[1];
  if (value === undefined) throw new Error(`no session cookie in ${setCookie}`);
  return { cookie: `${STAFF_SESSION_COOKIE}=${value}`, csrf: answer.body.csrfToken as string, setCookie };
}

/** A call as the console makes it: the cookie, and the CSRF header unless told otherwise. */
export function consoleRequest(
  h: ApiHarness,
  session: Pick<Console, "cookie" | "csrf">,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; csrf?: string | null } = {},
): Promise<JsonAnswer> {
  const csrf = options.csrf === undefined ? session.csrf : options.csrf;
  return h.request(method, path, {
    ...(options.body === undefined ? {} : { body: options.body }),
    headers: { cookie: session.cookie, ...(csrf === null ? {} : { [CSRF_HEADER]: csrf }), ...options.headers },
  });
}

/** Every table's rows but the ones a refused call may touch by design (the audit log, the session's last use, sign-in failures). */
export async function snapshot(h: ApiHarness): Promise<Record<string, unknown[]>> {
  const skip = new Set(["audit_log", "staff_sessions", "staff_sign_in_failures"]);
  const tables = (await h.database.db.introspection.getTables()).map((table) => table.name).filter((name) => !skip.has(name) && !name.startsWith("kysely_"));
  const rows: Record<string, unknown[]> = {};
  for (const table of tables.sort()) {
    const all = (await h.database.db
      .selectFrom(table as "orders")
      .selectAll()
      .execute()) as Record<string, unknown>[];
    rows[table] = all.map((row) => JSON.stringify(row)).sort();
  }
  return rows;
}

/** The snapshot once background work (a refund's notify, a replay) has settled: the same twice, 300 ms apart. */
export async function settledSnapshot(h: ApiHarness): Promise<Record<string, unknown[]>> {
  let previous = JSON.stringify(await snapshot(h));
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const current = await snapshot(h);
    if (JSON.stringify(current) === previous) return current;
    previous = JSON.stringify(current);
  }
  throw new Error("the database did not settle within 9 s");
}
