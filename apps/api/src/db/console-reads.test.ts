import { CompiledQuery } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASES, openTestDatabase, type TestDatabase } from "../../test/support/databases.js";
import { pendingOrderRow } from "../../test/support/rows.js";
import {
  listOrderRows,
  orderListQuery,
  paymentTotalsQuery,
  refundTotalsQuery,
  refusedNotifiesQuery,
  webhookBacklogQuery,
  type OrderListFilter,
  type OrderListPosition,
} from "./console-reads.js";
import type { NewOrderRow, OrderStatusColumn } from "./schema.js";

const STATUSES: readonly OrderStatusColumn[] = ["pending", "paid", "closed", "paid"];
const ROWS = 4000;
const DAY = 24 * 3600 * 1000;
const START = Date.UTC(2026, 0, 1);

/** Order n: pending, paid, closed, paid in turn (one in 20 refunded instead, the rare status a filter narrows most), created over 40 days, several orders per millisecond, 400 payers (half of them by sub_openid). */
function row(n: number): NewOrderRow {
  const status = n % 20 === 3 ? "refunded" : (STATUSES[n % 4] ?? "pending");
  const id = `CR${String(n).padStart(10, "0")}`;
  const at = new Date(START + Math.floor(n / 3) * Math.floor((40 * DAY) / ROWS) * 3).toISOString();
  const payer = `o-payer-${n % 400}`;
  return pendingOrderRow(id, "user-console", {
    status,
    created_at: at,
    updated_at: at,
    openid: n % 2 === 0 ? payer : null,
    sub_openid: n % 2 === 0 ? null : payer,
    transaction_id: status === "pending" || status === "closed" ? null : `4200${String(n).padStart(24, "0")}`,
    paid_at: status === "pending" || status === "closed" ? null : at,
  });
}

const FROM = new Date(START + 10 * DAY).toISOString();
const BEFORE = new Date(START + 12 * DAY).toISOString();
const CURSOR: OrderListPosition = { createdAt: new Date(START + 11 * DAY).toISOString(), id: "CR0000001100" };

/** The list's query shapes the console sends, and the index each must be answered by (SQLite's name first). */
const CASES: ReadonlyArray<{ name: string; filter: OrderListFilter; after?: OrderListPosition; index: RegExp }> = [
  { name: "status and dates", filter: { status: "refunded", createdFrom: FROM, createdBefore: BEFORE }, index: /orders_status_created_idx/ },
  { name: "dates only", filter: { createdFrom: FROM, createdBefore: BEFORE }, index: /orders_created_idx/ },
  { name: "status only", filter: { status: "refunded" }, index: /orders_status_created_idx/ },
  { name: "status and dates, a later page", filter: { status: "refunded", createdFrom: FROM, createdBefore: BEFORE }, after: CURSOR, index: /orders_status_created_idx/ },
  { name: "dates only, a later page", filter: { createdFrom: FROM, createdBefore: BEFORE }, after: CURSOR, index: /orders_created_idx/ },
  { name: "status only, a later page", filter: { status: "refunded" }, after: CURSOR, index: /orders_status_created_idx/ },
  { name: "no filter, a later page", filter: {}, after: CURSOR, index: /orders_created_idx/ },
];

/** The q kinds: one OR answered by each column's own index. */
const SEARCH_INDEXES = [
  /orders_openid_idx/,
  /orders_sub_openid_idx/,
  /orders_transaction_id_key|INDEX sqlite_autoindex_orders_\d \(transaction_id=\?\)/,
  /orders_pkey|INDEX sqlite_autoindex_orders_1 \(id=\?\)/,
];

describe.each(DATABASES)("console reads on %s", (dialect) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    await database.db
      .insertInto("users")
      .values({ id: "user-console", openid: "o-console", created_at: new Date(START).toISOString() })
      .execute();
    const rows = Array.from({ length: ROWS }, (_, n) => row(n));
    for (let from = 0; from < rows.length; from += 200)
      await database.db
        .insertInto("orders")
        .values(rows.slice(from, from + 200))
        .execute();
  }, 60_000);
  afterAll(async () => {
    await database.close();
  });

  async function plan(filter: OrderListFilter, after: OrderListPosition | undefined): Promise<string> {
    return planOf(orderListQuery(database.db, filter, after, 50).compile());
  }

  async function planOf(compiled: CompiledQuery): Promise<string> {
    if (dialect === "sqlite") {
      const rows = (await database.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]))).rows;
      return rows.map((r) => r.detail).join("\n");
    }
    const rows = (await database.db.executeQuery<{ "QUERY PLAN": string }>(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]))).rows;
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  }

  async function analyse(): Promise<void> {
    await database.db.executeQuery(CompiledQuery.raw(dialect === "sqlite" ? "analyze" : "analyze orders"));
  }

  it("answers each filter from its index, newest first with no sort and no scan of orders, before and after statistics", async () => {
    for (const analysed of [false, true]) {
      if (analysed) await analyse();
      for (const { name, filter, after, index } of CASES) {
        const text = await plan(filter, after);
        const label = `${name} (${analysed ? "analysed" : "fresh"}):\n${text}`;
        expect(text, label).toMatch(index);
        if (dialect === "sqlite") {
          expect(text, label).toMatch(/SEARCH orders USING (COVERING )?INDEX/);
          expect(text, label).not.toMatch(/SCAN orders|TEMP B-TREE/);
        } else {
          // PostgreSQL reads the index backwards (a Limit over it), or bitmap-scans it and sorts the few rows it expects.
          expect(text, label).toMatch(new RegExp(`(Index Scan Backward using|Bitmap Index Scan on) ${index.source}`));
          expect(text, label).not.toMatch(/Seq Scan/);
        }
      }
    }
  });

  it("finds a searched order id, transaction id, openid or sub_openid through each column's index (one OR of exact matches), never by a scan", async () => {
    for (const analysed of [false, true]) {
      if (analysed) await analyse();
      for (const filter of [{ q: "o-payer-7" }, { q: "CR0000000005", status: "paid" as const }, { q: "o-payer-8", createdFrom: FROM, createdBefore: BEFORE }]) {
        for (const after of [undefined, CURSOR]) {
          const text = await plan(filter, after);
          const label = `${JSON.stringify(filter)} after ${JSON.stringify(after)} (${analysed ? "analysed" : "fresh"}):\n${text}`;
          // A search alone ORs the four lookups; with a status or dates as well the planner may start from those instead.
          if (Object.keys(filter).length === 1) for (const index of SEARCH_INDEXES) expect(text, label).toMatch(index);
          expect(text, label).toMatch(dialect === "sqlite" ? /SEARCH orders USING/ : /Index Scan/);
          expect(text, label).not.toMatch(dialect === "sqlite" ? /SCAN orders/ : /Seq Scan/);
        }
      }
    }
  });

  it("reads the overview's figures through their indexes: paid_at, succeeded_at, (kind, outcome, at), (state, next_attempt_at)", async () => {
    const [start, end] = [FROM, BEFORE];
    for (const analysed of [false, true]) {
      if (analysed) await database.db.executeQuery(CompiledQuery.raw("analyze"));
      for (const [query, table, index] of [
        [paymentTotalsQuery(database.db, start, end).compile(), "orders", "orders_paid_at_idx"],
        [refundTotalsQuery(database.db, start, end).compile(), "refunds", "refunds_succeeded_at_idx"],
        [refusedNotifiesQuery(database.db, start, end).compile(), "order_activity", "order_activity_kind_at_idx"],
        [webhookBacklogQuery(database.db).compile(), "webhook_deliveries", "webhook_deliveries_due_idx"],
      ] as const) {
        // refunds, order_activity and webhook_deliveries are empty here: PostgreSQL would rightly read an empty table whole, so it is told not to (SET LOCAL).
        const text =
          dialect === "sqlite"
            ? await planOf(query)
            : await database.db.transaction().execute(async (trx) => {
                await trx.executeQuery(CompiledQuery.raw("set local enable_seqscan = off"));
                const rows = (await trx.executeQuery<{ "QUERY PLAN": string }>(CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]))).rows;
                return rows.map((r) => r["QUERY PLAN"]).join("\n");
              });
        expect(text, text).toMatch(new RegExp(index));
        expect(text, text).not.toMatch(dialect === "sqlite" ? new RegExp(`SCAN ${table}\\b`) : new RegExp(`Seq Scan on ${table}`));
      }
    }
  });

  it("finds each kind of search term, and pages through equal created_at without gaps or repeats", async () => {
    expect((await listOrderRows(database.db, { q: "CR0000000005" }, undefined, 50)).map((r) => r.id)).toEqual(["CR0000000005"]);
    expect((await listOrderRows(database.db, { q: `4200${"5".padStart(24, "0")}` }, undefined, 50)).map((r) => r.id)).toEqual(["CR0000000005"]);
    const byOpenid = await listOrderRows(database.db, { q: "o-payer-8" }, undefined, 50);
    expect(byOpenid.map((r) => r.id)).toEqual(Array.from({ length: 10 }, (_, k) => `CR${String(3608 - k * 400).padStart(10, "0")}`));
    const bySubOpenid = await listOrderRows(database.db, { q: "o-payer-9" }, undefined, 50);
    expect(bySubOpenid).toHaveLength(10);
    expect(bySubOpenid.every((r) => r.sub_openid === "o-payer-9")).toBe(true);

    // Pages of 7 over a range where three orders share each created_at.
    const filter: OrderListFilter = { createdFrom: FROM, createdBefore: BEFORE };
    const seen: string[] = [];
    let after: OrderListPosition | undefined;
    for (;;) {
      const page = await listOrderRows(database.db, filter, after, 7);
      seen.push(...page.map((r) => r.id));
      const last = page.at(-1);
      if (page.length < 7 || last === undefined) break;
      after = { createdAt: last.created_at, id: last.id };
    }
    const all = await database.db
      .selectFrom("orders")
      .select("id")
      .where("created_at", ">=", FROM)
      .where("created_at", "<", BEFORE)
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    expect(all.length).toBeGreaterThan(100);
    expect(seen).toEqual(all.map((r) => r.id));
  });
});
