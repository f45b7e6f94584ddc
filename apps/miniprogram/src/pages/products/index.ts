import type { Product } from "@pay/core/contract";
import { describeError, retryAfterOf } from "../../api/errors.js";
import { cartTotal } from "../../services/cart.js";
import { appServices, navigate, ROUTES, unexpected, type TapEvent } from "../../utils/app.js";
import { startWait, type Countdown } from "../../utils/countdown.js";
import { formatMoney } from "../../lib/pay-core.js";

interface ProductRow {
  readonly id: string;
  readonly name: string;
  readonly priceText: string;
  readonly inCart: number;
}

function cartSummary(): { cartCount: number; cartTotalText: string } {
  const lines = appServices().cart.lines();
  const total = cartTotal(lines);
  return {
    cartCount: lines.reduce((n, line) => n + line.quantity, 0),
    cartTotalText: total === undefined || total === "mixed-currencies" ? "" : formatMoney(total),
  };
}

function rows(products: readonly Product[]): ProductRow[] {
  const lines = appServices().cart.lines();
  return products.map((p) => ({
    id: p.id,
    name: p.name,
    priceText: formatMoney({ amount: p.price, currency: p.currency }),
    inCart: lines.find((line) => line.product.id === p.id)?.quantity ?? 0,
  }));
}

interface ProductsData {
  loading: boolean;
  error: string;
  products: ProductRow[];
  cartCount: number;
  cartTotalText: string;
  /** While the server's Retry-After runs: the time left ("29 s"), and Try again is disabled; "" otherwise. */
  retryWait: string;
}

interface ProductsPage {
  countdown: Countdown | undefined;
  /** The products as the API sent them; `data` holds only what the view shows. */
  catalogue: Product[];
  load(): Promise<void>;
  onRetry(): Promise<void>;
  onAdd(event: TapEvent<{ id: string }>): void;
  onCheckout(): void;
  onOpenOrders(): void;
}

Page<ProductsData, ProductsPage>({
  data: {
    loading: true,
    error: "",
    products: [],
    cartCount: 0,
    cartTotalText: "",
    retryWait: "",
  },
  catalogue: [],
  countdown: undefined,

  onLoad() {
    return this.load();
  },

  onUnload() {
    this.countdown?.stop();
  },

  onShow() {
    // The cart may have changed on the checkout page.
    this.setData({ products: rows(this.catalogue), ...cartSummary() });
  },

  async load() {
    this.setData({ loading: true, error: "" });
    try {
      const answer = await appServices().api.call("listProducts", {});
      if (!answer.ok) {
        this.setData({ loading: false, error: `Products could not be loaded. ${describeError(answer.error)}` });
        const seconds = retryAfterOf(answer.error);
        if (seconds !== undefined) this.countdown = startWait(appServices().clock, seconds, (retryWait) => this.setData({ retryWait }), this.countdown);
        return;
      }
      this.catalogue = answer.value.products;
      this.setData({ loading: false, products: rows(this.catalogue), ...cartSummary() });
    } catch (error) {
      this.setData({ loading: false, error: unexpected(error) });
    }
  },

  onRetry() {
    if (this.data.retryWait !== "") return Promise.resolve();
    return this.load();
  },

  onAdd(event: TapEvent<{ id: string }>) {
    const product = this.catalogue.find((p) => p.id === event.currentTarget.dataset.id);
    if (product === undefined) return;
    appServices().cart.add(product);
    this.setData({ products: rows(this.catalogue), ...cartSummary() });
  },

  onCheckout() {
    if (appServices().cart.lines().length === 0) return;
    navigate("navigateTo", ROUTES.checkout);
  },

  onOpenOrders() {
    navigate("navigateTo", ROUTES.orders);
  },
});
