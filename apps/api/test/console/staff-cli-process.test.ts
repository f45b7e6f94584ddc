// The staff CLI as a process: `node <build>/staff-cli.js`, as `pnpm --filter @pay/api staff` runs it, on both databases.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../src/staff-cli.js";
import { authenticateStaff, signInStaff } from "../../src/services/staff/sessions.js";
import { compileApi } from "../reliability/api-process.js";
import { DATABASES, openTestDatabase, type TestDatabase } from "../support/databases.js";

const PASSWORD = "a long enough password";
const STAFF_CONFIG = { sessionTtlSeconds: 3600, sessionIdleSeconds: 900 };

describe.each(DATABASES)("the built staff CLI on %s", (kind) => {
  let database: TestDatabase;
  let cli: string;

  beforeAll(async () => {
    cli = join(dirname((await compileApi()).main), "staff-cli.js");
    database = await openTestDatabase(kind);
  }, 120_000);
  afterAll(async () => {
    await database.close();
  });

  function run(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? "", DATABASE_URL: database.url, ...options.env } }, (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
      });
      child.stdin?.end(options.stdin ?? "");
    });
  }

  const deps = { db: (): TestDatabase["db"] => database.db, clock: Date.now };
  const signInAs = async (username: string, password = PASSWORD): Promise<boolean> =>
    (await signInStaff({ db: deps.db(), clock: deps.clock, config: STAFF_CONFIG }, { username, password, ip: `10.0.0.${username.length}`, userAgent: undefined })).ok;

  it("creates an account with the password from stdin, or from STAFF_PASSWORD; refuses short passwords and taken names", async () => {
    const created = await run(["create", "--username", "ana", "--role", "operator"], { stdin: `${PASSWORD}\n` });
    expect(created).toMatchObject({ code: EXIT.ok, stdout: "Created ana (operator).\n" });
    expect(await signInAs("ana")).toBe(true);
    const fromEnv = await run(["create", "--username", "bob", "--role", "viewer"], { env: { STAFF_PASSWORD: "another long password" } });
    expect(fromEnv, fromEnv.stderr).toMatchObject({ code: EXIT.ok, stdout: "Created bob (viewer).\n" });
    expect(await signInAs("bob", "another long password")).toBe(true);

    const short = await run(["create", "--username", "cyd", "--role", "viewer"], { stdin: "short\n" });
    expect(short).toMatchObject({ code: EXIT.refused, stderr: "staff: a password needs at least 12 characters.\n" });
    const taken = await run(["create", "--username", "ana", "--role", "viewer"], { stdin: `${PASSWORD}\n` });
    expect(taken).toMatchObject({ code: EXIT.refused, stderr: "staff: an account named ana exists already.\n" });
    const badName = await run(["create", "--username", "Ana!", "--role", "viewer"], { stdin: `${PASSWORD}\n` });
    expect(badName.code).toBe(EXIT.refused);
    expect(badName.stderr).toContain("--username Ana!:");
    const noPassword = await run(["create", "--username", "deb", "--role", "viewer"]);
    expect(noPassword).toMatchObject({ code: EXIT.usage, stderr: "staff: no password: pipe it on stdin, or set STAFF_PASSWORD.\n" });
    const usage = await run(["create", "--username", "deb"]);
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stderr).toContain("create needs --role");
  }, 60_000);

  it("disables (ending its sessions), enables, changes the role, resets the password, and lists without hashes", async () => {
    const session = await signInStaff({ db: database.db, clock: Date.now, config: STAFF_CONFIG }, { username: "ana", password: PASSWORD, ip: "10.0.1.1", userAgent: undefined });
    if (!session.ok) throw new Error("sign-in failed");
    const live = (): Promise<unknown> => authenticateStaff({ db: database.db, clock: Date.now, config: STAFF_CONFIG }, session.session.token);
    // The sign-in of the test before and this one.
    expect(await live()).toBeDefined();

    expect(await run(["disable", "--username", "ana"])).toMatchObject({ code: EXIT.ok, stdout: "Disabled ana; 2 sessions ended.\n" });
    expect(await live()).toBeUndefined();
    expect(await signInAs("ana")).toBe(false);
    expect(await run(["enable", "--username", "ana"])).toMatchObject({ code: EXIT.ok, stdout: "Enabled ana.\n" });
    expect(await signInAs("ana")).toBe(true);
    expect(await run(["set-role", "--username", "ana", "--role", "viewer"])).toMatchObject({ code: EXIT.ok, stdout: "ana is now viewer; 1 session ended.\n" });
    expect(await run(["reset-password", "--username", "ana"], { stdin: "a brand new password\n" })).toMatchObject({ code: EXIT.ok, stdout: "New password set for ana.\n" });
    expect(await signInAs("ana")).toBe(false);
    expect(await signInAs("ana", "a brand new password")).toBe(true);
    expect(await run(["disable", "--username", "ghost"])).toMatchObject({ code: EXIT.refused, stderr: "staff: there is no account named ghost.\n" });
    expect((await run(["reset-password", "--username", "ghost"], { stdin: `${PASSWORD}\n` })).code).toBe(EXIT.refused);

    const list = await run(["list"]);
    expect(list.code).toBe(EXIT.ok);
    expect(list.stdout).toMatch(/^ana\tviewer\tenabled\tcreated .+\nbob\tviewer\tenabled\tcreated .+\n$/);
    const json = await run(["list", "--json"]);
    expect((JSON.parse(json.stdout) as { username: string }[]).map((a) => a.username)).toEqual(["ana", "bob"]);
    expect(list.stdout + json.stdout).not.toContain("scrypt");
    expect(list.stdout + json.stdout).not.toContain(PASSWORD);
  }, 60_000);
});
