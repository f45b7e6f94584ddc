// The console-orders shop written straight into an API's database (migrated by the API itself at its
// start): the users, then the orders in creation order, rows from console-orders-data.ts on both
// databases. SQLite: one transaction of prepared multi-row inserts (the reconciliation bench's batcher).
// PostgreSQL: multi-row inserts of 5,000 rows each, every column passed as one array and unnested
// server-side (`insert ... select * from unnest($1::text[], ...)`), so a statement carries 33 parameters,
// not 165,000. Afterwards: SQLite checkpoints its WAL and is NOT analyzed (nothing in the API ever runs
// ANALYZE, so a production file has no statistics either); PostgreSQL is vacuumed and analyzed, as its
// autovacuum would have done to a table grown over 90 days, and checkpointed.
import type { OrderStatus } from "@pay/core/contract";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { consoleOrderRow, userRow, type ConsoleDataset, type ConsoleOrderRow, type ConsoleUserRow } from "./console-orders-data.js";
import { createBatcher } from "./reconciliation/seed-day.js";
import type { Dialect } from "./servers/api-stack.js";

const SQLITE_ORDERS_PER_STATEMENT = 100;
const SQLITE_USERS_PER_STATEMENT = 500;
const POSTGRES_ROWS_PER_STATEMENT = 5_000;
const PROGRESS_EVERY = 250_000;

/** What seeding wrote and how long it took (not part of any measured figure). */
export interface SeededShop {
  readonly users: number;
  readonly orders: number;
  readonly seconds: number;
}

/** The orders one page filter selects, as the database counts them directly. */
export interface CountFilter {
  readonly status?: OrderStatus;
  /** created_at >= fromIso */
  readonly fromIso?: string;
  /** created_at < toIso */
  readonly toIso?: string;
}

/** A bench-side connection to an API's database: the seeding, and the direct counts the answers are checked against. */
export interface ConsoleShopDatabase {
  readonly dialect: Dialect;
  seed(data: ConsoleDataset, log: (line: string) => void): Promise<SeededShop>;
  count(filter: CountFilter): Promise<number>;
  statusCounts(): Promise<Record<OrderStatus, number>>;
  /** The query plan of `sql` with positional parameters written `?` (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL), one line per step. */
  explain(sql: string, params: readonly unknown[]): Promise<string[]>;
  close(): Promise<void>;
}

/** `where` and its parameters for a count, `?` placeholders. */
export function countWhere(filter: CountFilter): { where: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (filter.status !== undefined) {
    parts.push("status = ?");
    params.push(filter.status);
  }
  if (filter.fromIso !== undefined) {
    parts.push("created_at >= ?");
    params.push(filter.fromIso);
  }
  if (filter.toIso !== undefined) {
    parts.push("created_at < ?");
    params.push(filter.toIso);
  }
  return { where: parts.length === 0 ? "" : ` where ${parts.join(" and ")}`, params };
}

/** `?` placeholders as `$1`, `$2`, … (outside string literals, which the bench's SQL does not put them in). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function emptyStatusCounts(): Record<OrderStatus, number> {
  return { pending: 0, paid: 0, closed: 0, refunded: 0 };
}

const STATUS_COUNTS_SQL = "select status, count(*) as n from orders group by status";

export function openSqliteShop(path: string): ConsoleShopDatabase {
  const db = new BetterSqlite3(path);
  db.pragma("busy_timeout = 10000");
  return {
    dialect: "sqlite",
    seed(data, log) {
      const started = performance.now();
      // This connection only loads data; the API's own connection keeps its durability settings.
      db.pragma("synchronous = OFF");
      db.pragma("cache_size = -262144");
      const users = createBatcher<ConsoleUserRow>(db, "users", userRow(data, 0), SQLITE_USERS_PER_STATEMENT);
      const orders = createBatcher<ConsoleOrderRow>(db, "orders", consoleOrderRow(data, 0), SQLITE_ORDERS_PER_STATEMENT);
      db.transaction(() => {
        for (let u = 0; u < data.users; u++) users.add(userRow(data, u));
        users.flush();
        for (let i = 0; i < data.orders; i++) {
          orders.add(consoleOrderRow(data, i));
          if ((i + 1) % PROGRESS_EVERY === 0) log(`console-orders: sqlite: ${i + 1} orders written`);
        }
        orders.flush();
      })();
      db.pragma("synchronous = NORMAL");
      db.pragma("wal_checkpoint(TRUNCATE)");
      return Promise.resolve({ users: users.count(), orders: orders.count(), seconds: (performance.now() - started) / 1000 });
    },
    count(filter) {
      const { where, params } = countWhere(filter);
      return Promise.resolve((db.prepare(`select count(*) as n from orders${where}`).get(...params) as { n: number }).n);
    },
    statusCounts() {
      const counts = emptyStatusCounts();
      for (const row of db.prepare(STATUS_COUNTS_SQL).all() as Array<{ status: OrderStatus; n: number }>) counts[row.status] = row.n;
      return Promise.resolve(counts);
    },
    explain(sql, params) {
      const rows = db.prepare(`explain query plan ${sql}`).all(...params) as Array<{ detail: string }>;
      return Promise.resolve(rows.map((row) => row.detail));
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

/** `insert into <table> (<columns>) select * from unnest($1::<type>[], …)`: numbers as bigint, everything else as text. */
function unnestInsert(table: string, sample: object): string {
  const entries = Object.entries(sample);
  const arrays = entries.map(([, value], n) => `$${n + 1}::${typeof value === "number" ? "bigint" : "text"}[]`);
  return `insert into ${table} (${entries.map(([name]) => name).join(", ")}) select * from unnest(${arrays.join(", ")})`;
}

/** Inserts `rows` through one unnest statement, column by column. */
async function insertColumns(client: pg.Client, sql: string, rows: readonly object[]): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const columns: unknown[][] = Object.keys(first).map(() => []);
  for (const row of rows) {
    let n = 0;
    // Values in the row's own key order, which is the sample's (one builder makes every row).
    for (const value of Object.values(row)) (columns[n++] as unknown[]).push(value);
  }
  await client.query(sql, columns);
}

export async function openPostgresShop(url: string): Promise<ConsoleShopDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    dialect: "postgres",
    async seed(data, log) {
      const started = performance.now();
      const usersSql = unnestInsert("users", userRow(data, 0));
      const ordersSql = unnestInsert("orders", consoleOrderRow(data, 0));
      for (let from = 0; from < data.users; from += POSTGRES_ROWS_PER_STATEMENT) {
        const rows = Array.from({ length: Math.min(POSTGRES_ROWS_PER_STATEMENT, data.users - from) }, (_, k) => userRow(data, from + k));
        await insertColumns(client, usersSql, rows);
      }
      for (let from = 0; from < data.orders; from += POSTGRES_ROWS_PER_STATEMENT) {
        const rows = Array.from({ length: Math.min(POSTGRES_ROWS_PER_STATEMENT, data.orders - from) }, (_, k) => consoleOrderRow(data, from + k));
        await insertColumns(client, ordersSql, rows);
        const written = from + rows.length;
        if (Math.floor(written / PROGRESS_EVERY) > Math.floor(from / PROGRESS_EVERY)) log(`console-orders: postgres: ${written} orders written`);
      }
      await client.query("vacuum analyze users");
      await client.query("vacuum analyze orders");
      await client.query("checkpoint");
      return { users: data.users, orders: data.orders, seconds: (performance.now() - started) / 1000 };
    },
    async count(filter) {
      const { where, params } = countWhere(filter);
      const { rows } = await client.query<{ n: string }>(numbered(`select count(*) as n from orders${where}`), params);
      return Number(rows[0]?.n ?? Number.NaN);
    },
    async statusCounts() {
      const counts = emptyStatusCounts();
      for (const row of (await client.query<{ status: OrderStatus; n: string }>(STATUS_COUNTS_SQL)).rows) counts[row.status] = Number(row.n);
      return counts;
    },
    async explain(sql, params) {
      const { rows } = await client.query<{ "QUERY PLAN": string }>(`explain (analyze, buffers) ${numbered(sql)}`, [...params]);
      return rows.map((row) => row["QUERY PLAN"]);
    },
    close: () => client.end(),
  };
}
