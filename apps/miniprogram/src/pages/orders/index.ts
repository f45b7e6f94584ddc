import type { Order } from "@pay/core/contract";
import { describeError, retryAfterOf, type ClientError } from "../../api/errors.js";
import { payOrder, type PayAttempt } from "../../services/checkout.js";
import { appServices, navigate, ROUTES, unexpected, type TapEvent } from "../../utils/app.js";
import { startWait, type Countdown } from "../../utils/countdown.js";
import { itemsSummary, orderTotal, shortTime, statusLabel } from "../../utils/format.js";

const PAGE_SIZE = 20;

interface OrderRow {
  readonly id: string;
  readonly status: Order["status"];
  readonly statusText: string;
  readonly totalText: string;
  readonly itemsText: string;
  readonly createdText: string;
}

type NoticeKind = "" | "info" | "error";

interface OrdersData {
  loading: boolean;
  error: string;
  orders: OrderRow[];
  hasMore: boolean;
  notice: string;
  noticeKind: NoticeKind;
  /** The order a payment or close is running for; its buttons are disabled meanwhile. */
  busyId: string;
  /** While the server's Retry-After for that action runs: the time left ("29 s"), and its buttons are disabled; "" otherwise. */
  payWait: string;
  closeWait: string;
  retryWait: string;
}

/** The page's buttons that wait out a Retry-After, by the data field that shows it. */
type WaitField = "payWait" | "closeWait" | "retryWait";

interface OrdersPage {
  loaded: Order[];
  nextCursor: string | null;
  countdowns: Partial<Record<WaitField, Countdown>>;
  waitFor(field: WaitField, error: ClientError): void;
  load(more: boolean): Promise<void>;
  replace(order: Order): void;
  showAttempt(attempt: PayAttempt): Promise<void>;
  onRetry(): Promise<void>;
  onLoadMore(): Promise<void>;
  onPayOrder(event: TapEvent<{ id: string }>): Promise<void>;
  onCloseOrder(event: TapEvent<{ id: string }>): Promise<void>;
}

function row(order: Order): OrderRow {
  return {
    id: order.id,
    status: order.status,
    statusText: statusLabel(order.status),
    totalText: orderTotal(order),
    itemsText: itemsSummary(order),
    createdText: shortTime(order.createdAt),
  };
}

Page<OrdersData, OrdersPage>({
  data: {
    loading: true,
    error: "",
    orders: [],
    hasMore: false,
    notice: "",
    noticeKind: "",
    busyId: "",
    payWait: "",
    closeWait: "",
    retryWait: "",
  },
  loaded: [],
  nextCursor: null,
  countdowns: {},

  onUnload() {
    for (const countdown of Object.values(this.countdowns)) countdown.stop();
  },

  waitFor(field, error) {
    const seconds = retryAfterOf(error);
    if (seconds === undefined) return;
    this.countdowns[field] = startWait(appServices().clock, seconds, (wait) => this.setData({ [field]: wait }), this.countdowns[field]);
  },

  onShow() {
    // Coming back from the result page: statuses may have changed.
    return this.load(false);
  },

  async load(more) {
    this.setData({ loading: true, error: "" });
    try {
      const cursor = more ? this.nextCursor : null;
      const answer = await appServices().api.call("listOrders", { query: cursor === null ? { limit: PAGE_SIZE } : { limit: PAGE_SIZE, cursor } });
      if (!answer.ok) {
        this.setData({ loading: false, error: `Your orders could not be loaded. ${describeError(answer.error)}` });
        this.waitFor("retryWait", answer.error);
        return;
      }
      this.loaded = more ? [...this.loaded, ...answer.value.orders] : answer.value.orders;
      this.nextCursor = answer.value.nextCursor;
      this.setData({ loading: false, orders: this.loaded.map(row), hasMore: this.nextCursor !== null });
    } catch (error) {
      this.setData({ loading: false, error: unexpected(error) });
    }
  },

  replace(order) {
    this.loaded = this.loaded.map((o) => (o.id === order.id ? order : o));
    this.setData({ orders: this.loaded.map(row) });
  },

  onRetry() {
    if (this.data.retryWait !== "") return Promise.resolve();
    return this.load(false);
  },

  onLoadMore() {
    return this.load(true);
  },

  async onPayOrder(event) {
    const orderId = event.currentTarget.dataset.id;
    if (this.data.busyId !== "" || this.data.payWait !== "") return;
    this.setData({ busyId: orderId, notice: "", noticeKind: "" });
    try {
      const { api, wx: port } = appServices();
      await this.showAttempt(await payOrder(api, port, orderId));
    } catch (error) {
      this.setData({ notice: unexpected(error), noticeKind: "error" });
    } finally {
      this.setData({ busyId: "" });
    }
  },

  async showAttempt(attempt) {
    switch (attempt.kind) {
      case "submitted":
        appServices().checkout.release(attempt.orderId, "paid");
        navigate("navigateTo", ROUTES.result(attempt.orderId));
        return;
      case "cancelled":
        this.setData({ notice: `Payment cancelled. Order ${attempt.orderId} is still waiting for payment.`, noticeKind: "info" });
        return;
      case "failed":
        this.setData({ notice: `${attempt.message} Tap Pay to try again.`, noticeKind: "error" });
        return;
      case "not-payable":
        this.setData({ notice: attempt.message, noticeKind: "error" });
        await this.load(false);
        return;
      case "error":
        this.setData({ notice: `${describeError(attempt.error)} Tap Pay to try again.`, noticeKind: "error" });
        this.waitFor("payWait", attempt.error);
        return;
    }
  },

  async onCloseOrder(event) {
    const orderId = event.currentTarget.dataset.id;
    if (this.data.busyId !== "" || this.data.closeWait !== "") return;
    this.setData({ busyId: orderId, notice: "", noticeKind: "" });
    try {
      const answer = await appServices().api.call("closeOrder", { params: { id: orderId } });
      if (answer.ok) {
        appServices().checkout.release(orderId, "closed");
        this.replace(answer.value.order);
        this.setData({ notice: `Order ${orderId} is closed; nothing was charged.`, noticeKind: "info" });
      } else {
        this.setData({ notice: `Order ${orderId} could not be closed. ${describeError(answer.error)}`, noticeKind: "error" });
        this.waitFor("closeWait", answer.error);
        if (answer.error.kind === "api" && answer.error.code === "ORDER_NOT_CLOSABLE") await this.load(false);
      }
    } catch (error) {
      this.setData({ notice: unexpected(error), noticeKind: "error" });
    } finally {
      this.setData({ busyId: "" });
    }
  },
});
