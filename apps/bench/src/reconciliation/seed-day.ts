// The reconciliation benchmark's database: a fresh SQLite file migrated by the API's own migrations, then
// the day's users, paid orders, their payment events (with the notify's time_end, which the engine reads)
// and refunds written in ONE transaction with prepared multi-row inserts. Rows are typed by the API's
// schema (@pay/api/db), so a renamed column fails to compile here.
import { migrateToLatest, openDatabase, type Database, type NewOrderRow, type NewPaymentEventRow, type NewRefundRow, type NewUserRow } from "@pay/api/db";
import { formatCompactBeijingTime } from "@pay/core";
import BetterSqlite3 from "better-sqlite3";
import {
  hasRefund,
  paidAtSeconds,
  reconAmount,
  reconGatewayRefundId,
  reconOrderId,
  reconRefundAmount,
  reconRefundId,
  reconTransactionId,
  refundedAtSeconds,
  type ReconDay,
} from "./day.js";

type OrderInsert = Required<NewOrderRow>;
type EventInsert = Required<Omit<NewPaymentEventRow, "id">>;
type RefundInsert = Required<NewRefundRow>;
type UserInsert = Required<NewUserRow>;

/** Who placed the orders: the merchant's ids and sign type as the API would have stored them. */
export interface SeedMerchant {
  readonly appId: string;
  readonly mchId: string;
  readonly signType: OrderInsert["sign_type"];
}

export interface SeededDay {
  readonly users: number;
  readonly orders: number;
  readonly paymentEvents: number;
  readonly refunds: number;
  readonly seconds: number;
}

const USERS = 16;
const ORDERS_PER_STATEMENT = 100;
const EVENTS_PER_STATEMENT = 300;
const REFUNDS_PER_STATEMENT = 200;
const NOTIFY_URL = "http://127.0.0.1:9/wxpay/notify";

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

export function seedUser(n: number): UserInsert {
  return { id: `u-recon-${n}`, openid: `o-recon-${n}`, created_at: "2024-01-01T00:00:00.000Z" };
}

/** The day's openids in user order: order i belongs to user i % USERS. */
export function seedOpenids(): string[] {
  return Array.from({ length: USERS }, (_, n) => seedUser(n).openid);
}

/** The i-th order, paid in the day (refunded in part when it has a refund), as the API would have written it. */
export function dayOrderRow(day: ReconDay, index: number, merchant: SeedMerchant): OrderInsert {
  const total = reconAmount(index);
  const paidAt = paidAtSeconds(day, index);
  const createdAt = paidAt - 60;
  const refunded = hasRefund(index) ? reconRefundAmount(index) : 0;
  const user = seedUser(index % USERS);
  return {
    id: reconOrderId(index),
    user_id: user.id,
    status: "paid",
    total_fee: total,
    fee_type: "CNY",
    refunded_fee: refunded,
    reserved_refund_fee: refunded,
    items: `[{"productId":"mug","name":"Ceramic mug","quantity":1,"unitPrice":${total}}]`,
    body: "Ceramic mug",
    idempotency_key: null,
    request_hash: null,
    appid: merchant.appId,
    mch_id: merchant.mchId,
    sub_appid: null,
    sub_mch_id: null,
    openid: user.openid,
    sub_openid: null,
    sign_type: merchant.signType,
    spbill_create_ip: "127.0.0.1",
    notify_url: NOTIFY_URL,
    time_start: formatCompactBeijingTime(createdAt * 1000),
    time_expire: formatCompactBeijingTime((createdAt + 1800) * 1000),
    prepay_id: `wx${String(index).padStart(30, "0")}`,
    prepay_expires_at: iso(createdAt + 7200),
    transaction_id: reconTransactionId(index),
    paid_at: iso(paidAt),
    closed_at: null,
    expires_at: iso(createdAt + 1800),
    last_queried_at: null,
    created_at: iso(createdAt),
    updated_at: iso(hasRefund(index) ? refundedAtSeconds(day, index) : paidAt),
    protocol: "v2",
  };
}

/** The pay notify that paid the i-th order, as the API records it (raw: the verified fields, time_end in Beijing time). */
export function dayEventRow(day: ReconDay, index: number): EventInsert {
  const total = reconAmount(index);
  const paidAt = paidAtSeconds(day, index);
  return {
    order_id: reconOrderId(index),
    source: "notify",
    transaction_id: reconTransactionId(index),
    total_fee: total,
    fee_type: "CNY",
    cash_fee: total,
    cash_fee_type: "CNY",
    raw: JSON.stringify({
      out_trade_no: reconOrderId(index),
      transaction_id: reconTransactionId(index),
      total_fee: String(total),
      cash_fee: String(total),
      fee_type: "CNY",
      bank_type: "OTHERS",
      time_end: formatCompactBeijingTime(paidAt * 1000),
    }),
    created_at: iso(paidAt),
  };
}

/** The i-th order's refund, succeeded in the day. */
export function dayRefundRow(day: ReconDay, index: number): RefundInsert {
  const at = refundedAtSeconds(day, index);
  return {
    id: reconRefundId(index),
    order_id: reconOrderId(index),
    request_key: `recon-refund-${index}`,
    refund_fee: reconRefundAmount(index),
    currency: "CNY",
    status: "succeeded",
    reason: null,
    submitted: 1,
    refund_id: reconGatewayRefundId(index),
    last_error: null,
    last_queried_at: iso(at),
    created_at: iso(at - 5),
    updated_at: iso(at),
    succeeded_at: iso(at),
  };
}

function multiRowInsert(table: keyof Database, columns: readonly string[], rows: number): string {
  const row = `(${columns.map(() => "?").join(", ")})`;
  return `insert into ${table} (${columns.join(", ")}) values ${Array.from({ length: rows }, () => row).join(", ")}`;
}

/** Buffers rows of one table and inserts them `perStatement` at a time through one prepared statement (a shorter one for the rest). */
export function createBatcher<Row extends object>(
  db: BetterSqlite3.Database,
  table: keyof Database,
  sample: Row,
  perStatement: number,
): { add(row: Row): void; flush(): void; count(): number } {
  const columns = Object.keys(sample);
  const full = db.prepare(multiRowInsert(table, columns, perStatement));
  let values: unknown[] = [];
  let rows = 0;
  let total = 0;
  const flush = (): void => {
    if (rows === 0) return;
    (rows === perStatement ? full : db.prepare(multiRowInsert(table, columns, rows))).run(values);
    total += rows;
    values = [];
    rows = 0;
  };
  return {
    add(row) {
      // Values in the row's own key order, which is the sample's (one builder makes both).
      for (const value of Object.values(row)) values.push(value);
      rows++;
      if (rows === perStatement) flush();
    },
    flush,
    count: () => total + rows,
  };
}

/**
 * Creates and migrates the database at `path` (it must not exist yet) and writes the day into it in one
 * transaction, then checkpoints the WAL and analyzes, as after any bulk load.
 */
export async function seedReconciliationDay(path: string, day: ReconDay, merchant: SeedMerchant): Promise<SeededDay> {
  const started = performance.now();
  const api = await openDatabase(path);
  try {
    await migrateToLatest(api.db);
  } finally {
    await api.close();
  }
  const db = new BetterSqlite3(path);
  try {
    db.pragma("busy_timeout = 10000");
    db.pragma("foreign_keys = ON");
    // This connection only loads data; the API's own connection keeps its durability settings.
    db.pragma("synchronous = OFF");
    db.pragma("cache_size = -262144");
    const users = createBatcher(db, "users", seedUser(0), USERS);
    const orders = createBatcher(db, "orders", dayOrderRow(day, 0, merchant), ORDERS_PER_STATEMENT);
    const events = createBatcher(db, "payment_events", dayEventRow(day, 0), EVENTS_PER_STATEMENT);
    const refunds = createBatcher(db, "refunds", dayRefundRow(day, hasRefund(0) ? 0 : 25), REFUNDS_PER_STATEMENT);
    db.transaction(() => {
      // Checked at commit: an event's or refund's batch may go in before the batch holding its order.
      db.pragma("defer_foreign_keys = ON");
      for (let n = 0; n < USERS; n++) users.add(seedUser(n));
      users.flush();
      for (let i = 0; i < day.orders; i++) {
        orders.add(dayOrderRow(day, i, merchant));
        events.add(dayEventRow(day, i));
        if (hasRefund(i)) refunds.add(dayRefundRow(day, i));
      }
      orders.flush();
      events.flush();
      refunds.flush();
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.exec("analyze");
    return { users: users.count(), orders: orders.count(), paymentEvents: events.count(), refunds: refunds.count(), seconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}
