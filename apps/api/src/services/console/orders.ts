import type { AdminOrder, AdminOrderDetailResponse, AdminOrderExportQuery, AdminOrderListQuery, AdminOrderListResponse } from "@pay/core/contract";
import { findOrderRow, listOrderRefunds, listOrderRows, type OrderListFilter, type OrderListPosition } from "../../db/console-reads.js";
import type { OrderRow } from "../../db/schema.js";
import type { ServiceContext } from "../context.js";
import { failed, succeeded, type Outcome } from "../outcomes.js";
import { dayBounds } from "../reconciliation/day.js";
import { orderView, refundView } from "../views.js";
import { orderTimeline } from "./timeline.js";

/** An order row as staff see it. */
export function adminOrderView(row: OrderRow): AdminOrder {
  return {
    ...orderView(row),
    userId: row.user_id,
    // In institutional mode the payer's openid under the sub-merchant's app is sub_openid.
    openid: row.sub_openid ?? row.openid,
    protocol: row.protocol,
    // reserved_refund_fee already holds what was refunded plus what is in flight (refunded_fee <= reserved_refund_fee).
    refundableFee: Math.max(0, row.total_fee - row.reserved_refund_fee),
    description: row.body,
    closedAt: row.closed_at,
  };
}

/** The list's filters in database terms: `from`/`to` are Beijing days, inclusive, over created_at. */
export function orderListFilter(query: AdminOrderExportQuery): Outcome<OrderListFilter> {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) return failed({ kind: "invalid", field: "to", message: "to: is before from" });
  return succeeded({
    status: query.status,
    createdFrom: query.from === undefined ? undefined : new Date(dayBounds(query.from).start).toISOString(),
    createdBefore: query.to === undefined ? undefined : new Date(dayBounds(query.to).end).toISOString(),
    q: query.q,
  });
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A page position as the opaque cursor clients hand back: base64url of JSON `[created_at, id]`. */
export function encodeCursor(position: OrderListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id])).toString("base64url");
}

/** The position a cursor names; undefined when it is not one this API made. */
export function decodeCursor(cursor: string): OrderListPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [createdAt, id] = value as unknown[];
  if (typeof createdAt !== "string" || !ISO_UTC.test(createdAt) || Number.isNaN(Date.parse(createdAt))) return undefined;
  if (typeof id !== "string" || !/^[0-9A-Za-z_\-|*]{1,32}$/.test(id)) return undefined;
  return { createdAt, id };
}

/** Every user's orders, newest first, one page at a time. */
export async function listAdminOrders(services: ServiceContext, query: AdminOrderListQuery): Promise<Outcome<AdminOrderListResponse>> {
  const filter = orderListFilter(query);
  if (!filter.ok) return filter;
  let after: OrderListPosition | undefined;
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor);
    if (after === undefined) return failed({ kind: "invalid", field: "cursor", message: "cursor: is not a cursor this list gave" });
  }
  // One row more than the page says whether there is a next page.
  const rows = await listOrderRows(services.db, filter.value, after, query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return succeeded({
    orders: page.map(adminOrderView),
    nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
  });
}

/** One order for staff: what was bought, its refunds and its timeline. */
export async function getAdminOrder(services: ServiceContext, id: string): Promise<Outcome<AdminOrderDetailResponse>> {
  const row = await findOrderRow(services.db, id);
  if (row === undefined) return failed({ kind: "not-found", message: `No order ${id}.` });
  const refunds = await listOrderRefunds(services.db, id);
  const order = adminOrderView(row);
  return succeeded({ order, items: order.items, refunds: refunds.map(refundView), timeline: await orderTimeline(services.db, row, refunds) });
}
