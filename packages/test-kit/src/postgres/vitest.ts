// vitest glue for the throwaway PostgreSQL server: name this module in a vitest config's
// `globalSetup` and the run starts one server (unless PAY_TEST_POSTGRES_URL already names one);
// each suite then makes its own databases on it with createTestDatabase().
import { inject } from "vitest";
import type { TestProject } from "vitest/node";
import { createDatabase, startPostgres, type TestPostgresDatabase, type ThrowawayPostgres } from "./server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** URL of the test PostgreSQL server's maintenance database (`postgres`); tests create their own databases. */
    payTestPostgresUrl: string;
  }
}

/** Set this to use an existing server (its URL, with a role allowed to CREATE DATABASE) instead of starting one. */
export const TEST_POSTGRES_URL_ENV = "PAY_TEST_POSTGRES_URL";

let server: ThrowawayPostgres | undefined;

/** vitest globalSetup: starts the server (or adopts PAY_TEST_POSTGRES_URL) and provides its URL to tests. */
export async function setup(project: TestProject): Promise<void> {
  const existing = process.env[TEST_POSTGRES_URL_ENV];
  if (existing !== undefined && existing !== "") {
    project.provide("payTestPostgresUrl", existing);
    return;
  }
  const startedAt = performance.now();
  try {
    // fsync=off: a test database need not survive a power cut.
    server = await startPostgres({ prefix: "pay-test-pg-", settings: { fsync: "off" } });
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)} (or set ${TEST_POSTGRES_URL_ENV} to an existing server)`, { cause: error });
  }
  // Child processes (a spawned API server, a CLI under test) find the server the same way.
  process.env[TEST_POSTGRES_URL_ENV] = server.url;
  project.provide("payTestPostgresUrl", server.url);
  console.log(`test postgres: ${server.url} (${server.binDir}) ready in ${Math.round(performance.now() - startedAt)} ms`);
}

/** vitest globalSetup: stops the server this run started and deletes its files. */
export async function teardown(): Promise<void> {
  const running = server;
  if (running === undefined) return;
  server = undefined;
  delete process.env[TEST_POSTGRES_URL_ENV];
  await running.stop();
}

/** Creates a fresh, uniquely named database on the test server (call from a test file, after globalSetup). */
export async function createTestDatabase(): Promise<TestPostgresDatabase> {
  return createDatabase(inject("payTestPostgresUrl"));
}

export type { TestPostgresDatabase } from "./server.js";
