// Bulk seeding of the API's tables, straight into the database the API process uses (it created
// the schema at start): users come from real sign-ins, orders from here, in bulk.
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { MERCHANT } from "./merchant.js";
import { orderIdAt, totalFeeAt, transactionIdAt } from "./orders.js";

/** A signed-in user: the row the API made at sign-in and the session token it handed out. */
export interface SeedUser {
  readonly id: string;
  readonly openid: string;
}

/**
 * `pending`: waiting for a notify. `paid`: paid by an earlier notify (with its payment event).
 * `mixed`: the long tail of a shop's table, nine paid orders to one closed.
 */
export type SeedKind = "pending" | "paid" | "mixed";

/** Orders from..from+count-1 (see data/orders.ts), owned round-robin by `users`. */
export interface SeedRange {
  readonly from: number;
  readonly count: number;
  readonly kind: SeedKind;
  readonly users: readonly SeedUser[];
}

export interface SeedDatabase {
  /** The ids of the users with these openids, in the same order. */
  userIds(openids: readonly string[]): Promise<string[]>;
  insertOrders(range: SeedRange): Promise<void>;
  /** Puts orders from..from+count-1 back to pending and deletes the payment events notifies wrote for them. */
  resetPending(from: number, count: number): Promise<void>;
  /** Rows of payment_events written by notifies (the bench's seeding writes source `query`). */
  countNotifyEvents(): Promise<number>;
  /** Orders in the table. */
  countOrders(): Promise<number>;
  /** After bulk loading: statistics (PostgreSQL), WAL checkpoint (SQLite). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const ORDER_COLUMNS = [
  "id", "user_id", "status", "total_fee", "fee_type", "refunded_fee", "reserved_refund_fee", "items", "body",
  "idempotency_key", "request_hash", "appid", "mch_id", "sub_appid", "sub_mch_id", "openid", "sub_openid", "sign_type",
  "spbill_create_ip", "notify_url", "time_start", "time_expire", "prepay_id", "prepay_expires_at", "transaction_id",
  "paid_at", "closed_at", "expires_at", "last_queried_at", "created_at", "updated_at",
] as const;
const EVENT_COLUMNS = ["order_id", "source", "transaction_id", "total_fee", "fee_type", "cash_fee", "cash_fee_type", "raw", "created_at"] as const;

const NOTIFY_URL = "http://127.0.0.1:9/wxpay/notify";
// Ids are zero-padded, so a range of orders is a range of ids.
const RESET_EVENTS_SQL = "delete from payment_events where source = 'notify' and order_id between ? and ?";
const RESET_ORDERS_SQL = "update orders set status = 'pending', transaction_id = null, paid_at = null, updated_at = created_at where id between ? and ?";
/** Seeded history: order i was created i seconds after this instant. */
const HISTORY_START_MS = Date.parse("2024-01-01T00:00:00.000Z");
const MINUTE_MS = 60_000;
const ROWS_PER_STATEMENT = 100;
const ROWS_PER_TRANSACTION = 10_000;
const POSTGRES_ROWS_PER_STATEMENT = 50_000;

function statusAt(kind: SeedKind, index: number): "pending" | "paid" | "closed" {
  if (kind === "mixed") return index % 10 === 0 ? "closed" : "paid";
  return kind;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function itemsJson(total: number): string {
  return JSON.stringify([{ productId: "mug", name: "Ceramic mug", quantity: 1, unitPrice: total }]);
}

/** The payment_events.raw of a seeded paid order: the key fields of the notify that paid it. */
function rawEvent(index: number, total: number): string {
  return JSON.stringify({ out_trade_no: orderIdAt(index), transaction_id: transactionIdAt(index), total_fee: String(total), cash_fee: String(total), bank_type: "CMB_CREDIT", time_end: "20240101080000" });
}

function orderRow(index: number, kind: SeedKind, user: SeedUser, nowMs: number): unknown[] {
  const status = statusAt(kind, index);
  const total = totalFeeAt(index);
  const createdMs = status === "pending" ? nowMs : HISTORY_START_MS + index * 1000;
  const created = iso(createdMs);
  return [
    orderIdAt(index), user.id, status, total, "CNY", 0, 0, itemsJson(total), "Ceramic mug",
    null, null, MERCHANT.appId, MERCHANT.mchId, null, null, user.openid, null, MERCHANT.signType,
    "127.0.0.1", NOTIFY_URL, "20240101080000", "20240101083000", `wx${String(index).padStart(30, "0")}`, iso(createdMs + 120 * MINUTE_MS),
    status === "paid" ? transactionIdAt(index) : null,
    status === "paid" ? iso(createdMs + MINUTE_MS) : null,
    status === "closed" ? iso(createdMs + 30 * MINUTE_MS) : null,
    iso(createdMs + 30 * MINUTE_MS), null, created, status === "pending" ? created : iso(createdMs + MINUTE_MS),
  ];
}

function eventRow(index: number): unknown[] {
  const total = totalFeeAt(index);
  return [orderIdAt(index), "query", transactionIdAt(index), total, "CNY", total, "CNY", rawEvent(index, total), iso(HISTORY_START_MS + index * 1000 + MINUTE_MS)];
}

function requireUsers(range: SeedRange): void {
  if (range.users.length === 0) throw new Error("Seeding orders needs at least one user.");
}

function multiRowInsert(table: string, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => "?").join(", ")})`;
  return `insert into ${table} (${columns.join(", ")}) values ${Array.from({ length: rows }, () => row).join(", ")}`;
}

/** SQLite: prepared multi-row inserts of 100 rows, 10 000 rows per transaction. */
export function openSqliteSeed(path: string): SeedDatabase {
  const db = new BetterSqlite3(path);
  db.pragma("busy_timeout = 10000");
  // This connection only loads data; the API's own connection keeps its durability settings.
  db.pragma("synchronous = OFF");
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (table: string, columns: readonly string[], rows: number): BetterSqlite3.Statement => {
    const key = `${table}:${rows}`;
    let statement = statements.get(key);
    if (statement === undefined) {
      statement = db.prepare(multiRowInsert(table, columns, rows));
      statements.set(key, statement);
    }
    return statement;
  };
  const insertChunk = db.transaction((range: SeedRange, from: number, count: number, nowMs: number) => {
    for (let start = from; start < from + count; start += ROWS_PER_STATEMENT) {
      const rows = Math.min(ROWS_PER_STATEMENT, from + count - start);
      const orders: unknown[] = [];
      const events: unknown[] = [];
      let eventRows = 0;
      for (let index = start; index < start + rows; index++) {
        orders.push(...orderRow(index, range.kind, range.users[index % range.users.length] as SeedUser, nowMs));
        if (statusAt(range.kind, index) === "paid") {
          events.push(...eventRow(index));
          eventRows++;
        }
      }
      prepared("orders", ORDER_COLUMNS, rows).run(orders);
      if (eventRows > 0) prepared("payment_events", EVENT_COLUMNS, eventRows).run(events);
    }
  });
  return {
    userIds(openids) {
      const select = db.prepare<[string], { id: string }>("select id from users where openid = ?");
      return Promise.resolve(
        openids.map((openid) => {
          const row = select.get(openid);
          if (row === undefined) throw new Error(`No user with openid ${openid}.`);
          return row.id;
        }),
      );
    },
    insertOrders(range) {
      requireUsers(range);
      const nowMs = Date.now();
      for (let from = range.from; from < range.from + range.count; from += ROWS_PER_TRANSACTION) {
        insertChunk(range, from, Math.min(ROWS_PER_TRANSACTION, range.from + range.count - from), nowMs);
      }
      return Promise.resolve();
    },
    resetPending(from, count) {
      const ids = [orderIdAt(from), orderIdAt(from + count - 1)];
      db.transaction(() => {
        db.prepare(RESET_EVENTS_SQL).run(ids);
        db.prepare(RESET_ORDERS_SQL).run(ids);
      })();
      return Promise.resolve();
    },
    countNotifyEvents: () => Promise.resolve((db.prepare("select count(*) as n from payment_events where source = 'notify'").get() as { n: number }).n),
    countOrders: () => Promise.resolve((db.prepare("select count(*) as n from orders").get() as { n: number }).n),
    settle() {
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.exec("analyze");
      return Promise.resolve();
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}

// PostgreSQL: the same rows as orderRow/eventRow, generated server-side from generate_series.
const PG_ORDER_SELECT = `
  select
    'B' || lpad(i::text, 9, '0'),
    ($3::text[])[1 + i % cardinality($3::text[])],
    s.status,
    100 + i % 9900, 'CNY', 0, 0,
    '[{"productId":"mug","name":"Ceramic mug","quantity":1,"unitPrice":' || (100 + i % 9900) || '}]',
    'Ceramic mug', null, null, $5, $6, null, null,
    ($4::text[])[1 + i % cardinality($4::text[])],
    null, $7, '127.0.0.1', $8, '20240101080000', '20240101083000',
    'wx' || lpad(i::text, 30, '0'),
    to_char(t.created + interval '120 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    case when s.status = 'paid' then '42000' || lpad(i::text, 23, '0') end,
    case when s.status = 'paid' then to_char(t.created + interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end,
    case when s.status = 'closed' then to_char(t.created + interval '30 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end,
    to_char(t.created + interval '30 minutes', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    null,
    to_char(t.created, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    to_char(case when s.status = 'pending' then t.created else t.created + interval '1 minute' end, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  from generate_series($1::bigint, $2::bigint) as i,
    lateral (select case when $9 = 'mixed' then (case when i % 10 = 0 then 'closed' else 'paid' end) else $9 end as status) as s,
    lateral (select case when s.status = 'pending' then $10::timestamp else $11::timestamp + i * interval '1 second' end as created) as t`;

const PG_EVENT_SELECT = `
  select
    'B' || lpad(i::text, 9, '0'), 'query', '42000' || lpad(i::text, 23, '0'),
    100 + i % 9900, 'CNY', 100 + i % 9900, 'CNY',
    json_build_object('out_trade_no', 'B' || lpad(i::text, 9, '0'), 'transaction_id', '42000' || lpad(i::text, 23, '0'),
      'total_fee', (100 + i % 9900)::text, 'cash_fee', (100 + i % 9900)::text, 'bank_type', 'CMB_CREDIT', 'time_end', '20240101080000')::text,
    to_char($3::timestamp + i * interval '1 second' + interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  from generate_series($1::bigint, $2::bigint) as i
  where $4 = 'paid' or ($4 = 'mixed' and i % 10 <> 0)`;

/** PostgreSQL: INSERT ... SELECT over generate_series, 50 000 rows per statement (each its own transaction). */
export async function openPostgresSeed(url: string): Promise<SeedDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const count = async (sql: string): Promise<number> => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  return {
    async userIds(openids) {
      const { rows } = await client.query<{ id: string; openid: string }>("select id, openid from users where openid = any($1::text[])", [openids]);
      const byOpenid = new Map(rows.map((row) => [row.openid, row.id]));
      return openids.map((openid) => {
        const id = byOpenid.get(openid);
        if (id === undefined) throw new Error(`No user with openid ${openid}.`);
        return id;
      });
    },
    async insertOrders(range) {
      requireUsers(range);
      const now = new Date().toISOString().replace("Z", "");
      const history = iso(HISTORY_START_MS).replace("Z", "");
      const userIds = range.users.map((u) => u.id);
      const openids = range.users.map((u) => u.openid);
      for (let from = range.from; from < range.from + range.count; from += POSTGRES_ROWS_PER_STATEMENT) {
        const to = Math.min(from + POSTGRES_ROWS_PER_STATEMENT, range.from + range.count) - 1;
        await client.query(`insert into orders (${ORDER_COLUMNS.join(", ")}) ${PG_ORDER_SELECT}`, [
          from, to, userIds, openids, MERCHANT.appId, MERCHANT.mchId, MERCHANT.signType, NOTIFY_URL, range.kind, now, history,
        ]);
        if (range.kind !== "pending") {
          await client.query(`insert into payment_events (${EVENT_COLUMNS.join(", ")}) ${PG_EVENT_SELECT}`, [from, to, history, range.kind]);
        }
      }
    },
    async resetPending(from, count) {
      const ids = [orderIdAt(from), orderIdAt(from + count - 1)];
      const numbered = (sql: string): string => sql.replace("?", "$1").replace("?", "$2");
      await client.query("begin");
      try {
        await client.query(numbered(RESET_EVENTS_SQL), ids);
        await client.query(numbered(RESET_ORDERS_SQL), ids);
        await client.query("commit");
      } catch (error) {
        await client.query("rollback");
        throw error;
      }
    },
    countNotifyEvents: () => count("select count(*) as n from payment_events where source = 'notify'"),
    countOrders: () => count("select count(*) as n from orders"),
    async settle() {
      await client.query("vacuum analyze orders");
      await client.query("vacuum analyze payment_events");
    },
    close: () => client.end(),
  };
}
