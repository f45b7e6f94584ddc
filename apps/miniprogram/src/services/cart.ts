import type { CreateOrderRequest, Product } from "@pay/core/contract";
import { MAX_LINE_QUANTITY } from "../lib/pay-core.js";

/** The most units of one product the API accepts on an order line (the contract's limit). */
export const MAX_QUANTITY = MAX_LINE_QUANTITY;

export interface CartLine {
  readonly product: Product;
  readonly quantity: number;
}

/** The cart, shared by the products and checkout pages for the life of the app. */
export interface Cart {
  lines(): readonly CartLine[];
  /** Adds one unit (up to MAX_QUANTITY); returns the new quantity. */
  add(product: Product): number;
  /** Sets a line's quantity; 0 removes it. */
  setQuantity(productId: string, quantity: number): void;
  clear(): void;
  /** Bumped on every change, so checkout knows an order made earlier no longer matches. */
  version(): number;
}

export function createCart(): Cart {
  let lines: CartLine[] = [];
  let version = 0;
  return {
    lines: () => lines,
    add(product) {
      const existing = lines.find((line) => line.product.id === product.id);
      const quantity = Math.min((existing?.quantity ?? 0) + 1, MAX_QUANTITY);
      lines = existing === undefined ? [...lines, { product, quantity }] : lines.map((line) => (line === existing ? { product, quantity } : line));
      version += 1;
      return quantity;
    },
    setQuantity(productId, quantity) {
      const clamped = Math.max(0, Math.min(Math.floor(quantity), MAX_QUANTITY));
      lines = clamped === 0 ? lines.filter((line) => line.product.id !== productId) : lines.map((line) => (line.product.id === productId ? { ...line, quantity: clamped } : line));
      version += 1;
    },
    clear() {
      lines = [];
      version += 1;
    },
    version: () => version,
  };
}

/** The cart's total in minor units; undefined for an empty cart. Lines of different currencies cannot be added up. */
export function cartTotal(lines: readonly CartLine[]): { readonly amount: number; readonly currency: Product["currency"] } | "mixed-currencies" | undefined {
  const first = lines[0];
  if (first === undefined) return undefined;
  let amount = 0;
  for (const line of lines) {
    if (line.product.currency !== first.product.currency) return "mixed-currencies";
    amount += line.product.price * line.quantity;
  }
  return { amount, currency: first.product.currency };
}

/** The create-order body: ids and quantities only. The server prices every line itself. */
export function orderRequest(lines: readonly CartLine[]): CreateOrderRequest {
  return { items: lines.map((line) => ({ productId: line.product.id, quantity: line.quantity })) };
}
