import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresAdapter, PostgresDialect, SqliteAdapter, SqliteDialect } from "kysely";
import type { LogConfig, SqliteDatabase } from "kysely";
import pg from "pg";
import type { CustomTypesConfig } from "pg";
import type { Database } from "./schema.js";

export type DatabaseDialect = "sqlite" | "postgres";

export interface OpenDatabaseOptions {
  /** Kysely query logging: the levels to print, or a function that receives every query event. */
  readonly log?: LogConfig | undefined;
  /** PostgreSQL pool size; 10 by default. Ignored for SQLite (one connection). */
  readonly maxConnections?: number | undefined;
  /** PostgreSQL: how long to wait for a connection, in ms (also for a free pooled one); 10 000 by default. */
  readonly connectTimeoutMs?: number | undefined;
  /** PostgreSQL: an idle pooled connection broke (server restart, network). The pool has dropped it already. */
  readonly onIdleConnectionError?: ((error: Error) => void) | undefined;
}

export interface OpenedDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: DatabaseDialect;
  /** Closes the pool (PostgreSQL) or the file (SQLite). */
  close(): Promise<void>;
}

export const DATABASE_ERROR_CODES = ["invalid_url", "connection_failed", "migration_failed"] as const;
export type DatabaseErrorCode = (typeof DATABASE_ERROR_CODES)[number];

/** A database could not be opened or migrated. Messages never contain the password. */
export class DatabaseError extends Error {
  override readonly name = "DatabaseError";
  readonly code: DatabaseErrorCode;

  constructor(code: DatabaseErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const DEFAULT_MAX_CONNECTIONS = 10;
const SQLITE_CACHE_KIB = 64 * 1024;
const MAX_CACHED_STATEMENTS = 256;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const INT8_OID = 20;
const POSTGRES_PROTOCOLS = new Set(["postgres:", "postgresql:"]);

/**
 * Opens the API database: a `postgres://` or `postgresql://` URL selects PostgreSQL, anything else is
 * a SQLite file path (`:memory:` allowed). PostgreSQL is probed once, so a bad URL, host or password
 * fails here rather than on the first request.
 */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<OpenedDatabase> {
  // Any scheme:// (or a mistyped postgres: URL) goes down the URL path, so a typo fails clearly instead
  // of creating a SQLite file named after it.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^postgres(ql)?:/i.test(url)) return openPostgres(url, options);
  return openSqlite(url, options);
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<OpenedDatabase> {
  const secrets = passwordsIn(url);
  const shown = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // No cause: the URL parser's error carries the full input, password included.
    throw new DatabaseError("invalid_url", `malformed database URL ${shown}`);
  }
  if (!POSTGRES_PROTOCOLS.has(parsed.protocol)) {
    throw new DatabaseError("invalid_url", `unsupported database URL scheme "${parsed.protocol}" in ${shown}: use postgres:// or postgresql://, or a SQLite file path`);
  }
  if (parsed.hostname === "" && !parsed.searchParams.has("host")) {
    throw new DatabaseError("invalid_url", `database URL ${shown} names no host: expected postgres://user:password@host:port/database`);
  }
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
  }

  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: "pay-api",
    types: INT8_AS_NUMBER,
  });
  // Without a listener, an idle client's error (e.g. the server restarting) would crash the process.
  const onIdleError = options.onIdleConnectionError ?? (() => undefined);
  pool.on("error", (error) => onIdleError(error));

  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseError("connection_failed", `cannot connect to PostgreSQL at ${shown}: ${redact(describeError(error), secrets)}`, { cause: error });
  }

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...logOption(options) });
  return { db, dialect: "postgres", close: () => db.destroy() };
}

function openSqlite(path: string, options: OpenDatabaseOptions): OpenedDatabase {
  if (path === "") throw new DatabaseError("invalid_url", "empty database URL: give a postgres:// URL or a SQLite file path");
  let sqlite: BetterSqlite3.Database | undefined;
  try {
    if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
    sqlite = new BetterSqlite3(path);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("synchronous = NORMAL");
    // 64 MiB of page cache instead of SQLite's 2 MiB: with a million orders, lookups scattered over the
    // table otherwise read most pages from the OS again (CPU per lookup grew 1.27x from 10k to 1M).
    sqlite.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  } catch (error) {
    sqlite?.close();
    throw new DatabaseError("connection_failed", `cannot open SQLite database ${path}: ${describeError(error)}`, { cause: error });
  }

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), ...logOption(options) });
  sqliteHandles.set(db, sqlite);
  return { db, dialect: "sqlite", close: () => db.destroy() };
}

const sqliteHandles = new WeakMap<Kysely<Database>, BetterSqlite3.Database>();

/**
 * The better-sqlite3 handle under a SQLite database opened by openDatabase, for the hot write paths that
 * run a whole transaction synchronously (db/paid-writer.ts). Use it only inside `db.connection().execute()`,
 * which holds Kysely's single connection, so no Kysely transaction is open on the handle meanwhile.
 */
export function sqliteHandleOf(db: Kysely<Database>): BetterSqlite3.Database | undefined {
  return sqliteHandles.get(db);
}

/**
 * The SQLite handle Kysely uses, reusing prepared statements: Kysely prepares every query it runs,
 * and compiling the SQL cost more than running it (a sixth of a notify's CPU, measured by the bench).
 * The API's queries are a small fixed set; the cache is bounded anyway. A statement still being
 * iterated (a stream) is never handed out twice.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(query) {
      // Kysely opens every transaction with a deferred `begin`: across processes (API_WORKERS) a transaction that read
      // first and then writes can fail at once with SQLITE_BUSY (no busy wait when a read upgrades to a write). An
      // immediate one takes the write lock at its start, waiting up to busy_timeout (docs/workers.md).
      const sql = query === "begin" ? "begin immediate" : query;
      let statement = statements.get(sql);
      if (statement === undefined || statement.busy) {
        statement = sqlite.prepare(sql);
        if (statements.size >= MAX_CACHED_STATEMENTS) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function logOption(options: OpenDatabaseOptions): { log?: LogConfig } {
  return options.log === undefined ? {} : { log: options.log };
}

/** INT8/BIGINT as a JS number; a value a number cannot hold exactly fails the query instead of being rounded. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`BIGINT value ${text} is beyond Number.MAX_SAFE_INTEGER and cannot be read exactly`);
  }
  return value;
}

// Per pool rather than pg.types.setTypeParser, which would change every pg client in the process.
const INT8_AS_NUMBER: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? parseInt8 : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as CustomTypesConfig["getTypeParser"],
};

/** The `user:password` part of a URL, found even in URLs too malformed to parse (`postgres:/u:p@h`). */
function userInfoSpan(url: string): { start: number; end: number } | undefined {
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(url);
  const at = url.lastIndexOf("@");
  if (scheme === null || at < scheme[0].length) return undefined;
  return { start: scheme[0].length, end: at };
}

/** The URL with the password replaced by `***`. */
export function redactUrl(url: string): string {
  const span = userInfoSpan(url);
  if (span === undefined) return url;
  const colon = url.indexOf(":", span.start);
  if (colon < 0 || colon > span.end) return url;
  return `${url.slice(0, colon)}:***${url.slice(span.end)}`;
}

function passwordsIn(url: string): string[] {
  const span = userInfoSpan(url);
  if (span === undefined) return [];
  const colon = url.indexOf(":", span.start);
  if (colon < 0 || colon > span.end) return [];
  const raw = url.slice(colon + 1, span.end);
  const found = new Set([raw]);
  try {
    found.add(decodeURIComponent(raw));
  } catch {
    // A malformed escape: the raw form is all there is.
  }
  return [...found].filter((secret) => secret.length > 0);
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join("***"), text);
}

/** A one-line description of a driver or network error (Node's AggregateError from a multi-address connect has an empty message). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join("; ");
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || error.name;
    return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}

/** Which dialect a Kysely instance (or a transaction or connection derived from it) talks to. */
export function dialectOf(db: Kysely<unknown>): DatabaseDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return "postgres";
  if (adapter instanceof SqliteAdapter) return "sqlite";
  throw new Error(`unsupported Kysely dialect adapter ${adapter.constructor.name}`);
}

export type ConstraintViolation = "unique" | "check" | "foreign_key" | "not_null";

const POSTGRES_VIOLATIONS: Readonly<Record<string, ConstraintViolation>> = {
  "23505": "unique",
  "23514": "check",
  "23503": "foreign_key",
  "23502": "not_null",
};

const SQLITE_VIOLATIONS: Readonly<Record<string, ConstraintViolation>> = {
  SQLITE_CONSTRAINT_UNIQUE: "unique",
  SQLITE_CONSTRAINT_PRIMARYKEY: "unique",
  SQLITE_CONSTRAINT_CHECK: "check",
  SQLITE_CONSTRAINT_FOREIGNKEY: "foreign_key",
  SQLITE_CONSTRAINT_NOTNULL: "not_null",
};

/**
 * The kind of constraint a failed statement broke, on either database, or undefined for any other
 * error. Callers branch on this (e.g. a unique violation on payment_events.order_id means the order
 * was already paid), never on driver message text.
 */
export function constraintViolationOf(error: unknown): ConstraintViolation | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  if (error instanceof pg.DatabaseError) return POSTGRES_VIOLATIONS[code];
  if (error instanceof BetterSqlite3.SqliteError) return SQLITE_VIOLATIONS[code];
  return undefined;
}
