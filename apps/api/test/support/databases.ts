import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase } from "@pay/test-kit/postgres/vitest";
import { openDatabase } from "../../src/db/database.js";
import type { DatabaseDialect, OpenedDatabase, OpenDatabaseOptions } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrate.js";

/** Both databases, for `describe.each(DATABASES)`. */
export const DATABASES = ["sqlite", "postgres"] as const satisfies readonly DatabaseDialect[];

export interface TestDatabase extends OpenedDatabase {
  /** What `openDatabase` was given: a SQLite file path or a PostgreSQL URL, to open more handles on the same data. */
  readonly url: string;
  /** Closes the handle and deletes the database (the SQLite file's directory, or the PostgreSQL database). */
  close(): Promise<void>;
}

export interface OpenTestDatabaseOptions extends OpenDatabaseOptions {
  /** Apply the migrations before returning (default true). */
  readonly migrate?: boolean | undefined;
}

/**
 * A fresh, private database of the given kind: a real SQLite file in a temp directory (WAL and all,
 * unlike :memory:) or a new database on the test PostgreSQL server. Migrated unless told otherwise.
 */
export async function openTestDatabase(kind: DatabaseDialect, options: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const { migrate = true, ...openOptions } = options;
  const { url, remove } = await createEmpty(kind);
  let opened: OpenedDatabase;
  try {
    opened = await openDatabase(url, openOptions);
  } catch (error) {
    await remove();
    throw error;
  }
  const close = async (): Promise<void> => {
    try {
      await opened.close();
    } finally {
      await remove();
    }
  };
  if (migrate) {
    try {
      await migrateToLatest(opened.db);
    } catch (error) {
      await close();
      throw error;
    }
  }
  return { db: opened.db, dialect: opened.dialect, url, close };
}

async function createEmpty(kind: DatabaseDialect): Promise<{ url: string; remove: () => Promise<void> }> {
  switch (kind) {
    case "sqlite": {
      const dir = mkdtempSync(join(tmpdir(), "pay-test-sqlite-"));
      return {
        url: join(dir, "api.sqlite"),
        remove: () => {
          rmSync(dir, { recursive: true, force: true });
          return Promise.resolve();
        },
      };
    }
    case "postgres": {
      const database = await createTestDatabase();
      return { url: database.url, remove: () => database.drop() };
    }
  }
}
