import { existsSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPostgresBinDir, postgresVersion, startPostgres, type ThrowawayPostgres } from "./server.js";

async function query<Row extends pg.QueryResultRow>(url: string, sql: string): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("startPostgres", () => {
  let server: ThrowawayPostgres;

  beforeAll(async () => {
    server = await startPostgres({ settings: { synchronous_commit: "off" } });
  });

  afterAll(async () => {
    await server.stop();
  });

  it("finds the installed server and names its version", () => {
    expect(findPostgresBinDir()).toBe(server.binDir);
    expect(postgresVersion()).toMatch(/^postgres \(PostgreSQL\) \d+/);
  });

  it("serves the maintenance database on 127.0.0.1 with the settings asked for", async () => {
    expect(server.url).toMatch(/^postgres:\/\/app@127\.0\.0\.1:\d+\/postgres$/);
    const rows = await query<{ synchronous_commit: string }>(server.url, "show synchronous_commit");
    expect(rows).toEqual([{ synchronous_commit: "off" }]);
    expect(await query<{ max_connections: string }>(server.url, "show max_connections")).toEqual([{ max_connections: "200" }]);
  });

  it("creates databases that are empty, separate, and gone once dropped", async () => {
    const first = await server.createDatabase();
    const second = await server.createDatabase("named_on_purpose");
    expect(first.name).toMatch(/^pay_test_\d+_[0-9a-f]{12}$/);
    expect(second.url).toBe(server.url.replace(/\/postgres$/, "/named_on_purpose"));
    await query(first.url, "create table t (n int)");
    expect(await query(second.url, "select table_name from information_schema.tables where table_schema = 'public'")).toEqual([]);
    await first.drop();
    await first.drop();
    await second.drop();
    const names = await query<{ datname: string }>(server.url, "select datname from pg_database");
    expect(names.map((row) => row.datname)).not.toContain(first.name);
    expect(names.map((row) => row.datname)).not.toContain("named_on_purpose");
  });

  it("stops and deletes its files; stopping again does nothing", async () => {
    const other = await startPostgres();
    expect(existsSync(other.dataDir)).toBe(true);
    await other.stop();
    expect(existsSync(other.dataDir)).toBe(false);
    await other.stop();
    await expect(query(other.url, "select 1")).rejects.toThrow();
  });
});
