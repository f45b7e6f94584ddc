// The order timeline's activity rows and the metrics, through the real flow against the sandbox (v2 and v3, both
// databases): each notify (accepted, duplicate, refused; order_id only once verified), each query with its
// trigger (a client's GET, the sweep), each prepay and close, and the metric families after a paid and refunded order.
import { buildSignedPayNotify } from "@pay/core/testing";
import type { OrderPaymentResponse } from "@pay/core/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Selectable } from "kysely";
import type { OrderActivityTable } from "../../src/db/schema.js";
import { sweepOnce } from "../../src/services/sweeper.js";
import { ADMIN_TOKEN, MERCHANT, eventually, startApiHarness, type ApiHarness } from "../support/api-harness.js";
import { DATABASES } from "../support/databases.js";
import { payNotifyFields } from "../reliability/fixtures.js";
import { parsePrometheusText, sampleValue, type Sample } from "./prometheus-text.js";

type Activity = Selectable<OrderActivityTable>;

const PROTOCOLS = ["v2", "v3"] as const;
const CASES = DATABASES.flatMap((kind) => PROTOCOLS.map((protocol) => [kind, protocol] as const));

describe.each(CASES)("order activity and metrics on %s, %s", (kind, protocol) => {
  let h: ApiHarness;
  let token: string;
  // The API's clock runs ahead of real time when a test moves it (queries wait ORDER_QUERY_AFTER_SECONDS after creation).
  let ahead = 0;
  const notifyPath = protocol === "v2" ? "/wxpay/notify" : "/wxpay/v3/notify";
  const refundNotifyPath = protocol === "v2" ? "/wxpay/refund-notify" : "/wxpay/v3/refund-notify";

  beforeAll(async () => {
    // v3: the sandbox's notifies are kept from the API (lostNotifies), so the tests hand over the genuine bytes, twice.
    h = await startApiHarness(kind, {
      protocol,
      notifies: protocol === "v3" ? "lost" : "delivered",
      clock: () => Date.now() + ahead,
      env: { ORDER_QUERY_AFTER_SECONDS: "1", SWEEP_INTERVAL_SECONDS: "3600" },
    });
    token = await h.signIn(`activity-${kind}-${protocol}`);
  });
  afterAll(async () => {
    await h.close();
  });

  const activity = async (orderId: string | null, kinds?: readonly string[]): Promise<Activity[]> => {
    await h.services.activity.flush();
    let query = h.database.db.selectFrom("order_activity").selectAll().orderBy("id");
    query = orderId === null ? query.where("order_id", "is", null) : query.where("order_id", "=", orderId);
    const rows = await query.execute();
    return kinds === undefined ? rows : rows.filter((row) => kinds.includes(row.kind));
  };
  const metrics = async (): Promise<Sample[]> => parsePrometheusText(await h.services.metrics.text());
  const place = async (): Promise<OrderPaymentResponse> => {
    const placed = await h.request("POST", "/api/orders", { token, body: { items: [{ productId: "tote", quantity: 1 }] } });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    return placed.body as unknown as OrderPaymentResponse;
  };
  const statusOf = async (id: string): Promise<string> => (await h.database.db.selectFrom("orders").select("status").where("id", "=", id).executeTakeFirstOrThrow()).status;
  /** The first genuine notify the sandbox sent to `path` (v3: one order and one refund per harness), as raw bytes and the headers that sign them. */
  const lostNotify = async (path: string) => {
    const found = await eventually(() => Promise.resolve(h.lostNotifies.find((n) => n.path === path && n.body.length > 0)), 5000);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(found.headers)) if (name === "content-type" || name.startsWith("wechatpay-")) headers[name] = value;
    return { body: found.body.toString("utf8"), headers };
  };
  const post = (path: string, body: string, headers: Record<string, string>) => h.request("POST", path, { rawBody: body, headers });
  const v2Notify = (order: { id: string; totalFee: number }, overrides: Record<string, string | number> = {}, key: string = MERCHANT.key) =>
    buildSignedPayNotify(payNotifyFields(order, overrides), { key, signType: "HMAC-SHA256", omitSignType: true });

  it("a paid and refunded order: prepay, notifies accepted, duplicate and refused, the refund notify, and every metric family", async () => {
    const placed = await place();
    const order = placed.order;
    const before = await metrics();
    expect(await activity(order.id)).toMatchObject([{ kind: "prepay", outcome: "issued", detail: "create", protocol, reason: null }]);

    await h.pay(placed.payment);
    let genuine: { body: string; headers: Record<string, string> } | undefined;
    if (protocol === "v3") {
      genuine = await lostNotify(notifyPath);
      expect((await post(notifyPath, genuine.body, genuine.headers)).status).toBe(200);
    }
    await eventually(async () => (await statusOf(order.id)) === "paid");
    const { transaction_id: transactionId } = await h.database.db.selectFrom("orders").select("transaction_id").where("id", "=", order.id).executeTakeFirstOrThrow();

    // A duplicate of the notify that paid it, and a verified one with a wrong amount (refused, on the order's timeline).
    if (protocol === "v2") {
      const xml = { "content-type": "text/xml" };
      expect((await post(notifyPath, v2Notify(order, { transaction_id: transactionId ?? "" }), xml)).status).toBe(200);
      await post(notifyPath, v2Notify(order, { transaction_id: transactionId ?? "", total_fee: 1, cash_fee: 1 }), xml);
    } else if (genuine !== undefined) {
      expect((await post(notifyPath, genuine.body, genuine.headers)).status).toBe(200);
    }
    const notifies = await activity(order.id, ["pay_notify"]);
    expect(notifies[0]).toMatchObject({ kind: "pay_notify", protocol, outcome: "accepted", reason: null, order_id: order.id });
    expect(notifies[1]).toMatchObject({ kind: "pay_notify", protocol, outcome: "duplicate", reason: "DUPLICATE", order_id: order.id });
    if (protocol === "v2") expect(notifies[2]).toMatchObject({ outcome: "refused", reason: "AMOUNT_MISMATCH", order_id: order.id });
    expect(notifies).toHaveLength(protocol === "v2" ? 3 : 2);

    // A full refund: its notify lands on the order's timeline with the refund id.
    const refunded = await h.request("POST", `/api/admin/orders/${order.id}/refunds`, {
      body: { refundFee: order.totalFee, reason: "activity" },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "idempotency-key": `activity-${kind}-${protocol}` },
    });
    expect(refunded.status, JSON.stringify(refunded.body)).toBe(201);
    const refundId = (refunded.body.refund as { id: string }).id;
    if (protocol === "v3") {
      const refundNotify = await lostNotify(refundNotifyPath);
      expect((await post(refundNotifyPath, refundNotify.body, refundNotify.headers)).status).toBe(200);
    }
    await eventually(async () => (await statusOf(order.id)) === "refunded");
    expect(await activity(order.id, ["refund_notify"])).toMatchObject([
      { kind: "refund_notify", protocol, outcome: "accepted", reason: "REFUND_SUCCEEDED", order_id: order.id, refund_id: refundId },
    ]);

    const after = await metrics();
    const grew = (name: string, labels: Record<string, string>): number => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(grew("pay_notifies_total", { kind: "pay", protocol, outcome: "accepted", reason: "none" })).toBe(1);
    expect(grew("pay_notifies_total", { kind: "pay", protocol, outcome: "duplicate", reason: "DUPLICATE" })).toBe(1);
    if (protocol === "v2") expect(grew("pay_notifies_total", { kind: "pay", protocol, outcome: "refused", reason: "AMOUNT_MISMATCH" })).toBe(1);
    expect(grew("pay_notifies_total", { kind: "refund", protocol, outcome: "accepted", reason: "REFUND_SUCCEEDED" })).toBe(1);
    expect(grew("pay_order_transitions_total", { from: "pending", to: "paid" })).toBe(1);
    expect(grew("pay_order_transitions_total", { from: "paid", to: "refunded" })).toBe(1);
    expect(grew("pay_refunds_total", { status: "requested" })).toBe(1);
    expect(grew("pay_refunds_total", { status: "succeeded" })).toBe(1);
    expect(grew("pay_gateway_call_duration_seconds_count", { protocol, call: "refund", outcome: "ok" })).toBe(1);
    expect(sampleValue(after, "pay_gateway_call_duration_seconds_count", { protocol, call: "placeOrder", outcome: "ok" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, "pay_order_transitions_total", { from: "none", to: "pending" })).toBeGreaterThanOrEqual(1);
    // No order id is ever a label value.
    expect(after.some((sample) => Object.values(sample.labels).some((value) => value.includes(order.id)))).toBe(false);
    // The process metrics and the gauges read at scrape time are there.
    expect(after.some((sample) => sample.name === "process_cpu_user_seconds_total")).toBe(true);
    expect(sampleValue(after, "pay_webhook_pending_deliveries")).toBe(0);
    expect(sampleValue(after, "pay_reconciliation_differences", { class: "paid_not_recorded" })).toBe(0);
  });

  it("a notify that does not verify is refused with its code and no order id; the claim it makes is never trusted", async () => {
    const { order } = await place();
    const before = await activity(null, ["pay_notify"]);
    if (protocol === "v2") {
      await post(notifyPath, v2Notify(order, {}, "another-key-another-key-another-k"), { "content-type": "text/xml" });
    } else {
      await post(notifyPath, JSON.stringify({ id: "forged", resource: { ciphertext: order.id } }), {
        "content-type": "application/json",
        "wechatpay-serial": "PUB_KEY_ID_0000000000000000000000",
        "wechatpay-signature": "Zm9yZ2Vk",
        "wechatpay-timestamp": String(Math.floor(Date.now() / 1000)),
        "wechatpay-nonce": "forged-nonce",
      });
    }
    // A wrong content type is refused before anything is read.
    await post(notifyPath, "hello", { "content-type": "text/plain" });
    const refused = (await activity(null, ["pay_notify"])).slice(before.length);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ kind: "pay_notify", protocol, outcome: "refused", order_id: null });
    expect(refused[0]?.reason).toMatch(/^[A-Z_]+$/);
    expect(refused[1]).toMatchObject({ outcome: "refused", reason: "WRONG_CONTENT_TYPE", order_id: null });
    expect(await activity(order.id, ["pay_notify"])).toEqual([]);
    const samples = await metrics();
    expect(sampleValue(samples, "pay_notifies_total", { kind: "pay", protocol, outcome: "refused", reason: "WRONG_CONTENT_TYPE" })).toBe(1);
  });

  it("queries from a client's GET and from the sweep, and a client's close, each with its trigger", async () => {
    const { order } = await place();
    ahead += 5_000;
    expect((await h.request("GET", `/api/orders/${order.id}`, { token })).status).toBe(200);
    // The client's query claimed the order's turn: the sweep's comes once that is old enough too.
    ahead += 5_000;
    await sweepOnce(h.services);
    const closed = await h.request("POST", `/api/orders/${order.id}/close`, { token });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    const rows = await activity(order.id, ["order_query", "close"]);
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: "order_query", outcome: "pending", detail: "client", protocol }),
        expect.objectContaining({ kind: "order_query", outcome: "pending", detail: "sweep", protocol }),
      ]),
    );
    expect(rows.at(-1)).toMatchObject({ kind: "close", outcome: "closed", detail: "client", reason: null });
    const samples = await metrics();
    expect(sampleValue(samples, "pay_gateway_call_duration_seconds_count", { protocol, call: "queryOrder", outcome: "ok" })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(samples, "pay_gateway_call_duration_seconds_count", { protocol, call: "closeOrder", outcome: "ok" })).toBe(1);
    expect(sampleValue(samples, "pay_order_transitions_total", { from: "pending", to: "closed" })).toBe(1);
  });
});
