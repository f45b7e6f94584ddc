import type { NewOrderRow, NewRefundRow } from "../../src/db/schema.js";

/** The time the fixture rows are created at. */
export const FIXTURE_NOW = "2025-01-02T03:04:05.000Z";

/** A pending CNY order row of 68.00 for the database tests; override what a test is about. */
export function pendingOrderRow(id: string, userId: string, overrides: Partial<NewOrderRow> = {}): NewOrderRow {
  return {
    id,
    user_id: userId,
    status: "pending",
    total_fee: 6800,
    fee_type: "CNY",
    items: "[]",
    body: "Shop-Coffee beans",
    idempotency_key: null,
    request_hash: null,
    appid: "wx0000000000000001",
    mch_id: "1900000001",
    sub_appid: null,
    sub_mch_id: null,
    openid: "openid",
    sub_openid: null,
    sign_type: "MD5",
    spbill_create_ip: "127.0.0.1",
    notify_url: "https://example.com/notify",
    time_start: "20250102110405",
    time_expire: "20250102113405",
    prepay_id: null,
    prepay_expires_at: null,
    transaction_id: null,
    paid_at: null,
    closed_at: null,
    expires_at: "2025-01-02T03:34:05.000Z",
    last_queried_at: null,
    created_at: FIXTURE_NOW,
    updated_at: FIXTURE_NOW,
    protocol: "v2",
    ...overrides,
  };
}

/** A processing CNY refund row of 1.00 (its request key is its id); override what a test is about. */
export function processingRefundRow(id: string, orderId: string, overrides: Partial<NewRefundRow> = {}): NewRefundRow {
  return {
    id,
    order_id: orderId,
    request_key: id,
    refund_fee: 100,
    currency: "CNY",
    status: "processing",
    reason: null,
    submitted: 0,
    refund_id: null,
    last_error: null,
    last_queried_at: null,
    created_at: FIXTURE_NOW,
    updated_at: FIXTURE_NOW,
    succeeded_at: null,
    ...overrides,
  };
}
