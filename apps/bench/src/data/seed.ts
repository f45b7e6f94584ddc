// Bulk seeding of the API's tables, straight into the database the API process uses (it created
// the schema at start): users come from real sign-ins, orders from here, in bulk. Rows and column
// lists are typed by the API's own schema (@pay/api/db), so a renamed column fails to compile here;
// the fast paths stay raw (multi-row inserts on SQLite, INSERT ... SELECT on PostgreSQL).
import type { Database, NewOrderRow, NewPaymentEventRow } from "@pay/api/db";
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
  /** The protocol the orders were placed with; default v2 (a v3 notify settles only a v3 order). */
  readonly protocol?: SeedProtocol;
}

/** The protocol a seeded order was placed with: v2 orders sign with the merchant's v2 sign type, v3 ones with RSA. */
export type SeedProtocol = "v2" | "v3";

export interface SeedDatabase {
  /** The ids of the users with these openids, in the same order. */
  userIds(openids: readonly string[]): Promise<string[]>;
  insertOrders(range: SeedRange): Promise<void>;
  /** Puts orders from..from+count-1 back to pending and deletes the payment events notifies wrote for them. */
  resetPending(from: number, count: number): Promise<void>;
  /** Rows of payment_events written by notifies (the bench's seeding writes source `query`). */
  countNotifyEvents(): Promise<number>;
  /** Of these order ids, those committed by a notify: the order paid and a payment event written by a notify (in the order asked). */
  committedByNotify(orderIds: readonly string[]): Promise<string[]>;
  /** Orders in the table. */
  countOrders(): Promise<number>;
  /** Rows of the webhook_events outbox (every committed change writes one; the bench's seeding writes none). */
  countWebhookEvents(): Promise<number>;
  /** The newest order.paid event of the outbox as stored (its payload is the body delivered), if any. */
  latestPaidEvent(): Promise<StoredWebhookEvent | undefined>;
  /** After bulk loading: statistics (PostgreSQL), WAL checkpoint (SQLite). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** An outbox row as the API wrote it. */
export interface StoredWebhookEvent {
  readonly id: string;
  readonly orderId: string;
  readonly payload: string;
}

/** An orders row with every column given: schema.ts of the API decides which columns there are and their types. */
type OrderInsert = Required<NewOrderRow>;
/** A payment_events row with every column given but the generated id. */
type EventInsert = Required<Omit<NewPaymentEventRow, "id">>;
type OrderStatus = OrderInsert["status"];

/** A column of one of the API's tables, checked against its schema. */
function column<Table extends keyof Database>(_table: Table, name: keyof Database[Table] & string): string {
  return name;
}

const ORDERS: keyof Database = "orders";
const EVENTS: keyof Database = "payment_events";
const USERS: keyof Database = "users";
const PENDING: OrderStatus = "pending";
/** The source of payment events written by notifies; the bench's seeding writes `query`. */
const NOTIFY_SOURCE: EventInsert["source"] = "notify";
const SEEDED_SOURCE: EventInsert["source"] = "query";

const NOTIFY_URL = "http://127.0.0.1:9/wxpay/notify";
const V3_NOTIFY_URL = "http://127.0.0.1:9/wxpay/v3/notify";
/** What the API stores as sign_type for an order placed with APIv3 (services/orders.ts). */
const V3_SIGN_TYPE: OrderInsert["sign_type"] = "RSA";
// Ids are zero-padded, so a range of orders is a range of ids. Parameters: the source or status, then the first and last id.
const RESET_EVENTS_SQL = `delete from ${EVENTS} where ${column("payment_events", "source")} = ? and ${column("payment_events", "order_id")} between ? and ?`;
const RESET_ORDERS_SQL =
  `update ${ORDERS} set ${column("orders", "status")} = ?, ${column("orders", "transaction_id")} = null, ${column("orders", "paid_at")} = null, ` +
  `${column("orders", "updated_at")} = ${column("orders", "created_at")} where ${column("orders", "id")} between ? and ?`;
const COUNT_NOTIFY_EVENTS_SQL = `select count(*) as n from ${EVENTS} where ${column("payment_events", "source")} = '${NOTIFY_SOURCE}'`;
const COUNT_ORDERS_SQL = `select count(*) as n from ${ORDERS}`;
const PAID: OrderStatus = "paid";
/** Committed by a notify: paid, with its notify's payment event. The id list is a parameter: SQLite's json_each(?), PostgreSQL's any($1). */
function committedByNotifySql(idsFrom: string): string {
  const id = column("orders", "id");
  return (
    `select ${id} as id from ${ORDERS} where ${id} in (${idsFrom}) and ${column("orders", "status")} = '${PAID}' ` +
    `and exists (select 1 from ${EVENTS} where ${column("payment_events", "order_id")} = ${ORDERS}.${id} and ${column("payment_events", "source")} = '${NOTIFY_SOURCE}')`
  );
}
/** Keeps the ids found, in the order asked. */
function inOrderAsked(asked: readonly string[], found: readonly { id: string }[]): string[] {
  const set = new Set(found.map((row) => row.id));
  return asked.filter((id) => set.has(id));
}
const WEBHOOK_EVENTS: keyof Database = "webhook_events";
const COUNT_WEBHOOK_EVENTS_SQL = `select count(*) as n from ${WEBHOOK_EVENTS}`;
const PAID_EVENT_TYPE: Database["webhook_events"]["type"] = "order.paid";
const LATEST_PAID_EVENT_SQL =
  `select ${column("webhook_events", "id")} as id, ${column("webhook_events", "order_id")} as "orderId", ${column("webhook_events", "payload")} as payload ` +
  `from ${WEBHOOK_EVENTS} where ${column("webhook_events", "type")} = '${PAID_EVENT_TYPE}' order by ${column("webhook_events", "seq")} desc limit 1`;
/** Seeded history: order i was created i seconds after this instant. */
const HISTORY_START_MS = Date.parse("2024-01-01T00:00:00.000Z");
const MINUTE_MS = 60_000;
const ROWS_PER_STATEMENT = 100;
const ROWS_PER_TRANSACTION = 10_000;
const POSTGRES_ROWS_PER_STATEMENT = 50_000;

function statusAt(kind: SeedKind, index: number): OrderStatus {
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
  return JSON.stringify({
    out_trade_no: orderIdAt(index),
    transaction_id: transactionIdAt(index),
    total_fee: String(total),
    cash_fee: String(total),
    bank_type: "CMB_CREDIT",
    time_end: "20240101080000",
  });
}

/** The i-th seeded order as the API would have written it. */
export function orderRow(index: number, kind: SeedKind, user: SeedUser, nowMs: number, protocol: SeedProtocol = "v2"): OrderInsert {
  const status = statusAt(kind, index);
  const total = totalFeeAt(index);
  const createdMs = status === "pending" ? nowMs : HISTORY_START_MS + index * 1000;
  const created = iso(createdMs);
  return {
    id: orderIdAt(index),
    user_id: user.id,
    status,
    total_fee: total,
    fee_type: "CNY",
    refunded_fee: 0,
    reserved_refund_fee: 0,
    items: itemsJson(total),
    body: "Ceramic mug",
    idempotency_key: null,
    request_hash: null,
    appid: MERCHANT.appId,
    mch_id: MERCHANT.mchId,
    sub_appid: null,
    sub_mch_id: null,
    openid: user.openid,
    sub_openid: null,
    sign_type: protocol === "v3" ? V3_SIGN_TYPE : MERCHANT.signType,
    spbill_create_ip: "127.0.0.1",
    notify_url: protocol === "v3" ? V3_NOTIFY_URL : NOTIFY_URL,
    time_start: "20240101080000",
    time_expire: "20240101083000",
    prepay_id: `wx${String(index).padStart(30, "0")}`,
    prepay_expires_at: iso(createdMs + 120 * MINUTE_MS),
    transaction_id: status === "paid" ? transactionIdAt(index) : null,
    paid_at: status === "paid" ? iso(createdMs + MINUTE_MS) : null,
    closed_at: status === "closed" ? iso(createdMs + 30 * MINUTE_MS) : null,
    expires_at: iso(createdMs + 30 * MINUTE_MS),
    last_queried_at: null,
    created_at: created,
    updated_at: status === "pending" ? created : iso(createdMs + MINUTE_MS),
    protocol,
  };
}

/** The payment event of the i-th seeded order when it is paid (as an orderquery would have recorded it). */
export function eventRow(index: number): EventInsert {
  const total = totalFeeAt(index);
  return {
    order_id: orderIdAt(index),
    source: SEEDED_SOURCE,
    transaction_id: transactionIdAt(index),
    total_fee: total,
    fee_type: "CNY",
    cash_fee: total,
    cash_fee_type: "CNY",
    raw: rawEvent(index, total),
    created_at: iso(HISTORY_START_MS + index * 1000 + MINUTE_MS),
  };
}

const SAMPLE_USER: SeedUser = { id: "", openid: "" };
/** The columns of a seeded orders row, in the order orderRow gives them. */
const ORDER_COLUMNS = Object.keys(orderRow(0, "pending", SAMPLE_USER, 0)) as ReadonlyArray<keyof OrderInsert>;
const EVENT_COLUMNS = Object.keys(eventRow(0)) as ReadonlyArray<keyof EventInsert>;

function requireUsers(range: SeedRange): void {
  if (range.users.length === 0) throw new Error("Seeding orders needs at least one user.");
}

function multiRowInsert(table: keyof Database, columns: readonly string[], rows: number): string {
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
  const prepared = (table: keyof Database, columns: readonly string[], rows: number): BetterSqlite3.Statement => {
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
        const order = orderRow(index, range.kind, range.users[index % range.users.length] as SeedUser, nowMs, range.protocol);
        // Values in the rows' own key order, which is the column order (ORDER_COLUMNS comes from the same builder).
        orders.push(...Object.values(order));
        if (order.status === "paid") {
          events.push(...Object.values(eventRow(index)));
          eventRows++;
        }
      }
      prepared(ORDERS, ORDER_COLUMNS, rows).run(orders);
      if (eventRows > 0) prepared(EVENTS, EVENT_COLUMNS, eventRows).run(events);
    }
  });
  return {
    userIds(openids) {
      const select = db.prepare<[string], { id: string }>(`select ${column("users", "id")} as id from ${USERS} where ${column("users", "openid")} = ?`);
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
        db.prepare(RESET_EVENTS_SQL).run(NOTIFY_SOURCE, ...ids);
        db.prepare(RESET_ORDERS_SQL).run(PENDING, ...ids);
      })();
      return Promise.resolve();
    },
    countNotifyEvents: () => Promise.resolve((db.prepare(COUNT_NOTIFY_EVENTS_SQL).get() as { n: number }).n),
    committedByNotify(orderIds) {
      const rows = db.prepare<[string], { id: string }>(committedByNotifySql("select value from json_each(?)")).all(JSON.stringify(orderIds));
      return Promise.resolve(inOrderAsked(orderIds, rows));
    },
    countOrders: () => Promise.resolve((db.prepare(COUNT_ORDERS_SQL).get() as { n: number }).n),
    countWebhookEvents: () => Promise.resolve((db.prepare(COUNT_WEBHOOK_EVENTS_SQL).get() as { n: number }).n),
    latestPaidEvent: () => Promise.resolve(db.prepare<[], StoredWebhookEvent>(LATEST_PAID_EVENT_SQL).get()),
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

// PostgreSQL: the same rows as orderRow/eventRow, generated server-side from generate_series, one SQL
// expression per column (the mapped types below make that every column of the API's tables, no more).
// Parameters: $1, $2 the first and last index; orders: $3 user ids, $4 openids, $5 appid, $6 mch_id,
// $7 sign_type, $8 notify_url, $9 the seed kind, $10 now, $11 the history's start, $12 the protocol; events: $3 the
// history's start, $4 the seed kind.
const PG_TIME = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const PG_TOTAL = "(100 + i % 9900)";
const PG_ORDER_ID = "'B' || lpad(i::text, 9, '0')";
const PG_TRANSACTION_ID = "'42000' || lpad(i::text, 23, '0')";
const PG_ORDER_EXPRESSIONS: { readonly [Column in keyof OrderInsert]: string } = {
  id: PG_ORDER_ID,
  user_id: "($3::text[])[1 + i % cardinality($3::text[])]",
  status: "s.status",
  total_fee: PG_TOTAL,
  fee_type: "'CNY'",
  refunded_fee: "0",
  reserved_refund_fee: "0",
  items: `'[{"productId":"mug","name":"Ceramic mug","quantity":1,"unitPrice":' || ${PG_TOTAL} || '}]'`,
  body: "'Ceramic mug'",
  idempotency_key: "null",
  request_hash: "null",
  appid: "$5",
  mch_id: "$6",
  sub_appid: "null",
  sub_mch_id: "null",
  openid: "($4::text[])[1 + i % cardinality($4::text[])]",
  sub_openid: "null",
  sign_type: "$7",
  spbill_create_ip: "'127.0.0.1'",
  notify_url: "$8",
  time_start: "'20240101080000'",
  time_expire: "'20240101083000'",
  prepay_id: "'wx' || lpad(i::text, 30, '0')",
  prepay_expires_at: `to_char(t.created + interval '120 minutes', ${PG_TIME})`,
  transaction_id: `case when s.status = 'paid' then ${PG_TRANSACTION_ID} end`,
  paid_at: `case when s.status = 'paid' then to_char(t.created + interval '1 minute', ${PG_TIME}) end`,
  closed_at: `case when s.status = 'closed' then to_char(t.created + interval '30 minutes', ${PG_TIME}) end`,
  expires_at: `to_char(t.created + interval '30 minutes', ${PG_TIME})`,
  last_queried_at: "null",
  created_at: `to_char(t.created, ${PG_TIME})`,
  updated_at: `to_char(case when s.status = 'pending' then t.created else t.created + interval '1 minute' end, ${PG_TIME})`,
  protocol: "$12",
};
const PG_EVENT_EXPRESSIONS: { readonly [Column in keyof EventInsert]: string } = {
  order_id: PG_ORDER_ID,
  source: `'${SEEDED_SOURCE}'`,
  transaction_id: PG_TRANSACTION_ID,
  total_fee: PG_TOTAL,
  fee_type: "'CNY'",
  cash_fee: PG_TOTAL,
  cash_fee_type: "'CNY'",
  raw:
    `json_build_object('out_trade_no', ${PG_ORDER_ID}, 'transaction_id', ${PG_TRANSACTION_ID}, ` +
    `'total_fee', ${PG_TOTAL}::text, 'cash_fee', ${PG_TOTAL}::text, 'bank_type', 'CMB_CREDIT', 'time_end', '20240101080000')::text`,
  created_at: `to_char($3::timestamp + i * interval '1 second' + interval '1 minute', ${PG_TIME})`,
};

/** `insert into <table> (<columns>) select <expressions>`, the column list and the select list from one record. */
function insertSelect(table: keyof Database, expressions: Readonly<Record<string, string>>, from: string): string {
  return `insert into ${table} (${Object.keys(expressions).join(", ")}) select ${Object.values(expressions).join(", ")} ${from}`;
}

const PG_ORDERS_INSERT = insertSelect(
  ORDERS,
  PG_ORDER_EXPRESSIONS,
  `from generate_series($1::bigint, $2::bigint) as i,
    lateral (select case when $9 = 'mixed' then (case when i % 10 = 0 then 'closed' else 'paid' end) else $9 end as status) as s,
    lateral (select case when s.status = 'pending' then $10::timestamp else $11::timestamp + i * interval '1 second' end as created) as t`,
);
const PG_EVENTS_INSERT = insertSelect(EVENTS, PG_EVENT_EXPRESSIONS, "from generate_series($1::bigint, $2::bigint) as i where $4 = 'paid' or ($4 = 'mixed' and i % 10 <> 0)");

/** PostgreSQL: INSERT ... SELECT over generate_series, 50 000 rows per statement (each its own transaction). */
export async function openPostgresSeed(url: string): Promise<SeedDatabase> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const count = async (sql: string): Promise<number> => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  return {
    async userIds(openids) {
      const { rows } = await client.query<{ id: string; openid: string }>(
        `select ${column("users", "id")} as id, ${column("users", "openid")} as openid from ${USERS} where ${column("users", "openid")} = any($1::text[])`,
        [openids],
      );
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
        const v3 = range.protocol === "v3";
        await client.query(PG_ORDERS_INSERT, [
          from,
          to,
          userIds,
          openids,
          MERCHANT.appId,
          MERCHANT.mchId,
          v3 ? V3_SIGN_TYPE : MERCHANT.signType,
          v3 ? V3_NOTIFY_URL : NOTIFY_URL,
          range.kind,
          now,
          history,
          range.protocol ?? "v2",
        ]);
        if (range.kind !== "pending") await client.query(PG_EVENTS_INSERT, [from, to, history, range.kind]);
      }
    },
    async resetPending(from, count) {
      const ids = [orderIdAt(from), orderIdAt(from + count - 1)];
      const numbered = (sql: string): string => sql.replace("?", "$1").replace("?", "$2").replace("?", "$3");
      await client.query("begin");
      try {
        await client.query(numbered(RESET_EVENTS_SQL), [NOTIFY_SOURCE, ...ids]);
        await client.query(numbered(RESET_ORDERS_SQL), [PENDING, ...ids]);
        await client.query("commit");
      } catch (error) {
        await client.query("rollback");
        throw error;
      }
    },
    countNotifyEvents: () => count(COUNT_NOTIFY_EVENTS_SQL),
    async committedByNotify(orderIds) {
      const { rows } = await client.query<{ id: string }>(committedByNotifySql("select unnest($1::text[])"), [orderIds]);
      return inOrderAsked(orderIds, rows);
    },
    countOrders: () => count(COUNT_ORDERS_SQL),
    countWebhookEvents: () => count(COUNT_WEBHOOK_EVENTS_SQL),
    async latestPaidEvent() {
      return (await client.query<StoredWebhookEvent>(LATEST_PAID_EVENT_SQL)).rows[0];
    },
    async settle() {
      await client.query(`vacuum analyze ${ORDERS}`);
      await client.query(`vacuum analyze ${EVENTS}`);
    },
    close: () => client.end(),
  };
}
