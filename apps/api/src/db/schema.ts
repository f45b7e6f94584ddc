import type { Currency } from "@pay/core";
import type {
  PAY_SIGN_TYPES,
  ReconciliationClass,
  ReconciliationErrorCode,
  ReconciliationResolution,
  ReconciliationState,
  ReconciliationTrigger,
  StaffRole,
  WebhookEventType,
} from "@pay/core/contract";
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
  webhook_events: WebhookEventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  reconciliation_runs: ReconciliationRunsTable;
  reconciliation_items: ReconciliationItemsTable;
  reconciliation_bill_rows: ReconciliationBillRowsTable;
  staff_accounts: StaffAccountsTable;
  staff_sessions: StaffSessionsTable;
  staff_sign_in_failures: StaffSignInFailuresTable;
  audit_log: AuditLogTable;
  order_activity: OrderActivityTable;
  rate_limits: RateLimitsTable;
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

/**
 * The outbox: one row per committed change the shop's systems hear about, inserted in the transaction
 * of the change itself. `seq` orders the events of one order (they are written under the order's row lock).
 */
export interface WebhookEventsTable {
  seq: Generated<number>;
  /** evt_ + 24 characters; the id receivers dedupe by. */
  id: string;
  type: WebhookEventType;
  order_id: string;
  refund_id: string | null;
  /** The event exactly as delivered (the signed body): JSON of {id, type, createdAt, data}. */
  payload: string;
  created_at: string;
  /** 1 once a delivery was made for every endpoint subscribed to it. */
  fanned_out: ColumnType<number, number | undefined, number>;
}

export type WebhookEndpointSource = "api" | "env";

/** Where events are delivered. */
export interface WebhookEndpointsTable {
  /** we_ + 24 characters; `we_env` for the endpoint WEBHOOK_URL configures. */
  id: string;
  url: string;
  description: string | null;
  /** JSON array of the event types it receives. */
  event_types: string;
  /** The signing secret. Never logged, never answered except once at creation or rotation. */
  secret: string;
  /** The secret before the last rotation, still signing (a second v1) until previous_secret_expires_at. */
  previous_secret: string | null;
  previous_secret_expires_at: string | null;
  /** 1 when events are delivered to it. */
  enabled: number;
  /** Made by an admin call, or by WEBHOOK_URL (kept in step with the environment at start). */
  source: WebhookEndpointSource;
  created_at: string;
  updated_at: string;
}

export type WebhookDeliveryState = "pending" | "delivered" | "failed";

/** One event for one endpoint: its attempts, lease and outcome. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: string;
  event_id: string;
  /** The event's seq: a delivery waits for the earlier pending deliveries of the same order to the same endpoint. */
  event_seq: number;
  order_id: string;
  state: WebhookDeliveryState;
  attempts: ColumnType<number, number | undefined, number>;
  /** When it may be tried (again). */
  next_attempt_at: string;
  /** After a failed attempt at or past this time it is given up (failed): 3 days after it was made or replayed. */
  expires_at: string;
  /** The process holding it while a POST is in flight, and until when; an expired lease is anybody's. */
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_attempt_at: string | null;
  /** The HTTP status of the last answer, if there was one. */
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  created_at: string;
  updated_at: string;
}

/** One Beijing day's reconciliation: its lease while a run holds it, and the result of the last run that succeeded. */
export interface ReconciliationRunsTable {
  /** The day, YYYY-MM-DD (Beijing). */
  bill_date: string;
  state: ReconciliationState;
  trigger: ReconciliationTrigger;
  /** Runs of this day so far; a run's staging rows and final write carry its attempt, so a stale run changes nothing. */
  attempt: number;
  /** The process running it and until when; an expired lease is anybody's. */
  lease_owner: string | null;
  lease_expires_at: string | null;
  started_at: string;
  finished_at: string | null;
  /** Why the last run failed (null after a success). */
  error_code: ReconciliationErrorCode | null;
  error_message: string | null;
  /** When the scheduler may try a failed day again (BILL_NOT_READY, BILL_UNAVAILABLE); null: not by itself. */
  next_attempt_at: string | null;
  /** `file` or `none` (WeChat Pay has no bill: no trades) for the last run that succeeded. */
  bill: "file" | "none" | null;
  /** The protocol whose gateway downloaded the bill. */
  protocol: OrderProtocolColumn | null;
  /** JSON of ReconciliationTotals (contract) of the last run that succeeded. */
  totals: string | null;
  /** JSON of {class: count} of the last run that succeeded. */
  differences: string | null;
  /** When the last run that succeeded finished. */
  result_at: string | null;
  updated_at: string;
}

/** One difference found by the last successful run of a day (replaced as a whole by the next one). */
export interface ReconciliationItemsTable {
  id: Generated<number>;
  bill_date: string;
  class: ReconciliationClass;
  resolution: ReconciliationResolution;
  order_id: string | null;
  refund_id: string | null;
  transaction_id: string | null;
  bill_line: number | null;
  bill_amount: number | null;
  bill_currency: Currency | null;
  our_amount: number | null;
  our_currency: Currency | null;
  detail: string;
  created_at: string;
}

export type BillRowKind = "payment" | "refund" | "other";

/** A bill line while its run compares it (staging): deleted when the run ends. */
export interface ReconciliationBillRowsTable {
  bill_date: string;
  attempt: number;
  /** 1-based line in the bill file. */
  line: number;
  /** payment: 交易状态 SUCCESS; refund: 交易状态 REFUND; other: any other state (unexpected_row). */
  kind: BillRowKind;
  /** 商户订单号. */
  order_id: string;
  /** 商户退款单号 of a refund line. */
  refund_id: string | null;
  transaction_id: string | null;
  gateway_refund_id: string | null;
  /** Payment: 订单金额; refund: 申请退款金额 (退款金额 when absent); minor units of `currency`. */
  amount: number;
  currency: Currency;
  /** 手续费 at scale 5. */
  fee: number | null;
  /** 交易状态 (and for refunds 退款状态) as written, for the item's detail. */
  state: string;
}

export type UserRow = Selectable<UsersTable>;
export type ProductRow = Selectable<ProductsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type NewOrderRow = Insertable<OrdersTable>;
export type OrderUpdate = Updateable<OrdersTable>;
export type RefundRow = Selectable<RefundsTable>;
export type NewRefundRow = Insertable<RefundsTable>;
export type WebhookEventRow = Selectable<WebhookEventsTable>;
export type NewWebhookEventRow = Insertable<WebhookEventsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type NewWebhookEndpointRow = Insertable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A console user. Created and disabled with the staff CLI (src/staff-cli.ts); never deleted, so the audit log keeps its names. */
export interface StaffAccountsTable {
  id: string;
  username: string;
  /** scrypt: `scrypt$N$r$p$salt$hash` (base64url salt and hash). */
  password_hash: string;
  role: StaffRole;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A console session. `id` and `csrf_hash` are SHA-256 (hex) of the cookie's token and of the CSRF token: the table alone signs nobody in. */
export interface StaffSessionsTable {
  id: string;
  staff_id: string;
  csrf_hash: string;
  created_at: string;
  expires_at: string;
  last_seen_at: string;
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

/** Failed sign-ins per `user:<username>` and per `ip:<address>`, for slowing them down. */
export interface StaffSignInFailuresTable {
  key: string;
  failures: number;
  first_failed_at: string;
  last_failed_at: string;
  blocked_until: string | null;
}

/** One operator action (or sign-in): who, what, when, the idempotency key and how it ended. */
export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor_kind: "staff" | "token";
  actor_id: string | null;
  actor_name: string | null;
  /** The contract route's name. */
  action: string;
  target: string | null;
  idempotency_key: string | null;
  /** `ok` or the error code. */
  outcome: string;
  /** JSON object of scalars. */
  detail: string;
  ip: string | null;
}

export type OrderActivityKind = "pay_notify" | "refund_notify" | "order_query" | "refund_query" | "prepay" | "close";

/**
 * What happened to an order that no other table keeps, for its timeline: each notify received (accepted,
 * duplicate or refused, with the reason), each query's answer, each prepay issued, each close.
 */
export interface OrderActivityTable {
  id: Generated<number>;
  order_id: string | null;
  refund_id: string | null;
  at: string;
  kind: OrderActivityKind;
  protocol: "v2" | "v3" | null;
  outcome: string;
  reason: string | null;
  detail: string | null;
  /** How many notifies this row stands for: repeated duplicates of one order share a row (1 for any other row). */
  repeats: ColumnType<number, number | undefined, number>;
  /** When the last of `repeats` arrived; null for a row that stands for one. */
  last_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/**
 * One rate-limit key's state (issue 21, services/rate-limits.ts): `key` is `<limit>:<subject>` (`orders:<user id>`,
 * `sign-ins:<address>`), `tat` the theoretical arrival time of GCRA in ms since the epoch. A row whose tat has
 * passed allows the full burst again, exactly as a missing row does, so it may be deleted at any time.
 */
export interface RateLimitsTable {
  key: string;
  tat: number;
}
