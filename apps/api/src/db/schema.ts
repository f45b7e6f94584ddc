import type { Currency } from "@pay/core";
import type { PAY_SIGN_TYPES } from "@pay/core/contract";
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/**
 * The API's tables. Money columns are integers in minor units (BIGINT on PostgreSQL, read back as
 * numbers; INTEGER on SQLite). Times are ISO 8601 UTC text, which sorts correctly on both databases.
 */
export interface Database {
  users: UsersTable;
  products: ProductsTable;
  orders: OrdersTable;
  payment_events: PaymentEventsTable;
  refunds: RefundsTable;
}

export interface UsersTable {
  id: string;
  /** The Mini Program openid (sub_openid in institutional mode). Never leaves the server. */
  openid: string;
  created_at: string;
}

export interface ProductsTable {
  id: string;
  name: string;
  /** Unit price in minor units of `currency`. */
  price: number;
  currency: Currency;
  /** 1 when it can be ordered. */
  active: number;
  sort_order: number;
}

export type OrderStatusColumn = "pending" | "paid" | "closed" | "refunded";

/** The WeChat Pay API version an order was placed with; everything later about it goes through the same one. */
export type OrderProtocolColumn = "v2" | "v3";

/** The paySign algorithm of an order: MD5 or HMAC-SHA256 for v2 (the merchant's choice), RSA for v3. */
export type OrderSignTypeColumn = (typeof PAY_SIGN_TYPES)[number];

export interface OrdersTable {
  /** The out_trade_no. */
  id: string;
  user_id: string;
  status: OrderStatusColumn;
  total_fee: number;
  fee_type: Currency;
  /** Sum of refunds that succeeded. */
  refunded_fee: ColumnType<number, number | undefined, number>;
  /** Sum of refunds that succeeded or are still in flight: what can no longer be refunded. */
  reserved_refund_fee: ColumnType<number, number | undefined, number>;
  /** JSON array of OrderItem. */
  items: string;
  body: string;
  idempotency_key: string | null;
  /** Hash of the create-order request behind idempotency_key, to refuse a different body under the same key. */
  request_hash: string | null;
  // The unifiedorder request as first sent, so that re-entry repeats it exactly.
  appid: string;
  mch_id: string;
  sub_appid: string | null;
  sub_mch_id: string | null;
  openid: string | null;
  sub_openid: string | null;
  sign_type: OrderSignTypeColumn;
  spbill_create_ip: string;
  notify_url: string;
  time_start: string;
  time_expire: string;
  prepay_id: string | null;
  prepay_expires_at: string | null;
  transaction_id: string | null;
  paid_at: string | null;
  closed_at: string | null;
  /** When an unpaid order is closed (time_expire as an instant). */
  expires_at: string;
  /** Last time the gateway was asked about this order (orderquery), for throttling and the sweep's lease. */
  last_queried_at: string | null;
  created_at: string;
  updated_at: string;
  /** Set once when the order is placed (the database default, v2, is what orders from before the column were placed with). */
  protocol: ColumnType<OrderProtocolColumn, OrderProtocolColumn | undefined, never>;
}

export type PaymentSource = "notify" | "query";

/** One row per order that became paid: the unique order_id is what makes the transition happen once. */
export interface PaymentEventsTable {
  id: Generated<number>;
  order_id: string;
  source: PaymentSource;
  transaction_id: string;
  total_fee: number;
  fee_type: Currency;
  cash_fee: number | null;
  cash_fee_type: Currency | null;
  /** The verified fields as received (JSON), for reconciliation. */
  raw: string;
  created_at: string;
}

export type RefundStatusColumn = "processing" | "succeeded" | "closed" | "abnormal";

export interface RefundsTable {
  /** The out_refund_no. */
  id: string;
  order_id: string;
  /** The admin request's Idempotency-Key: a retried request finds this row and reuses out_refund_no. */
  request_key: string;
  refund_fee: number;
  currency: Currency;
  status: RefundStatusColumn;
  reason: string | null;
  /** 1 once the gateway accepted the refund request. */
  submitted: number;
  refund_id: string | null;
  last_error: string | null;
  last_queried_at: string | null;
  created_at: string;
  updated_at: string;
  succeeded_at: string | null;
}

export type UserRow = Selectable<UsersTable>;
export type ProductRow = Selectable<ProductsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
export type OrderUpdate = Updateable<OrdersTable>;
export type RefundRow = Selectable<RefundsTable>;
export type NewRefundRow = Insertable<RefundsTable>;
