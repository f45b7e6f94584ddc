// What the console suites show: orders placed by signed-in shoppers and paid through the sandbox (its
// notify reaching the API), their webhook deliveries, and a reconciled day with a difference. Everything
// goes through the public doors: the sandbox's control API playing WeChat, and the API's own routes.
import {
  AdminOrderDetailResponseSchema,
  OrderPaymentResponseSchema,
  ReconciliationDetailResponseSchema,
  WebhookEndpointListResponseSchema,
  type AdminOrderDetailResponse,
  type Order,
} from "@pay/core/contract";
import { MERCHANT, type ConsoleStack } from "./stack.js";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Polls until `check` returns something other than undefined/false (real time), failing after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Signs a shopper in as the mini-program does: a wx.login code from the sandbox, then POST /api/session. */
export async function signInShopper(stack: ConsoleStack, user: string): Promise<string> {
  const { code } = await stack.control.createLoginCode({ appid: MERCHANT.appId, user });
  const session = await stack.request("POST", "/api/session", { body: { code } });
  if (session.status !== 200 || typeof session.body.token !== "string") throw new Error(`shopper sign-in failed: ${session.status} ${JSON.stringify(session.body)}`);
  return session.body.token;
}

export interface PaidOrder {
  readonly order: Order;
  /** The shopper's session token. */
  readonly token: string;
}

/**
 * A shopper orders `productId` and pays at the sandbox; the sandbox's pay notify reaches the API. Resolves once
 * the sandbox saw the notify acknowledged and the API shows the order paid.
 */
export async function placePaidOrder(stack: ConsoleStack, user: string, productId = "coffee-beans", quantity = 1): Promise<PaidOrder> {
  const token = await signInShopper(stack, user);
  const placed = await stack.request("POST", "/api/orders", { token, body: { items: [{ productId, quantity }] } });
  if (placed.status !== 201) throw new Error(`order refused: ${placed.status} ${JSON.stringify(placed.body)}`);
  const { order, payment } = OrderPaymentResponseSchema.parse(placed.body);
  await stack.control.pay({ prepay_id: payment.package.replace(/^prepay_id=/, ""), outcome: "success" });
  await eventually(`the pay notify of ${order.id} acknowledged`, async () => {
    const { deliveries } = await stack.control.listDeliveries({ out_trade_no: order.id, kind: "pay" });
    return deliveries.some((d) => d.outcome === "acknowledged");
  });
  const paid = await eventually(`order ${order.id} paid at the API`, async () => {
    const answer = await stack.request("GET", `/api/orders/${order.id}`, { token });
    const seen = OrderPaymentResponseSchema.shape.order.parse(answer.body.order);
    return seen.status === "paid" ? seen : undefined;
  });
  return { order: paid, token };
}

/** The order as staff see it (GET /api/admin/orders/:id with ADMIN_TOKEN): refunds and timeline included. */
export async function adminOrder(stack: ConsoleStack, id: string): Promise<AdminOrderDetailResponse> {
  const answer = await stack.request("GET", `/api/admin/orders/${encodeURIComponent(id)}`, { admin: true });
  if (answer.status !== 200) throw new Error(`GET /api/admin/orders/${id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return AdminOrderDetailResponseSchema.parse(answer.body);
}

/** The refunds rows of an order in the API's database. */
export async function refundRows(stack: ConsoleStack, orderId: string): Promise<{ id: string; refund_fee: number; status: string }[]> {
  return stack.db.selectFrom("refunds").select(["id", "refund_fee", "status"]).where("order_id", "=", orderId).execute();
}

/** The Beijing day (YYYY-MM-DD) of an instant. */
export function beijingDay(ms: number): string {
  return new Date(ms + 8 * HOUR).toISOString().slice(0, 10);
}

export interface ReconciledDifference {
  /** The reconciled day (two days before today, Beijing). */
  readonly date: string;
  /** The order the difference names (paid here; the bill says another amount). */
  readonly orderId: string;
  /** What the bill says it was paid (the order's total is `ourAmount`). */
  readonly billAmount: number;
  readonly ourAmount: number;
}

/**
 * A day with a difference: with the gateway's clock two days back, a shopper pays an order (its notify reaches
 * the API, which keeps real time), the sandbox is told to show another amount for it on that day's bill, the
 * gateway's clock comes back to now (the bill is then ready), and an operator call reconciles the day. The run
 * flags an `amount_mismatch` naming the order. Call it before anything else touches the sandbox.
 */
export async function reconcileDayWithDifference(stack: ConsoleStack, user: string): Promise<ReconciledDifference> {
  const before = stack.sandboxClock.offsetMs;
  stack.sandboxClock.offsetMs = -2 * DAY;
  let paid: PaidOrder;
  try {
    paid = await placePaidOrder(stack, user, "mug");
    const billAmount = paid.order.totalFee - 1;
    await stack.control.addDiscrepancy({ kind: "payment_amount", mch_id: MERCHANT.mchId, out_trade_no: paid.order.id, total_fee: billAmount });
  } finally {
    stack.sandboxClock.offsetMs = before;
  }
  const date = beijingDay(Date.now() - 2 * DAY);
  const run = await stack.request("POST", `/api/admin/reconciliations/${date}/run`, { admin: true });
  if (run.status !== 200) throw new Error(`reconciliation of ${date}: ${run.status} ${JSON.stringify(run.body)}`);
  const detail = ReconciliationDetailResponseSchema.parse(run.body);
  const item = detail.items.find((i) => i.orderId === paid.order.id);
  if (item?.class !== "amount_mismatch") throw new Error(`reconciliation of ${date} did not flag ${paid.order.id}: ${JSON.stringify(detail.items)}`);
  return { date, orderId: paid.order.id, billAmount: paid.order.totalFee - 1, ourAmount: paid.order.totalFee };
}

/** The env endpoint's id (WEBHOOK_URL) as the API lists it. */
export async function envEndpointId(stack: ConsoleStack): Promise<string> {
  const answer = await stack.request("GET", "/api/admin/webhook-endpoints", { admin: true });
  const endpoint = WebhookEndpointListResponseSchema.parse(answer.body).endpoints.find((e) => e.source === "env");
  if (endpoint === undefined) throw new Error(`no env webhook endpoint: ${JSON.stringify(answer.body)}`);
  return endpoint.id;
}
