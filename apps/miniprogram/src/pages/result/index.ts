import type { Order } from "@pay/core/contract";
import { describeError, retryAfterOf } from "../../api/errors.js";
import { confirmOrder, type Confirmation, type ConfirmOutcome } from "../../services/order-status.js";
import { appServices, navigate, ROUTES, unexpected } from "../../utils/app.js";
import { startWait, type Countdown } from "../../utils/countdown.js";
import { itemsSummary, orderTotal } from "../../utils/format.js";

/** How often the page asks the server, and for how long before it says it could not confirm. */
const CONFIRM_INTERVAL_MS = 1_000;
const CONFIRM_TIMEOUT_MS = 30_000;

type ResultState = "checking" | "paid" | "refunded" | "closed" | "timeout" | "error";

interface ResultData {
  orderId: string;
  state: ResultState;
  title: string;
  detail: string;
  totalText: string;
  itemsText: string;
  transactionId: string;
  /** While the server's Retry-After runs: the time left ("29 s"), and Check again is disabled; "" otherwise. */
  wait: string;
}

interface ResultPage {
  confirmation: Confirmation | undefined;
  countdown: Countdown | undefined;
  check(): Promise<void>;
  showOrder(order: Order): void;
  showOutcome(outcome: ConfirmOutcome): void;
  onCheckAgain(): Promise<void>;
  onOpenOrders(): void;
  onBackToProducts(): void;
}

const SETTLED_TEXT = {
  paid: { title: "Payment received", detail: (id: string) => `Order ${id} is paid. Thank you!` },
  refunded: { title: "Refunded", detail: (id: string) => `Order ${id} was paid and has been refunded.` },
  closed: { title: "Order closed", detail: (id: string) => `Order ${id} was closed without payment; nothing was charged.` },
} as const;

Page<ResultData, ResultPage>({
  data: {
    orderId: "",
    state: "checking",
    title: "Confirming your payment…",
    detail: "",
    totalText: "",
    itemsText: "",
    transactionId: "",
    wait: "",
  },
  confirmation: undefined,
  countdown: undefined,

  onLoad(query) {
    const orderId = query.id ?? "";
    if (orderId === "") {
      this.setData({ state: "error", title: "No order to show", detail: "This page was opened without an order." });
      return;
    }
    this.setData({ orderId });
    return this.check();
  },

  onUnload() {
    this.confirmation?.stop();
    this.countdown?.stop();
  },

  async check() {
    this.confirmation?.stop();
    const { orderId } = this.data;
    this.setData({ state: "checking", title: "Confirming your payment…", detail: `Waiting for WeChat Pay to confirm order ${orderId}.` });
    const { api, clock } = appServices();
    const confirmation = confirmOrder({ api, clock, orderId, intervalMs: CONFIRM_INTERVAL_MS, timeoutMs: CONFIRM_TIMEOUT_MS, onCheck: (order) => this.showOrder(order) });
    this.confirmation = confirmation;
    try {
      this.showOutcome(await confirmation.done);
    } catch (error) {
      this.setData({ state: "error", title: "Could not check the order", detail: unexpected(error) });
    }
  },

  showOrder(order) {
    this.setData({ totalText: orderTotal(order), itemsText: itemsSummary(order), transactionId: order.transactionId ?? "" });
  },

  showOutcome(outcome) {
    const { orderId } = this.data;
    switch (outcome.kind) {
      case "stopped":
        return;
      case "settled": {
        const text = SETTLED_TEXT[outcome.status];
        this.setData({ state: outcome.status, title: text.title, detail: text.detail(orderId) });
        return;
      }
      case "timeout": {
        const seconds = outcome.lastError === undefined ? undefined : retryAfterOf(outcome.lastError);
        if (outcome.lastError !== undefined && seconds !== undefined) {
          // The server asked for a wait (too many requests, busy): no more checks, and Check again waits it out.
          this.setData({
            state: "timeout",
            title: "Payment not confirmed yet",
            detail: `Order ${orderId} could not be checked just now: ${describeError(outcome.lastError)} If you paid, the order will show as paid in My orders shortly; you will not be charged twice.`,
          });
          this.countdown = startWait(appServices().clock, seconds, (wait) => this.setData({ wait }), this.countdown);
          return;
        }
        const last = outcome.lastError === undefined ? "" : ` Last attempt: ${describeError(outcome.lastError)}`;
        this.setData({
          state: "timeout",
          title: "Payment not confirmed yet",
          detail: `WeChat Pay has not confirmed order ${orderId} within ${CONFIRM_TIMEOUT_MS / 1000} seconds. If you paid, the order will show as paid in My orders shortly; you will not be charged twice.${last}`,
        });
        return;
      }
      case "error":
        this.setData({ state: "error", title: "Could not check the order", detail: describeError(outcome.error) });
        return;
    }
  },

  onCheckAgain() {
    if (this.data.wait !== "") return Promise.resolve();
    return this.check();
  },

  onOpenOrders() {
    navigate("redirectTo", ROUTES.orders);
  },

  onBackToProducts() {
    navigate("reLaunch", ROUTES.products);
  },
});
