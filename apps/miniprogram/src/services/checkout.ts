import type { ApiClient } from "../api/client.js";
import type { ClientError } from "../api/errors.js";
import type { Clock } from "../utils/clock.js";
import { newIdempotencyKey } from "../utils/ids.js";
import type { WxPort } from "../utils/wx-port.js";
import { orderRequest, type Cart } from "./cart.js";
import { requestPayment, type PaymentOutcome } from "./payment.js";

/** How one tap on Pay ended. Only `submitted` leads to the result page, which asks the server. */
export type PayAttempt =
  | { readonly kind: "submitted"; readonly orderId: string }
  /** The payer closed the sheet; the order stays pending and payable. */
  | { readonly kind: "cancelled"; readonly orderId: string }
  /** WeChat Pay refused (balance, limits, ...); the order stays pending and payable. */
  | { readonly kind: "failed"; readonly orderId: string; readonly message: string }
  /** The server will not take a payment for it any more: paid meanwhile, closed or expired. */
  | { readonly kind: "not-payable"; readonly orderId: string; readonly message: string }
  /** The API or the network failed before the sheet opened; `orderId` is set when the order exists. */
  | { readonly kind: "error"; readonly orderId: string | undefined; readonly error: ClientError };

function afterSheet(orderId: string, outcome: PaymentOutcome): PayAttempt {
  switch (outcome.kind) {
    case "submitted":
      return { kind: "submitted", orderId };
    case "cancelled":
      return { kind: "cancelled", orderId };
    case "failed":
      return { kind: "failed", orderId, message: outcome.message };
  }
}

/** Pays an order that already exists: fresh (or still valid) params from the server, then the sheet. */
export async function payOrder(api: ApiClient, wx: Pick<WxPort, "requestPayment">, orderId: string): Promise<PayAttempt> {
  const renewed = await api.call("renewPayment", { params: { id: orderId } });
  if (!renewed.ok) {
    const { error } = renewed;
    if (error.kind === "api" && error.code === "ORDER_NOT_PAYABLE") return { kind: "not-payable", orderId, message: error.message };
    return { kind: "error", orderId, error };
  }
  return afterSheet(orderId, await requestPayment(wx, renewed.value.payment));
}

/** Paying for the cart: one order per cart content, however often Pay is tapped. */
export interface Checkout {
  /** Creates the order on the first call (later calls re-pay it) and opens the sheet; a call while one runs joins it. */
  pay(): Promise<PayAttempt>;
  /** The pending order made for the cart as it is now, if any. */
  pendingOrderId(): string | undefined;
  /**
   * Another page paid or closed `orderId`. When it is this cart's order the checkout lets go of it,
   * and a payment also empties the cart, so checkout does not offer to pay it again.
   */
  release(orderId: string, how: "paid" | "closed"): void;
}

export interface CheckoutOptions {
  readonly api: ApiClient;
  readonly wx: Pick<WxPort, "requestPayment">;
  readonly cart: Cart;
  readonly clock: Pick<Clock, "now">;
  readonly random?: () => number;
}

export function createCheckout(options: CheckoutOptions): Checkout {
  const { api, wx, cart, clock } = options;
  let order: { readonly id: string; readonly cartVersion: number } | undefined;
  // One key per cart content: a retry after a lost answer gets the order the first request made.
  let key: { readonly value: string; readonly cartVersion: number } | undefined;
  let running: Promise<PayAttempt> | undefined;

  async function run(): Promise<PayAttempt> {
    const version = cart.version();
    if (order !== undefined && order.cartVersion === version) {
      const attempt = await payOrder(api, wx, order.id);
      // Paid meanwhile, closed or expired: the next Pay places a new order under a new key.
      if (attempt.kind === "not-payable") {
        order = undefined;
        key = undefined;
      }
      return attempt;
    }
    if (key === undefined || key.cartVersion !== version) key = { value: newIdempotencyKey(clock.now(), options.random), cartVersion: version };
    const created = await api.call("createOrder", { body: orderRequest(cart.lines()), idempotencyKey: key.value });
    if (!created.ok) return { kind: "error", orderId: undefined, error: created.error };
    order = { id: created.value.order.id, cartVersion: version };
    return afterSheet(order.id, await requestPayment(wx, created.value.payment));
  }

  return {
    pay() {
      running ??= run().finally(() => {
        running = undefined;
      });
      return running;
    },
    pendingOrderId: () => (order !== undefined && order.cartVersion === cart.version() ? order.id : undefined),
    release(orderId, how) {
      if (order?.id !== orderId) return;
      order = undefined;
      key = undefined;
      if (how === "paid") cart.clear();
    },
  };
}
