import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { TEST_POSTGRES_URL_ENV, createTestDatabase } from "./vitest.js";

describe("the vitest globalSetup", () => {
  it("provides the server's URL to tests and to child processes", () => {
    expect(inject("payTestPostgresUrl")).toMatch(/^postgres:\/\//);
    expect(process.env[TEST_POSTGRES_URL_ENV]).toBe(inject("payTestPostgresUrl"));
  });

  it("makes a fresh database per call on that server", async () => {
    const database = await createTestDatabase();
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>("select current_database() as name");
        expect(rows).toEqual([{ name: database.name }]);
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
    }
  });
});
