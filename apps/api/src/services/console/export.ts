import { ORDER_EXPORT_COLUMNS, type AdminOrderExportQuery } from "@pay/core/contract";
import { listOrderRows, type OrderListFilter } from "../../db/console-reads.js";
import type { OrderRow } from "../../db/schema.js";
import type { ServiceContext } from "../context.js";
import { succeeded, type Outcome } from "../outcomes.js";
import { orderListFilter } from "./orders.js";

/** How many orders the export reads per query: the whole export is never in memory. */
export const EXPORT_PAGE_SIZE = 1000;

type ExportColumn = (typeof ORDER_EXPORT_COLUMNS)[number];

/** Each column's text for an order (amounts in minor units, beside `currency`). */
const CELLS: { readonly [C in ExportColumn]: (row: OrderRow) => string | number | null } = {
  id: (row) => row.id,
  status: (row) => row.status,
  total_fee: (row) => Number(row.total_fee),
  refunded_fee: (row) => Number(row.refunded_fee),
  currency: (row) => row.fee_type,
  transaction_id: (row) => row.transaction_id,
  openid: (row) => row.sub_openid ?? row.openid,
  protocol: (row) => row.protocol,
  created_at: (row) => row.created_at,
  paid_at: (row) => row.paid_at,
  closed_at: (row) => row.closed_at,
};

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote, CR or LF (quotes doubled). A text that
 * a spreadsheet would run as a formula (starting with = + - @, TAB or CR) gets a leading `'` first.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record, CRLF-terminated. */
function csvLine(cells: ReadonlyArray<string | number | null>): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/** The header, then one line per order, read a page at a time (the first page already read). */
async function* csvLines(services: ServiceContext, filter: OrderListFilter, first: OrderRow[]): AsyncGenerator<string> {
  yield csvLine(ORDER_EXPORT_COLUMNS);
  let page = first;
  for (;;) {
    yield page.map((row) => csvLine(ORDER_EXPORT_COLUMNS.map((column) => CELLS[column](row)))).join("");
    const last = page.at(-1);
    if (page.length < EXPORT_PAGE_SIZE || last === undefined) return;
    page = await listOrderRows(services.db, filter, { createdAt: last.created_at, id: last.id }, EXPORT_PAGE_SIZE);
  }
}

/**
 * The orders matching the list's filters as CSV, newest first, streamed in keyset pages. The first page
 * is read before answering, so a failing database is an error answer rather than a cut-off file.
 */
export async function exportAdminOrders(services: ServiceContext, query: AdminOrderExportQuery): Promise<Outcome<AsyncIterable<string>>> {
  const filter = orderListFilter(query);
  if (!filter.ok) return filter;
  const first = await listOrderRows(services.db, filter.value, undefined, EXPORT_PAGE_SIZE);
  return succeeded(csvLines(services, filter.value, first));
}
