import { describeError, retryAfterOf } from "../../api/errors.js";
import { cartTotal, MAX_QUANTITY } from "../../services/cart.js";
import type { PayAttempt } from "../../services/checkout.js";
import { appServices, navigate, ROUTES, unexpected, type TapEvent } from "../../utils/app.js";
import { startWait, type Countdown } from "../../utils/countdown.js";
import { formatMoney } from "../../lib/pay-core.js";

interface LineRow {
  readonly productId: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceText: string;
  readonly lineTotalText: string;
  readonly canIncrease: boolean;
}

type NoticeKind = "" | "info" | "error";

interface CheckoutData {
  lines: LineRow[];
  empty: boolean;
  totalText: string;
  busy: boolean;
  notice: string;
  noticeKind: NoticeKind;
  /** The pending order made for this cart, once there is one. */
  pendingOrderId: string;
  payLabel: string;
  /** While the server's Retry-After runs: the time left ("29 s"), and Pay is disabled; "" otherwise. */
  wait: string;
}

interface CheckoutPage {
  countdown: Countdown | undefined;
  refresh(): void;
  show(attempt: PayAttempt): void;
  onPay(): Promise<void>;
  onIncrease(event: TapEvent<{ id: string }>): void;
  onDecrease(event: TapEvent<{ id: string }>): void;
  onOpenOrders(): void;
}

function cartView(): Pick<CheckoutData, "lines" | "empty" | "totalText" | "pendingOrderId"> {
  const { cart, checkout } = appServices();
  const lines = cart.lines();
  const total = cartTotal(lines);
  return {
    lines: lines.map((line) => ({
      productId: line.product.id,
      name: line.product.name,
      quantity: line.quantity,
      unitPriceText: formatMoney({ amount: line.product.price, currency: line.product.currency }),
      lineTotalText: formatMoney({ amount: line.product.price * line.quantity, currency: line.product.currency }),
      canIncrease: line.quantity < MAX_QUANTITY,
    })),
    empty: lines.length === 0,
    totalText: total === undefined ? "" : total === "mixed-currencies" ? "Mixed currencies" : formatMoney(total),
    pendingOrderId: checkout.pendingOrderId() ?? "",
  };
}

Page<CheckoutData, CheckoutPage>({
  data: {
    lines: [],
    empty: true,
    totalText: "",
    busy: false,
    notice: "",
    noticeKind: "",
    pendingOrderId: "",
    payLabel: "Pay",
    wait: "",
  },
  countdown: undefined,

  onUnload() {
    this.countdown?.stop();
  },

  onShow() {
    const view = cartView();
    // Back from My orders, where the order may have been paid or closed: the notice about it is stale.
    const stale = view.pendingOrderId !== this.data.pendingOrderId;
    this.setData(stale ? { ...view, notice: "", noticeKind: "", payLabel: "Pay" } : view);
  },

  refresh() {
    this.setData(cartView());
  },

  onIncrease(event) {
    if (this.data.busy) return;
    const line = appServices()
      .cart.lines()
      .find((l) => l.product.id === event.currentTarget.dataset.id);
    if (line === undefined) return;
    appServices().cart.setQuantity(line.product.id, line.quantity + 1);
    this.setData({ notice: "", noticeKind: "", payLabel: "Pay" });
    this.refresh();
  },

  onDecrease(event) {
    if (this.data.busy) return;
    const line = appServices()
      .cart.lines()
      .find((l) => l.product.id === event.currentTarget.dataset.id);
    if (line === undefined) return;
    appServices().cart.setQuantity(line.product.id, line.quantity - 1);
    this.setData({ notice: "", noticeKind: "", payLabel: "Pay" });
    this.refresh();
  },

  async onPay() {
    // A second tap that lands before the button shows as disabled must not start a second payment.
    if (this.data.busy || this.data.empty || this.data.wait !== "") return;
    this.setData({ busy: true, notice: "", noticeKind: "" });
    try {
      this.show(await appServices().checkout.pay());
    } catch (error) {
      this.setData({ busy: false, notice: unexpected(error), noticeKind: "error", payLabel: "Try again" });
    }
  },

  show(attempt) {
    switch (attempt.kind) {
      case "submitted":
        // The sheet said ok; the result page asks the server whether the order is really paid.
        appServices().cart.clear();
        navigate("redirectTo", ROUTES.result(attempt.orderId));
        return;
      case "cancelled":
        this.setData({
          ...cartView(),
          busy: false,
          notice: `Payment cancelled. Order ${attempt.orderId} is still waiting for payment: pay it here or from My orders.`,
          noticeKind: "info",
          payLabel: "Pay",
        });
        return;
      case "failed":
        this.setData({ ...cartView(), busy: false, notice: attempt.message, noticeKind: "error", payLabel: "Try again" });
        return;
      case "not-payable":
        this.setData({ ...cartView(), busy: false, notice: `${attempt.message} Tap Pay to place a new order.`, noticeKind: "error", payLabel: "Pay" });
        return;
      case "error": {
        const saved = attempt.orderId === undefined ? "" : ` Order ${attempt.orderId} is saved and still waiting for payment.`;
        this.setData({ ...cartView(), busy: false, notice: `${describeError(attempt.error)}${saved}`, noticeKind: "error", payLabel: "Try again" });
        // Refused with a Retry-After (too many attempts, server or WeChat Pay busy): Pay waits it out.
        const seconds = retryAfterOf(attempt.error);
        if (seconds !== undefined) this.countdown = startWait(appServices().clock, seconds, (wait) => this.setData({ wait }), this.countdown);
        return;
      }
    }
  },

  onOpenOrders() {
    navigate("navigateTo", ROUTES.orders);
  },
});
