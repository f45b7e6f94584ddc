import { createHash } from "node:crypto";
import { formatCompactBeijingTime, type SignType } from "@pay/core";
import type { CreateOrderRequest, Order, OrderItem, OrderListQuery, OrderListResponse, OrderPaymentResponse } from "@pay/core/contract";
import { isoAt } from "../clock.js";
import { isUniqueViolation } from "../db/errors.js";
import { readOrder } from "../db/order-reads.js";
import { claimOrderQuery, findOrderByIdempotencyKey, insertOrder, listOrdersOfUser, markOrderClosed, markOrderQueried, setPrepay, type OrderCursor } from "../db/orders.js";
import { findOrderingInputs } from "../db/products.js";
import type { NewOrderRow, OrderRow, ProductRow } from "../db/schema.js";
import type { GatewayCallError, OrderState, PlaceOrderInput } from "../gateway/port.js";
import type { ServiceContext } from "./context.js";
import { orderEvent, type OutboxEvent } from "./events.js";
import { gatewayOf } from "./gateways.js";
import { newOrderId } from "./order-ids.js";
import { failed, succeeded, type Outcome } from "./outcomes.js";
import { applyPaidReport } from "./payments.js";
import { orderView } from "./views.js";

/**
 * Why the gateway was asked about an order, as its timeline shows it: the sweep, a client's GET, a renewal
 * of its payment (or a create that found it paid), a close that found it paid, a client's close, an order
 * found expired, reconciliation's repair.
 */
export type OrderCallTrigger = "sweep" | "client" | "create" | "renew" | "close" | "expired" | "reconciliation";

/**
 * A failed gateway call's short reason for the timeline: a refusal's code (business, protocol), else the kind
 * of failure (an unusable answer's "code" may be anything and is not repeated).
 */
export function failureReason(error: GatewayCallError): string {
  return error.kind === "business" || error.kind === "protocol" ? (error.code ?? error.kind) : error.kind;
}

/** The timeline's outcome of an order query answer. */
const QUERY_OUTCOME: Readonly<Record<OrderState["state"], string>> = { paid: "paid", pending: "pending", closed: "closed", "not-found": "not_found" };

/** Records an order query on the timeline (its answer, or its failure). */
export function recordOrderQuery(
  ctx: ServiceContext,
  order: Pick<OrderRow, "id" | "protocol">,
  answer: { ok: true; value: OrderState } | { ok: false; error: GatewayCallError },
  trigger: OrderCallTrigger,
): void {
  ctx.activity.record({
    kind: "order_query",
    orderId: order.id,
    protocol: order.protocol,
    outcome: answer.ok ? QUERY_OUTCOME[answer.value.state] : "failed",
    reason: answer.ok ? undefined : failureReason(answer.error),
    detail: trigger,
  });
}

/** We stop handing out a prepay id 10 minutes before the gateway forgets it. */
const PREPAY_SAFETY_MS = 10 * 60 * 1000;

/** The order of `id` if `userId` owns it; someone else's order is indistinguishable from none. */
export async function findOwnOrder(ctx: ServiceContext, userId: string, id: string): Promise<Outcome<OrderRow>> {
  // The batched loader (db/order-reads.ts): lookups of one turn share one statement, and on PostgreSQL one
  // round trip and one parse and plan instead of one per request. Ownership is checked here, with the same answer.
  const order = await ctx.loadOrder(id);
  return order === undefined || order.user_id !== userId ? failed({ kind: "not-found", message: `No order ${id}.` }) : succeeded(order);
}

function goodsDescription(items: readonly OrderItem[]): string {
  const first = items[0]?.name ?? "Order";
  const units = items.reduce((n, item) => n + item.quantity, 0);
  const text = units > 1 ? `${first} x${units}` : first;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The order as the gateway takes it, from what was stored with it, so that every (re-)entry sends exactly the same request. */
function placeOrderInput(order: OrderRow): PlaceOrderInput {
  return {
    orderId: order.id,
    description: order.body,
    amount: order.total_fee,
    currency: order.fee_type,
    // code2session's openid belongs to the Mini Program: the sub-merchant's in institutional mode.
    payer: order.sub_openid !== null ? { openid: order.sub_openid, scope: "sub-merchant" } : order.openid !== null ? { openid: order.openid, scope: "merchant" } : undefined,
    clientIp: order.spbill_create_ip,
    startsAt: Date.parse(order.created_at),
    expiresAt: Date.parse(order.expires_at),
    notifyUrl: order.notify_url,
  };
}

/** Prices the request from the server's catalogue (`products`: the active ones it names): the client never says what anything costs. */
function priceItems(ctx: ServiceContext, request: CreateOrderRequest, products: readonly ProductRow[]): Outcome<{ items: OrderItem[]; total: number }> {
  const seen = new Set<string>();
  for (const [n, { productId: id }] of request.items.entries()) {
    const field = `items.${n}.productId`;
    if (seen.has(id)) return failed({ kind: "invalid", field, message: `${field}: ${id} is listed twice; set its quantity instead.` });
    seen.add(id);
  }
  const byId = new Map(products.map((p) => [p.id, p]));
  const currency = ctx.config.merchant.feeType;
  let total = 0;
  const items: OrderItem[] = [];
  for (const [n, line] of request.items.entries()) {
    const field = `items.${n}.productId`;
    const product = byId.get(line.productId);
    if (product === undefined) return failed({ kind: "invalid", field, message: `${field}: no product ${line.productId}.` });
    if (product.currency !== currency) {
      return failed({ kind: "invalid", field, message: `${field}: ${line.productId} is priced in ${product.currency}, this merchant takes ${currency}.` });
    }
    total += product.price * line.quantity;
    items.push({ productId: product.id, name: product.name, quantity: line.quantity, unitPrice: product.price });
  }
  if (!Number.isSafeInteger(total) || total <= 0) return failed({ kind: "invalid", field: "items", message: "items: the order total is out of range." });
  return succeeded({ items, total });
}

/**
 * Creates an order and its wx.requestPayment params. The order is stored (pending) before WeChat Pay is
 * called, so a gateway failure leaves a payable order, and a retry with the same Idempotency-Key (or
 * POST /api/orders/:id/payment) re-enters the gateway with the same order id and fields.
 */
export async function createOrder(ctx: ServiceContext, userId: string, request: CreateOrderRequest, idempotencyKey: string | undefined): Promise<Outcome<OrderPaymentResponse>> {
  // Only a keyed request is ever matched by its hash.
  const requestHash = idempotencyKey === undefined ? "" : createHash("sha256").update(JSON.stringify(request.items)).digest("hex");
  if (idempotencyKey !== undefined) {
    const existing = await findByIdempotencyKey(ctx, userId, idempotencyKey, requestHash);
    if (!existing.ok) return existing;
    if (existing.value !== undefined) return ensurePayment(ctx, existing.value, "renew");
  }
  const inputs = await findOrderingInputs(
    ctx.db,
    userId,
    request.items.map((i) => i.productId),
  );
  if (inputs === undefined) return failed({ kind: "unknown-user", message: "The session's user no longer exists; sign in again." });
  const { openid } = inputs;
  const priced = priceItems(ctx, request, inputs.products);
  if (!priced.ok) return priced;
  const { items, total } = priced.value;
  const protocol = ctx.gateways.protocolForNewOrders;
  // While the gateway guard refuses calls (breaker open, every slot taken) nothing is stored: a flood during an
  // outage leaves no pile of pending orders, and the client is told when to try again.
  const refused = ctx.gateways.refusal(protocol);
  if (refused !== undefined) return failed({ kind: "gateway-failed", operation: "place-order", error: refused });
  const now = ctx.clock();
  const merchant = ctx.config.merchant;
  const institutional = merchant.subMchId !== undefined;
  const expiresAt = now + ctx.config.orderTtlMinutes * 60 * 1000;
  const row: NewOrderRow = {
    id: newOrderId(now),
    user_id: userId,
    status: "pending",
    total_fee: total,
    fee_type: merchant.feeType,
    items: JSON.stringify(items),
    body: goodsDescription(items),
    idempotency_key: idempotencyKey ?? null,
    request_hash: idempotencyKey === undefined ? null : requestHash,
    appid: merchant.appId,
    mch_id: merchant.mchId,
    sub_appid: merchant.subAppId ?? null,
    sub_mch_id: merchant.subMchId ?? null,
    // code2session's openid belongs to the Mini Program: sub_openid under sub_appid in institutional mode.
    openid: institutional ? null : openid,
    sub_openid: institutional ? openid : null,
    // v3 signs paySign with the merchant's RSA key; v2 with the sign type the merchant chose.
    sign_type: protocol === "v3" ? "RSA" : merchant.signType,
    spbill_create_ip: merchant.spbillCreateIp,
    notify_url: merchant.notifyUrl,
    time_start: formatCompactBeijingTime(now),
    time_expire: formatCompactBeijingTime(expiresAt),
    prepay_id: null,
    prepay_expires_at: null,
    transaction_id: null,
    paid_at: null,
    closed_at: null,
    expires_at: isoAt(expiresAt),
    last_queried_at: null,
    created_at: isoAt(now),
    updated_at: isoAt(now),
    protocol,
  };
  let stored: OrderRow;
  try {
    stored = await insertOrder(ctx.db, row);
  } catch (error) {
    // Two requests with one Idempotency-Key raced: the other one stored the order.
    if (idempotencyKey !== undefined && isUniqueViolation(error)) {
      const existing = await findByIdempotencyKey(ctx, userId, idempotencyKey, requestHash);
      if (!existing.ok) return existing;
      if (existing.value !== undefined) return ensurePayment(ctx, existing.value, "renew");
    }
    throw error;
  }
  ctx.logger.info({ orderId: stored.id, totalFee: total, feeType: stored.fee_type, protocol: stored.protocol }, "order created");
  ctx.metrics.orderTransition("none", "pending");
  return ensurePayment(ctx, stored, "create");
}

async function findByIdempotencyKey(ctx: ServiceContext, userId: string, key: string, requestHash: string): Promise<Outcome<OrderRow | undefined>> {
  const existing = await findOrderByIdempotencyKey(ctx.db, userId, key);
  if (existing !== undefined && existing.request_hash !== requestHash) {
    return failed({ kind: "idempotency-conflict", message: "This Idempotency-Key was used for a different order; use a new key for a new order." });
  }
  return succeeded(existing);
}

/** Fresh (or still valid) payment params for a pending order, re-entering the gateway when needed; `trigger` names the prepay on the timeline. */
export async function ensurePayment(ctx: ServiceContext, order: OrderRow, trigger: "create" | "renew" = "renew"): Promise<Outcome<OrderPaymentResponse>> {
  if (order.status !== "pending") return failed({ kind: "not-payable", message: `Order ${order.id} is ${order.status}; it cannot be paid.` });
  const gateway = gatewayOf(ctx, order);
  if (!gateway.ok) return gateway;
  const now = ctx.clock();
  if (now >= Date.parse(order.expires_at)) {
    const closed = await closeWithGateway(ctx, order, "expired");
    if (!closed.ok) return closed;
    return failed({ kind: "not-payable", message: `Order ${order.id} expired and is ${closed.value.status}; place a new order.` });
  }
  let current = order;
  const valid = current.prepay_id !== null && current.prepay_expires_at !== null && Date.parse(current.prepay_expires_at) - PREPAY_SAFETY_MS > now;
  if (!valid) {
    const refused = ctx.gateways.refusal(current.protocol);
    if (refused !== undefined) return failed({ kind: "gateway-failed", operation: "place-order", error: refused });
    const answer = await gateway.value.placeOrder(placeOrderInput(current));
    ctx.activity.record({
      kind: "prepay",
      orderId: current.id,
      protocol: current.protocol,
      outcome: answer.ok ? "issued" : "failed",
      reason: answer.ok ? undefined : failureReason(answer.error),
      detail: trigger,
    });
    if (!answer.ok) {
      const { error } = answer;
      if (error.reason === "ORDER_PAID") {
        const refreshed = await refreshPendingOrder(ctx, current, { force: true, trigger });
        return failed({ kind: "not-payable", message: `Order ${order.id} is already ${refreshed.status === "pending" ? "paid (confirming)" : refreshed.status}.` });
      }
      if (error.reason === "ORDER_CLOSED") {
        await closeLocally(ctx, current.id);
        return failed({ kind: "not-payable", message: `Order ${order.id} is closed; place a new order.` });
      }
      // Log lines keep their names: operators alert on them (docs/going-live.md).
      ctx.logger.warn({ orderId: order.id, kind: error.kind, errCode: error.code }, "unifiedorder failed");
      return failed({ kind: "gateway-failed", operation: "place-order", error });
    }
    const { prepayId, validForMs } = answer.value;
    // Re-entry may hand back the prepay id we already hold: keep its original expiry then.
    const expires = prepayId === current.prepay_id && current.prepay_expires_at !== null ? current.prepay_expires_at : isoAt(now + validForMs);
    current = await setPrepay(ctx.db, current, { prepayId, expiresAt: expires }, isoAt(now));
    if (Date.parse(expires) - PREPAY_SAFETY_MS <= now) return failed({ kind: "gateway-refused", message: "WeChat Pay returned a prepay_id that is about to expire; try again." });
  }
  const payment = gateway.value.paymentParams({ prepayId: current.prepay_id ?? "", now, signType: chosenSignType(current) });
  return succeeded({ order: orderView(current), payment });
}

/** The sign type a v2 order was placed with; a v3 order's paySign is RSA, which the merchant does not choose. */
function chosenSignType(order: OrderRow): SignType | undefined {
  return order.sign_type === "RSA" ? undefined : order.sign_type;
}

/** Payment params again for the owner's pending order (POST /api/orders/:id/payment). */
export async function renewPayment(ctx: ServiceContext, userId: string, id: string): Promise<Outcome<OrderPaymentResponse>> {
  const order = await findOwnOrder(ctx, userId, id);
  return order.ok ? ensurePayment(ctx, order.value, "renew") : order;
}

/**
 * Closes a pending order at the gateway first, locally second: a payment that slipped in meanwhile
 * (the gateway says it is paid) is confirmed by a query and wins.
 */
export async function closeWithGateway(ctx: ServiceContext, order: OrderRow, trigger: "sweep" | "client" | "expired"): Promise<Outcome<OrderRow>> {
  if (order.status !== "pending") return succeeded(order);
  const gateway = gatewayOf(ctx, order);
  if (!gateway.ok) return gateway;
  const refused = ctx.gateways.refusal(order.protocol);
  if (refused !== undefined) return failed({ kind: "gateway-failed", operation: "close-order", error: refused });
  const answer = await gateway.value.closeOrder(order.id);
  // Closed at the gateway, already closed there, or never there: closed. Anything else (paid meanwhile, a failure): failed with its reason.
  const closedThere = answer.ok || answer.error.reason === "ORDER_CLOSED" || answer.error.reason === "ORDER_NOT_FOUND";
  ctx.activity.record({
    kind: "close",
    orderId: order.id,
    protocol: order.protocol,
    outcome: closedThere ? "closed" : "failed",
    reason: answer.ok ? undefined : (answer.error.reason ?? failureReason(answer.error)),
    detail: trigger,
  });
  if (answer.ok) return succeeded(await closeLocally(ctx, order.id));
  const { error } = answer;
  if (error.reason === "ORDER_CLOSED" || error.reason === "ORDER_NOT_FOUND") return succeeded(await closeLocally(ctx, order.id));
  if (error.reason === "ORDER_PAID") return succeeded(await refreshPendingOrder(ctx, order, { force: true, trigger: "close" }));
  ctx.logger.warn({ orderId: order.id, kind: error.kind, errCode: error.code }, "closeorder failed");
  return failed({ kind: "gateway-failed", operation: "close-order", error });
}

/**
 * Closes a pending order here (WeChat Pay has closed it or never had it) with its order.closed event in
 * the same transaction; returns the order as it now stands (someone else may have moved it first).
 */
export async function closeLocally(ctx: ServiceContext, id: string): Promise<OrderRow> {
  const now = isoAt(ctx.clock());
  let event: OutboxEvent | undefined;
  const result = await markOrderClosed(ctx.db, id, now, (closed) => {
    event = orderEvent("order.closed", closed, now);
    return event.row;
  });
  if (result.closed && event !== undefined) {
    ctx.metrics.orderTransition("pending", "closed");
    ctx.events.published([event]);
  }
  return result.order;
}

/** Applies what the gateway knows about an order: a paid report with the same checks as a notify, closed closes. */
export async function applyOrderState(ctx: ServiceContext, order: OrderRow, known: OrderState): Promise<OrderRow> {
  switch (known.state) {
    case "paid": {
      const result = await applyPaidReport(ctx, order, known.report);
      if (result.outcome === "rejected") {
        ctx.logger.warn({ orderId: order.id, code: result.code, reason: result.message }, "orderquery answer does not match the order");
        return readOrder(ctx.db, order.id);
      }
      return result.order;
    }
    case "closed":
      return closeLocally(ctx, order.id);
    case "pending":
    case "not-found":
      return order;
  }
}

/**
 * Asks the gateway about a pending order and applies the answer; a client's `requestPayment:ok` is never
 * taken as proof. Throttled per order (ORDER_QUERY_AFTER_SECONDS) through a conditional update of
 * last_queried_at, which also keeps several API processes from querying the same order at once. A
 * failed query keeps the stored state.
 */
export async function refreshPendingOrder(ctx: ServiceContext, order: OrderRow, options: { force: boolean; trigger: OrderCallTrigger }): Promise<OrderRow> {
  if (order.status !== "pending") return order;
  const gateway = gatewayOf(ctx, order);
  if (!gateway.ok) {
    // Like a failed query: the stored state stands, and no query is claimed.
    ctx.logger.warn({ orderId: order.id, protocol: order.protocol }, "orderquery skipped: no gateway for the order's protocol; keeping the stored state");
    return order;
  }
  const now = ctx.clock();
  const threshold = isoAt(now - ctx.config.orderQueryAfterSeconds * 1000);
  if (!options.force && order.created_at > threshold) return order;
  // A query the gateway guard would refuse is not claimed either: the stored state stands, as after a failed query.
  if (ctx.gateways.refusal(order.protocol) !== undefined) return order;
  if (!options.force) {
    if (!(await claimOrderQuery(ctx.db, order.id, isoAt(now), threshold))) return readOrder(ctx.db, order.id);
  } else {
    await markOrderQueried(ctx.db, order.id, isoAt(now));
  }
  const answer = await gateway.value.queryOrder(order.id);
  recordOrderQuery(ctx, order, answer, options.trigger);
  if (answer.ok) return applyOrderState(ctx, order, answer.value);
  ctx.logger.warn({ orderId: order.id, kind: answer.error.kind, errCode: answer.error.code }, "orderquery failed; keeping the stored state");
  return readOrder(ctx.db, order.id);
}

/** The order for its owner, refreshed from the gateway when it is pending and no notify has come lately. */
export async function getOrder(ctx: ServiceContext, userId: string, id: string): Promise<Outcome<Order>> {
  const order = await findOwnOrder(ctx, userId, id);
  if (!order.ok) return order;
  return succeeded(orderView(await refreshPendingOrder(ctx, order.value, { force: false, trigger: "client" })));
}

/** POST /api/orders/:id/close for the owner: idempotent for a closed order; a paid one cannot be closed. */
export async function closeOwnOrder(ctx: ServiceContext, userId: string, id: string): Promise<Outcome<Order>> {
  const found = await findOwnOrder(ctx, userId, id);
  if (!found.ok) return found;
  const order = found.value;
  if (order.status === "closed") return succeeded(orderView(order));
  if (order.status !== "pending") return failed({ kind: "not-closable", message: `Order ${id} is ${order.status}; it cannot be closed.` });
  const result = await closeWithGateway(ctx, order, "client");
  if (!result.ok) return result;
  if (result.value.status !== "closed") return failed({ kind: "not-closable", message: `Order ${id} was paid meanwhile; it cannot be closed.` });
  return succeeded(orderView(result.value));
}

function encodeCursor(row: OrderRow): string {
  return Buffer.from(`${row.created_at}|${row.id}`).toString("base64url");
}

function decodeCursor(cursor: string): OrderCursor | undefined {
  const [createdAt, id, extra] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (createdAt === undefined || id === undefined || extra !== undefined || Number.isNaN(Date.parse(createdAt))) return undefined;
  return { createdAt, id };
}

/** The caller's orders, newest first, a page at a time (keyset pagination on created_at, id). */
export async function listOrders(ctx: ServiceContext, userId: string, query: OrderListQuery): Promise<Outcome<OrderListResponse>> {
  let cursor: OrderCursor | undefined;
  if (query.cursor !== undefined) {
    cursor = decodeCursor(query.cursor);
    if (cursor === undefined) return failed({ kind: "invalid", field: "cursor", message: "cursor: not a cursor this API returned." });
  }
  const rows = await listOrdersOfUser(ctx.db, userId, cursor, query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return succeeded({ orders: page.map(orderView), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last) : null });
}
