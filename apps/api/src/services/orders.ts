import { createHash } from "node:crypto";
import { formatCompactBeijingTime } from "@pay/core";
import type { CreateOrderRequest, OrderItem, OrderListQuery, OrderListResponse, OrderPaymentResponse } from "@pay/core/contract";
import { isoAt } from "../clock.js";
import { isUniqueViolation } from "../db/errors.js";
import { findOrderOfUser, readOrder } from "../db/order-reads.js";
import type { OrderRow } from "../db/schema.js";
import { ApiError, gatewayFailure } from "../errors.js";
import type { OrderState, PlaceOrderInput } from "../gateway/port.js";
import type { ServiceContext } from "./context.js";
import { newOutTradeNo } from "./order-ids.js";
import { applyPaidReport } from "./payments.js";
import { orderView } from "./views.js";

/** We stop handing out a prepay id 10 minutes before the gateway forgets it. */
const PREPAY_SAFETY_MS = 10 * 60 * 1000;

/** The order of `id` if `userId` owns it; someone else's order is indistinguishable from none (404). */
export async function findOwnOrder(ctx: ServiceContext, userId: string, id: string): Promise<OrderRow> {
  const order = await findOrderOfUser(ctx.db, id, userId);
  if (order === undefined) throw new ApiError("NOT_FOUND", `No order ${id}.`);
  return order;
}

async function reload(ctx: ServiceContext, id: string): Promise<OrderRow> {
  return readOrder(ctx.db, id);
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
    currency: order.fee_type as PlaceOrderInput["currency"],
    // code2session's openid belongs to the Mini Program: the sub-merchant's in institutional mode.
    payer: order.sub_openid !== null ? { openid: order.sub_openid, scope: "sub-merchant" } : order.openid !== null ? { openid: order.openid, scope: "merchant" } : undefined,
    clientIp: order.spbill_create_ip,
    startsAt: Date.parse(order.created_at),
    expiresAt: Date.parse(order.expires_at),
    notifyUrl: order.notify_url,
  };
}

/** Prices the request from the server's catalogue: the client never says what anything costs. */
async function priceItems(ctx: ServiceContext, request: CreateOrderRequest): Promise<{ items: OrderItem[]; total: number }> {
  const ids = request.items.map((i) => i.productId);
  const seen = new Set<string>();
  ids.forEach((id, n) => {
    if (seen.has(id)) throw new ApiError("VALIDATION_FAILED", `items.${n}.productId: ${id} is listed twice; set its quantity instead.`, { field: `items.${n}.productId` });
    seen.add(id);
  });
  const products = await ctx.db.selectFrom("products").selectAll().where("id", "in", ids).where("active", "=", 1).execute();
  const byId = new Map(products.map((p) => [p.id, p]));
  let total = 0;
  const items = request.items.map((line, n): OrderItem => {
    const product = byId.get(line.productId);
    if (product === undefined) throw new ApiError("VALIDATION_FAILED", `items.${n}.productId: no product ${line.productId}.`, { field: `items.${n}.productId` });
    if (product.currency !== ctx.config.merchant.feeType) {
      throw new ApiError("VALIDATION_FAILED", `items.${n}.productId: ${line.productId} is priced in ${product.currency}, this merchant takes ${ctx.config.merchant.feeType}.`, {
        field: `items.${n}.productId`,
      });
    }
    total += product.price * line.quantity;
    return { productId: product.id, name: product.name, quantity: line.quantity, unitPrice: product.price };
  });
  if (!Number.isSafeInteger(total) || total <= 0) throw new ApiError("VALIDATION_FAILED", "items: the order total is out of range.", { field: "items" });
  return { items, total };
}

/**
 * Creates an order and its wx.requestPayment params. The order is stored (pending) before WeChat Pay is
 * called, so a gateway failure leaves a payable order, and a retry with the same Idempotency-Key (or
 * POST /api/orders/:id/payment) re-enters unifiedorder with the same out_trade_no and fields.
 */
export async function createOrder(ctx: ServiceContext, userId: string, request: CreateOrderRequest, idempotencyKey: string | undefined): Promise<OrderPaymentResponse> {
  const requestHash = createHash("sha256").update(JSON.stringify(request.items)).digest("hex");
  if (idempotencyKey !== undefined) {
    const existing = await findByIdempotencyKey(ctx, userId, idempotencyKey, requestHash);
    if (existing !== undefined) return ensurePayment(ctx, existing);
  }
  const user = await ctx.db.selectFrom("users").select(["openid"]).where("id", "=", userId).executeTakeFirst();
  if (user === undefined) throw new ApiError("UNAUTHORIZED", "The session's user no longer exists; sign in again.");
  const { items, total } = await priceItems(ctx, request);
  const now = ctx.clock();
  const merchant = ctx.config.merchant;
  const institutional = merchant.subMchId !== undefined;
  const expiresAt = now + ctx.config.orderTtlMinutes * 60 * 1000;
  const row = {
    id: newOutTradeNo(now),
    user_id: userId,
    status: "pending" as const,
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
    openid: institutional ? null : user.openid,
    sub_openid: institutional ? user.openid : null,
    sign_type: merchant.signType,
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
  };
  try {
    await ctx.db.insertInto("orders").values(row).execute();
  } catch (error) {
    // Two requests with one Idempotency-Key raced: the other one stored the order.
    if (idempotencyKey !== undefined && isUniqueViolation(error)) {
      const existing = await findByIdempotencyKey(ctx, userId, idempotencyKey, requestHash);
      if (existing !== undefined) return ensurePayment(ctx, existing);
    }
    throw error;
  }
  ctx.logger.info({ orderId: row.id, totalFee: total, feeType: row.fee_type }, "order created");
  return ensurePayment(ctx, await reload(ctx, row.id));
}

async function findByIdempotencyKey(ctx: ServiceContext, userId: string, key: string, requestHash: string): Promise<OrderRow | undefined> {
  const existing = await ctx.db.selectFrom("orders").selectAll().where("user_id", "=", userId).where("idempotency_key", "=", key).executeTakeFirst();
  if (existing !== undefined && existing.request_hash !== requestHash) {
    throw new ApiError("IDEMPOTENCY_CONFLICT", "This Idempotency-Key was used for a different order; use a new key for a new order.");
  }
  return existing;
}

/** Fresh (or still valid) payment params for a pending order, re-entering unifiedorder when needed. */
export async function ensurePayment(ctx: ServiceContext, order: OrderRow): Promise<OrderPaymentResponse> {
  if (order.status !== "pending") throw new ApiError("ORDER_NOT_PAYABLE", `Order ${order.id} is ${order.status}; it cannot be paid.`);
  const now = ctx.clock();
  if (now >= Date.parse(order.expires_at)) {
    const closed = await closeWithGateway(ctx, order);
    throw new ApiError("ORDER_NOT_PAYABLE", `Order ${order.id} expired and is ${closed.status}; place a new order.`);
  }
  let current = order;
  const valid = current.prepay_id !== null && current.prepay_expires_at !== null && Date.parse(current.prepay_expires_at) - PREPAY_SAFETY_MS > now;
  if (!valid) {
    const answer = await ctx.gateway.placeOrder(placeOrderInput(current));
    if (!answer.ok) {
      const { error } = answer;
      if (error.reason === "ORDER_PAID") {
        const refreshed = await refreshPendingOrder(ctx, current, { force: true });
        throw new ApiError("ORDER_NOT_PAYABLE", `Order ${order.id} is already ${refreshed.status === "pending" ? "paid (confirming)" : refreshed.status}.`);
      }
      if (error.reason === "ORDER_CLOSED") {
        await markClosed(ctx, current);
        throw new ApiError("ORDER_NOT_PAYABLE", `Order ${order.id} is closed; place a new order.`);
      }
      ctx.logger.warn({ orderId: order.id, kind: error.kind, errCode: error.code }, "unifiedorder failed");
      throw gatewayFailure("unifiedorder", error);
    }
    const { prepayId, validForMs } = answer.value;
    // Re-entry may hand back the prepay_id we already hold: keep its original expiry then.
    const expires = prepayId === current.prepay_id && current.prepay_expires_at !== null ? current.prepay_expires_at : isoAt(now + validForMs);
    await ctx.db.updateTable("orders").set({ prepay_id: prepayId, prepay_expires_at: expires, updated_at: isoAt(now) }).where("id", "=", current.id).execute();
    current = await reload(ctx, current.id);
    if (Date.parse(expires) - PREPAY_SAFETY_MS <= now) throw new ApiError("GATEWAY_ERROR", "WeChat Pay returned a prepay_id that is about to expire; try again.");
  }
  const payment = ctx.gateway.paymentParams({ prepayId: current.prepay_id ?? "", now, signType: current.sign_type === "MD5" ? "MD5" : "HMAC-SHA256" });
  return { order: orderView(current), payment };
}

async function markClosed(ctx: ServiceContext, order: OrderRow): Promise<OrderRow> {
  const now = isoAt(ctx.clock());
  await ctx.db.updateTable("orders").set({ status: "closed", closed_at: now, updated_at: now }).where("id", "=", order.id).where("status", "=", "pending").execute();
  return reload(ctx, order.id);
}

/**
 * Closes a pending order at the gateway first, locally second: a payment that slipped in meanwhile
 * (ORDERPAID) is confirmed by a query and wins.
 */
export async function closeWithGateway(ctx: ServiceContext, order: OrderRow): Promise<OrderRow> {
  if (order.status !== "pending") return order;
  const answer = await ctx.gateway.closeOrder(order.id);
  if (answer.ok) return markClosed(ctx, order);
  const { error } = answer;
  if (error.reason === "ORDER_CLOSED" || error.reason === "ORDER_NOT_FOUND") return markClosed(ctx, order);
  if (error.reason === "ORDER_PAID") return refreshPendingOrder(ctx, order, { force: true });
  ctx.logger.warn({ orderId: order.id, kind: error.kind, errCode: error.code }, "closeorder failed");
  throw gatewayFailure("closeorder", error);
}

/** Applies what the gateway knows about an order: a paid report with the same checks as a notify, closed closes. */
export async function applyOrderState(ctx: ServiceContext, order: OrderRow, known: OrderState): Promise<OrderRow> {
  switch (known.state) {
    case "paid": {
      const result = await applyPaidReport(ctx, order, known.report);
      if (result.outcome === "rejected") {
        ctx.logger.warn({ orderId: order.id, code: result.code, reason: result.message }, "orderquery answer does not match the order");
        return reload(ctx, order.id);
      }
      return result.order;
    }
    case "closed":
      return markClosed(ctx, order);
    case "pending":
    case "not-found":
      return order;
  }
}

/**
 * Asks the gateway about a pending order and applies the answer; a client's `requestPayment:ok` is never
 * taken as proof. Throttled per order (ORDER_QUERY_AFTER_SECONDS) through a conditional update of
 * last_queried_at, which also keeps several API processes from querying the same order at once.
 */
export async function refreshPendingOrder(ctx: ServiceContext, order: OrderRow, options: { force: boolean }): Promise<OrderRow> {
  if (order.status !== "pending") return order;
  const now = ctx.clock();
  const threshold = isoAt(now - ctx.config.orderQueryAfterSeconds * 1000);
  if (!options.force) {
    if (order.created_at > threshold) return order;
    const claimed = await ctx.db
      .updateTable("orders")
      .set({ last_queried_at: isoAt(now) })
      .where("id", "=", order.id)
      .where("status", "=", "pending")
      .where((eb) => eb.or([eb("last_queried_at", "is", null), eb("last_queried_at", "<=", threshold)]))
      .executeTakeFirst();
    if (claimed.numUpdatedRows !== 1n) return reload(ctx, order.id);
  } else {
    await ctx.db.updateTable("orders").set({ last_queried_at: isoAt(now) }).where("id", "=", order.id).execute();
  }
  const answer = await ctx.gateway.queryOrder(order.id);
  if (answer.ok) return applyOrderState(ctx, order, answer.value);
  ctx.logger.warn({ orderId: order.id, kind: answer.error.kind, errCode: answer.error.code }, "orderquery failed; keeping the stored state");
  return reload(ctx, order.id);
}

/** The order for its owner, refreshed from the gateway when it is pending and no notify has come lately. */
export async function getOrder(ctx: ServiceContext, userId: string, id: string): Promise<OrderRow> {
  const order = await findOwnOrder(ctx, userId, id);
  return refreshPendingOrder(ctx, order, { force: false });
}

/** POST /api/orders/:id/close for the owner: idempotent for a closed order; a paid one cannot be closed. */
export async function closeOwnOrder(ctx: ServiceContext, userId: string, id: string): Promise<OrderRow> {
  const order = await findOwnOrder(ctx, userId, id);
  if (order.status === "closed") return order;
  if (order.status !== "pending") throw new ApiError("ORDER_NOT_CLOSABLE", `Order ${id} is ${order.status}; it cannot be closed.`);
  const result = await closeWithGateway(ctx, order);
  if (result.status !== "closed") throw new ApiError("ORDER_NOT_CLOSABLE", `Order ${id} was paid meanwhile; it cannot be closed.`);
  return result;
}

function encodeCursor(row: OrderRow): string {
  return Buffer.from(`${row.created_at}|${row.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id, extra] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (createdAt === undefined || id === undefined || extra !== undefined || Number.isNaN(Date.parse(createdAt))) {
    throw new ApiError("VALIDATION_FAILED", "cursor: not a cursor this API returned.", { field: "cursor" });
  }
  return { createdAt, id };
}

/** The caller's orders, newest first, a page at a time (keyset pagination on created_at, id). */
export async function listOrders(ctx: ServiceContext, userId: string, query: OrderListQuery): Promise<OrderListResponse> {
  let select = ctx.db.selectFrom("orders").selectAll().where("user_id", "=", userId);
  if (query.cursor !== undefined) {
    const { createdAt, id } = decodeCursor(query.cursor);
    select = select.where((eb) => eb.or([eb("created_at", "<", createdAt), eb.and([eb("created_at", "=", createdAt), eb("id", "<", id)])]));
  }
  const rows = await select.orderBy("created_at", "desc").orderBy("id", "desc").limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { orders: page.map(orderView), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(last) : null };
}
