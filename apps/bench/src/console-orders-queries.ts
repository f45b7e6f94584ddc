// What the console-orders benchmark asks GET /api/admin/orders, and how each answer is checked: the mix
// of filters (status + 7-day windows at places spread over the 90 days, their following pages by
// nextCursor, status only, dates only, no filter, and searches by order id, transaction id and openid),
// and the exact page the dataset's model says each request must answer.
import { AdminOrderListResponseSchema, CONTRACT_VERSION, CONTRACT_VERSION_HEADER, type AdminOrderListResponse, type OrderStatus } from "@pay/core/contract";
import { ADMIN_TOKEN } from "./data/merchant.js";
import {
  consoleOrderRow,
  datasetDay,
  hasTransaction,
  mix,
  openidOf,
  orderIdOf,
  transactionIdOf,
  type ConsoleDataset,
  type ConsoleModel,
  type OrdersFilter,
} from "./console-orders-data.js";
import { shuffled } from "./orders.js";

export const PAGE_LIMIT = 50;
/** The width of a window: from=day, to=day+6 (a week, both ends inclusive). */
export const WINDOW_DAYS = 7;

export const QUERY_KINDS = ["window", "next", "status", "dates", "latest", "searchOrder", "searchTransaction", "searchOpenid"] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

/** How each kind is named in the report. */
export const QUERY_KIND_LABELS: Record<QueryKind, string> = {
  window: "status + 7-day window, first page",
  next: "status + 7-day window, following page (nextCursor)",
  status: "status only, first page",
  dates: "7-day window only, first page",
  latest: "no filter, first page",
  searchOrder: "search: order id",
  searchTransaction: "search: transaction id",
  searchOpenid: "search: openid",
};

/** One filter asked for `pages` pages in a row: the first page, then each following one by the previous answer's nextCursor. */
export interface Probe {
  readonly kind: Exclude<QueryKind, "next">;
  readonly filter: OrdersFilter;
  readonly pages: number;
}

/** How many probes of each kind a plan holds (window probes ask 1 to 4 pages). */
export type PlanSizes = Readonly<Record<Exclude<QueryKind, "next">, number>>;

export const FULL_PLAN: PlanSizes = { window: 240, status: 160, dates: 160, latest: 80, searchOrder: 200, searchTransaction: 200, searchOpenid: 200 };
export const QUICK_PLAN: PlanSizes = { window: 40, status: 20, dates: 20, latest: 10, searchOrder: 25, searchTransaction: 25, searchOpenid: 25 };
export const WARMUP_PLAN: PlanSizes = { window: 30, status: 12, dates: 12, latest: 6, searchOrder: 15, searchTransaction: 15, searchOpenid: 15 };

/** Statuses of the window probes, in turn: mostly paid, as staff mostly look for payments. */
const WINDOW_STATUSES: readonly OrderStatus[] = ["paid", "paid", "paid", "closed", "refunded", "paid", "pending", "paid"];
const STATUSES: readonly OrderStatus[] = ["paid", "closed", "pending", "refunded"];

/** The first day of the k-th of n windows: spread over the whole range, and every fourth one the latest week (the view staff open most). */
export function windowStart(data: ConsoleDataset, k: number, n: number): number {
  const last = data.days - WINDOW_DAYS;
  if (k % 4 === 3) return last;
  return n <= 1 ? 0 : Math.round((k * last) / (n - 1));
}

/** A deterministic mix of probes, shuffled (with `seed`) so that no kind runs in one block. */
export function buildPlan(model: ConsoleModel, sizes: PlanSizes, seed: number): Probe[] {
  const data = model.data;
  const probes: Probe[] = [];
  const pick = (k: number, salt: number): number => mix(k, seed ^ salt) % data.orders;
  for (let k = 0; k < sizes.window; k++) {
    const fromDay = windowStart(data, k, sizes.window);
    probes.push({ kind: "window", filter: { status: WINDOW_STATUSES[k % WINDOW_STATUSES.length] as OrderStatus, fromDay, toDay: fromDay + WINDOW_DAYS - 1 }, pages: 1 + (k % 4) });
  }
  for (let k = 0; k < sizes.status; k++) probes.push({ kind: "status", filter: { status: STATUSES[k % STATUSES.length] as OrderStatus }, pages: 1 });
  for (let k = 0; k < sizes.dates; k++) {
    const fromDay = windowStart(data, k, sizes.dates);
    probes.push({ kind: "dates", filter: { fromDay, toDay: fromDay + WINDOW_DAYS - 1 }, pages: 1 });
  }
  for (let k = 0; k < sizes.latest; k++) probes.push({ kind: "latest", filter: {}, pages: 1 });
  for (let k = 0; k < sizes.searchOrder; k++) probes.push({ kind: "searchOrder", filter: { q: orderIdOf(data, pick(k, 0x0123)) }, pages: 1 });
  for (let k = 0; k < sizes.searchTransaction; k++) {
    let index = pick(k, 0x4567);
    while (!hasTransaction(model.status(index))) index = (index + 1) % data.orders;
    probes.push({ kind: "searchTransaction", filter: { q: transactionIdOf(data, index) }, pages: 1 });
  }
  for (let k = 0; k < sizes.searchOpenid; k++) probes.push({ kind: "searchOpenid", filter: { q: openidOf(mix(k, seed ^ 0x89ab) % data.users) }, pages: 1 });
  return shuffled(probes, seed);
}

/** The request's path and query, as the console sends it. */
export function requestPath(data: ConsoleDataset, filter: OrdersFilter, limit: number, cursor: string | undefined): string {
  const query = new URLSearchParams();
  if (filter.status !== undefined) query.set("status", filter.status);
  if (filter.fromDay !== undefined) query.set("from", datasetDay(data, filter.fromDay));
  if (filter.toDay !== undefined) query.set("to", datasetDay(data, filter.toDay));
  if (filter.q !== undefined) query.set("q", filter.q);
  query.set("limit", String(limit));
  if (cursor !== undefined) query.set("cursor", cursor);
  return `/api/admin/orders?${query.toString()}`;
}

/** What the bench sends: automation's ADMIN_TOKEN and the contract version. */
export function adminHeaders(): Record<string, string> {
  return { authorization: `Bearer ${ADMIN_TOKEN}`, [CONTRACT_VERSION_HEADER]: CONTRACT_VERSION };
}

/** An answer checked: the page (when it parsed) and every way it differs from the model's. */
export interface CheckedPage {
  readonly page: AdminOrderListResponse | undefined;
  readonly problems: string[];
}

function describeFilter(data: ConsoleDataset, filter: OrdersFilter, pageNumber: number): string {
  return `${requestPath(data, filter, PAGE_LIMIT, undefined).replace(/&limit=\d+$/, "")} page ${pageNumber + 1}`;
}

/**
 * Checks one answer against AdminOrderListResponseSchema and the model: exactly the orders the filter
 * gives on that page, newest first, their fields as seeded, and nextCursor set exactly when more follow.
 */
export function checkPage(model: ConsoleModel, filter: OrdersFilter, pageNumber: number, limit: number, body: unknown): CheckedPage {
  const data = model.data;
  const where = describeFilter(data, filter, pageNumber);
  const parsed = AdminOrderListResponseSchema.safeParse(body);
  if (!parsed.success) return { page: undefined, problems: [`${where}: not an AdminOrderListResponse: ${parsed.error.message.slice(0, 300)}`] };
  const page = parsed.data;
  const problems: string[] = [];
  const expected = model.page(filter, pageNumber * limit, limit);
  const expectedIds = expected.indexes.map((i) => orderIdOf(data, i));
  const ids = page.orders.map((o) => o.id);
  if (ids.join(",") !== expectedIds.join(",")) {
    const at = ids.findIndex((id, n) => id !== expectedIds[n]);
    const first = at < 0 ? Math.min(ids.length, expectedIds.length) : at;
    problems.push(
      `${where}: ${ids.length} orders, expected ${expectedIds.length}; first difference at ${first}: ${ids[first] ?? "none"} instead of ${expectedIds[first] ?? "none"}`,
    );
  }
  if ((page.nextCursor !== null) !== expected.more)
    problems.push(`${where}: nextCursor ${page.nextCursor === null ? "null" : "set"} but ${expected.more ? "more" : "no more"} orders follow`);
  for (const [n, order] of page.orders.entries()) {
    const index = expected.indexes[n];
    if (index === undefined || order.id !== expectedIds[n]) continue;
    const row = consoleOrderRow(data, index);
    const refundable = row.total_fee - (row.reserved_refund_fee ?? 0);
    const wrong = [
      order.status !== row.status && `status ${order.status} (seeded ${row.status})`,
      order.totalFee !== row.total_fee && `totalFee ${order.totalFee} (seeded ${row.total_fee})`,
      order.refundedFee !== row.refunded_fee && `refundedFee ${order.refundedFee} (seeded ${row.refunded_fee})`,
      Date.parse(order.createdAt) !== Date.parse(row.created_at) && `createdAt ${order.createdAt} (seeded ${row.created_at})`,
      order.transactionId !== row.transaction_id && `transactionId ${String(order.transactionId)} (seeded ${String(row.transaction_id)})`,
      order.openid !== row.openid && `openid ${String(order.openid)} (seeded ${String(row.openid)})`,
      order.userId !== row.user_id && `userId ${order.userId} (seeded ${row.user_id})`,
      order.protocol !== row.protocol && `protocol ${order.protocol} (seeded ${row.protocol})`,
      (order.refundableFee < 0 || order.refundableFee > refundable) && `refundableFee ${order.refundableFee} outside 0..${refundable}`,
    ].filter((w): w is string => typeof w === "string");
    if (wrong.length > 0) problems.push(`${where}: order ${order.id}: ${wrong.join(", ")}`);
  }
  return { page, problems };
}
